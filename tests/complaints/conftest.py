"""Fixtures for the complaint tests: the persistence fixtures (SQLite and PostgreSQL) and a small fictional book."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import Engine

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application.ports import UnitOfWork
from fairdun.application.simulation import load_book
from fairdun.application.synthetic import generate_portfolio
from tests.persistence.conftest import database, engine, fixed_keyring, postgres_server, uow

__all__ = ["database", "engine", "fixed_keyring", "postgres_server", "uow"]

START = date(2026, 9, 1)
BORROWERS = 60


def factory(engine: Engine) -> Callable[[], UnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(engine)


@pytest.fixture
def booked(engine: Engine) -> Engine:
    """A database holding a fictional book of 60 borrowers with their past payments."""
    load_book(factory(engine), generate_portfolio(BORROWERS, 23, START), 23)
    return engine
