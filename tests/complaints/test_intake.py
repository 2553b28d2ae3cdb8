"""Complaint intake and its status changes on SQLite and PostgreSQL: what is stored, what is sealed, what the audit
log says, and bad input refused naming the field with nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text

from fairdun.adapters.sqlalchemy.models_complaints import ComplaintRow, ComplaintTransitionRow
from fairdun.application.complaints import (
    RECEIVED,
    SEALED,
    TRANSITION,
    ComplainantRole,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintIntake,
    ComplaintStatus,
    advance_complaint,
    held_loans,
    receive_complaint,
)
from fairdun.application.ports import Loan, Party
from fairdun.domain.contact import Role
from fairdun.domain.errors import DomainError

from .conftest import factory

AT = datetime(2026, 9, 3, 2, 0, tzinfo=UTC)
SUMMARY = "催收员一天打了十几次电话，还说要上门找我单位领导"


def a_loan_with_a_contact(engine: Engine) -> tuple[Loan, Party, Party]:
    """A loan, its borrower's designated contact, and a contact of some other borrower."""
    with factory(engine)() as uow:
        parties = uow.parties.all()
        loans = uow.loans.all()
    contacts = [p for p in parties if p.role is Role.CONTACT]
    loan = next(x for x in loans if any(c.borrower == x.borrower for c in contacts))
    mine = next(c for c in contacts if c.borrower == loan.borrower)
    other = next(c for c in contacts if c.borrower != loan.borrower)
    return loan, mine, other


def intake(of: Loan, **changes: object) -> ComplaintIntake:
    fields: dict[str, object] = {
        "received_at": AT,
        "channel": ComplaintChannel.PHONE,
        "role": ComplainantRole.DEBTOR,
        "loan": of.id,
        "category": ComplaintCategory.HARASSMENT,
        "collector": "C-007",
        "summary": SUMMARY,
        **changes,
    }
    return ComplaintIntake(**fields)  # type: ignore[arg-type]


def audit_actions(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [str(a) for a in connection.execute(text("SELECT action FROM audit_log ORDER BY seq")).scalars()]


def test_a_complaint_is_stored_open_with_an_audit_entry_and_its_words_sealed(booked: Engine) -> None:
    loan, _, _ = a_loan_with_a_contact(booked)
    with factory(booked)() as uow:
        complaint, _ = receive_complaint(uow, intake(loan), by="agent-01", at=AT)
        uow.commit()
    with factory(booked)() as uow:
        stored = uow.complaints.get(complaint.id, text=True)
        listed = uow.complaints.all(status=ComplaintStatus.OPEN)
    assert stored is not None
    assert stored.status is ComplaintStatus.OPEN
    assert stored.intake.party == loan.borrower  # a debtor's complaint is the borrower's
    assert stored.intake.summary == SUMMARY
    assert stored.suspends
    assert [c.id for c in listed] == [complaint.id]
    assert listed[0].intake.summary == SEALED  # a listing opens nothing
    assert audit_actions(booked).count(RECEIVED) == 1
    with booked.connect() as connection:
        sealed = connection.execute(select(ComplaintRow.summary_ciphertext)).scalar_one()
    assert sealed is not None
    assert SUMMARY.encode() not in sealed


def test_a_complaint_moves_open_investigating_resolved_and_each_step_is_audited(booked: Engine) -> None:
    loan, _, _ = a_loan_with_a_contact(booked)
    with factory(booked)() as uow:
        complaint, _ = receive_complaint(uow, intake(loan), by="agent-01", at=AT)
        advance_complaint(uow, complaint.id, ComplaintStatus.INVESTIGATING, by="qa-02", at=AT + timedelta(hours=1))
        done = advance_complaint(
            uow, complaint.id, ComplaintStatus.UPHELD, by="qa-02", at=AT + timedelta(days=2), note="录音核实属实"
        )
        uow.commit()
    assert [h.status for h in done.history] == [
        ComplaintStatus.OPEN,
        ComplaintStatus.INVESTIGATING,
        ComplaintStatus.UPHELD,
    ]
    with factory(booked)() as uow:
        stored = uow.complaints.get(complaint.id, text=True)
        assert stored is not None
        assert stored.status is ComplaintStatus.UPHELD
        assert not stored.suspends
        assert stored.history[-1].note == "录音核实属实"
        assert uow.complaints.all(status=ComplaintStatus.OPEN) == ()
        with pytest.raises(DomainError, match=r"status: complaint .* is upheld"):
            advance_complaint(uow, complaint.id, ComplaintStatus.WITHDRAWN, by="qa-02", at=AT + timedelta(days=3))
    assert audit_actions(booked).count(TRANSITION) == 2
    with booked.connect() as connection:
        notes = connection.execute(select(ComplaintTransitionRow.note_ciphertext)).scalars().all()
    assert sum(n is not None for n in notes) == 1
    assert all("录音".encode() not in n for n in notes if n is not None)


def test_a_resolution_needs_a_note(booked: Engine) -> None:
    loan, _, _ = a_loan_with_a_contact(booked)
    with factory(booked)() as uow:
        complaint, _ = receive_complaint(uow, intake(loan), by="agent-01", at=AT)
        with pytest.raises(DomainError, match=r"^note:"):
            advance_complaint(uow, complaint.id, ComplaintStatus.NOT_UPHELD, by="qa-02", at=AT)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"loan": "L-NOSUCH"}, "loan"),
        ({"role": ComplainantRole.CONTACT}, "party"),
        ({"role": ComplainantRole.DEBTOR, "party": "P-NOSUCH"}, "party"),
        ({"role": ComplainantRole.THIRD_PARTY, "party": "P-NOSUCH"}, "party"),
        ({"contacts": ("c:20260901:L-NOSUCH:1.1:P",)}, "contacts[0]"),
        ({"summary": "   "}, "summary"),
        ({"collector": "C" * 65}, "collector"),
        ({"received_at": AT + timedelta(minutes=1)}, "received_at"),  # after it is recorded
        ({"received_at": datetime(2026, 9, 3, 10)}, "received_at"),  # noqa: DTZ001 (the naive instant under test)
    ],
)
def test_bad_intake_is_refused_naming_the_field_and_nothing_is_stored(
    booked: Engine, changes: dict[str, object], field: str
) -> None:
    loan, _, _ = a_loan_with_a_contact(booked)
    with factory(booked)() as uow:
        with pytest.raises(DomainError) as caught:
            receive_complaint(uow, intake(loan, **changes), by="agent-01", at=AT)
        assert caught.value.field == field
        uow.commit()
    with factory(booked)() as uow:
        assert uow.complaints.all() == ()
    assert RECEIVED not in audit_actions(booked)


def test_a_contact_complains_only_about_the_borrower_who_designated_them(booked: Engine) -> None:
    loan, mine, other = a_loan_with_a_contact(booked)
    with factory(booked)() as uow:
        with pytest.raises(DomainError, match=f"party: {other.id} is not a contact designated by"):
            receive_complaint(uow, intake(loan, role=ComplainantRole.CONTACT, party=other.id), by="agent-01", at=AT)
        complaint, _ = receive_complaint(
            uow,
            intake(
                loan, role=ComplainantRole.CONTACT, party=mine.id, category=ComplaintCategory.THIRD_PARTY_DISCLOSURE
            ),
            by="agent-01",
            at=AT,
        )
        uow.commit()
    assert complaint.intake.party == mine.id
    assert complaint.suspends
    with factory(booked)() as uow:
        refusal = uow.consents.refusal(mine.id)
        assert uow.consents.refusal(other.id) is None
    assert refusal is not None
    assert refusal.evidence == f"complaint {complaint.id}"
    assert "contact.refused" in audit_actions(booked)


def test_a_contacts_complaint_of_another_kind_records_no_refusal(booked: Engine) -> None:
    loan, mine, _ = a_loan_with_a_contact(booked)
    with factory(booked)() as uow:
        receive_complaint(
            uow,
            intake(loan, role=ComplainantRole.CONTACT, party=mine.id, category=ComplaintCategory.TIME_OF_DAY),
            by="agent-01",
            at=AT,
        )
        uow.commit()
    with factory(booked)() as uow:
        assert uow.consents.refusal(mine.id) is None


def test_a_suspending_complaint_holds_every_loan_of_the_borrower_until_resolved(booked: Engine) -> None:
    loan, _, _ = a_loan_with_a_contact(booked)
    with factory(booked)() as uow:
        theirs = {x.id for x in uow.loans.for_borrower(loan.borrower)}
        everyone = [(x.id, x.borrower) for x in uow.loans.all()]
        complaint, _ = receive_complaint(uow, intake(loan), by="agent-01", at=AT)
        receive_complaint(uow, intake(loan, category=ComplaintCategory.FEES_OR_AMOUNT), by="agent-01", at=AT)
        assert set(held_loans(uow, everyone)) == theirs
        advance_complaint(uow, complaint.id, ComplaintStatus.INVESTIGATING, by="qa-02", at=AT)
        assert held_loans(uow, everyone) == dict.fromkeys(theirs, (complaint.id, ComplaintCategory.HARASSMENT))
        advance_complaint(uow, complaint.id, ComplaintStatus.WITHDRAWN, by="qa-02", at=AT, note="撤回")
        assert held_loans(uow, everyone) == {}
