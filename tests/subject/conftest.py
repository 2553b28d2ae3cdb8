"""Data-subject rights run on SQLite and PostgreSQL with the persistence tests' fixtures (and their rule: under
``CI=true`` an unreachable PostgreSQL fails instead of skipping). ``book`` is a small fictional portfolio loaded
with its past payments; helpers settle a borrower's loans and add history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application.access_control import add_user
from fairdun.application.ports import ContactRecord, UnitOfWork
from fairdun.application.simulation import load_book
from fairdun.application.synthetic import Borrower, Portfolio, generate_portfolio
from fairdun.config.retention import load_retention
from fairdun.domain.access import User, UserRole
from fairdun.domain.contact import Channel, ContactEvent, Direction, Outcome
from fairdun.domain.ledger import PaymentReceived, loan_state
from tests.persistence.conftest import database, engine, fixed_keyring, postgres_server, uow

__all__ = ["database", "engine", "fixed_keyring", "postgres_server", "uow"]

START = date(2026, 9, 1)
AT = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
SCHEDULE = load_retention()


@dataclass(frozen=True)
class Book:
    engine: Engine
    portfolio: Portfolio

    def factory(self) -> Callable[[], UnitOfWork]:
        return lambda: SqlAlchemyUnitOfWork(self.engine)

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.engine)

    def borrower(self, n: int) -> Borrower:
        return self.portfolio.borrowers[n]

    def contacts_of(self, borrower: str) -> list[str]:
        return [c.id for c in self.portfolio.contacts if c.borrower_id == borrower]

    def settle(self, borrower: str, on: date = START) -> None:
        """Pays off every loan of ``borrower`` on ``on`` (everything still owed, now and later)."""
        with self.uow() as uow:
            for loan in uow.loans.for_borrower(borrower):
                product = uow.products.get(loan.product)
                assert product is not None
                events = [e.event for e in uow.loan_events.for_loan(loan.id)]
                owed = sum(
                    (i.outstanding.total for i in loan_state(product, loan.schedule, events, on).installments),
                    Decimal(0),
                )
                if owed > 0:
                    uow.loan_events.append(
                        loan.id, PaymentReceived(f"settle-{loan.id}", on, owed + Decimal("500.00")), recorded_at=AT
                    )
            uow.commit()

    def add_contact(self, record_id: str, party: str, debt: str, at: datetime) -> None:
        with self.uow() as uow:
            event = ContactEvent(at, debt, party, f"{party}/phone", Channel.SMS, Direction.OUTBOUND, Outcome.DELIVERED)
            uow.contacts.add(ContactRecord(record_id, event))
            uow.commit()

    def loan_of(self, borrower: str) -> str:
        return next(x.id for x in self.portfolio.loans if x.borrower_id == borrower)


USERS = (
    User("dpo-01", UserRole.COMPLIANCE),
    User("cco", UserRole.COMPLIANCE),
    User("col-1", UserRole.COLLECTOR),
    User("portal-B000001", UserRole.BORROWER, party="B000001"),
)
"""The accounts the tests act as (besides the first admin): two compliance officers, a collector, a borrower."""


def make_book(engine: Engine, borrowers: int, seed: int) -> Book:
    portfolio = generate_portfolio(borrowers, seed, START)
    load_book(lambda: SqlAlchemyUnitOfWork(engine), portfolio, seed)
    with SqlAlchemyUnitOfWork(engine) as uow:
        admin = next((u.id for u in uow.access.users() if u.role is UserRole.ADMIN and u.active), None)
        if admin is None:  # the book may come with its own admin
            admin = "admin"
            add_user(uow, User(admin, UserRole.ADMIN), by=None, at=AT)
        for user in USERS:
            add_user(uow, user, by=admin, at=AT)
        uow.commit()
    return Book(engine, portfolio)


@pytest.fixture
def book(engine: Engine) -> Book:
    return make_book(engine, 8, 11)


def days_before(day: date, n: int) -> datetime:
    return datetime.combine(day - timedelta(days=n), time(3), UTC)
