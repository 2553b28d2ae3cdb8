"""The loan ledger: allocation, penalty, early repayment, reversals, pauses and waivers, worked by hand.

The loan in most tests: 3000.00 over three months at 12 % a year, equal principal, lent on 10 January 2024.
Installments fall due on 10 February, 10 March and 10 April: 1000.00 principal each, interest 30.00, 20.00, 10.00.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from fairdun.domain.errors import DomainError
from fairdun.domain.ledger import (
    Allocation,
    Amounts,
    LoanEvent,
    LoanState,
    PauseGranted,
    PaymentReceived,
    PaymentReversed,
    Waived,
    days_counted,
    dpd_history,
    loan_state,
    merge_pauses,
)
from fairdun.domain.loans import AllocationOrder, Component, Product, RepaymentMethod, build_schedule

D = Decimal
P, F, INT, PR = Component.PENALTY, Component.FEE, Component.INTEREST, Component.PRINCIPAL
PRODUCT = Product("EP3", 3, D("0.12"), RepaymentMethod.EQUAL_PRINCIPAL, penalty_daily_rate=D("0.0005"))
SCHEDULE = build_schedule(PRODUCT, D("3000.00"), date(2024, 1, 10))
FEB10, MAR10, APR10 = date(2024, 2, 10), date(2024, 3, 10), date(2024, 4, 10)


def state(on: date, *events: LoanEvent, product: Product = PRODUCT) -> LoanState:
    return loan_state(product, SCHEDULE, events, on)


def pay(day: date, amount: str, pid: str = "p1") -> PaymentReceived:
    return PaymentReceived(pid, day, D(amount))


def day(d: date, n: int) -> date:
    return d + timedelta(days=n)


# --- on time, late, penalty ---------------------------------------------------------------------------------


def test_an_installment_paid_on_its_due_date_is_settled_with_no_penalty() -> None:
    s = state(day(FEB10, 5), pay(FEB10, "1030.00"))
    first = s.installments[0]
    assert first.settled_on == FEB10
    assert first.outstanding == Amounts()
    assert first.charged.penalty == 0
    assert s.dpd == 0


def test_an_unpaid_installment_is_one_day_past_due_the_day_after_its_due_date() -> None:
    assert state(FEB10).dpd == 0
    assert state(day(FEB10, 1)).dpd == 1
    assert state(day(FEB10, 29)).dpd == 29


def test_loan_dpd_is_the_oldest_past_due_installments() -> None:
    s = state(day(MAR10, 3))
    assert [i.dpd for i in s.installments] == [32, 3, 0]
    assert s.dpd == 32
    assert s.oldest_past_due is not None
    assert s.oldest_past_due.number == 1


def test_penalty_accrues_daily_on_overdue_principal_rounded_once_per_day() -> None:
    # 1000.00 x 0.0005 = 0.50 a day, for 11-20 February: ten days.
    s = state(day(FEB10, 10))
    assert s.installments[0].charged.penalty == D("5.00")
    # After paying 300.00 (penalty 5.00, interest 30.00, principal 265.00), 735.00 x 0.0005 = 0.3675 -> 0.37.
    s = state(day(FEB10, 13), pay(day(FEB10, 10), "300.00"))
    assert s.installments[0].charged.penalty == D("5.00") + 3 * D("0.37")


def test_no_penalty_is_charged_within_the_grace_days_and_grace_is_not_retroactive() -> None:
    graced = replace(PRODUCT, grace_days=3)
    assert state(day(FEB10, 3), product=graced).installments[0].charged.penalty == 0
    assert state(day(FEB10, 4), product=graced).installments[0].charged.penalty == D("0.50")
    paid_in_grace = state(day(FEB10, 30), pay(day(FEB10, 3), "1030.00"), product=graced)
    assert paid_in_grace.installments[0].charged.penalty == 0


def test_a_payment_on_a_day_cuts_that_days_penalty_to_what_was_owed_the_evening_before() -> None:
    # Paid on 12 February: penalty for 11 and 12 February on the 1000.00 owed at the end of 10 and 11 February.
    s = state(day(FEB10, 2), pay(day(FEB10, 2), "1031.00"))
    assert s.installments[0].charged.penalty == D("1.00")
    assert s.installments[0].settled_on == day(FEB10, 2)
    assert s.dpd == 0


# --- allocation ---------------------------------------------------------------------------------------------


def test_a_partial_payment_pays_penalty_then_fee_then_interest_then_principal() -> None:
    s = state(day(FEB10, 4), pay(day(FEB10, 4), "100.00"))
    assert s.payments[0].allocations == (
        Allocation(1, P, D("2.00")),
        Allocation(1, INT, D("30.00")),
        Allocation(1, PR, D("68.00")),
    )
    assert s.installments[0].outstanding.principal == D("932.00")
    assert s.dpd == 4  # still past due: principal is owed


def test_by_installment_clears_the_oldest_installment_before_touching_the_next() -> None:
    s = state(day(MAR10, 1), pay(day(MAR10, 1), "1050.00"))
    first, second = s.installments[:2]
    assert first.outstanding == Amounts()
    # 1050.00 - (30 days' penalty 15.00 + 30.00 + 1000.00) = 5.00: installment 2's day of penalty, then interest.
    assert second.paid == Amounts(penalty=D("0.50"), interest=D("4.50"))
    assert s.payments[0].allocated == D("1050.00")


def test_by_component_pays_every_installments_interest_before_any_principal() -> None:
    product = replace(PRODUCT, waterfall=(INT, PR, F, P), allocation=AllocationOrder.BY_COMPONENT)
    s = state(day(MAR10, 1), pay(day(MAR10, 1), "100.00"), product=product)
    assert s.payments[0].allocations == (
        Allocation(1, INT, D("30.00")),
        Allocation(2, INT, D("20.00")),
        Allocation(1, PR, D("50.00")),
    )


def test_a_waterfall_can_put_penalty_last_and_then_an_installment_settles_with_penalty_owed() -> None:
    product = replace(PRODUCT, waterfall=(INT, PR, F, P))
    s = state(day(FEB10, 5), pay(day(FEB10, 5), "1030.00"), product=product)
    first = s.installments[0]
    assert first.settled_on == day(FEB10, 5)
    assert first.outstanding == Amounts(penalty=D("2.50"))
    assert s.dpd == 0
    assert s.due.penalty == D("2.50")


# --- early and over-payment ---------------------------------------------------------------------------------


def test_paying_a_few_days_early_pays_the_coming_installment() -> None:
    s = state(day(FEB10, 1), pay(day(FEB10, -3), "1030.00"))
    assert s.installments[0].settled_on == day(FEB10, -3)
    assert s.dpd == 0
    assert s.installments[2].paid == Amounts()


def test_an_excess_paid_on_a_due_date_pays_the_installment_whose_month_begins_that_day() -> None:
    s = state(FEB10, pay(FEB10, "1530.00"))
    assert s.installments[1].paid == Amounts(interest=D("20.00"), principal=D("480.00"))
    assert s.installments[2].paid == Amounts()


def test_an_excess_goes_to_the_latest_principal_and_cuts_the_later_months_interest() -> None:
    # On 5 February: installment 1 (1030.00, the current one), then 500.00 early on installment 3's principal.
    s = state(FEB10, pay(day(FEB10, -5), "1530.00"))
    third = s.installments[2]
    assert third.paid == Amounts(principal=D("500.00"))
    # March's month begins on 10 February, after the early repayment: interest 20.00 - 500 x 1 % = 15.00.
    assert s.installments[1].charged.interest == D("15.00")
    assert third.charged.interest == D("5.00")
    assert s.principal_outstanding == D("1500.00")


def test_interest_for_a_month_that_has_begun_is_not_cut_by_a_later_early_repayment() -> None:
    s = state(day(FEB10, 5), pay(FEB10, "1030.00"), pay(day(FEB10, 5), "1520.00", "p2"))
    # p2 pays installment 2 (the current one, 1020.00) in full, then 500.00 of installment 3's principal.
    assert s.installments[1].charged.interest == D("20.00")
    assert s.installments[1].settled_on == day(FEB10, 5)
    assert s.installments[2].charged.interest == D("5.00")


def test_paying_the_payoff_closes_the_loan_and_cancels_later_interest_and_fees() -> None:
    product = replace(PRODUCT, installment_fee=D("3.00"))
    schedule = build_schedule(product, D("3000.00"), date(2024, 1, 10))
    quote = loan_state(product, schedule, [], day(FEB10, -5))
    assert quote.payoff == D("3033.00")  # all the principal, and January's month in full
    s = loan_state(product, schedule, [pay(day(FEB10, -5), "3033.00")], APR10)
    assert s.settled
    assert s.unapplied == 0
    assert [i.charged.interest for i in s.installments] == [D("30.00"), D("0.00"), D("0.00")]
    assert [i.charged.fee for i in s.installments] == [D("3.00"), D("0.00"), D("0.00")]
    assert s.installments[2].settled_on == day(FEB10, -5)


def test_an_overpayment_is_left_unapplied() -> None:
    s = state(APR10, pay(day(FEB10, -5), "3100.00"))
    assert s.unapplied == D("70.00")
    assert s.payments[0].unapplied == D("70.00")
    assert s.settled


def test_a_partial_early_repayment_of_an_interest_first_loan_cuts_the_monthly_interest() -> None:
    product = Product("IF3", 3, D("0.12"), RepaymentMethod.INTEREST_FIRST)
    schedule = build_schedule(product, D("3000.00"), date(2024, 1, 10))
    # The current month's 30.00, then 1000.00 of the principal due in April.
    s = loan_state(product, schedule, [pay(day(FEB10, -1), "1030.00")], APR10)
    assert [i.charged.interest for i in s.installments] == [D("30.00"), D("20.00"), D("20.00")]
    assert s.installments[2].outstanding.principal == D("2000.00")


# --- reversals ----------------------------------------------------------------------------------------------


def test_a_reversed_payment_is_as_if_it_never_happened() -> None:
    paid = pay(day(FEB10, 2), "1031.00")
    reversed_ = state(day(FEB10, 20), paid, PaymentReversed("p1", "bounced"))
    assert reversed_ == state(day(FEB10, 20))
    assert reversed_.dpd == 20
    assert reversed_.payments == ()


def test_reversing_an_unknown_payment_names_the_event() -> None:
    with pytest.raises(DomainError, match=r"events\[1\]\.payment_id: no payment 'p9' to reverse"):
        state(FEB10, pay(FEB10, "1.00"), PaymentReversed("p9"))


def test_two_payments_with_one_id_are_refused() -> None:
    with pytest.raises(DomainError, match=r"events\[1\]\.id: payment 'p1' is already events\[0\]"):
        state(FEB10, pay(FEB10, "1.00"), pay(MAR10, "2.00"))


# --- hardship pauses ----------------------------------------------------------------------------------------


def test_during_a_pause_no_penalty_accrues_and_dpd_does_not_grow() -> None:
    pause = PauseGranted(day(FEB10, 6), day(FEB10, 15))
    s = state(day(FEB10, 20), pause)
    assert s.dpd == 10
    assert s.installments[0].charged.penalty == D("5.00")
    assert not s.paused
    assert state(day(FEB10, 10), pause).paused


def test_an_installment_falling_due_inside_a_pause_counts_its_days_from_the_end_of_the_pause() -> None:
    s = state(day(FEB10, 5), pay(FEB10, "1030.00"), PauseGranted(day(FEB10, 1), day(MAR10, 5)))
    assert state(day(MAR10, 5), pay(FEB10, "1030.00"), PauseGranted(day(FEB10, 1), day(MAR10, 5))).dpd == 0
    assert s.dpd == 0
    later = state(day(MAR10, 8), pay(FEB10, "1030.00"), PauseGranted(day(FEB10, 1), day(MAR10, 5)))
    assert later.dpd == 3


def test_overlapping_and_adjacent_pauses_merge() -> None:
    pauses = [PauseGranted(date(2024, 3, 5), date(2024, 3, 9)), PauseGranted(date(2024, 3, 1), date(2024, 3, 4))]
    assert merge_pauses(pauses) == ((date(2024, 3, 1), date(2024, 3, 9)),)
    assert days_counted(date(2024, 2, 28), date(2024, 3, 10), merge_pauses(pauses)) == 2  # 29 Feb and 10 Mar


def test_a_pause_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(DomainError, match=r"events\[0\]\.end: must not be before the start 2024-03-05"):
        state(MAR10, PauseGranted(date(2024, 3, 5), date(2024, 3, 4)))


# --- waivers ------------------------------------------------------------------------------------------------


def test_a_penalty_waiver_forgives_the_oldest_penalty_first() -> None:
    s = state(day(MAR10, 4), Waived(day(MAR10, 4), P, D("6.00")))
    assert [i.waived.penalty for i in s.installments] == [D("6.00"), D("0.00"), D("0.00")]
    assert s.installments[0].outstanding.penalty == D("10.50")  # 16.50 accrued over 33 days


def test_a_waiver_beyond_what_is_owed_forgives_only_what_is_owed() -> None:
    s = state(FEB10, Waived(FEB10, INT, D("500.00"), installment=1))
    assert s.installments[0].waived.interest == D("30.00")
    assert s.installments[1].waived.interest == 0


def test_waiving_all_that_is_owed_cures_the_installment() -> None:
    s = state(day(FEB10, 10), Waived(day(FEB10, 10), PR, D("1000.00")), Waived(day(FEB10, 10), INT, D("30.00")))
    assert s.dpd == 0
    assert s.installments[0].settled_on == day(FEB10, 10)


def test_a_waiver_on_an_installment_not_yet_begun_is_refused() -> None:
    with pytest.raises(DomainError, match=r"events\[0\]\.installment: installment 3 has not begun on 2024-02-10"):
        state(FEB10, Waived(FEB10, INT, D("1.00"), installment=3))


# --- bad input ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "message"),
    [(0.5, r"floats are not money"), (D("0.00"), "must be a positive Decimal"), (D("1.001"), "whole cents")],
)
def test_a_payment_amount_must_be_a_positive_decimal_in_cents(amount: object, message: str) -> None:
    with pytest.raises(DomainError, match=rf"events\[0\]\.amount: .*{message}"):
        state(FEB10, PaymentReceived("p1", FEB10, amount))  # type: ignore[arg-type]


def test_a_schedule_out_of_order_is_refused() -> None:
    shuffled = (SCHEDULE[1], SCHEDULE[0], SCHEDULE[2])
    with pytest.raises(DomainError, match=r"schedule\[0\]\.number: must be 1"):
        loan_state(PRODUCT, shuffled, [], FEB10)


def test_something_that_is_not_an_event_is_refused() -> None:
    with pytest.raises(DomainError, match=r"events\[0\]: not a loan event: str"):
        loan_state(PRODUCT, SCHEDULE, ["payment"], FEB10)  # type: ignore[list-item]


# --- history ------------------------------------------------------------------------------------------------


def test_the_dpd_history_agrees_with_the_state_on_every_day() -> None:
    events = [pay(day(FEB10, 12), "500.00"), PauseGranted(day(MAR10, 2), day(MAR10, 6)), pay(APR10, "3000.00", "p2")]
    history = dpd_history(PRODUCT, SCHEDULE, events, FEB10, day(APR10, 3))
    assert [dpd for _, dpd in history] == [state(d, *events).dpd for d, _ in history]
    assert history[-1] == (day(APR10, 3), 0)


def test_a_dpd_history_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(DomainError, match="end: must not be before start"):
        dpd_history(PRODUCT, SCHEDULE, [], MAR10, FEB10)
