"""The keyring: data keys wrapped and unwrapped, fields sealed to their place, blind indexes, and settings that
name themselves when they are wrong."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from fairdun.adapters.crypto import Keyring, KeyringError, MasterKey, generate_master_key, keyring_from_settings
from fairdun.adapters.crypto.keyring import address_kind, keyring_for_rotation, normalize

MASTER = MasterKey(bytes(range(32)))
OTHER = MasterKey(bytes(range(1, 33)))
PLACE = ("contact_points", "address", "B000001/phone")


def test_a_sealed_field_opens_in_its_place_and_hides_its_text() -> None:
    keyring = Keyring(MASTER)
    wrapped = keyring.new_data_key("B000001")
    cipher = keyring.cipher("B000001", wrapped, keyring.master_id)
    sealed = Keyring.seal(cipher, "B000001", "+8613800004211", PLACE)
    assert b"13800004211" not in sealed
    assert Keyring.owner(sealed) == "B000001"
    assert Keyring.open(cipher, sealed, PLACE) == "+8613800004211"
    # Two seals of one value differ (random nonces): equal ciphertexts would reveal equal numbers.
    assert Keyring.seal(cipher, "B000001", "+8613800004211", PLACE) != sealed


@pytest.mark.parametrize(
    "elsewhere",
    [
        ("contact_points", "address", "B000002/phone"),  # another row
        ("contact_points", "channels", "B000001/phone"),  # another column
        ("outbox", "address", "B000001/phone"),  # another table
    ],
)
def test_a_ciphertext_moved_elsewhere_does_not_open(elsewhere: tuple[str, str, str]) -> None:
    keyring = Keyring(MASTER)
    wrapped = keyring.new_data_key("B000001")
    cipher = keyring.cipher("B000001", wrapped, keyring.master_id)
    sealed = Keyring.seal(cipher, "B000001", "borrower000001@example.com", PLACE)
    with pytest.raises(KeyringError, match="does not open"):
        Keyring.open(cipher, sealed, elsewhere)


def test_an_altered_ciphertext_does_not_open() -> None:
    keyring = Keyring(MASTER)
    wrapped = keyring.new_data_key("B000001")
    cipher = keyring.cipher("B000001", wrapped, keyring.master_id)
    sealed = bytearray(Keyring.seal(cipher, "B000001", "+8613800004211", PLACE))
    sealed[-1] ^= 1
    with pytest.raises(KeyringError, match="altered"):
        Keyring.open(cipher, bytes(sealed), PLACE)


def test_another_owners_data_key_does_not_open_a_field() -> None:
    keyring = Keyring(MASTER)
    mine = keyring.cipher("B000001", keyring.new_data_key("B000001"), keyring.master_id)
    theirs = keyring.cipher("B000002", keyring.new_data_key("B000002"), keyring.master_id)
    sealed = Keyring.seal(mine, "B000001", "+8613800004211", PLACE)
    with pytest.raises(KeyringError):
        Keyring.open(theirs, sealed, PLACE)


def test_a_data_key_unwraps_only_under_its_master_key_and_owner() -> None:
    keyring = Keyring(MASTER)
    wrapped = keyring.new_data_key("B000001")
    assert len(keyring.unwrap("B000001", wrapped, MASTER.id)) == 32
    with pytest.raises(KeyringError, match="not configured"):
        keyring.unwrap("B000001", wrapped, OTHER.id)
    with pytest.raises(KeyringError, match="another owner"):
        keyring.unwrap("B000002", wrapped, MASTER.id)
    # A key wrapped under another master key, presented under this one's id, fails its tag.
    foreign = Keyring(OTHER).new_data_key("B000001")
    with pytest.raises(KeyringError, match="does not open"):
        keyring.unwrap("B000001", foreign, MASTER.id)


def test_rewrapping_keeps_the_data_key_so_sealed_fields_still_open() -> None:
    old = Keyring(MASTER)
    wrapped = old.new_data_key("B000001")
    sealed = Keyring.seal(old.cipher("B000001", wrapped, MASTER.id), "B000001", "+8613800004211", PLACE)
    rotating = keyring_for_rotation(old, OTHER)
    assert rotating.master_ids == (OTHER.id, MASTER.id)
    rewrapped = rotating.rewrap("B000001", wrapped, MASTER.id)
    new_only = Keyring(OTHER)
    assert Keyring.open(new_only.cipher("B000001", rewrapped, OTHER.id), sealed, PLACE) == "+8613800004211"
    with pytest.raises(KeyringError):
        old.unwrap("B000001", rewrapped, OTHER.id)


@pytest.mark.parametrize("spelling", ["+8613800004211", "+86 138 0000 4211", "+86-138-0000-4211", "+86 (138) 00004211"])
def test_a_phone_numbers_blind_index_is_the_same_however_it_is_spelled(spelling: str) -> None:
    keyring = Keyring(MASTER)
    assert keyring.blind_index("phone", spelling) == keyring.blind_index("phone", "+8613800004211")
    assert address_kind(spelling) == "phone"


def test_blind_indexes_depend_on_the_key_the_kind_and_the_value() -> None:
    keyring = Keyring(MASTER)
    index = keyring.blind_index("phone", "+8613800004211")
    assert len(index) == 64
    assert "13800004211" not in index
    assert Keyring(OTHER).blind_index("phone", "+8613800004211") != index
    assert keyring.blind_index("phone", "+8613800004212") != index
    resident = "11010519491231002X"
    assert keyring.blind_index("resident_id", resident.lower()) == keyring.blind_index("resident_id", resident)
    assert keyring.blind_index("resident_id", resident) != keyring.blind_index("address", resident)
    assert keyring.blind_index("email", "Borrower000001@Example.com") == keyring.blind_index(
        "email", "borrower000001@example.com"
    )
    assert keyring_for_rotation(keyring, OTHER).blind_indexes("phone", "+8613800004211") == (
        Keyring(OTHER).blind_index("phone", "+8613800004211"),
        index,
    )


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("phone", "13800004211", "phone: not an E.164"),
        ("phone", "+0123456789", "phone: not an E.164"),
        ("resident_id", "1101051949123100", "resident_id: not 17 digits"),
        ("email", "nobody", "email: not an e-mail"),
        ("name", "王伟", "blind index kind"),
    ],
)
def test_a_value_that_is_not_of_its_kind_is_refused_naming_the_kind(kind: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalize(kind, value)


def test_the_master_key_comes_from_the_setting_or_its_file(tmp_path: Path) -> None:
    text = generate_master_key()
    assert len(base64.b64decode(text)) == 32
    path = tmp_path / "master.key"
    path.write_text(text + "\n", encoding="ascii")
    assert keyring_from_settings(text, None).master_id == keyring_from_settings(None, str(path)).master_id
    assert keyring_from_settings(generate_master_key(), None).master_id != keyring_from_settings(text, None).master_id
    rotating = keyring_from_settings(text, None, new_master_key=base64.b64encode(OTHER.secret).decode())
    assert rotating.master_ids == (OTHER.id, MasterKey.parse(text, "x").id)


@pytest.mark.parametrize(
    ("key", "key_file", "message"),
    [
        (None, None, "FAIRDUN_MASTER_KEY (or FAIRDUN_MASTER_KEY_FILE) is not set"),
        ("not base64!", None, "FAIRDUN_MASTER_KEY: not base64"),
        (base64.b64encode(b"short").decode(), None, "FAIRDUN_MASTER_KEY: 5 bytes once decoded, expected 32"),
        (None, "/nonexistent/master.key", "FAIRDUN_MASTER_KEY_FILE: cannot read"),
        (generate_master_key(), "/nonexistent/master.key", "are both set"),
    ],
)
def test_a_missing_or_unusable_master_key_names_its_setting(
    key: str | None, key_file: str | None, message: str
) -> None:
    with pytest.raises(KeyringError) as caught:
        keyring_from_settings(key, key_file)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_unusable_new_master_key_names_its_setting() -> None:
    with pytest.raises(KeyringError, match="FAIRDUN_NEW_MASTER_KEY: not base64"):
        keyring_from_settings(generate_master_key(), None, "???")


def test_the_master_key_never_shows_in_its_repr() -> None:
    text = generate_master_key()
    key = MasterKey.parse(text, "x")
    assert text not in repr(key)
    assert repr(key.secret) not in repr(key)
