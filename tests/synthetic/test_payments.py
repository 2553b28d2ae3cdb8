"""The simulated payments, judged by the real ledger: what the borrowers pay is replayed by ``dpd_history``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from fairdun.application.synthetic import (
    Behaviour,
    Loan,
    LoanPayer,
    Portfolio,
    contact_pressure,
    cure_hazard,
    generate_portfolio,
    simulate_payments,
)
from fairdun.domain.errors import DomainError
from fairdun.domain.ledger import PaymentReceived, dpd_history, loan_state
from fairdun.domain.money import is_cents

from .conftest import SEED, START

END = START + timedelta(days=60)


@dataclass(frozen=True)
class Path:
    loan: Loan
    dpd: tuple[int, ...]  # one a day, START to END

    @property
    def worst(self) -> int:
        return max(self.dpd)

    @property
    def cured(self) -> bool:
        return any(a > 0 and b == 0 for a, b in zip(self.dpd, self.dpd[1:], strict=False))


@pytest.fixture(scope="module")
def payments(portfolio: Portfolio) -> list[tuple[str, PaymentReceived]]:
    return simulate_payments(portfolio, portfolio.history_start, END, SEED)


@pytest.fixture(scope="module")
def paths(portfolio: Portfolio, payments: list[tuple[str, PaymentReceived]]) -> list[Path]:
    by_loan: dict[str, list[PaymentReceived]] = defaultdict(list)
    for loan_id, payment in payments:
        by_loan[loan_id].append(payment)
    result = []
    for loan in portfolio.loans:
        history = dpd_history(portfolio.product(loan.product_code), loan.schedule, by_loan[loan.id], START, END)
        result.append(Path(loan, tuple(dpd for _, dpd in history)))
    return result


def _share(paths: Sequence[Path], test: Callable[[Path], bool]) -> float:
    return sum(bool(test(p)) for p in paths) / len(paths)


def test_the_same_seed_gives_the_same_payments(
    portfolio: Portfolio, payments: list[tuple[str, PaymentReceived]]
) -> None:
    assert simulate_payments(portfolio, portfolio.history_start, END, SEED) == payments
    assert simulate_payments(portfolio, portfolio.history_start, END, SEED + 1) != payments


def test_payments_up_to_a_day_do_not_depend_on_where_the_simulation_stops(
    portfolio: Portfolio, payments: list[tuple[str, PaymentReceived]]
) -> None:
    shorter = simulate_payments(portfolio, portfolio.history_start, START, SEED)
    assert shorter == [pair for pair in payments if pair[1].on <= START]


def test_payments_are_in_date_order_positive_in_cents_and_inside_the_window(
    portfolio: Portfolio, payments: list[tuple[str, PaymentReceived]]
) -> None:
    assert payments == sorted(payments, key=lambda pair: (pair[1].on, pair[0]))
    disbursed = {loan.id: loan.disbursed_on for loan in portfolio.loans}
    ids = set()
    for loan_id, payment in payments:
        assert payment.amount > 0
        assert is_cents(payment.amount)
        assert disbursed[loan_id] < payment.on <= END
        assert payment.id == f"{loan_id}-{payment.on:%Y%m%d}"
        ids.add(payment.id)
    assert len(ids) == len(payments)


def test_a_window_with_no_days_is_refused(portfolio: Portfolio) -> None:
    with pytest.raises(DomainError, match="to_date"):
        simulate_payments(portfolio, START, START - timedelta(days=1), SEED)


def test_good_payers_are_never_seriously_late(paths: list[Path]) -> None:
    # They pay what they owe, penalty included, within days of the due date: the estimate never falls short.
    good = [p for p in paths if p.loan.profile.behaviour is Behaviour.GOOD]
    assert max(p.worst for p in good) <= 10
    assert _share(good, lambda p: p.worst == 0) > 0.85


def test_the_book_has_a_realistic_mix_of_outcomes(paths: list[Path]) -> None:
    never = _share(paths, lambda p: p.worst == 0)
    delinquent = _share(paths, lambda p: p.worst > 0)
    m2_plus = _share(paths, lambda p: p.worst > 30)
    cured = _share(paths, lambda p: p.cured)
    assert 0.5 < never < 0.85
    assert 0.15 < delinquent < 0.5
    assert 0.03 < m2_plus < 0.15
    assert 0.05 < cured < 0.35


def test_defaulters_go_far_past_due_and_curers_come_back(portfolio: Portfolio, paths: list[Path]) -> None:
    defaulters = [p for p in paths if p.loan.profile.behaviour is Behaviour.DEFAULTER]
    curers = [p for p in paths if p.loan.profile.behaviour is Behaviour.CURER and p.worst > 0]
    assert _share(defaulters, lambda p: p.worst > 30) > 0.4
    assert _share(curers, lambda p: p.cured) > 0.5
    # A curer who cured is current, or nearly, at the end of the window.
    assert _share([p for p in curers if p.cured], lambda p: p.dpd[-1] <= 30) > 0.9


def test_chronic_payers_stay_behind(paths: list[Path]) -> None:
    chronic = [p for p in paths if p.loan.profile.behaviour is Behaviour.CHRONIC]
    assert _share(chronic, lambda p: p.worst > 0) > 0.8


def test_some_loans_are_paid_off(portfolio: Portfolio, payments: list[tuple[str, PaymentReceived]]) -> None:
    by_loan: dict[str, list[PaymentReceived]] = defaultdict(list)
    for loan_id, payment in payments:
        by_loan[loan_id].append(payment)
    short = [loan for loan in portfolio.loans if loan.schedule[-1].due < END]
    assert short
    settled = [
        loan
        for loan in short
        if loan_state(portfolio.product(loan.product_code), loan.schedule, by_loan[loan.id], END).settled
    ]
    assert 0.5 < len(settled) / len(short) < 1


def test_the_cure_hazard_rises_with_days_past_due_and_is_capped() -> None:
    values = [cure_hazard(d) for d in range(0, 120)]
    assert values[0] == 0
    assert values == sorted(values)
    assert max(values) == 0.25


def test_a_simulation_that_starts_late_starts_with_nothing_paid(portfolio: Portfolio) -> None:
    # Documented: each loan starts unpaid, so a window opened on the portfolio date finds the old installments
    # overdue and the borrowers who pay catch up.
    late_start = simulate_payments(portfolio, START, END, SEED)
    assert late_start
    assert all(START <= p.on <= END for _, p in late_start)


def test_contact_pressure_runs_from_forty_percent_to_all_of_the_hazard() -> None:
    assert contact_pressure(0) == pytest.approx(0.4)
    assert contact_pressure(1.5) == pytest.approx(0.7)
    assert contact_pressure(3) == contact_pressure(30) == pytest.approx(1.0)
    assert contact_pressure(-1) == pytest.approx(0.4)


def test_curers_left_alone_cure_later_than_curers_reached_and_the_rest_pay_the_same() -> None:
    start = date(2026, 9, 1)
    portfolio = generate_portfolio(400, 8, start)
    end = start + timedelta(days=60)

    def paid(pressure: float) -> dict[str, list[date]]:
        out: dict[str, list[date]] = {}
        for loan in portfolio.loans:
            payer = LoanPayer(loan, portfolio.product(loan.product_code), portfolio.history_start, 8)
            day = payer.wake
            while day <= end and not payer.done:
                payment = payer.step(day, pressure if payer.in_trouble() else 1.0)
                if payment is not None:
                    out.setdefault(loan.id, []).append(payment.on)
                day = payer.wake
        return out

    reached, alone = paid(1.0), paid(0.4)
    curers = [x.id for x in portfolio.loans if x.profile.behaviour is Behaviour.CURER]
    others = [x.id for x in portfolio.loans if x.profile.behaviour not in (Behaviour.CURER, Behaviour.DEFAULTER)]
    assert curers
    assert all(reached.get(k) == alone.get(k) for k in others)
    assert sum(len(reached.get(k, [])) for k in curers) >= sum(len(alone.get(k, [])) for k in curers)
    assert any(reached.get(k) != alone.get(k) for k in curers)
