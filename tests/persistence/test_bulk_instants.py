"""Bulk inserts (``repositories._execute_many``) write values exactly as the ORM does: on SQLite an instant on a
whole second was once written without its ``.000000`` by the bulk path, so it compared and sorted apart from the
same instant written by the ORM."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from fairdun.adapters.sqlalchemy.models_access import UserRow
from fairdun.adapters.sqlalchemy.repositories import _execute_many


@pytest.mark.parametrize(
    "instant",
    [
        datetime(2026, 9, 1, 8, 0, tzinfo=UTC),
        datetime(2026, 9, 1, 16, 0, 5, 123456, tzinfo=timezone(timedelta(hours=8))),
    ],
)
def test_the_bulk_path_and_the_orm_store_an_instant_alike(engine: Engine, instant: datetime) -> None:
    on_the_second = instant
    with Session(engine) as session:
        session.add(UserRow(id="orm", role="admin", agency=None, party=None, active=True, created_at=on_the_second))
        session.flush()
        row = {"id": "bulk", "role": "auditor", "agency": None, "party": None, "active": True}
        _execute_many(session, UserRow.__table__, [{**row, "created_at": on_the_second}], "user", "bulk")
        session.commit()
    with engine.connect() as connection:
        stored = dict(connection.execute(text("SELECT id, CAST(created_at AS TEXT) FROM users")).all())
        same = connection.execute(
            text("SELECT count(*) FROM users a JOIN users b ON a.created_at = b.created_at WHERE a.id < b.id")
        ).scalar_one()
    assert stored["orm"] == stored["bulk"]
    assert same == 1
