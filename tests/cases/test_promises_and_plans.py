"""Promises to pay and payment plans are kept, broken or on track according to the payments alone."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from fairdun.domain.cases import (
    BucketChanged,
    CaseEvent,
    CaseState,
    PlanAgreed,
    PlanInstallment,
    PromiseMade,
    PromiseStatus,
    case_state,
)
from fairdun.domain.ledger import LoanEvent, PaymentReceived, PaymentReversed

D = Decimal
OPENED = date(2024, 3, 1)
PROMISED, DUE = date(2024, 3, 5), date(2024, 3, 10)


def day(n: int) -> date:
    """The ``n``-th day after the promise (0 is the day it was made)."""
    return PROMISED + timedelta(days=n)


def state(events: list[CaseEvent], payments: list[LoanEvent], as_of: date, *, grace_days: int = 0) -> CaseState:
    result = case_state([BucketChanged(OPENED, "M1"), *events], payments, as_of, grace_days=grace_days)
    assert result is not None
    return result


def pay(pid: str, on: date, amount: str) -> PaymentReceived:
    return PaymentReceived(pid, on, D(amount))


PROMISE = PromiseMade(PROMISED, D("500.00"), DUE)

# --- promises -----------------------------------------------------------------------------------------------


def test_a_promise_is_pending_until_its_due_date() -> None:
    (promise,) = state([PROMISE], [], DUE).promises
    assert (promise.status, promise.paid, promise.settled_on) == (PromiseStatus.PENDING, D("0.00"), None)


def test_a_promise_is_kept_when_payments_in_its_window_reach_the_amount() -> None:
    payments: list[LoanEvent] = [pay("a", day(1), "200.00"), pay("b", DUE, "300.00")]
    (promise,) = state([PROMISE], payments, day(30)).promises
    assert (promise.status, promise.paid, promise.settled_on) == (PromiseStatus.KEPT, D("500.00"), DUE)


def test_a_promise_is_kept_the_day_it_is_paid_even_before_it_falls_due() -> None:
    (promise,) = state([PROMISE], [pay("a", PROMISED, "600.00")], PROMISED).promises
    assert (promise.status, promise.settled_on) == (PromiseStatus.KEPT, PROMISED)


def test_a_promise_with_nothing_paid_is_broken_the_day_after_it_falls_due() -> None:
    (promise,) = state([PROMISE], [], DUE + timedelta(days=1)).promises
    assert (promise.status, promise.settled_on) == (PromiseStatus.BROKEN, DUE + timedelta(days=1))


def test_a_partly_paid_promise_is_pending_then_broken_with_its_shortfall() -> None:
    payments: list[LoanEvent] = [pay("a", day(2), "499.99")]
    (pending,) = state([PROMISE], payments, DUE).promises
    assert (pending.status, pending.paid) == (PromiseStatus.PENDING, D("499.99"))
    (broken,) = state([PROMISE], payments, DUE + timedelta(days=1)).promises
    assert (broken.status, broken.shortfall) == (PromiseStatus.BROKEN, D("0.01"))


def test_payments_before_the_promise_or_after_its_deadline_do_not_count() -> None:
    payments: list[LoanEvent] = [pay("early", day(-1), "500.00"), pay("late", DUE + timedelta(days=1), "500.00")]
    (promise,) = state([PROMISE], payments, day(30)).promises
    assert (promise.status, promise.paid) == (PromiseStatus.BROKEN, D("0.00"))


def test_grace_days_extend_the_window_and_postpone_the_break() -> None:
    late = [pay("late", DUE + timedelta(days=2), "500.00")]
    (kept,) = state([PROMISE], list(late), day(30), grace_days=2).promises
    assert kept.status is PromiseStatus.KEPT
    (pending,) = state([PROMISE], [], DUE + timedelta(days=2), grace_days=2).promises
    assert pending.status is PromiseStatus.PENDING
    (broken,) = state([PROMISE], [], DUE + timedelta(days=3), grace_days=2).promises
    assert (broken.status, broken.deadline) == (PromiseStatus.BROKEN, DUE + timedelta(days=2))


def test_a_reversed_payment_keeps_no_promise() -> None:
    payments: list[LoanEvent] = [pay("a", day(1), "500.00"), PaymentReversed("a", "bounced")]
    (promise,) = state([PROMISE], payments, day(30)).promises
    assert promise.status is PromiseStatus.BROKEN


def test_one_payment_keeps_one_promise_not_two() -> None:
    second = PromiseMade(day(1), D("500.00"), DUE)
    first_state, second_state = state([PROMISE, second], [pay("a", day(2), "700.00")], day(30)).promises
    assert (first_state.status, first_state.paid) == (PromiseStatus.KEPT, D("500.00"))
    assert (second_state.status, second_state.paid) == (PromiseStatus.BROKEN, D("200.00"))


# --- payment plans ------------------------------------------------------------------------------------------

AGREED = date(2024, 4, 1)
PLAN = PlanAgreed(
    AGREED,
    D("900.00"),
    (
        PlanInstallment(date(2024, 4, 15), D("300.00")),
        PlanInstallment(date(2024, 5, 15), D("300.00")),
        PlanInstallment(date(2024, 6, 15), D("300.00")),
    ),
)


def test_a_plan_paid_as_agreed_is_on_track_and_then_completed() -> None:
    payments: list[LoanEvent] = [pay("a", date(2024, 4, 15), "300.00"), pay("b", date(2024, 5, 14), "300.00")]
    plan = state([PLAN], payments, date(2024, 5, 20)).plan
    assert plan is not None
    assert (plan.on_track, plan.completed, plan.paid, plan.due_so_far) == (True, False, D("600.00"), D("600.00"))
    payments.append(pay("c", date(2024, 6, 1), "300.00"))
    done = state([PLAN], payments, date(2024, 6, 30)).plan
    assert done is not None
    assert done.on_track
    assert done.completed


def test_a_missed_plan_installment_breaks_the_plan_for_good() -> None:
    payments: list[LoanEvent] = [pay("a", date(2024, 4, 15), "300.00"), pay("b", date(2024, 5, 15), "299.00")]
    on_its_due_date = state([PLAN], payments, date(2024, 5, 15)).plan
    assert on_its_due_date is not None
    assert on_its_due_date.on_track
    broken = state([PLAN], payments, date(2024, 5, 16)).plan
    assert broken is not None
    assert not broken.on_track
    assert broken.broken_on == date(2024, 5, 16)
    payments.append(pay("c", date(2024, 5, 20), "601.00"))
    still = state([PLAN], payments, date(2024, 6, 30)).plan
    assert still is not None
    assert still.broken_on == date(2024, 5, 16)
    assert not still.completed


def test_grace_days_apply_to_plan_installments() -> None:
    payments: list[LoanEvent] = [pay("a", date(2024, 4, 17), "300.00")]
    plan = state([PLAN], payments, date(2024, 4, 30), grace_days=2).plan
    assert plan is not None
    assert plan.on_track
    late = state([PLAN], payments, date(2024, 4, 30), grace_days=1).plan
    assert late is not None
    assert late.broken_on == date(2024, 4, 17)


def test_payments_before_the_plan_was_agreed_do_not_count_towards_it() -> None:
    plan = state([PLAN], [pay("a", date(2024, 3, 31), "900.00")], date(2024, 4, 20)).plan
    assert plan is not None
    assert plan.paid == D("0.00")
    assert not plan.on_track


def test_a_new_plan_replaces_the_previous_one() -> None:
    later = PlanAgreed(date(2024, 5, 1), D("600.00"), (PlanInstallment(date(2024, 6, 1), D("600.00")),))
    plan = state([PLAN, later], [pay("a", date(2024, 6, 1), "600.00")], date(2024, 6, 2)).plan
    assert plan is not None
    assert plan.plan == later
    assert plan.completed
