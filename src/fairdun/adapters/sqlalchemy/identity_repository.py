"""Parties' identities (``party_profiles``, migration 0007): every field sealed with the party's data key, the
resident ID number also indexed blind (HMAC under the index key) for exact-match lookup. No plaintext column;
the application sees plain values, opened on the way out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from fairdun.adapters.crypto.keyring import Keyring
from fairdun.adapters.sqlalchemy.data_keys import DataKeyStore
from fairdun.adapters.sqlalchemy.models import DataKeyRow, PartyRow
from fairdun.adapters.sqlalchemy.models_identity import PartyProfileRow
from fairdun.adapters.sqlalchemy.repositories import _execute_many, _flush
from fairdun.application.ports import PartyIdentity

TABLE = "party_profiles"
FIELDS = ("name", "resident_id", "bank_account", "postal_address")
"""The sealed fields, each in a ``<field>_ciphertext`` column; its place is ``("party_profiles", field, party)``."""


class SqlAlchemyIdentityRepository:
    """:class:`fairdun.application.ports.IdentityRepository` over ``party_profiles`` and ``parties.slot``."""

    def __init__(self, session: Session, keys: DataKeyStore) -> None:
        self._session = session
        self._keys = keys

    def add_many(self, identities: Sequence[PartyIdentity]) -> None:
        """One multi-row INSERT; each party's fields sealed under its own data key (created if it has none)."""
        if not identities:
            return
        for identity in identities:
            if identity.name is None:
                raise ValueError(f"identity of {identity.party!r}: a name is required")
        items = [
            (i.party, value, (TABLE, field, i.party))
            for i in identities
            for field in FIELDS
            if (value := getattr(i, field)) is not None
        ]
        sealed = iter(self._keys.seal_many(items))
        index = self._keys.keyring.blind_index
        rows: list[dict[str, Any]] = []
        for identity in identities:
            row: dict[str, Any] = {
                f"{field}_ciphertext": None if getattr(identity, field) is None else next(sealed) for field in FIELDS
            }
            row["party"] = identity.party
            row["resident_id_index"] = (
                None if identity.resident_id is None else index("resident_id", identity.resident_id)
            )
            rows.append(row)
        _execute_many(self._session, PartyProfileRow.__table__, rows, "identity of", identities[0].party)

    def get(self, party: str) -> PartyIdentity | None:
        row = self._session.get(PartyProfileRow, party, populate_existing=True)
        if row is None:
            return None
        if self._shredded(party):
            return PartyIdentity(party, None, erased=True)
        places = [(field, getattr(row, f"{field}_ciphertext")) for field in FIELDS]
        present = [(field, sealed) for field, sealed in places if sealed is not None]
        opened = self._keys.open_many([(sealed, (TABLE, field, party)) for field, sealed in present])
        values = dict(zip((field for field, _ in present), opened, strict=True))
        return PartyIdentity(
            party,
            values["name"],
            values.get("resident_id"),
            values.get("bank_account"),
            values.get("postal_address"),
        )

    def find_by_resident_id(self, value: str) -> tuple[str, ...]:
        """Matches under every index key the keyring knows (during a rotation a row may still carry the old one);
        :class:`ValueError` if ``value`` is not 17 digits and a check character."""
        indexes = self._keys.keyring.blind_indexes("resident_id", value)
        query = (
            select(PartyProfileRow.party)
            .where(PartyProfileRow.resident_id_index.in_(indexes))
            .order_by(PartyProfileRow.party)
        )
        return tuple(self._session.scalars(query))

    def correct(self, party: str, field: str, value: str | None) -> None:
        if field not in FIELDS:
            raise ValueError(f"field: one of {', '.join(FIELDS)}, got {field!r}")
        if field == "name" and value is None:
            raise ValueError("name: a name cannot be removed, only corrected")
        row = self._session.get(PartyProfileRow, party)
        if row is None:
            raise KeyError(party)
        sealed = None if value is None else self._keys.seal_many([(party, value, (TABLE, field, party))])[0]
        setattr(row, f"{field}_ciphertext", sealed)
        if field == "resident_id":
            row.resident_id_index = None if value is None else self._keys.keyring.blind_index("resident_id", value)
        _flush(self._session, "identity of", party)

    def contact_slots(self, borrower: str) -> dict[str, int]:
        query = (
            select(PartyRow.id, PartyRow.slot)
            .where(PartyRow.borrower == borrower, PartyRow.slot.is_not(None))
            .order_by(PartyRow.slot)
        )
        return {party: slot for party, slot in self._session.execute(query) if slot is not None}

    def _shredded(self, party: str) -> bool:
        shredded_at = self._session.scalar(select(DataKeyRow.shredded_at).where(DataKeyRow.party == party))
        return shredded_at is not None


def rewrite_resident_id_indexes(session: Session, keyring: Keyring, data_keys: Mapping[str, bytes]) -> int:
    """Recomputes the resident-ID blind indexes of the parties in ``data_keys`` (party -> unwrapped data key)
    under ``keyring``'s current index key; how many. For a master-key rotation, which changes the index key:
    call it with each batch's keys, in the batch's transaction, as ``rotate_master_key`` does for contact points."""
    rows = session.execute(
        select(PartyProfileRow.party, PartyProfileRow.resident_id_ciphertext).where(
            PartyProfileRow.party.in_(list(data_keys)), PartyProfileRow.resident_id_ciphertext.is_not(None)
        )
    ).all()
    if not rows:
        return 0
    updates = [
        {
            "p": party,
            "i": keyring.blind_index(
                "resident_id", Keyring.open(AESGCM(data_keys[party]), sealed, (TABLE, "resident_id", party))
            ),
        }
        for party, sealed in rows
        if sealed is not None
    ]
    table = cast(Table, PartyProfileRow.__table__)
    session.execute(
        update(table).where(table.c.party == bindparam("p")).values(resident_id_index=bindparam("i")), updates
    )
    return len(updates)
