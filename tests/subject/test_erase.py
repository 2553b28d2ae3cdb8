"""Erasure by crypto-shredding (PIPL Art. 47): every sealed field of the party becomes unreadable, other parties
are untouched, holds refuse it with their reason, and the daily cycle, the outbox and exports go on working."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from fairdun.adapters.crypto import KeyringError
from fairdun.adapters.sqlalchemy.audit_log import verify_log
from fairdun.adapters.sqlalchemy.data_keys import DataKeyStore
from fairdun.adapters.sqlalchemy.models import ContactPointRow, OutboxRow
from fairdun.application import subject_rights
from fairdun.application.channels import OutboundMessage
from fairdun.application.cycle import Book as CycleBook
from fairdun.application.cycle import CycleConfig, SimulatedChannel, run_day
from fairdun.application.ports import ContactPoint, Party
from fairdun.application.subject_rights import SubjectError
from fairdun.application.synthetic import CHINA
from fairdun.config.packs import PackLoader
from fairdun.config.strategies import load_strategy
from fairdun.domain.cases import DisputeOpened
from fairdun.domain.contact import Channel, Role
from fairdun.domain.ledger import loan_state

from .conftest import AT, SCHEDULE, START, Book, fixed_keyring, make_book


def erase(book: Book, party: str, *, dry_run: bool = False, on: date = START) -> subject_rights.Explanation:
    return subject_rights.erase(
        book.uow(), party, actor="dpo-01", reason="request DSR-7 by e-mail", at=AT, on=on, schedule=SCHEDULE,
        dry_run=dry_run,
    )  # fmt: skip


def raw_points(book: Book, party: str) -> list[tuple[bytes, str]]:
    with Session(book.engine) as session:
        rows = session.execute(
            select(ContactPointRow.address_ciphertext, ContactPointRow.ref).where(ContactPointRow.party == party)
        )
        return [(bytes(c), ref) for c, ref in rows]


def open_raw(book: Book, rows: list[tuple[bytes, str]]) -> list[str]:
    """Opens raw sealed addresses the way every reader does, in a fresh session with the master key."""
    with Session(book.engine) as session:
        store = DataKeyStore(session, fixed_keyring())
        return store.open_many([(c, ("contact_points", "address", ref)) for c, ref in rows])


def enqueue(book: Book, party: str, address: str, key: str) -> None:
    message = OutboundMessage(
        key, Channel.SMS, address, party, book.loan_of(party.split("-", maxsplit=1)[0]), "您好，请按时还款。",
        AT + timedelta(minutes=5), template="TPL@v1",
    )  # fmt: skip
    with book.uow() as uow:
        uow.outbox.enqueue(message, arm="champion", rule_pack="cn", decided_at=AT)
        uow.commit()


def test_an_erasure_makes_every_sealed_field_of_the_borrower_unreadable_and_leaves_others_alone(book: Book) -> None:
    borrower, other = book.borrower(0), book.borrower(1)
    book.settle(borrower.id)
    enqueue(book, borrower.id, borrower.phone, "k-erased")
    enqueue(book, other.id, other.phone, "k-other")
    mine, theirs = raw_points(book, borrower.id), raw_points(book, other.id)
    assert borrower.phone in open_raw(book, mine)  # readable before: the check below can fail

    explanation = erase(book, borrower.id)

    assert explanation.status == "erased"
    assert set(explanation.parties) == {borrower.id, *book.contacts_of(borrower.id)}
    with pytest.raises(KeyringError, match="shredded"):
        open_raw(book, mine)
    for contact in book.contacts_of(borrower.id):
        with pytest.raises(KeyringError, match="shredded"):
            open_raw(book, raw_points(book, contact))
    assert open_raw(book, theirs) == [other.phone, other.email]
    with book.engine.connect() as connection:
        keys = dict(connection.execute(text("SELECT party, wrapped_key FROM data_keys")).all())
    assert keys[borrower.id] is None
    assert keys[other.id] is not None
    with book.uow() as uow:
        points = {p.party for p in uow.parties.contact_points()}
        assert borrower.id not in points  # never listed again, so never contacted
        assert other.id in points
        cancelled = uow.outbox.get("k-erased")
        assert cancelled is not None
        assert cancelled.status.value == "failed"
        assert cancelled.message.body == ""
        assert cancelled.message.address == "[erased]"
        kept = uow.outbox.get("k-other")
        assert kept is not None
        assert kept.status.value == "pending"
        assert kept.message.address == other.phone
    assert verify_log(book.engine).ok


def test_the_explanation_says_what_was_kept_why_and_until_when(book: Book) -> None:
    borrower = book.borrower(2)
    book.settle(borrower.id)
    explanation = erase(book, borrower.id)
    document = explanation.to_document()
    kept = {k["record"]: k for k in document["kept"]}
    assert {"contact_history", "loan_events", "audit_log", "access_log"} <= kept.keys()
    assert "CN-REC-01" in kept["contact_history"]["why"]
    assert kept["contact_history"]["until"].startswith("2031-09-01")
    assert kept["audit_log"]["until"] == "indefinitely"
    assert "keys_shredded" in document["counts"]
    assert borrower.id in explanation.to_text()
    with book.uow() as uow:
        stored = uow.subjects.erasure(borrower.id)
    assert stored is not None
    assert stored["explanation"]["status"] == "erased"
    again = erase(book, borrower.id)
    assert again.status == "already_erased"


def test_a_dry_run_erases_nothing(book: Book) -> None:
    borrower = book.borrower(0)
    book.settle(borrower.id)
    explanation = erase(book, borrower.id, dry_run=True)
    assert explanation.status == "would_erase"
    assert open_raw(book, raw_points(book, borrower.id)) == [borrower.phone, borrower.email]


def test_an_outstanding_balance_refuses_the_erasure_and_says_why(book: Book) -> None:
    borrower = book.borrower(3)
    explanation = erase(book, borrower.id)
    assert explanation.status == "refused"
    assert any("Art. 13(2)" in h and "outstanding" in h for h in explanation.holds)
    assert open_raw(book, raw_points(book, borrower.id)) == [borrower.phone, borrower.email]
    with book.engine.connect() as connection:
        actions = [a for (a,) in connection.execute(text("SELECT action FROM audit_log ORDER BY seq"))]
    assert actions[-1] == "subject.erasure_refused"


def test_an_open_dispute_refuses_the_erasure(book: Book) -> None:
    borrower = book.borrower(4)
    book.settle(borrower.id)
    loan = book.loan_of(borrower.id)
    with book.uow() as uow:
        uow.case_events.append(loan, DisputeOpened(START - timedelta(days=3), "not my loan"), recorded_at=AT)
        uow.commit()
    explanation = erase(book, borrower.id)
    assert explanation.status == "refused"
    assert explanation.holds == (f"loan {loan}: a dispute is open; its records are evidence until it is resolved",)


def test_a_legal_hold_refuses_the_erasure_until_released_or_ended(book: Book) -> None:
    borrower = book.borrower(5)
    book.settle(borrower.id)
    with book.uow() as uow:
        hold = uow.subjects.add_hold(
            party=borrower.id, loan=None, reason="litigation 2026-X-1", until=date(2026, 12, 31), by="cco", at=AT
        )
        uow.commit()
    refused = erase(book, borrower.id)
    assert refused.status == "refused"
    assert "litigation 2026-X-1" in refused.holds[0]
    assert "until 2026-12-31" in refused.holds[0]
    assert erase(book, borrower.id, on=date(2027, 1, 1), dry_run=True).status == "would_erase"  # the hold has ended
    with book.uow() as uow:
        assert uow.subjects.release_hold(hold.id, "cco", AT) is not None
        uow.commit()
    assert erase(book, borrower.id).status == "erased"


def test_a_designated_contact_can_be_erased_alone_and_the_borrower_keeps_their_data(book: Book) -> None:
    borrower = book.borrower(6)
    contact = book.contacts_of(borrower.id)[0]
    explanation = erase(book, contact)  # the borrower's balance holds the borrower, not the contact
    assert explanation.status == "erased"
    assert explanation.parties == (contact,)
    assert open_raw(book, raw_points(book, borrower.id)) == [borrower.phone, borrower.email]


def test_an_unknown_party_is_an_error_naming_the_field(book: Book) -> None:
    with pytest.raises(SubjectError, match=r"^party: no party 'B999999'"):
        erase(book, "B999999")
    with pytest.raises(SubjectError, match=r"^reason:"):
        subject_rights.erase(book.uow(), "B000001", actor="x", reason=" ", at=AT, on=START, schedule=SCHEDULE)


def late_borrowers(book: Book) -> list[str]:
    with book.uow() as uow:
        late = []
        for loan in uow.loans.all():
            product = uow.products.get(loan.product)
            assert product is not None
            events = [e.event for e in uow.loan_events.for_loan(loan.id)]
            if loan_state(product, loan.schedule, events, START).dpd > 0:
                late.append(loan.borrower)
    return sorted(set(late))[:3]


def test_a_cycle_day_after_an_erasure_runs_and_never_plans_the_erased_parties(engine: Engine) -> None:
    book = make_book(engine, 60, 3)
    config = CycleConfig(load_strategy("default"), PackLoader().load("cn"))
    late = late_borrowers(book)
    assert late  # the check below needs a borrower the cycle works today
    contacts = [c for b in late for c in book.contacts_of(b)]
    erased = book.borrower(0)
    book.settle(erased.id)
    assert erase(book, erased.id).status == "erased"
    for contact in contacts:
        assert erase(book, contact).status == "erased"
    day = START
    with book.uow() as uow:
        cycle_book = CycleBook.load(uow, on=day, lookback=config.lookback)
    report = run_day(
        book.factory(), cycle_book, config, day, SimulatedChannel(3),
        clock=lambda: datetime.combine(day, time(6), CHINA), simulate=True,
    )  # fmt: skip
    assert report.summary["sent"] > 0, report.summary
    with book.uow() as uow:
        planned = uow.cycle.planned(day)
        pending = uow.outbox.pending(1000)
    assert planned
    assert {p.party for p in planned} & set(late)  # the borrowers are worked
    assert not {erased.id, *contacts, *book.contacts_of(erased.id)} & {p.party for p in planned}
    assert all(e.message.address != "[erased]" for e in pending)
    document = subject_rights.export_subject(book.uow(), erased.id, actor="dpo-01", at=AT, on=day)
    assert {p["address"] for p in document["contact_points"]} == {"[erased]"}
    assert document["erasure"]["reason"] == "request DSR-7 by e-mail"
    assert verify_log(book.engine).ok


def test_erased_outbox_rows_keep_their_ciphertext_but_it_cannot_be_opened(book: Book) -> None:
    borrower = book.borrower(0)
    book.settle(borrower.id)
    enqueue(book, borrower.id, borrower.phone, "k-sealed")
    erase(book, borrower.id)
    with Session(book.engine) as session:
        sealed = session.scalar(select(OutboxRow.address_ciphertext).where(OutboxRow.key == "k-sealed"))
        assert sealed is not None
        store = DataKeyStore(session, fixed_keyring())
        with pytest.raises(KeyringError, match="shredded"):
            store.open_many([(bytes(sealed), ("outbox", "address", "k-sealed"))])
        assert store.open_many([(bytes(sealed), ("outbox", "address", "k-sealed"))], erased="gone") == ["gone"]


def test_the_dates_are_utc() -> None:
    assert AT.tzinfo is UTC


def test_a_party_erased_before_anything_was_sealed_for_it_can_never_be_given_a_key(book: Book) -> None:
    with book.uow() as uow:
        uow.parties.add(Party("B000900", "B000900", Role.DEBTOR, "Asia/Shanghai"))
        uow.commit()
    assert erase(book, "B000900").status == "erased"
    with book.uow() as uow, pytest.raises(KeyringError, match="shredded"):
        uow.parties.add_contact_point(
            ContactPoint("B000900/phone", "B000900", "+8613800009997", frozenset({Channel.SMS}))
        )
    with book.engine.connect() as connection:
        row = connection.execute(text("SELECT wrapped_key, shredded_at FROM data_keys WHERE party = 'B000900'")).one()
    assert row[0] is None
    assert row[1] is not None


def test_a_legal_hold_on_one_loan_refuses_the_borrowers_erasure(book: Book) -> None:
    borrower = book.borrower(7)
    book.settle(borrower.id)
    loan = book.loan_of(borrower.id)
    with book.uow() as uow:
        uow.subjects.add_hold(party=None, loan=loan, reason="court file 12", until=date(2027, 6, 30), by="cco", at=AT)
        uow.commit()
    explanation = erase(book, borrower.id)
    assert explanation.status == "refused"
    assert explanation.holds == (
        f"legal hold 1 on loan {loan} until 2027-06-30 set by cco: court file 12",
    )  # fmt: skip
