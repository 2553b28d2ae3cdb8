"""The tamper-evident audit log: an append-only table whose every entry carries the SHA-256 of the previous entry's
hash and its own canonical encoding, so altering, deleting, inserting or reordering an entry breaks the chain.

``hash(n) = SHA-256(hash(n-1) || "\\n" || canonical JSON of {seq, at, actor, action, subject, detail})``, with
``hash(0)`` sixty-four zeros. Canonical JSON: keys sorted, no spaces, UTF-8, ``at`` in UTC with microseconds. An
entry is appended in the transaction of the change it records (:meth:`SqlAlchemyAuditLog.append`), so both are
kept or neither. A chain alone cannot show that its tail was cut off or rewritten whole: export the head with
``fairdun audit anchor``, keep it elsewhere, and :func:`verify_chain` proves nothing up to it changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from fairdun.adapters.sqlalchemy.models import AuditLogRow

GENESIS = "0" * 64
_HEX64 = re.compile(r"[0-9a-f]{64}")
_LOCK = 0x66616972_64756E  # "fairdun": the advisory lock that serialises appends on PostgreSQL


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _instant(at: datetime) -> str:
    if at.utcoffset() is None:
        raise ValueError(f"audit entry: instants must be timezone-aware, got {at!r}")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    prev_hash: str, *, seq: int, at: datetime, actor: str, action: str, subject: str, detail: Mapping[str, Any]
) -> str:
    """The hash of an entry chained after ``prev_hash``."""
    body = {"seq": seq, "at": _instant(at), "actor": actor, "action": action, "subject": subject, "detail": detail}
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(body)).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: Mapping[str, Any]
    prev_hash: str
    hash: str


class SqlAlchemyAuditLog:
    """Appends to and reads the audit log in one unit of work's session (never commits)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def append(
        self, actor: str, action: str, subject: str, detail: Mapping[str, Any] | None = None, *, at: datetime
    ) -> AuditEntry:
        """Chains a new entry after the head, in this transaction. On PostgreSQL concurrent appends wait for each
        other (an advisory lock held to the end of the transaction); on SQLite the database's single writer does
        the same, and ``seq`` is the primary key, so two entries can never claim one place."""
        if self._session.get_bind().dialect.name == "postgresql":
            self._session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
        seq, prev = self.head()
        data = dict(detail or {})
        canonical(data)  # refuses what JSON cannot hold, before anything is written
        entry = AuditEntry(seq + 1, at, actor, action, subject, data, prev, "")
        digest = entry_hash(prev, seq=entry.seq, at=at, actor=actor, action=action, subject=subject, detail=data)
        self._session.add(
            AuditLogRow(
                seq=entry.seq,
                at=at,
                actor=actor,
                action=action,
                subject=subject,
                detail=canonical(data).decode(),
                prev_hash=prev,
                hash=digest,
            )
        )
        self._session.flush()
        return AuditEntry(entry.seq, at, actor, action, subject, data, prev, digest)

    def last_detail(self, actions: Collection[str]) -> Mapping[str, Any] | None:
        query = (
            select(AuditLogRow.detail)
            .where(AuditLogRow.action.in_(list(actions)))
            .order_by(AuditLogRow.seq.desc())
            .limit(1)
        )
        found = self._session.scalars(query).first()
        return None if found is None else dict(json.loads(found))

    def entries(self, actions: Collection[str]) -> Iterator[tuple[int, str, Mapping[str, Any]]]:
        query = (
            select(AuditLogRow.seq, AuditLogRow.action, AuditLogRow.detail)
            .where(AuditLogRow.action.in_(list(actions)))
            .order_by(AuditLogRow.seq)
            .execution_options(yield_per=5000)
        )
        for seq, action, detail in self._session.execute(query):
            yield int(seq), str(action), dict(json.loads(detail))

    def head(self) -> tuple[int, str]:
        """The last entry's ``seq`` and hash; ``(0, GENESIS)`` for an empty log."""
        row = self._session.execute(select(AuditLogRow.seq, AuditLogRow.hash).order_by(AuditLogRow.seq.desc()).limit(1))
        last = row.first()
        return (0, GENESIS) if last is None else (int(last[0]), str(last[1]))


@dataclass(frozen=True, slots=True)
class Verification:
    """What :func:`verify_chain` found: how many entries it checked, the head, and the first problem (None: the
    chain holds, and the anchor, if one was given, is in it)."""

    entries: int
    head_seq: int
    head_hash: str
    problem: str | None
    broken_at: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


Row = tuple[int, datetime, str, str, str, str, str, str]
"""seq, at, actor, action, subject, detail (JSON text), prev_hash, hash."""


def verify_chain(rows: Iterable[Row], anchor: str | None = None) -> Verification:
    """Recomputes the chain over ``rows`` (in ``seq`` order) and reports the first broken entry; with ``anchor``
    (a head hash exported earlier), also that an entry with that hash is in the chain."""
    if anchor is not None and not _HEX64.fullmatch(anchor):
        raise ValueError("--anchor: 64 lower-case hex digits (the hash `fairdun audit anchor` printed)")
    expected, prev, count, anchored = 1, GENESIS, 0, anchor is None
    for seq, at, actor, action, subject, detail, prev_hash, stored in rows:
        if seq != expected:
            return Verification(count, expected - 1, prev, f"entry {expected} is missing (the next is {seq})", expected)
        if prev_hash != prev:
            problem = f"entry {seq} does not follow entry {seq - 1} (deleted, inserted or reordered)"
            return Verification(count, seq - 1, prev, problem, seq)
        try:
            data = json.loads(detail)
        except ValueError:
            return Verification(count, seq - 1, prev, f"entry {seq}: its detail is not JSON (altered)", seq)
        if entry_hash(prev, seq=seq, at=at, actor=actor, action=action, subject=subject, detail=data) != stored:
            problem = f"entry {seq}: its hash does not match its content (altered)"
            return Verification(count, seq - 1, prev, problem, seq)
        anchored = anchored or stored == anchor
        prev, expected, count = stored, seq + 1, count + 1
    if not anchored:
        problem = f"the anchor {anchor} is not in the log: rewritten or cut short at or before it"
        return Verification(count, expected - 1, prev, problem)
    return Verification(count, expected - 1, prev, None)


def verify_log(engine: Engine, anchor: str | None = None) -> Verification:
    """:func:`verify_chain` over the database's audit log, read in batches."""
    with Session(engine) as session:
        query = select(
            AuditLogRow.seq,
            AuditLogRow.at,
            AuditLogRow.actor,
            AuditLogRow.action,
            AuditLogRow.subject,
            AuditLogRow.detail,
            AuditLogRow.prev_hash,
            AuditLogRow.hash,
        ).order_by(AuditLogRow.seq)
        rows = session.execute(query.execution_options(yield_per=5000))
        try:
            return verify_chain((tuple(r) for r in rows), anchor)  # type: ignore[misc]
        finally:
            rows.close()  # a broken chain stops early: the server-side cursor is closed here, not at collection


def log_head(engine: Engine) -> tuple[int, str]:
    with Session(engine) as session:
        return SqlAlchemyAuditLog(session).head()
