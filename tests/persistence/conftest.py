"""Fixtures for the persistence tests: every test runs on SQLite (a temporary file) and on PostgreSQL.

Each PostgreSQL test gets a schema of its own with a random name, dropped afterwards, so runs in parallel (two
checkouts, ``pytest -n``) never see each other's tables. The server is ``FAIRDUN_TEST_POSTGRES_URL`` (default: the
local one, trust auth). When it cannot be reached the PostgreSQL tests are skipped, saying why, unless ``CI=true``:
then they fail, because a CI run that silently tested SQLite only would be a lie.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url

from fairdun.adapters.crypto import Keyring, MasterKey
from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork, make_engine, upgrade

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEST_MASTER_KEY = MasterKey(bytes(range(32)))
"""A fixed, obviously fictional master key: the tests' sealed fields are reproducible, never their nonces."""


def fixed_keyring() -> Keyring:
    return Keyring(TEST_MASTER_KEY)


def postgres_url() -> URL:
    return make_url(os.environ.get("FAIRDUN_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL)


def libpq_conninfo(url: URL) -> str:
    """The SQLAlchemy URL as a libpq URL, for connecting with psycopg directly."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True)
class Database:
    """One empty database for one test: its URL, and its backend's name (``sqlite`` or ``postgresql``)."""

    backend: str
    url: URL


@pytest.fixture(scope="session")
def postgres_server() -> URL:
    """The PostgreSQL server's URL, once it has answered; skips (or, under ``CI=true``, fails) otherwise."""
    url = postgres_url()
    try:
        with psycopg.connect(libpq_conninfo(url), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        where = url.render_as_string(hide_password=True)
        reason = f"PostgreSQL at {where} is unreachable ({str(exc).strip().splitlines()[0]})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI=true requires it", pytrace=False)
        pytest.skip(f"{reason}; set CI=true to make this a failure")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database (no tables, no migrations run), on each backend in turn."""
    if request.param == "sqlite":
        yield Database("sqlite", make_url(f"sqlite:///{tmp_path / 'fairdun.db'}"))
        return
    server: URL = request.getfixturevalue("postgres_server")
    schema = f"fairdun_test_{secrets.token_hex(6)}"
    admin = libpq_conninfo(server)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        # Every connection made from this URL works in the test's schema only.
        yield Database("postgresql", server.update_query_dict({"options": f"-csearch_path={schema}"}))
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def engine(database: Database) -> Iterator[Engine]:
    """An engine on a database migrated to the newest revision, with the tests' keyring."""
    upgrade(database.url)
    engine = make_engine(database.url, keyring=fixed_keyring())
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def uow(engine: Engine) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork(engine)
