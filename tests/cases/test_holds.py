"""Holds: a dispute or a hardship pause stops collection contact while it is in effect."""

from __future__ import annotations

from datetime import date

from fairdun.domain.cases import (
    BucketChanged,
    CaseEvent,
    CaseState,
    Cured,
    DisputeOpened,
    DisputeResolved,
    HoldKind,
    case_state,
    may_contact_for_collection,
)
from fairdun.domain.ledger import LoanEvent, PauseGranted

OPENED = date(2024, 3, 1)


def state(events: list[CaseEvent], as_of: date) -> CaseState:
    result = case_state([BucketChanged(OPENED, "M1"), *events], [], as_of, loan_id="L7")
    assert result is not None
    return result


def test_an_open_case_with_no_hold_may_be_contacted() -> None:
    allowed, reason = may_contact_for_collection(state([], OPENED))
    assert allowed
    assert "L7#1" in reason


def test_an_open_dispute_stops_collection_contact_until_it_is_resolved() -> None:
    events: list[CaseEvent] = [DisputeOpened(date(2024, 3, 5), "amount contested")]
    held = state(events, date(2024, 3, 20))
    assert [(h.kind, h.since, h.reason) for h in held.holds] == [
        (HoldKind.DISPUTE, date(2024, 3, 5), "amount contested")
    ]
    allowed, reason = may_contact_for_collection(held)
    assert not allowed
    assert "dispute" in reason
    events.append(DisputeResolved(date(2024, 3, 21)))
    assert may_contact_for_collection(state(events, date(2024, 3, 20)))[0] is False
    assert may_contact_for_collection(state(events, date(2024, 3, 21)))[0] is True


def test_a_hardship_pause_stops_collection_contact_on_its_days_only() -> None:
    payments: list[LoanEvent] = [PauseGranted(date(2024, 3, 10), date(2024, 3, 19))]

    def paused(on: date) -> CaseState:
        result = case_state([BucketChanged(OPENED, "M1")], payments, on, loan_id="L7")
        assert result is not None
        return result

    assert may_contact_for_collection(paused(date(2024, 3, 9)))[0] is True
    for on in (date(2024, 3, 10), date(2024, 3, 19)):
        allowed, reason = may_contact_for_collection(paused(on))
        assert not allowed
        assert "hardship pause" in reason
    assert may_contact_for_collection(paused(date(2024, 3, 20)))[0] is True


def test_a_dispute_outlives_the_case_it_was_opened_in() -> None:
    events: list[CaseEvent] = [
        DisputeOpened(date(2024, 3, 5)),
        BucketChanged(date(2024, 3, 20), "C"),
        Cured(date(2024, 3, 20)),
        BucketChanged(date(2024, 4, 15), "M1"),
    ]
    second = state(events, date(2024, 4, 20))
    assert second.number == 2
    assert may_contact_for_collection(second) == (False, "dispute hold: a dispute is open since 2024-03-05")


def test_a_resolved_case_is_not_contacted_for_collection() -> None:
    resolved = state([BucketChanged(date(2024, 3, 20), "C"), Cured(date(2024, 3, 20))], date(2024, 3, 21))
    allowed, reason = may_contact_for_collection(resolved)
    assert not allowed
    assert "resolved" in reason


def test_a_dispute_may_be_opened_again_after_it_was_resolved() -> None:
    events: list[CaseEvent] = [
        DisputeOpened(date(2024, 3, 5)),
        DisputeResolved(date(2024, 3, 6)),
        DisputeOpened(date(2024, 3, 8)),
    ]
    assert [h.since for h in state(events, date(2024, 3, 9)).holds] == [date(2024, 3, 8)]


def test_a_pause_granted_on_the_ledger_is_a_hold_too() -> None:
    payments: list[LoanEvent] = [PauseGranted(date(2024, 3, 10), date(2024, 3, 19))]
    during = case_state([BucketChanged(OPENED, "M1")], payments, date(2024, 3, 12))
    assert during is not None
    assert [h.kind for h in during.holds] == [HoldKind.HARDSHIP_PAUSE]
    assert may_contact_for_collection(during)[0] is False
    after = case_state([BucketChanged(OPENED, "M1")], payments, date(2024, 3, 20))
    assert after is not None
    assert may_contact_for_collection(after)[0] is True
