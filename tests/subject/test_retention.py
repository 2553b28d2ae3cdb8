"""Retention: the shipped policies, and the purge deleting exactly the rows past their period, in audited
batches, keeping rows under a hold, never the audit log or the ledger."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import text

from fairdun.adapters.sqlalchemy.audit_log import verify_log
from fairdun.application import subject_rights
from fairdun.application.audit_trail import CONTACTS, contacts_digest, verify_records
from fairdun.application.channels import OutboundMessage
from fairdun.application.ports import AccessAction, AccessRecord, ContactRecord
from fairdun.application.retention import PurgeAction, RecordType, RetentionError, purge
from fairdun.config.retention import load_retention, parse_retention
from fairdun.domain.contact import Channel, ContactEvent, Direction, Outcome

from .conftest import AT, SCHEDULE, START, Book, days_before

ON = date(2026, 9, 1)
OLD = days_before(ON, 6 * 365)  # past five years
RECENT = days_before(ON, 4 * 365)  # within them


def run(book: Book, *, dry_run: bool = False, batch: int = 2) -> dict[str, int]:
    report = purge(
        book.factory(), SCHEDULE, ON, actor="dpo-01", at=AT, settled=subject_rights.settled_loans, dry_run=dry_run,
        batch=batch,
    )  # fmt: skip
    return {line.record.value: line.rows for line in report.lines}


def history_ids(book: Book) -> set[str]:
    with book.engine.connect() as connection:
        return {i for (i,) in connection.execute(text("SELECT id FROM contact_events"))}


def test_every_record_type_has_a_policy_with_its_legal_basis() -> None:
    schedule = load_retention()
    assert {p.record for p in schedule.policies} == set(RecordType)
    assert all(p.basis for p in schedule.policies)
    assert schedule.policy(RecordType.AUDIT_LOG).action is PurgeAction.KEEP
    assert schedule.policy(RecordType.LOAN_EVENTS).action is PurgeAction.KEEP
    assert schedule.policy(RecordType.CONTACT_HISTORY).years == 5


def test_a_policy_file_that_would_purge_the_audit_log_or_lacks_a_basis_is_refused() -> None:
    document = {"version": "x", "policy": [{"record": r.value, "action": "keep", "basis": "b"} for r in RecordType]}
    document["policy"][4] = {"record": "audit_log", "action": "delete", "years": 1, "basis": "b"}
    with pytest.raises(RetentionError, match="audit_log: must be keep"):
        parse_retention(document, "mine.toml")
    with pytest.raises(RetentionError, match=r"mine.toml: policy 1 \(contact_history\): basis"):
        parse_retention({"policy": [{"record": "contact_history", "action": "delete", "years": 5}]}, "mine.toml")
    with pytest.raises(RetentionError, match="no policy for"):
        parse_retention({"policy": []}, "mine.toml")


def test_the_purge_deletes_exactly_the_rows_past_their_period_and_keeps_held_ones(book: Book) -> None:
    free, held = book.borrower(0), book.borrower(1)
    free_loan, held_loan = book.loan_of(free.id), book.loan_of(held.id)
    for n in range(5):
        book.add_contact(f"old-free-{n}", free.id, free_loan, OLD)
    book.add_contact("old-held", held.id, held_loan, OLD)
    book.add_contact("old-held-contact", book.contacts_of(held.id)[0], held_loan, OLD)
    book.add_contact("recent-free", free.id, free_loan, RECENT)
    with book.uow() as uow:
        uow.subjects.add_hold(party=held.id, loan=None, reason="litigation", until=date(2027, 1, 1), by="cco", at=AT)
        uow.commit()
    before = history_ids(book)

    assert run(book, dry_run=True)["contact_history"] == 5
    assert history_ids(book) == before  # a dry run deletes nothing

    counts = run(book, batch=2)

    assert counts["contact_history"] == 5
    assert counts["audit_log"] == 0
    assert counts["loan_events"] == 0
    assert history_ids(book) == before - {f"old-free-{n}" for n in range(5)}
    with book.engine.connect() as connection:
        batches = connection.execute(
            text("SELECT subject, detail FROM audit_log WHERE action = 'retention.purged' ORDER BY seq")
        ).all()
    assert [s for s, _ in batches] == ["contact_history"] * 3  # 2 + 2 + 1
    assert verify_log(book.engine).ok
    assert run(book)["contact_history"] == 0  # nothing left to purge


def test_a_released_or_ended_hold_no_longer_keeps_rows(book: Book) -> None:
    held = book.borrower(2)
    book.add_contact("old-1", held.id, book.loan_of(held.id), OLD)
    with book.uow() as uow:
        hold = uow.subjects.add_hold(
            party=None, loan=book.loan_of(held.id), reason="regulator", until=ON, by="c", at=AT
        )
        uow.commit()
    assert run(book, dry_run=True)["contact_history"] == 0
    with book.uow() as uow:
        assert uow.subjects.release_hold(hold.id, "c", AT) is not None
        assert uow.subjects.release_hold(hold.id, "c", AT) is None  # released once
        uow.commit()
    assert run(book)["contact_history"] == 1
    assert "old-1" not in history_ids(book)


def test_case_events_are_purged_only_for_loans_paid_off(book: Book) -> None:
    paid, owing = book.borrower(3), book.borrower(4)
    book.settle(paid.id, START)
    with book.engine.begin() as connection:
        for borrower in (paid, owing):
            connection.execute(
                text(
                    "INSERT INTO case_events (loan_id, kind, effective_on, data, recorded_at)"
                    " VALUES (:loan, 'assigned', :on, '{\"collector\": \"c1\"}', :at)"
                ),
                {"loan": book.loan_of(borrower.id), "on": OLD.date(), "at": OLD},
            )
    with book.uow() as uow:
        settled = subject_rights.settled_loans(uow, ON)
    assert book.loan_of(paid.id) in settled
    assert book.loan_of(owing.id) not in settled
    assert run(book)["case_events"] == 1
    with book.engine.connect() as connection:
        left = {loan for (loan,) in connection.execute(text("SELECT loan_id FROM case_events"))}
    assert book.loan_of(owing.id) in left
    assert book.loan_of(paid.id) not in left


def test_a_batch_an_audit_entry_vouches_for_is_purged_whole_or_not_at_all(book: Book) -> None:
    borrower = book.borrower(5)
    loan = book.loan_of(borrower.id)

    def record(record_id: str, at: datetime) -> ContactRecord:
        address = f"{borrower.id}/phone"
        event = ContactEvent(at, loan, borrower.id, address, Channel.SMS, Direction.OUTBOUND, Outcome.DELIVERED)
        return ContactRecord(record_id, event)

    with book.uow() as uow:
        for name, times in (("whole", (OLD, OLD)), ("split", (OLD, RECENT))):
            records = [record(f"{name}-{n}", at) for n, at in enumerate(times)]
            receipt = uow.audit.append(
                "system:cycle", CONTACTS, loan,
                {"count": len(records), "digest": contacts_digest(records)}, at=AT,
            )  # fmt: skip
            uow.contacts.add_many(records, audit_seq=receipt.seq)
        uow.commit()

    run(book)

    assert {"whole-0", "whole-1"}.isdisjoint(history_ids(book))
    assert {"split-0", "split-1"} <= history_ids(book)  # one row still in its period keeps the batch
    with book.uow() as uow:
        check = verify_records(uow, purge_actions=("retention.purged",))
    assert check.ok, check.problems
    assert check.purged == 1


def test_old_access_log_rows_and_finished_outbox_messages_are_purged_but_not_waiting_ones(book: Book) -> None:
    free, held = book.borrower(6), book.borrower(7)
    with book.uow() as uow:
        uow.access_log.record_many(
            [
                AccessRecord(OLD, "col-1", AccessAction.VIEW, party, ("phone",), "call", borrower=party)
                for party in (free.id, held.id)
            ]
        )
        uow.subjects.add_hold(party=held.id, loan=None, reason="litigation", until=date(2027, 1, 1), by="cco", at=AT)
        for key in ("old-sent", "old-pending"):
            message = OutboundMessage(key, Channel.SMS, free.phone, free.id, book.loan_of(free.id), "您好", OLD)
            uow.outbox.enqueue(message, arm="champion", rule_pack="cn", decided_at=OLD)
        uow.commit()
    with book.engine.begin() as connection:
        connection.execute(
            text("UPDATE outbox SET status = 'sent', outcome = 'delivered', finished_at = :at WHERE key = 'old-sent'"),
            {"at": OLD},
        )

    counts = run(book)

    assert counts["outbox"] == 1
    assert counts["access_log"] == 1
    with book.engine.connect() as connection:
        keys = {k for (k,) in connection.execute(text("SELECT key FROM outbox"))}
        parties = [p for (p,) in connection.execute(text("SELECT party FROM access_log"))]
    assert "old-sent" not in keys
    assert "old-pending" in keys  # never sent: not a finished record, not purged
    assert parties == [held.id]
    assert verify_log(book.engine).ok
