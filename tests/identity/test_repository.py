"""``uow.identities`` on both databases: fields sealed at rest and opened on the way out, the resident ID found by
its keyed blind index, corrections sealed again, a shredded party read as erased; and ``parties.slot``: the
database itself refuses a sixth designated contact, however it is written."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application.ports import ConflictError, Party, PartyIdentity
from fairdun.domain.contact import Role

from .data import BORROWER_ID_NUMBER, SECOND_ID_NUMBER

B = "B000123"
FULL = PartyIdentity(B, "张三", BORROWER_ID_NUMBER, "6222020000001234", "北京市朝阳区示例街2号")
CONTACT = PartyIdentity(f"{B}-C1", "李娜")
OTHER = PartyIdentity("B000124", "王芳", SECOND_ID_NUMBER)


def store(engine: Engine, contacts: int = 1) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.parties.add(Party(B, B, Role.DEBTOR, "Asia/Shanghai"))
        uow.parties.add(Party("B000124", "B000124", Role.DEBTOR, "Asia/Shanghai"))
        for n in range(1, contacts + 1):
            uow.parties.add(Party(f"{B}-C{n}", B, Role.CONTACT, "Asia/Shanghai", "sibling"))
        uow.identities.add_many([FULL, CONTACT, OTHER])
        uow.commit()


def raw(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def test_an_identity_comes_back_opened_and_is_sealed_at_rest(engine: Engine) -> None:
    store(engine)
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert uow.identities.get(B) == FULL
        assert uow.identities.get(f"{B}-C1") == CONTACT
        assert uow.identities.get("B000125") is None
    rows = raw(engine, "SELECT * FROM party_profiles")
    assert len(rows) == 3
    stored = b"".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for row in rows for v in row)
    for plain in ("张三", "李娜", "王芳", BORROWER_ID_NUMBER, SECOND_ID_NUMBER, "6222020000001234", "北京市", "1949"):
        assert plain.encode() not in stored, plain


def test_a_resident_id_is_found_by_its_blind_index_in_any_case(engine: Engine) -> None:
    store(engine)
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert uow.identities.find_by_resident_id(BORROWER_ID_NUMBER) == (B,)
        assert uow.identities.find_by_resident_id(BORROWER_ID_NUMBER.lower()) == (B,)
        assert uow.identities.find_by_resident_id(SECOND_ID_NUMBER) == ("B000124",)
        assert uow.identities.find_by_resident_id("110105194912310010") == ()
    indexes = [str(i) for (i,) in raw(engine, "SELECT resident_id_index FROM party_profiles WHERE party = 'B000123'")]
    assert len(indexes[0]) == 64
    assert "19491231" not in indexes[0]


def test_a_correction_is_sealed_again_and_reindexed(engine: Engine) -> None:
    store(engine)
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.identities.correct(B, "resident_id", SECOND_ID_NUMBER)
        uow.identities.correct(B, "postal_address", None)
        uow.identities.correct(B, "name", "张三丰")
        uow.commit()
    with uow:
        assert uow.identities.get(B) == PartyIdentity(B, "张三丰", SECOND_ID_NUMBER, "6222020000001234", None)
        assert uow.identities.find_by_resident_id(BORROWER_ID_NUMBER) == ()
        assert uow.identities.find_by_resident_id(SECOND_ID_NUMBER) == (B, "B000124")
        with pytest.raises(KeyError):
            uow.identities.correct("B000999", "name", "赵磊")
        with pytest.raises(ValueError, match="a name cannot be removed"):
            uow.identities.correct(B, "name", None)
        with pytest.raises(ValueError, match="field: one of"):
            uow.identities.correct(B, "phone", "+8613800004211")


def test_a_second_identity_for_one_party_is_a_conflict(engine: Engine) -> None:
    store(engine)
    uow = SqlAlchemyUnitOfWork(engine)
    with uow, pytest.raises(ConflictError, match="already stored"):
        uow.identities.add_many([PartyIdentity(B, "张三")])


def test_a_shredded_party_reads_as_erased_and_others_are_untouched(engine: Engine) -> None:
    store(engine)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE data_keys SET wrapped_key = NULL, shredded_at = :at WHERE party = 'B000123'"),
            {"at": datetime(2026, 12, 1, tzinfo=UTC)},
        )
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert uow.identities.get(B) == PartyIdentity(B, None, erased=True)
        assert uow.identities.get("B000124") == OTHER
        assert uow.identities.find_by_resident_id(SECOND_ID_NUMBER) == ("B000124",)


# --- the designated-contact ceiling, in the schema ----------------------------------------------------------


def test_contacts_are_given_slots_one_to_five_by_the_database(engine: Engine) -> None:
    store(engine, contacts=5)
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert uow.identities.contact_slots(B) == {f"{B}-C{n}": n for n in range(1, 6)}
        assert uow.identities.contact_slots("B000124") == {}


def test_a_sixth_designated_contact_is_refused_by_the_database(engine: Engine) -> None:
    store(engine, contacts=5)
    uow = SqlAlchemyUnitOfWork(engine)
    with uow, pytest.raises(ConflictError, match="breaks a stored rule"):
        uow.parties.add(Party(f"{B}-C6", B, Role.CONTACT, "Asia/Shanghai", "friend"))
    # Written past the repositories, in plain SQL, it is refused all the same.
    for slot in ("NULL", "6", "5", "0"):
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO parties (id, borrower, role, tz, relationship, slot)"
                    f" VALUES ('{B}-C6', '{B}', 'contact', 'Asia/Shanghai', 'friend', {slot})"
                )
            )
    assert raw(engine, f"SELECT COUNT(*) FROM parties WHERE borrower = '{B}' AND role = 'contact'") == [(5,)]


def test_a_freed_slot_is_reused_and_only_contacts_have_slots(engine: Engine) -> None:
    store(engine, contacts=2)
    with engine.begin() as connection:
        connection.execute(text(f"DELETE FROM party_profiles WHERE party = '{B}-C1'"))
        connection.execute(text(f"DELETE FROM parties WHERE id = '{B}-C1'"))
        connection.execute(
            text(f"INSERT INTO parties (id, borrower, role, tz) VALUES ('{B}-C3', '{B}', 'contact', 'Asia/Shanghai')")
        )
    assert raw(engine, f"SELECT id, slot FROM parties WHERE borrower = '{B}' ORDER BY id") == [
        (B, None),
        (f"{B}-C2", 2),
        (f"{B}-C3", 1),
    ]
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(f"UPDATE parties SET slot = 3 WHERE id = '{B}'"))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(f"UPDATE parties SET slot = 2 WHERE id = '{B}-C3'"))
