"""A case opens with delinquency, moves with its bucket, resolves on cure, and a new delinquency is a new case."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from fairdun.domain.cases import (
    BucketChanged,
    CaseEvent,
    CaseStatus,
    CollectorAssigned,
    Cured,
    Direction,
    PlacedWithAgency,
    RecalledFromAgency,
    bucket_events,
    case_history,
    case_state,
    is_cured,
)
from fairdun.domain.delinquency import loan_bucket_history
from fairdun.domain.errors import DomainError
from fairdun.domain.ledger import PaymentReceived, loan_state
from fairdun.domain.loans import Product, RepaymentMethod, build_schedule

D = Decimal
MAR1, MAR31, APR10, APR20, MAY1, JUN1 = (
    date(2024, 3, 1),
    date(2024, 3, 31),
    date(2024, 4, 10),
    date(2024, 4, 20),
    date(2024, 5, 1),
    date(2024, 6, 1),
)


def test_a_loan_that_was_never_delinquent_has_no_case() -> None:
    assert case_state([BucketChanged(MAR1, "C")], [], JUN1) is None


def test_a_case_opens_when_the_loan_enters_a_delinquent_bucket() -> None:
    state = case_state([BucketChanged(MAR1, "M1")], [], MAR1, loan_id="L1")
    assert state is not None
    assert (state.case_id, state.status, state.bucket, state.opened_on) == ("L1#1", CaseStatus.OPEN, "M1", MAR1)
    assert state.moves[0].direction is Direction.OPENED
    assert state.assignee is None
    assert state.agency is None


def test_events_dated_after_as_of_are_not_yet_known() -> None:
    assert case_state([BucketChanged(MAR1, "M1")], [], date(2024, 2, 29)) is None


def test_the_case_escalates_m1_to_m2_and_de_escalates_with_its_bucket() -> None:
    events = [BucketChanged(MAR1, "M1"), BucketChanged(MAR31, "M2"), BucketChanged(APR20, "M1")]
    state = case_state(events, [], MAY1)
    assert state is not None
    assert [(m.from_bucket, m.to_bucket, m.direction) for m in state.moves] == [
        (None, "M1", Direction.OPENED),
        ("M1", "M2", Direction.ESCALATED),
        ("M2", "M1", Direction.DE_ESCALATED),
    ]
    assert state.bucket == "M1"
    assert case_state(events, [], APR10) == case_state(events[:2], [], APR10)


def test_back_to_current_without_a_cure_keeps_the_case_open() -> None:
    events = [BucketChanged(MAR1, "M1"), BucketChanged(APR10, "C")]
    state = case_state(events, [], MAY1)
    assert state is not None
    assert (state.status, state.bucket, state.moves[-1].direction) == (CaseStatus.OPEN, "C", Direction.DE_ESCALATED)


def test_a_cure_resolves_the_case() -> None:
    events: list[CaseEvent] = [BucketChanged(MAR1, "M1"), BucketChanged(APR10, "C"), Cured(APR10)]
    state = case_state(events, [], MAY1)
    assert state is not None
    assert (state.status, state.resolved_on) == (CaseStatus.RESOLVED, APR10)


def test_a_cure_and_a_bucket_change_on_one_day_apply_the_bucket_change_first() -> None:
    events: list[CaseEvent] = [BucketChanged(MAR1, "M1"), Cured(APR10), BucketChanged(APR10, "C")]
    state = case_state(events, [], MAY1)
    assert state is not None
    assert state.status is CaseStatus.RESOLVED


def test_re_delinquency_opens_a_new_case_number_that_starts_afresh() -> None:
    events: list[CaseEvent] = [
        BucketChanged(MAR1, "M1"),
        CollectorAssigned(MAR1, "col-1"),
        BucketChanged(APR10, "C"),
        Cured(APR10),
        BucketChanged(MAY1, "M1"),
    ]
    first, second = case_history(events, [], JUN1, loan_id="L1")
    assert (first.case_id, first.status, first.assignee) == ("L1#1", CaseStatus.RESOLVED, "col-1")
    assert (second.case_id, second.status, second.opened_on, second.assignee) == ("L1#2", CaseStatus.OPEN, MAY1, None)
    assert case_state(events, [], JUN1, loan_id="L1") == second


def test_assignment_placement_and_recall_are_recorded() -> None:
    events: list[CaseEvent] = [
        BucketChanged(MAR1, "M1"),
        CollectorAssigned(MAR1, "col-1"),
        CollectorAssigned(MAR31, "col-2"),
        PlacedWithAgency(APR10, "agency-a"),
    ]
    placed = case_state(events, [], APR10)
    assert placed is not None
    assert (placed.assignee, placed.agency) == ("col-2", "agency-a")
    recalled = case_state([*events, RecalledFromAgency(MAY1), PlacedWithAgency(JUN1, "agency-b")], [], MAY1)
    assert recalled is not None
    assert recalled.agency is None
    assert recalled.placements[0].recalled_on == MAY1
    replaced = case_state([*events, RecalledFromAgency(MAY1), PlacedWithAgency(JUN1, "agency-b")], [], JUN1)
    assert replaced is not None
    assert replaced.agency == "agency-b"


def test_a_case_follows_a_real_loan_from_its_ledger_to_its_cure() -> None:
    product = Product("EP3", 3, D("0.12"), RepaymentMethod.EQUAL_PRINCIPAL)
    schedule = build_schedule(product, D("3000.00"), date(2024, 1, 10))  # first due 10 February
    payments = [PaymentReceived("p1", date(2024, 4, 5), D("2050.00"))]
    history = loan_bucket_history(product, schedule, payments, date(2024, 2, 1), date(2024, 4, 5))
    changes = bucket_events(history)
    assert [e.bucket for e in changes] == ["C", "M1", "M2", "C"]
    events: list[CaseEvent] = list(changes)
    loan = loan_state(product, schedule, payments, date(2024, 4, 5))
    assert is_cured(loan)
    events.append(Cured(loan.as_of))
    state = case_state(events, payments, date(2024, 4, 5))
    assert state is not None
    assert [m.direction for m in state.moves] == [Direction.OPENED, Direction.ESCALATED, Direction.DE_ESCALATED]
    assert state.status is CaseStatus.RESOLVED


def test_a_loan_still_owing_after_its_due_date_is_not_cured() -> None:
    product = Product("EP3", 3, D("0.12"), RepaymentMethod.EQUAL_PRINCIPAL)
    schedule = build_schedule(product, D("3000.00"), date(2024, 1, 10))
    assert not is_cured(loan_state(product, schedule, [], date(2024, 2, 11)))


def test_a_case_event_a_restatement_made_moot_raises_unless_replayed_leniently() -> None:
    # Assigned on 10 April while the loan looked delinquent; a payment learned later shows it was current then.
    restated = [BucketChanged(MAR1, "M1"), BucketChanged(MAR31, "C"), Cured(MAR31)]
    moot = [*restated, CollectorAssigned(APR10, "collector-01"), Cured(APR20)]
    with pytest.raises(DomainError, match="no case is open then"):
        case_state(moot, [], MAY1)
    lenient = case_state(moot, [], MAY1, lenient=True)
    assert lenient == case_state(restated, [], MAY1)
    # A cure recorded on a day the loan is now known to have been behind is passed over too.
    behind = [BucketChanged(MAR1, "M1"), Cured(APR10), BucketChanged(APR20, "C")]
    state = case_state(behind, [], MAY1, lenient=True)
    assert state is not None
    assert state.status is CaseStatus.OPEN


def test_a_recall_of_a_case_that_is_not_placed_is_passed_over_only_when_lenient() -> None:
    events = [BucketChanged(MAR1, "M1"), RecalledFromAgency(APR10)]
    with pytest.raises(DomainError, match="recall needs a placement"):
        case_state(events, [], MAY1)
    lenient = case_state(events, [], MAY1, lenient=True)
    assert lenient == case_state(events[:1], [], MAY1)
    placed = [BucketChanged(MAR1, "M1"), PlacedWithAgency(MAR31, "agency-east"), RecalledFromAgency(APR10)]
    state = case_state(placed, [], MAY1, lenient=True)
    assert state is not None
    assert state.agency is None
    assert state.placements[0].recalled_on == APR10
