"""Migration 0007 on both databases: the contacts already stored are numbered per borrower, and a database where
a borrower has more than five designated contacts is refused, naming PIPL Art. 6."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from fairdun.adapters.sqlalchemy import current_revision, downgrade, make_engine, upgrade
from tests.persistence.conftest import Database


def parties(database: Database, contacts: dict[str, int]) -> None:
    """The schema just before 0007, with ``contacts[borrower]`` contacts for each borrower."""
    upgrade(database.url, "0006")
    engine = make_engine(database.url)
    try:
        with engine.begin() as connection:
            for borrower, count in contacts.items():
                rows = [{"i": borrower, "b": borrower, "r": "debtor"}]
                rows += [{"i": f"{borrower}-C{n}", "b": borrower, "r": "contact"} for n in range(count, 0, -1)]
                connection.execute(
                    text("INSERT INTO parties (id, borrower, role, tz) VALUES (:i, :b, :r, 'Asia/Shanghai')"), rows
                )
    finally:
        engine.dispose()


def test_existing_contacts_are_numbered_in_id_order(database: Database) -> None:
    parties(database, {"B000001": 3, "B000002": 5})
    upgrade(database.url)
    engine = make_engine(database.url)
    try:
        with engine.connect() as connection:
            slots = connection.execute(text("SELECT id, slot FROM parties WHERE role = 'contact' ORDER BY id")).all()
    finally:
        engine.dispose()
    assert [tuple(s) for s in slots] == [(f"B000001-C{n}", n) for n in (1, 2, 3)] + [
        (f"B000002-C{n}", n) for n in (1, 2, 3, 4, 5)
    ]
    downgrade(database.url, "0006")  # and back: the column, its index and triggers go


def test_a_borrower_with_six_contacts_stops_the_upgrade(database: Database) -> None:
    parties(database, {"B000001": 2, "B000002": 6})
    with pytest.raises(RuntimeError, match="borrower B000002 has 6 designated contacts, more than the ceiling of 5"):
        upgrade(database.url)
    engine = make_engine(database.url)
    try:  # nothing was changed: the upgrade's transaction was rolled back
        assert "slot" not in {c["name"] for c in inspect(engine).get_columns("parties")}
        assert current_revision(engine) == "0006"
    finally:
        engine.dispose()
