"""Values come back exactly: money to the cent, rates to the last digit, instants aware and equal."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.adapters.sqlalchemy.models import LoanEventRow
from fairdun.domain.ledger import PaymentReceived
from fairdun.domain.loans import Product, RepaymentMethod

from .data import BEIJING, CASH_3, RECORDED, contact, loan

MONEY = [
    "0.01",
    "0.10",
    "0.29",  # 0.29 * 100 is 28.999999999999996 in floating point
    "1.00",
    "1.10",
    "1234.56",
    "99999999.99",
    "92233720368547758.07",  # the largest BIGINT of cents
]


def payments(amounts: list[str]) -> list[PaymentReceived]:
    return [PaymentReceived(f"p{k}", date(2024, 3, 1), Decimal(a)) for k, a in enumerate(amounts)]


def test_money_comes_back_exact_to_the_cent(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        uow.products.add(CASH_3)
        uow.loans.add(loan())
        for payment in payments(MONEY):
            uow.loan_events.append("L-0001", payment, recorded_at=RECORDED)
        uow.commit()
    with uow:
        amounts = [r.event.amount for r in uow.loan_events.for_loan("L-0001") if isinstance(r.event, PaymentReceived)]
    assert [str(a) for a in amounts] == MONEY
    assert all(isinstance(a, Decimal) and a.as_tuple().exponent == -2 for a in amounts)


def test_money_sums_exactly_in_sql(engine: Engine, uow: SqlAlchemyUnitOfWork) -> None:
    tenths = ["0.10"] * 100 + ["0.20"] * 100 + ["0.01"]  # a float sum drifts off 30.01
    with uow:
        uow.products.add(CASH_3)
        uow.loans.add(loan())
        for payment in payments(tenths):
            uow.loan_events.append("L-0001", payment, recorded_at=RECORDED)
        uow.commit()
    with engine.connect() as connection:
        total = connection.scalar(select(func.sum(LoanEventRow.__table__.c.amount_cents)))
    # The sum keeps the column's type: an exact Decimal, whatever the database.
    assert total == Decimal("30.01")
    assert isinstance(total, Decimal)


def test_a_fraction_of_a_cent_is_refused_not_rounded(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        uow.products.add(CASH_3)
        uow.loans.add(loan())
        uow.commit()
    with uow, pytest.raises(ValueError, match=re.escape("not an amount in whole cents: Decimal('2.675')")):
        uow.loan_events.append("L-0001", payments(["2.675"])[0], recorded_at=RECORDED)


def test_rates_come_back_to_the_last_digit(uow: SqlAlchemyUnitOfWork) -> None:
    rates = [Decimal("0.18"), Decimal("0.180"), Decimal("0.24") / 365, Decimal("1E-30"), Decimal("0")]
    products = [
        Product(f"R-{k}", 6, rate, RepaymentMethod.EQUAL_INSTALLMENT, penalty_daily_rate=rate)
        for k, rate in enumerate(rates)
    ]
    with uow:
        for product in products:
            uow.products.add(product)
        uow.commit()
    with uow:
        stored = uow.products.all()
    assert [p.annual_rate for p in stored] == rates
    assert [str(p.penalty_daily_rate) for p in stored] == [str(r) for r in rates]


INSTANTS = [
    datetime(2024, 3, 1, 21, 59, 59, 999999, tzinfo=BEIJING),
    datetime(2024, 3, 10, 2, 30, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
]


def test_instants_come_back_aware_in_utc_and_equal(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        for k, at in enumerate(INSTANTS):
            uow.contacts.add(contact(f"c-{k}", at))
        uow.commit()
    with uow:
        stored = [uow.contacts.get(f"c-{k}") for k in range(len(INSTANTS))]
    for record, at in zip(stored, INSTANTS, strict=True):
        assert record is not None
        assert record.event.at == at
        assert record.event.at.utcoffset() == timedelta(0)
        assert record.event.ts == at.timestamp()


def test_a_recorded_at_comes_back_in_utc(uow: SqlAlchemyUnitOfWork) -> None:
    learned = datetime(2024, 4, 5, 9, 15, 0, 123456, tzinfo=BEIJING)
    with uow:
        uow.products.add(CASH_3)
        uow.loans.add(loan())
        returned = uow.loan_events.append("L-0001", payments(["1.00"])[0], recorded_at=learned)
        uow.commit()
    with uow:
        (stored,) = uow.loan_events.for_loan("L-0001")
    assert stored.recorded_at == learned == returned.recorded_at
    assert stored.recorded_at.tzinfo is UTC
    assert stored == returned


def test_naive_instants_are_refused(uow: SqlAlchemyUnitOfWork) -> None:
    naive = datetime(2024, 3, 1, 10)  # noqa: DTZ001  -- the point of the test
    with uow:
        with pytest.raises(ValueError, match="timezone-aware"):
            uow.contacts.add(contact("c-1", naive))
        with pytest.raises(ValueError, match="timezone-aware"):
            uow.contacts.history(parties=["party-0001"], since=naive)
        with pytest.raises(ValueError, match="timezone-aware"):
            uow.loan_events.for_loan("L-0001", known_at=naive)


def test_dates_come_back_as_dates(uow: SqlAlchemyUnitOfWork) -> None:
    booked = loan(disbursed_on=date(2024, 2, 29))
    with uow:
        uow.products.add(CASH_3)
        uow.loans.add(booked)
        uow.commit()
    with uow:
        stored = uow.loans.get("L-0001")
    assert stored is not None
    assert type(stored.disbursed_on) is date
    assert [(type(i.start), type(i.due)) for i in stored.schedule] == [(date, date)] * 3
    assert [i.due for i in stored.schedule] == [date(2024, 3, 29), date(2024, 4, 29), date(2024, 5, 29)]
