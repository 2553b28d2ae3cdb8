"""Contact points and the outbox on both databases: sealed at rest, opened on the way out, found by blind index;
a ciphertext moved, a key shredded or a keyring missing is refused with a message that says so."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text

from fairdun.adapters.crypto import KeyringError
from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork, make_engine
from fairdun.application.channels import OutboundMessage
from fairdun.application.ports import ContactPoint, Party
from fairdun.domain.contact import Channel, Role

from .conftest import fixed_keyring

AT = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
PHONE = "+8613800004211"
MAIL = "borrower000001@example.com"
CONTACT_PHONE = "+8613800042024"


def book(engine: Engine) -> tuple[ContactPoint, ...]:
    points = (
        ContactPoint("B000001/phone", "B000001", PHONE, frozenset({Channel.CALL, Channel.SMS}), 0),
        ContactPoint("B000001/email", "B000001", MAIL, frozenset({Channel.EMAIL}), 1),
        ContactPoint("C000001-1/phone", "C000001-1", CONTACT_PHONE, frozenset({Channel.CALL}), 0),
    )
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        parties = [
            Party("B000001", "B000001", Role.DEBTOR, "Asia/Shanghai"),
            Party("C000001-1", "B000001", Role.CONTACT, "Asia/Shanghai", "sibling"),
        ]
        uow.parties.add_many(parties, points[:2], [])
        uow.parties.add_contact_point(points[2])
        uow.commit()
    return points


def raw(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def as_bytes(value: object) -> bytes:
    assert isinstance(value, bytes | memoryview)
    return bytes(value)


def test_addresses_are_sealed_at_rest_and_open_on_the_way_out(engine: Engine) -> None:
    points = book(engine)
    stored = {
        str(ref): as_bytes(sealed) for ref, sealed in raw(engine, "SELECT ref, address_ciphertext FROM contact_points")
    }
    assert set(stored) == {p.ref for p in points}
    for point in points:
        assert point.address.encode() not in stored[point.ref]
        assert point.address.lstrip("+").encode() not in stored[point.ref]
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert sorted(uow.parties.contact_points(), key=lambda p: p.ref) == sorted(points, key=lambda p: p.ref)
    # One data key per party, each under the tests' master key.
    keys = raw(engine, "SELECT party, master_key_id FROM data_keys ORDER BY party")
    assert keys == [("B000001", fixed_keyring().master_id), ("C000001-1", fixed_keyring().master_id)]


def test_a_contact_point_is_found_by_its_number_through_the_blind_index(engine: Engine) -> None:
    points = book(engine)
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert uow.parties.find_contact_points("+86 138-0000-4211") == (points[0],)
        assert uow.parties.find_contact_points("Borrower000001@Example.com") == (points[1],)
        assert uow.parties.find_contact_points("+8613800004212") == ()
    indexes = [str(i) for (i,) in raw(engine, "SELECT address_index FROM contact_points")]
    assert all(len(i) == 64 and "13800004211" not in i for i in indexes)


def test_a_ciphertext_copied_to_another_row_does_not_open(engine: Engine) -> None:
    book(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE contact_points SET address_ciphertext ="
                " (SELECT address_ciphertext FROM contact_points WHERE ref = 'B000001/phone')"
                " WHERE ref = 'B000001/email'"
            )
        )
    uow = SqlAlchemyUnitOfWork(engine)
    with uow, pytest.raises(KeyringError, match=r"contact_points\.address of 'B000001/email' does not open"):
        uow.parties.contact_points()


def test_the_outbox_seals_the_address_and_opens_it_for_the_sender(engine: Engine) -> None:
    book(engine)
    message = OutboundMessage("k-1", Channel.SMS, PHONE, "B000001", "L-1", "请于今日还款。", AT)
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.outbox.enqueue(message, arm="champion", rule_pack="cn", decided_at=AT)
        uow.outbox.enqueue_many([(message, "champion", "cn", AT)])  # the same key: nothing new
        uow.commit()
    ((sealed,),) = raw(engine, "SELECT address_ciphertext FROM outbox")
    assert PHONE.encode() not in as_bytes(sealed)
    with uow:
        entry = uow.outbox.get("k-1")
        assert entry is not None
        assert entry.message == message
        claimed = uow.outbox.claim_many(["k-1"], "worker-1", AT)
        assert [c.message.address for c in claimed] == [PHONE]


def test_a_shredded_data_key_leaves_its_fields_unreadable(engine: Engine) -> None:
    book(engine)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE data_keys SET wrapped_key = NULL, shredded_at = :at WHERE party = 'C000001-1'"), {"at": AT}
        )
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        # An erased party is no longer listed (so never contacted), and reading the others does not fail.
        assert {p.party for p in uow.parties.contact_points()} == {"B000001"}
        with pytest.raises(KeyringError, match="'C000001-1' was shredded"):
            uow.parties.add_contact_point(ContactPoint("C000001-1/2", "C000001-1", "+8613800000099", frozenset()))


def test_without_a_keyring_personal_fields_are_refused_naming_the_setting(engine: Engine) -> None:
    book(engine)
    bare = make_engine(engine.url)
    try:
        uow = SqlAlchemyUnitOfWork(bare)
        with uow:
            assert [p.id for p in uow.parties.all()] == ["B000001", "C000001-1"]
            with pytest.raises(KeyringError, match="FAIRDUN_MASTER_KEY"):
                uow.parties.contact_points()
    finally:
        bare.dispose()
