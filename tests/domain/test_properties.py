"""Hypothesis properties of the loan ledger, over random products, schedules and event histories.

1. Allocation conserves money to the cent: for every payment, allocated + unapplied = paid; over the loan, what
   installments were paid plus what is unapplied is what was received.
2. Nothing is ever owed below zero, and the payoff quoted on a day settles the loan for good.
3. Reversing a payment restores the state exactly.
4. DPD is never negative, grows by at most a day a day, and never falls without a payment or waiver.
5. An event changes nothing before its effective date.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from fairdun.domain.delinquency import restate
from fairdun.domain.ledger import (
    LoanEvent,
    PauseGranted,
    PaymentReceived,
    PaymentReversed,
    Waived,
    dpd_history,
    loan_state,
)
from fairdun.domain.loans import AllocationOrder, Component, Installment, Product, RepaymentMethod, build_schedule

D = Decimal
DISBURSED = date(2024, 1, 29)  # month ends on the way: 29 February, 31 March ...
HORIZON = 420  # days after disbursement that events and dates fall in


@dataclass(frozen=True)
class Loan:
    product: Product
    schedule: tuple[Installment, ...]

    @property
    def total(self) -> Decimal:
        return sum((i.total for i in self.schedule), D(0))


def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=low, max_value=high).map(lambda c: D(c).scaleb(-2))


def a_day(low: int = 0, high: int = HORIZON) -> st.SearchStrategy[date]:
    return st.integers(min_value=low, max_value=high).map(lambda n: DISBURSED + timedelta(days=n))


@st.composite
def loans(draw: st.DrawFn) -> Loan:
    product = Product(
        code="P",
        term_months=draw(st.integers(min_value=1, max_value=12)),
        annual_rate=draw(st.integers(min_value=0, max_value=3600).map(lambda bp: D(bp).scaleb(-4))),
        method=draw(st.sampled_from(list(RepaymentMethod))),
        installment_fee=draw(cents(0, 1000)),
        upfront_fee=draw(cents(0, 5000)),
        penalty_daily_rate=draw(st.integers(min_value=0, max_value=10).map(lambda t: D(t).scaleb(-4))),
        grace_days=draw(st.integers(min_value=0, max_value=5)),
        waterfall=tuple(draw(st.permutations(list(Component)))),
        allocation=draw(st.sampled_from(list(AllocationOrder))),
    )
    schedule = build_schedule(product, draw(cents(100_00, 50_000_00)), DISBURSED)
    return Loan(product, schedule)


@st.composite
def histories(draw: st.DrawFn, loan: Loan, *, payments: bool = True, waivers: bool = True) -> list[LoanEvent]:
    """Payments (some reversed), hardship pauses and waivers, in no particular order."""
    events: list[LoanEvent] = []
    if payments:
        top = int(loan.total * 100) * 6 // 5
        for k in range(draw(st.integers(min_value=0, max_value=8))):
            events.append(PaymentReceived(f"p{k}", draw(a_day()), draw(cents(1, top))))
        for k in range(len(events)):
            if draw(st.booleans()) and draw(st.booleans()):
                events.append(PaymentReversed(f"p{k}"))
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        start = draw(a_day())
        events.append(PauseGranted(start, start + timedelta(days=draw(st.integers(min_value=0, max_value=60)))))
    if waivers:
        for _ in range(draw(st.integers(min_value=0, max_value=2))):
            component = draw(st.sampled_from(list(Component)))
            events.append(Waived(draw(a_day()), component, draw(cents(1, 100_000))))
    return draw(st.permutations(events))


@st.composite
def cases(draw: st.DrawFn, *, payments: bool = True, waivers: bool = True) -> tuple[Loan, list[LoanEvent], date]:
    loan = draw(loans())
    return loan, draw(histories(loan, payments=payments, waivers=waivers)), draw(a_day(0, HORIZON + 30))


SETTINGS = settings(deadline=None, max_examples=200)


@SETTINGS
@given(case=cases())
def test_every_payment_is_allocated_or_left_unapplied_to_the_cent(case: tuple[Loan, list[LoanEvent], date]) -> None:
    loan, events, as_of = case
    state = loan_state(loan.product, loan.schedule, events, as_of)
    for payment in state.payments:
        assert payment.allocated + payment.unapplied == payment.amount
        assert all(a.amount > 0 for a in payment.allocations)
    reversed_ids = {e.payment_id for e in events if isinstance(e, PaymentReversed)}
    received = sum(
        (e.amount for e in events if isinstance(e, PaymentReceived) and e.on <= as_of and e.id not in reversed_ids),
        D(0),
    )
    paid = sum((i.paid.total for i in state.installments), D(0))
    assert paid + state.unapplied == received


@SETTINGS
@given(case=cases())
def test_nothing_is_ever_owed_below_zero_and_amounts_stay_in_cents(case: tuple[Loan, list[LoanEvent], date]) -> None:
    loan, events, as_of = case
    state = loan_state(loan.product, loan.schedule, events, as_of)
    for installment in state.installments:
        for amounts in (installment.charged, installment.paid, installment.waived, installment.outstanding):
            for component in Component:
                value = amounts.of(component)
                assert value >= 0
                assert value == value.quantize(D("0.01"))
        assert installment.charged.principal == loan.schedule[installment.number - 1].principal
        assert installment.charged.interest <= loan.schedule[installment.number - 1].interest
    assert state.principal_outstanding + sum(
        (i.paid.principal + i.waived.principal for i in state.installments), 0
    ) == (sum((i.principal for i in loan.schedule), D(0)))


@SETTINGS
@given(case=cases(), data=st.data())
def test_paying_the_payoff_settles_the_loan_for_good(
    case: tuple[Loan, list[LoanEvent], date], data: st.DataObject
) -> None:
    loan, events, as_of = case
    # Only what has happened by the quote: a payment after it would only add to the unapplied money.
    events = [e for e in events if not isinstance(e, PaymentReceived | Waived) or e.on <= as_of]
    kept = {e.id for e in events if isinstance(e, PaymentReceived)}
    events = [e for e in events if not isinstance(e, PaymentReversed) or e.payment_id in kept]
    quote = loan_state(loan.product, loan.schedule, events, as_of)
    if quote.payoff == 0:
        return
    paid = [*events, PaymentReceived("payoff", as_of, quote.payoff)]
    later = data.draw(st.integers(min_value=0, max_value=400).map(lambda n: as_of + timedelta(days=n)))
    for day in (as_of, later):
        state = loan_state(loan.product, loan.schedule, paid, day)
        assert state.settled
        assert state.dpd == 0
        assert state.unapplied == quote.unapplied


@SETTINGS
@given(case=cases(), data=st.data())
def test_reversing_a_payment_restores_the_state_exactly(
    case: tuple[Loan, list[LoanEvent], date], data: st.DataObject
) -> None:
    loan, events, as_of = case
    payment = PaymentReceived("extra", data.draw(a_day()), data.draw(cents(1, int(loan.total * 100))))
    position = data.draw(st.integers(min_value=0, max_value=len(events)))
    with_both = [*events[:position], payment, *events[position:], PaymentReversed("extra")]
    assert loan_state(loan.product, loan.schedule, with_both, as_of) == loan_state(
        loan.product, loan.schedule, events, as_of
    )


@SETTINGS
@given(case=cases())
def test_dpd_is_never_negative_and_grows_at_most_a_day_a_day(case: tuple[Loan, list[LoanEvent], date]) -> None:
    loan, events, _ = case
    history = dpd_history(loan.product, loan.schedule, events, DISBURSED, DISBURSED + timedelta(days=HORIZON))
    assert all(dpd >= 0 for _, dpd in history)
    assert all(b <= a + 1 for (_, a), (_, b) in itertools.pairwise(history))


@SETTINGS
@given(case=cases(payments=False, waivers=False))
def test_without_payments_dpd_never_falls(case: tuple[Loan, list[LoanEvent], date]) -> None:
    loan, events, _ = case
    history = dpd_history(loan.product, loan.schedule, events, DISBURSED, DISBURSED + timedelta(days=HORIZON))
    assert all(b >= a for (_, a), (_, b) in itertools.pairwise(history))
    last_due = loan.schedule[-1].due
    paused = any(isinstance(e, PauseGranted) for e in events)
    if not paused and last_due < history[-1][0]:
        # A month that owes nothing (interest-first at 0 %) is never past due.
        first_owing = next(i for i in loan.schedule if i.total > 0)
        assert history[-1][1] == (history[-1][0] - first_owing.due).days


@settings(deadline=None, max_examples=100)
@given(case=cases(), data=st.data())
def test_the_dpd_history_agrees_with_the_state_on_any_day(
    case: tuple[Loan, list[LoanEvent], date], data: st.DataObject
) -> None:
    loan, events, _ = case
    history = dpd_history(loan.product, loan.schedule, events, DISBURSED, DISBURSED + timedelta(days=HORIZON))
    for day, dpd in data.draw(st.lists(st.sampled_from(history), min_size=1, max_size=5)):
        assert loan_state(loan.product, loan.schedule, events, day).dpd == dpd


@settings(deadline=None, max_examples=100)
@given(case=cases(), data=st.data())
def test_a_backdated_event_changes_nothing_before_its_effective_date(
    case: tuple[Loan, list[LoanEvent], date], data: st.DataObject
) -> None:
    loan, events, _ = case
    late: LoanEvent = data.draw(
        st.one_of(
            st.builds(PaymentReceived, st.just("late"), a_day(), cents(1, 10_000_00)),
            st.builds(PauseGranted, a_day(0, 200), a_day(200, HORIZON)),
        )
    )
    change = restate(
        loan.product, loan.schedule, events, [*events, late], start=DISBURSED, end=DISBURSED + timedelta(days=HORIZON)
    )
    effective = late.on if isinstance(late, PaymentReceived) else late.start
    assert change.since is None or change.since >= effective
    if isinstance(late, PaymentReceived):
        assert all(d.dpd_after <= d.dpd_before for d in change.days)
