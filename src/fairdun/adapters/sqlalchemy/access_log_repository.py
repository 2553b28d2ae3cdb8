"""The access log on SQLAlchemy: rows appended in bulk, read back by actor and time or by party and time (the two
indexes of migration 0010). Nothing here updates or deletes a row."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fairdun.adapters.sqlalchemy.models_access_log import AccessLogRow
from fairdun.adapters.sqlalchemy.repositories import _integrity_problem, _utc
from fairdun.application.ports import AccessAction, AccessRecord, ConflictError

FIELD_SEPARATOR = ","


class SqlAlchemyAccessLog:
    """:class:`fairdun.application.ports.AccessLogRepository` in one unit of work's session (never commits)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def record_many(self, records: Sequence[AccessRecord]) -> None:
        """One multi-row INSERT: the cycle logs a day's system reads in one statement, as it queues them. (Through
        SQLAlchemy's own executemany rather than the driver's, so an instant is written exactly as the queries
        bind it and a window's first instant is found on SQLite too.)"""
        if not records:
            return
        try:
            self._session.execute(insert(AccessLogRow), [_values(r) for r in records])
        except IntegrityError as exc:
            raise ConflictError("access log entry by", records[0].actor, _integrity_problem(exc)) from exc

    def by_actor(self, actor: str, *, since: datetime, until: datetime) -> tuple[AccessRecord, ...]:
        query = (
            select(AccessLogRow)
            .where(
                AccessLogRow.actor == actor,
                AccessLogRow.at >= _utc(since, "since"),
                AccessLogRow.at <= _utc(until, "until"),
            )
            .order_by(AccessLogRow.at, AccessLogRow.id)
        )
        return _records(self._session.scalars(query))

    def for_party(self, party: str) -> tuple[AccessRecord, ...]:
        query = select(AccessLogRow).where(AccessLogRow.party == party).order_by(AccessLogRow.at, AccessLogRow.id)
        return _records(self._session.scalars(query))


def _values(r: AccessRecord) -> dict[str, Any]:
    for name in r.fields:
        if not name or FIELD_SEPARATOR in name:
            raise ValueError(f"access log entry by {r.actor!r}: field names are non-empty words, got {name!r}")
    return {
        "at": _utc(r.at, "at"),
        "actor": r.actor,
        "action": r.action.value,
        "party": r.party,
        "borrower": r.borrower,
        "fields": FIELD_SEPARATOR.join(r.fields),
        "purpose": r.purpose,
        "loan": r.loan,
        "detail": r.detail,
    }


def _records(rows: Iterable[AccessLogRow]) -> tuple[AccessRecord, ...]:
    return tuple(
        AccessRecord(
            at=row.at,
            actor=row.actor,
            action=AccessAction(row.action),
            party=row.party,
            fields=tuple(f for f in row.fields.split(FIELD_SEPARATOR) if f),
            purpose=row.purpose,
            borrower=row.borrower,
            loan=row.loan,
            detail=row.detail,
        )
        for row in rows
    )
