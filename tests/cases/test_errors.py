"""Every invalid event raises a DomainError that names the field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from fairdun.domain.cases import (
    BucketChanged,
    CaseEvent,
    CollectorAssigned,
    Cured,
    DisputeOpened,
    DisputeResolved,
    PlacedWithAgency,
    PlanAgreed,
    PlanInstallment,
    PromiseMade,
    RecalledFromAgency,
    case_state,
)
from fairdun.domain.errors import DomainError
from fairdun.domain.ledger import PauseGranted, PaymentReceived

D = Decimal
OPEN = BucketChanged(date(2024, 3, 1), "M1")
ON, LATER = date(2024, 3, 5), date(2024, 3, 10)


def field_of(events: list[CaseEvent], *, grace_days: int = 0) -> str:
    with pytest.raises(DomainError) as caught:
        case_state(events, [], date(2024, 12, 31), grace_days=grace_days)
    return caught.value.field


def test_a_recall_without_a_placement_is_refused() -> None:
    assert field_of([OPEN, RecalledFromAgency(ON)]) == "events[1]"


def test_a_second_recall_is_refused() -> None:
    events: list[CaseEvent] = [OPEN, PlacedWithAgency(ON, "a"), RecalledFromAgency(ON), RecalledFromAgency(LATER)]
    assert field_of(events) == "events[3]"


def test_a_placement_while_placed_is_refused() -> None:
    assert field_of([OPEN, PlacedWithAgency(ON, "a"), PlacedWithAgency(LATER, "b")]) == "events[2].agency_id"


def test_a_plan_whose_installments_do_not_sum_to_its_total_is_refused() -> None:
    plan = PlanAgreed(
        ON, D("100.00"), (PlanInstallment(LATER, D("60.00")), PlanInstallment(date(2024, 4, 10), D("39.99")))
    )
    with pytest.raises(DomainError, match=r"sum to 99\.99, not the agreed total 100\.00") as caught:
        case_state([OPEN, plan], [], LATER)
    assert caught.value.field == "events[1].installments"


def test_a_plan_without_installments_is_refused() -> None:
    assert field_of([OPEN, PlanAgreed(ON, D("100.00"), ())]) == "events[1].installments"


def test_plan_installments_out_of_order_are_refused() -> None:
    plan = PlanAgreed(ON, D("100.00"), (PlanInstallment(LATER, D("50.00")), PlanInstallment(LATER, D("50.00"))))
    assert field_of([OPEN, plan]) == "events[1].installments[1].due"


def test_a_plan_installment_of_zero_is_refused() -> None:
    plan = PlanAgreed(ON, D("100.00"), (PlanInstallment(LATER, D("100.00")), PlanInstallment(date(2024, 4, 1), D("0"))))
    assert field_of([OPEN, plan]) == "events[1].installments[1].amount"


@pytest.mark.parametrize("amount", [D("0.00"), D("-5.00"), D("1.005")])
def test_a_promise_of_zero_negative_or_part_cents_is_refused(amount: Decimal) -> None:
    assert field_of([OPEN, PromiseMade(ON, amount, LATER)]) == "events[1].amount"


def test_a_promise_due_before_it_was_made_is_refused() -> None:
    assert field_of([OPEN, PromiseMade(LATER, D("10.00"), ON)]) == "events[1].due"


def test_a_hardship_pause_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        case_state([OPEN], [PauseGranted(LATER, ON)], date(2024, 12, 31))
    assert caught.value.field == "payments[0].end"


def test_resolving_a_dispute_that_is_not_open_is_refused() -> None:
    assert field_of([OPEN, DisputeResolved(ON)]) == "events[1]"


def test_opening_a_second_dispute_while_one_is_open_is_refused() -> None:
    assert field_of([OPEN, DisputeOpened(ON), DisputeOpened(LATER)]) == "events[2]"


def test_a_cure_while_the_loan_is_still_delinquent_is_refused() -> None:
    assert field_of([OPEN, Cured(ON)]) == "events[1].on"


def test_a_case_event_with_no_open_case_is_refused() -> None:
    assert field_of([CollectorAssigned(ON, "col-1")]) == "events[0]"


def test_an_empty_collector_id_is_refused() -> None:
    assert field_of([OPEN, CollectorAssigned(ON, " ")]) == "events[1].collector_id"


def test_an_unknown_bucket_is_refused() -> None:
    assert field_of([BucketChanged(ON, "M9")]) == "events[0].bucket"


def test_negative_grace_days_are_refused() -> None:
    assert field_of([OPEN], grace_days=-1) == "grace_days"


def test_the_field_names_the_event_by_its_position_as_given_not_as_sorted() -> None:
    assert field_of([RecalledFromAgency(LATER), OPEN]) == "events[0]"


def test_something_that_is_not_a_case_event_is_refused() -> None:
    assert field_of([OPEN, PaymentReceived("p1", ON, D("1.00"))]) == "events[1]"  # type: ignore[list-item]
