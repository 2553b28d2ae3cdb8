"""Migration 0004 cannot seal addresses already stored in clear (a migration has no master key): it stops, says
so, and leaves the database as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from fairdun.adapters.sqlalchemy import current_revision, make_engine, upgrade
from fairdun.cli.main import app
from tests.persistence.conftest import Database


def book_in_clear(database: Database) -> None:
    upgrade(database.url, "0003")
    engine = make_engine(database.url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO parties (id, borrower, role, tz) VALUES ('B000001', 'B000001', 'debtor', 'UTC')")
            )
            connection.execute(
                text(
                    "INSERT INTO contact_points (ref, party, address, channels, position)"
                    " VALUES ('B000001/phone', 'B000001', '+8613800004211', 'sms', 0)"
                )
            )
    finally:
        engine.dispose()


def test_a_book_stored_in_clear_is_not_migrated_and_stays_as_it_was(database: Database) -> None:
    book_in_clear(database)
    with pytest.raises(RuntimeError, match=r"migration 0004 cannot seal the 1 address\(es\) already in contact_points"):
        upgrade(database.url)
    assert current_revision(database.url) == "0003"
    engine = make_engine(database.url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT address FROM contact_points")).scalar_one() == "+8613800004211"
    finally:
        engine.dispose()


def test_db_upgrade_says_why_in_one_line(tmp_path: Path) -> None:
    database = Database("sqlite", make_url(f"sqlite:///{tmp_path / 'clear.db'}"))
    book_in_clear(database)
    result = CliRunner().invoke(app, ["db", "upgrade"], env={"FAIRDUN_DATABASE_URL": str(database.url)})
    assert result.exit_code == 2
    assert "migration 0004 cannot seal" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
