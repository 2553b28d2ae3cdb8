"""A ledger cursor read forwards gives the states loan_state gives, day after day, at a fraction of the cost."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from fairdun.application.synthetic import generate_portfolio, simulate_payments
from fairdun.domain.errors import DomainError
from fairdun.domain.ledger import (
    LedgerCursor,
    LoanEvent,
    PauseGranted,
    PaymentReceived,
    PaymentReversed,
    dpd_history,
    loan_state,
)

START = date(2026, 9, 1)


def test_a_cursor_read_day_by_day_agrees_with_loan_state_and_its_overdue_total() -> None:
    portfolio = generate_portfolio(40, 21, START)
    payments = simulate_payments(portfolio, portfolio.history_start, START + timedelta(days=40), 21)
    events: dict[str, list[LoanEvent]] = {}
    for loan_id, payment in payments:
        events.setdefault(loan_id, []).append(payment)
    compared = behind = 0
    for loan in portfolio.loans:
        product = portfolio.product(loan.product_code)
        mine = events.get(loan.id, [])
        cursor = LedgerCursor(product, loan.schedule, mine)
        day = loan.disbursed_on
        while day <= START + timedelta(days=40):
            expected = loan_state(product, loan.schedule, mine, day)
            if day.toordinal() % 2:
                assert cursor.overdue_total(day) == expected.overdue.total, (loan.id, day)
            else:
                assert cursor.state(day) == expected, (loan.id, day)
            compared += 1
            behind += expected.dpd > 0
            day += timedelta(days=3)
    assert compared > 1000
    assert behind > 50  # the comparison covers loans behind, with penalty, not only current ones


def test_a_cursor_only_reads_forwards() -> None:
    portfolio = generate_portfolio(1, 2, START)
    loan = portfolio.loans[0]
    cursor = LedgerCursor(portfolio.product(loan.product_code), loan.schedule, [])
    cursor.state(START)
    with pytest.raises(DomainError, match="only reads forwards"):
        cursor.state(START - timedelta(days=1))
    with pytest.raises(DomainError, match="only reads forwards"):
        cursor.overdue_total(START - timedelta(days=1))


def test_payments_absorbed_a_day_late_give_the_dpd_a_full_replay_gives() -> None:
    portfolio = generate_portfolio(60, 33, START)
    end = START + timedelta(days=50)
    payments = simulate_payments(portfolio, portfolio.history_start, end, 33)
    by_loan: dict[str, list[PaymentReceived]] = {}
    for loan_id, payment in payments:
        by_loan.setdefault(loan_id, []).append(payment)
    absorbed = 0
    for loan in portfolio.loans:
        product = portfolio.product(loan.product_code)
        mine = [p for p in by_loan.get(loan.id, []) if p.on < end]  # the last day's would be learned after it
        known = [p for p in mine if p.on < START]
        cursor = LedgerCursor(product, loan.schedule, known)
        read: list[int] = []
        day = loan.disbursed_on
        while day <= end:
            # What was paid yesterday is learned this morning, before today's DPD is read.
            for payment in mine:
                if payment.on == day - timedelta(days=1) and payment.on >= START:
                    assert cursor.absorb(payment)
                    absorbed += 1
                    # Yesterday's DPD is read again: the payment may have brought it down.
                    read[-1] = cursor.dpd(day - timedelta(days=1))
            read.append(cursor.dpd(day))
            if day.toordinal() % 5 == 0:
                cursor.overdue_total(day)  # the cycle reads the overdue amount of some loans on some days
            day += timedelta(days=1)
        expected = [dpd for _, dpd in dpd_history(product, loan.schedule, mine, loan.disbursed_on, end)]
        assert read == expected, loan.id
    assert absorbed > 30


def test_a_cursor_refuses_to_absorb_what_needs_a_replay() -> None:
    portfolio = generate_portfolio(1, 2, START)
    loan = portfolio.loans[0]
    cursor = LedgerCursor(portfolio.product(loan.product_code), loan.schedule, [])
    cursor.overdue_total(START)
    assert not cursor.absorb(PaymentReceived("old", START - timedelta(days=1), Decimal("10.00")))
    assert not cursor.absorb(PaymentReversed("old"))
    assert not cursor.absorb(PauseGranted(START + timedelta(days=1), START + timedelta(days=5)))
    assert cursor.absorb(PaymentReceived("today", START, Decimal("10.00")))
    with pytest.raises(DomainError, match="already on the loan"):
        cursor.absorb(PaymentReceived("today", START + timedelta(days=1), Decimal("10.00")))
