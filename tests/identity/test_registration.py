"""Registering borrowers on both databases: everything validated before anything is stored, one transaction, one
audit entry per borrower with no personal value, and no room for an address book (PIPL Art. 6)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application.identity import (
    Registered,
    RegistrationError,
    masked,
    parse_batch,
    parse_borrower,
    register_borrowers,
)
from fairdun.application.ports import ConflictError, PartyIdentity
from fairdun.domain.errors import DomainError

from .data import BORROWER_ID_NUMBER, contact, record

TODAY = date(2026, 12, 2)
AT = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def register(engine: Engine, *records: dict[str, Any], max_contacts: int = 3) -> None:
    batch = parse_batch(list(records), today=TODAY, max_contacts=max_contacts)
    with SqlAlchemyUnitOfWork(engine) as uow:
        register_borrowers(uow, batch, actor="officer-li", at=AT)


def test_a_borrower_and_their_contacts_are_stored_sealed_with_slots_and_one_audit_entry(engine: Engine) -> None:
    batch = parse_batch([record(contacts=3)], today=TODAY, max_contacts=3)
    with SqlAlchemyUnitOfWork(engine) as uow:
        (done,) = register_borrowers(uow, batch, actor="officer-li", at=AT)
    assert dict(done.slots) == {"B000123-C1": 1, "B000123-C2": 2, "B000123-C3": 3}
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert uow.identities.get("B000123") == PartyIdentity(
            "B000123", "张三", BORROWER_ID_NUMBER, "6222020000001234", "北京市朝阳区示例街2号"
        )
        assert uow.identities.get("B000123-C2") == PartyIdentity("B000123-C2", "王芳")
        assert uow.identities.find_by_resident_id(BORROWER_ID_NUMBER) == ("B000123",)
        assert {p.ref: p.address for p in uow.parties.points_of("B000123")} == {
            "B000123/phone": "+8613800004211",
            "B000123/email": "borrower000123@example.com",
        }
        consents = [c for c in uow.parties.consents() if c.party.startswith("B000123-C")]
        assert [(c.purpose, c.channel, c.evidence) for c in consents] == [
            ("contact_relay", "app", f"app-consent-{n}") for n in range(3)
        ]
    with engine.connect() as connection:
        (action, subject, detail) = connection.execute(text("SELECT action, subject, detail FROM audit_log")).one()
    assert (action, subject) == ("borrower.registered", "B000123")
    assert json.loads(detail)["contacts"][2] == {"party": "B000123-C3", "slot": 3, "relationship": "friend"}
    for personal in ("张三", "李娜", BORROWER_ID_NUMBER, "13800004211", "example.com", "6222", "北京"):
        assert personal not in detail


def test_the_result_is_shown_masked() -> None:
    parsed = parse_borrower(record(contacts=1), today=TODAY, max_contacts=3)
    shown = masked(Registered(parsed, {"B000123-C1": 1}))
    assert shown["name"] == "张*"
    assert shown["resident_id"] == "110105********002X"
    assert shown["phones"] == ["138****4211"]
    assert shown["email"] == "b***@example.com"
    assert shown["bank_account"] == "****1234"
    assert shown["postal_address"] == "北京市***"
    assert shown["contacts"][0]["name"] == "李*"
    assert shown["contacts"][0]["slot"] == 1
    assert "evidence" not in shown["contacts"][0]["consent"]


def test_more_contacts_than_allowed_is_refused_naming_pipl_art_6_and_nothing_is_stored(engine: Engine) -> None:
    with pytest.raises(RegistrationError) as refused:
        register(engine, record("B000122", contacts=1), record(contacts=7))
    assert str(refused.value) == (
        "line 2: borrower B000123: 7 designated contacts, at most 3 (PIPL Art. 6, minimum necessary)"
    )
    assert count(engine, "parties") == count(engine, "party_profiles") == count(engine, "audit_log") == 0


def test_the_limit_is_the_setting_and_never_above_five() -> None:
    assert len(parse_borrower(record(contacts=5), today=TODAY, max_contacts=5).contacts) == 5
    with pytest.raises(RegistrationError, match="4 designated contacts, at most 3"):
        parse_borrower(record(contacts=4), today=TODAY, max_contacts=3)
    with pytest.raises(DomainError, match="the ceiling of 5 is fixed"):
        parse_borrower(record(contacts=6), today=TODAY, max_contacts=6)


@pytest.mark.parametrize("field", ["address_book", "call_log", "contacts_book"])
def test_address_book_data_is_refused_by_name(field: str) -> None:
    with pytest.raises(RegistrationError, match=f"borrower B000123: {field} is address-book data, which fairdun never"):
        parse_borrower(record(**{field: [{"name": "王芳", "phone": "+8613800042099"}]}), today=TODAY, max_contacts=3)


def test_address_book_data_inside_a_contact_is_refused_too() -> None:
    bad = record(contacts=1)
    bad["contacts"][0]["call_log"] = []
    with pytest.raises(RegistrationError, match=r"contacts\[0\].call_log is address-book data"):
        parse_borrower(bad, today=TODAY, max_contacts=3)


def without_consent_field(name: str) -> dict[str, Any]:
    bad = record(contacts=2)
    del bad["contacts"][1]["consent"][name]
    return bad


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (record(salary=12000), "borrower B000123: salary: unknown field"),
        (record(resident_id="110105194912310025"), "borrower B000123: resident_id: check character is 5, expected X"),
        (record(phones=["+8612345678901"]), r"borrower B000123: phones\[0\]: not a valid number"),
        (record(phones=[]), "borrower B000123: phones: a list of at least one"),
        (record(email="zhang@localhost"), "borrower B000123: email: the part after @"),
        (record(name="张三3"), "borrower B000123: name: contains a digit"),
        (record(tz="Mars/Olympus"), "borrower B000123: tz: not an IANA time zone"),
        (record(risk_tier="extreme"), "borrower B000123: risk_tier: one of low, medium, high"),
        (without_consent_field("evidence"), r"contacts\[1\].consent.evidence: missing: say how the consent was given"),
        (without_consent_field("channel"), r"contacts\[1\].consent.channel: one of app"),
        (record(contacts=[{**contact(0), "consent": None}]), r"contacts\[0\].consent: missing"),
        (record(contacts=[{**contact(0), "relationship": "neighbour"}]), r"contacts\[0\].relationship: one of"),
        (record(contacts=[{**contact(0), "phone": "12345"}]), r"contacts\[0\].phone: not a valid number"),
        (record(contacts=[contact(0), {**contact(1), "id": "B000123-C1"}]), "contacts: two people with one id"),
        ({"name": "张三"}, "id: a borrower id is text"),
        (record(contacts=[{k: v for k, v in contact(0).items() if k != "name"}]), r"contacts\[0\].name: missing"),
        (record(name=None), "borrower B000123: name: expected text"),
    ],
)
def test_a_bad_record_is_refused_naming_the_borrower_and_field(bad: dict[str, Any], problem: str) -> None:
    with pytest.raises(RegistrationError, match=problem):
        parse_borrower(bad, today=TODAY, max_contacts=3)


def test_a_consent_without_an_offset_is_refused() -> None:
    bad = record(contacts=1)
    bad["contacts"][0]["consent"]["granted_at"] = "2026-11-01T10:00:00"
    with pytest.raises(RegistrationError, match=r"contacts\[0\].consent.granted_at: needs a UTC offset"):
        parse_borrower(bad, today=TODAY, max_contacts=3)


def test_a_borrower_already_stored_stores_nothing_of_the_batch(engine: Engine) -> None:
    register(engine, record())
    before = {t: count(engine, t) for t in ("parties", "party_profiles", "contact_points", "consents", "audit_log")}
    with pytest.raises(ConflictError):
        register(engine, record("B000200", contacts=1), record())
    assert {t: count(engine, t) for t in before} == before
