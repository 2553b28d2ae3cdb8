"""Engines: made by :func:`make_engine` when the application starts, never at import time."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from fairdun.adapters.crypto.keyring import Keyring

_KEYRINGS: WeakKeyDictionary[Engine, Keyring] = WeakKeyDictionary()


def make_engine(url: str | URL, *, keyring: Keyring | None = None, **options: Any) -> Engine:
    """An engine for ``url`` (``sqlite:///./fairdun.db``, ``postgresql+psycopg://user@host/db``).

    On SQLite, foreign keys are enforced, the journal is a write-ahead log, and transactions are real: the
    ``sqlite3`` driver's legacy mode would begin a transaction only before an INSERT, UPDATE or DELETE, so reads
    and DDL (a migration) would run outside it. SQLAlchemy emits ``BEGIN`` itself instead, as its documentation
    recommends. ``options`` go to :func:`sqlalchemy.create_engine`. To keep a PostgreSQL database's tables in one
    schema, put it in the URL: ``...?options=-csearch_path%3Dfairdun``.

    ``keyring`` (built from the settings by the entrypoints) seals and opens personal fields for every unit of work
    on this engine that is not given one of its own (:func:`keyring_of`).
    """
    url = make_url(url)
    engine = create_engine(url, **options)
    if keyring is not None:
        _KEYRINGS[engine] = keyring
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def keyring_of(engine: Engine) -> Keyring | None:
    """The keyring :func:`make_engine` was given for ``engine``, if any."""
    return _KEYRINGS.get(engine)


def _sqlite_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None  # the driver stops emitting BEGIN; _sqlite_begin does it
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        # Write-ahead logging: readers never wait for the writer, and a commit appends to the log instead of
        # rewriting pages, synced at checkpoints (NORMAL): a power cut may lose the last commits, never
        # corrupt the file.
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")
