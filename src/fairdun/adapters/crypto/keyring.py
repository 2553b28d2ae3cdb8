"""Envelope encryption: a master key (outside the database) wraps a random data key per borrower; data keys seal
personal fields with AES-256-GCM; a separate index key computes blind indexes for exact-match lookup.

Keys and their jobs, each derived apart so one never doubles as another:

- the **master key** (32 random bytes, ``FAIRDUN_MASTER_KEY`` in base64 or ``FAIRDUN_MASTER_KEY_FILE``) is never
  used directly: HKDF-SHA256 derives from it a *wrapping key* (AES-256-GCM over data keys) and an *index key*
  (HMAC-SHA256 blind indexes). Its id is a fingerprint (HMAC of a fixed label), stored beside each wrapped data key
  so a rotation knows what is still to do; the key itself is never stored;
- a **data key** per borrower (32 random bytes) seals that borrower's fields and those of the people they
  designated. Only its wrapped form is stored (``data_keys``); destroying it makes every field it sealed unreadable
  (crypto-shredding).

A sealed field is ``format (1 byte) | owner length (1 byte) | owner (UTF-8) | nonce (12 bytes) | ciphertext+tag``.
The header and the field's place (table, column, row key) are the AES-GCM associated data: a ciphertext copied to
another row, column or table, or under another owner, fails to open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
FORMAT = 1
"""The first byte of every sealed field and wrapped key: the layout above, AES-256-GCM, 96-bit random nonces."""

_WRAP_INFO = b"fairdun/v1/wrap data keys"
_INDEX_INFO = b"fairdun/v1/blind index"
_ID_LABEL = b"fairdun/v1/master key id"

MASTER_KEY = "FAIRDUN_MASTER_KEY"
MASTER_KEY_FILE = "FAIRDUN_MASTER_KEY_FILE"
NEW_MASTER_KEY = "FAIRDUN_NEW_MASTER_KEY"


class KeyringError(ValueError):
    """A master key setting is missing or unusable, or a key or field cannot be opened. The message names the
    setting or the field, never a key."""


@dataclass(frozen=True)
class MasterKey:
    """A 256-bit master key and its id (a fingerprint: safe to store and print)."""

    secret: bytes = field(repr=False)
    id: str = ""

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise KeyringError(f"a master key is {KEY_BYTES} bytes, got {len(self.secret)}")
        fingerprint = hmac.new(self.secret, _ID_LABEL, hashlib.sha256).hexdigest()[:16]
        object.__setattr__(self, "id", fingerprint)

    @classmethod
    def parse(cls, text: str, setting: str) -> MasterKey:
        """The key from its base64 text; a :class:`KeyringError` naming ``setting`` if it is not 32 bytes of it."""
        try:
            secret = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise KeyringError(f"{setting}: not base64 (expected 32 random bytes in base64)") from None
        if len(secret) != KEY_BYTES:
            raise KeyringError(f"{setting}: {len(secret)} bytes once decoded, expected {KEY_BYTES}") from None
        return cls(secret)

    @classmethod
    def read(cls, path: str | Path, setting: str) -> MasterKey:
        """The key from a file holding its base64 text."""
        try:
            text = Path(path).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyringError(f"{setting}: cannot read {str(path)!r} ({type(exc).__name__})") from None
        return cls.parse(text, f"{setting} ({path})")


def generate_master_key() -> str:
    """A new random master key, as the base64 text ``FAIRDUN_MASTER_KEY`` takes."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(secret)


def _header(owner: str) -> bytes:
    raw = owner.encode("utf-8")
    if not 0 < len(raw) < 256:
        raise ValueError(f"a key owner is 1 to 255 bytes of UTF-8, got {owner!r}")
    return bytes((FORMAT, len(raw))) + raw


Place = tuple[str, str, str]
"""Where a sealed field lives: (table, column, row key)."""


def _place(place: Place) -> bytes:
    return "\x00".join(("fairdun/v1/field", *place)).encode("utf-8")


# --- blind indexes ------------------------------------------------------------------------------------------

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_PHONE_PUNCTUATION = str.maketrans("", "", " -().\u00a0")
_RESIDENT_ID = re.compile(r"[0-9]{17}[0-9X]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def normalize(kind: str, value: str) -> str:
    """The canonical form a blind index is computed over; :class:`ValueError` naming the kind if ``value`` is not
    one. ``phone``: E.164 (``+8613800001234``; spaces, dashes, dots and brackets dropped); ``resident_id``: 18
    characters, a final ``x`` upper-cased; ``email``: lower-cased; ``address``: any other address, whitespace
    collapsed."""
    if kind == "phone":
        text = value.translate(_PHONE_PUNCTUATION)
        if not _E164.fullmatch(text):
            raise ValueError("phone: not an E.164 number (+, country code, 7 to 15 digits in all)")
        return text
    if kind == "resident_id":
        text = value.strip().upper()
        if not _RESIDENT_ID.fullmatch(text):
            raise ValueError("resident_id: not 17 digits and a check character (0-9 or X)")
        return text
    if kind == "email":
        text = value.strip().lower()
        if not _EMAIL.fullmatch(text):
            raise ValueError("email: not an e-mail address")
        return text
    if kind == "address":
        return " ".join(value.split())
    raise ValueError(f"blind index kind: phone, resident_id, email or address, got {kind!r}")


def address_kind(address: str) -> str:
    """Which kind of blind index a contact point's address takes: ``phone``, ``email`` or ``address``."""
    if _E164.fullmatch(address.translate(_PHONE_PUNCTUATION)):
        return "phone"
    return "email" if _EMAIL.fullmatch(address.strip()) else "address"


# --- the keyring --------------------------------------------------------------------------------------------


class Keyring:
    """The configured master key (new data keys are wrapped under it) and any others still accepted for
    unwrapping (during a rotation). Unwrapped data keys are cached, keyed by their wrapped form, so a data key
    shredded in the database cannot be found again through the cache."""

    def __init__(self, master: MasterKey, *, others: Iterable[MasterKey] = ()) -> None:
        self.master = master
        masters = [master, *(m for m in others if m.id != master.id)]
        self.masters = tuple(masters)
        self._wrappers = {m.id: AESGCM(_derive(m.secret, _WRAP_INFO)) for m in masters}
        self._index_keys = {m.id: _derive(m.secret, _INDEX_INFO) for m in masters}
        self._ciphers: dict[tuple[str, bytes], AESGCM] = {}

    @property
    def master_id(self) -> str:
        return self.master.id

    @property
    def master_ids(self) -> tuple[str, ...]:
        """Every master key this keyring can unwrap with, the current one first."""
        return tuple(self._wrappers)

    # data keys

    def new_data_key(self, owner: str) -> bytes:
        """A new random data key for ``owner``, wrapped under the current master key."""
        return self.wrap(owner, secrets.token_bytes(KEY_BYTES))

    def wrap(self, owner: str, data_key: bytes, master_id: str | None = None) -> bytes:
        header = _header(owner)
        nonce = os.urandom(NONCE_BYTES)
        wrapper = self._wrapper(master_id or self.master.id, owner)
        return header + nonce + wrapper.encrypt(nonce, data_key, b"fairdun/v1/data key\x00" + header)

    def unwrap(self, owner: str, wrapped: bytes, master_id: str) -> bytes:
        header = _header(owner)
        if wrapped[: len(header)] != header:
            raise KeyringError(f"the data key of {owner!r} is stored under another owner")
        nonce = wrapped[len(header) : len(header) + NONCE_BYTES]
        try:
            return self._wrapper(master_id, owner).decrypt(
                nonce, wrapped[len(header) + NONCE_BYTES :], b"fairdun/v1/data key\x00" + header
            )
        except InvalidTag:
            raise KeyringError(
                f"the data key of {owner!r} does not open under master key {master_id} (altered, or wrapped under"
                " another key with the same id)"
            ) from None

    def rewrap(self, owner: str, wrapped: bytes, master_id: str) -> bytes:
        """``wrapped`` (under ``master_id``) wrapped again under the current master key; the data key is unchanged,
        so nothing it sealed changes."""
        return self.wrap(owner, self.unwrap(owner, wrapped, master_id))

    def cipher(self, owner: str, wrapped: bytes, master_id: str) -> AESGCM:
        """The AES-GCM cipher of a stored data key (unwrapped once per process and wrapped form)."""
        cached = self._ciphers.get((owner, wrapped))
        if cached is None:
            cached = self._ciphers[owner, wrapped] = AESGCM(self.unwrap(owner, wrapped, master_id))
        return cached

    def _wrapper(self, master_id: str, owner: str) -> AESGCM:
        wrapper = self._wrappers.get(master_id)
        if wrapper is None:
            raise KeyringError(
                f"the data key of {owner!r} is wrapped under master key {master_id}, which is not configured"
                f" (this process has {', '.join(self._wrappers)}: set {MASTER_KEY} or {NEW_MASTER_KEY})"
            )
        return wrapper

    # fields

    @staticmethod
    def seal(cipher: AESGCM, owner: str, plaintext: str, place: Place) -> bytes:
        """``plaintext`` sealed under ``owner``'s data key, bound to its place (table, column, row key)."""
        header = _header(owner)
        nonce = os.urandom(NONCE_BYTES)
        return header + nonce + cipher.encrypt(nonce, plaintext.encode("utf-8"), header + _place(place))

    @staticmethod
    def owner(sealed: bytes) -> str:
        """Whose data key sealed ``sealed`` (from its header)."""
        if len(sealed) < 2 or sealed[0] != FORMAT:
            raise KeyringError("not a sealed field (unknown format)")
        return sealed[2 : 2 + sealed[1]].decode("utf-8")

    @staticmethod
    def open(cipher: AESGCM, sealed: bytes, place: Place) -> str:
        """The plaintext of ``sealed``; :class:`KeyringError` naming the place if it was altered or moved there
        from elsewhere."""
        start = 2 + sealed[1]
        header, nonce = sealed[:start], sealed[start : start + NONCE_BYTES]
        try:
            plain = cipher.decrypt(nonce, sealed[start + NONCE_BYTES :], header + _place(place))
        except InvalidTag:
            table, column, row = place
            raise KeyringError(f"{table}.{column} of {row!r} does not open: altered, or moved from elsewhere") from None
        return plain.decode("utf-8")

    # blind indexes

    def blind_index(self, kind: str, value: str) -> str:
        """The hex HMAC-SHA256 of ``value``'s canonical form (:func:`normalize`) under the current index key,
        separated by ``kind`` so a phone number and an ID number never share an index."""
        return self._index(self.master.id, kind, value)

    def blind_indexes(self, kind: str, value: str) -> tuple[str, ...]:
        """``value``'s blind index under every master key this keyring knows (during a rotation a row may still
        carry the old one)."""
        return tuple(self._index(master_id, kind, value) for master_id in self._index_keys)

    def _index(self, master_id: str, kind: str, value: str) -> str:
        message = kind.encode("ascii") + b"\x00" + normalize(kind, value).encode("utf-8")
        return hmac.new(self._index_keys[master_id], message, hashlib.sha256).hexdigest()


def keyring_from_settings(
    master_key: str | None, master_key_file: str | None, new_master_key: str | None = None
) -> Keyring:
    """The keyring for the settings' values (``FAIRDUN_MASTER_KEY``, ``FAIRDUN_MASTER_KEY_FILE``,
    ``FAIRDUN_NEW_MASTER_KEY``); :class:`KeyringError` naming the setting when none is set or one is unusable.

    With a new master key set, it is the current one (new data keys are wrapped under it) and the old one is still
    accepted: every process runs so during a rotation, and the new key replaces the old once ``fairdun keys
    rotate`` has finished."""
    if master_key and master_key_file:
        raise KeyringError(f"{MASTER_KEY} and {MASTER_KEY_FILE} are both set; set one")
    if master_key:
        master = MasterKey.parse(master_key, MASTER_KEY)
    elif master_key_file:
        master = MasterKey.read(master_key_file, MASTER_KEY_FILE)
    else:
        raise KeyringError(
            f"{MASTER_KEY} (or {MASTER_KEY_FILE}) is not set: personal data is encrypted under a master key kept"
            " outside the database; make one with `fairdun keys generate`"
        )
    if not new_master_key:
        return Keyring(master)
    return Keyring(MasterKey.parse(new_master_key, NEW_MASTER_KEY), others=[master])


def keyring_for_rotation(current: Keyring, new: MasterKey) -> Keyring:
    """A keyring whose current key is ``new`` and which still opens everything ``current`` opens."""
    return Keyring(new, others=current.masters)


__all__ = [
    "FORMAT",
    "KEY_BYTES",
    "Keyring",
    "KeyringError",
    "MasterKey",
    "address_kind",
    "generate_master_key",
    "keyring_for_rotation",
    "keyring_from_settings",
    "normalize",
]
