"""A ledger cursor read forwards gives the states loan_state gives, day after day, at a fraction of the cost."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fairdun.application.synthetic import generate_portfolio, simulate_payments
from fairdun.domain.errors import DomainError
from fairdun.domain.ledger import LedgerCursor, LoanEvent, loan_state

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
