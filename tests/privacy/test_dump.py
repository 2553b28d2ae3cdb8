"""The dump test: a fictional portfolio goes through a day of the cycle; then the SQLite file, byte for byte, and
a ``pg_dump`` of the PostgreSQL schema hold none of its phone numbers, e-mail addresses, names or resident ID
numbers, in text or in hex (how ``pg_dump`` writes ``bytea``), while the repositories still return the addresses,
the names and the resident ID numbers (stored sealed since migration 0007), and find a borrower by ID number.

Under ``CI=true`` the PostgreSQL half must run: an unreachable server fails (the fixtures' rule), and so does a
missing ``pg_dump``."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application.cycle import Book, CycleConfig, SimulatedChannel, run_day
from fairdun.application.ports import UnitOfWork
from fairdun.application.simulation import load_book
from fairdun.application.synthetic import CHINA, Portfolio, generate_portfolio
from fairdun.config.packs import PackLoader
from fairdun.config.strategies import load_strategy
from tests.persistence.conftest import Database, libpq_conninfo

START = date(2026, 9, 1)
BORROWERS = 60
PG_DUMP = os.environ.get("FAIRDUN_TEST_PG_DUMP", "/usr/bin/pg_dump")


def factory(engine: Engine) -> Callable[[], UnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(engine)


def personal_data(portfolio: Portfolio) -> dict[str, set[str]]:
    """Everything personal the generator made, by kind; phone numbers also as dialled at home (no +86)."""
    phones = {b.phone for b in portfolio.borrowers} | {c.phone for c in portfolio.contacts}
    return {
        "phone": phones | {p.lstrip("+") for p in phones} | {p.removeprefix("+86") for p in phones},
        "email": {b.email for b in portfolio.borrowers},
        "name": {b.name for b in portfolio.borrowers} | {c.name for c in portfolio.contacts},
        "resident_id": {b.resident_id for b in portfolio.borrowers},
    }


def leaks(dump: bytes, data: dict[str, set[str]]) -> list[str]:
    found = []
    for kind, values in data.items():
        for value in sorted(values):
            raw = value.encode("utf-8")
            if raw in dump or raw.hex().encode() in dump:
                found.append(f"{kind}: {value}")
    return found


def dump(database: Database, engine: Engine) -> bytes:
    """The database as an attacker with a copy of it would see it."""
    if database.backend == "sqlite":
        engine.dispose()  # the last connection checkpoints the write-ahead log into the file
        path = Path(str(database.url.database))
        return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))
    if not shutil.which(PG_DUMP):
        message = f"{PG_DUMP} not found (set FAIRDUN_TEST_PG_DUMP)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI=true requires it", pytrace=False)
        pytest.skip(message)
    schema = str(database.url.query["options"]).removeprefix("-csearch_path=")
    server = libpq_conninfo(database.url.difference_update_query(["options"]))
    result = subprocess.run(
        [PG_DUMP, "--schema", schema, "--no-owner", server], capture_output=True, check=True, timeout=120
    )
    return result.stdout


@pytest.fixture
def cycled(engine: Engine) -> tuple[Engine, Portfolio]:
    portfolio = generate_portfolio(BORROWERS, 3, START)
    load_book(factory(engine), portfolio, 3)
    config = CycleConfig(load_strategy("default"), PackLoader().load("cn"))
    with factory(engine)() as uow:
        book = Book.load(uow, on=START, lookback=config.lookback)
    report = run_day(
        factory(engine),
        book,
        config,
        START,
        SimulatedChannel(3),
        clock=lambda: datetime.combine(START, time(6), CHINA),
        simulate=True,
    )
    assert report.summary["sent"] > 0
    return engine, portfolio


def test_a_dump_of_the_database_holds_no_personal_data(database: Database, cycled: tuple[Engine, Portfolio]) -> None:
    engine, portfolio = cycled
    data = personal_data(portfolio)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM outbox")).scalar_one() > 0
    # The addresses are there, for whoever holds the key.
    with factory(engine)() as uow:
        addresses = {p.address for p in uow.parties.contact_points()}
    assert data["email"] <= addresses
    assert {p for p in data["phone"] if p.startswith("+")} <= addresses
    # So are the names and resident ID numbers: stored, sealed, and found by keyed blind index.
    with factory(engine)() as uow:
        identities = [
            uow.identities.get(p) for p in [b.id for b in portfolio.borrowers] + [c.id for c in portfolio.contacts]
        ]
        first = portfolio.borrowers[0]
        assert uow.identities.find_by_resident_id(first.resident_id) == (first.id,)
    assert {i.name for i in identities if i is not None} == data["name"]
    assert {i.resident_id for i in identities if i is not None and i.resident_id} == data["resident_id"]

    everything = dump(database, engine)
    assert b"B000001" in everything  # the dump is of this book: its opaque ids are there
    assert leaks(everything, data) == []


def test_the_dump_check_finds_a_number_left_in_clear(database: Database, cycled: tuple[Engine, Portfolio]) -> None:
    engine, portfolio = cycled
    phone, email = portfolio.borrowers[0].phone, portfolio.borrowers[1].email
    name, resident_id = portfolio.borrowers[2].name, portfolio.borrowers[3].resident_id
    with engine.begin() as connection:
        connection.execute(text("UPDATE parties SET relationship = :leak WHERE id = 'B000001'"), {"leak": name})
        connection.execute(text("UPDATE parties SET risk_tier = :leak WHERE id = 'B000002'"), {"leak": resident_id})
        connection.execute(
            text("UPDATE outbox SET body = :leak WHERE id = (SELECT MIN(id) FROM outbox)"), {"leak": phone}
        )
        connection.execute(text("UPDATE cycle_runs SET summary = :leak"), {"leak": email})
    found = leaks(dump(database, engine), personal_data(portfolio))
    assert f"phone: {phone}" in found
    assert f"email: {email}" in found
    assert f"name: {name}" in found
    assert f"resident_id: {resident_id}" in found
