"""Data-subject requests and retention on SQLAlchemy: one party's records for an export, crypto-shredding, the
outbox cleared of an erased party's unsent messages, corrections re-sealed, holds, erasures, the access log, and
the purge's selects and deletes. Never commits (the unit of work does)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, delete, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from fairdun.adapters.crypto.keyring import address_kind
from fairdun.adapters.sqlalchemy.cycle_repositories import _case_event, _party
from fairdun.adapters.sqlalchemy.data_keys import ERASED, DataKeyStore
from fairdun.adapters.sqlalchemy.models import (
    CaseEventRow,
    ContactEventRow,
    ContactPointRow,
    LoanRow,
    OutboxRow,
    PartyRow,
    PlannedContactRow,
)
from fairdun.adapters.sqlalchemy.models_access_log import AccessLogRow
from fairdun.adapters.sqlalchemy.models_retention import ErasureRow, RetentionHoldRow
from fairdun.adapters.sqlalchemy.repositories import _flush, _utc
from fairdun.application.ports import Party
from fairdun.application.retention import RecordType, RetentionHold
from fairdun.domain.cases import CaseEvent

CHUNK = 500


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class SqlAlchemySubjectRepository:
    """:class:`fairdun.application.retention.SubjectRepository` in one unit of work's session."""

    def __init__(self, session: Session, keys: DataKeyStore) -> None:
        self._session = session
        self._keys = keys

    # --- one party's records -------------------------------------------------------------------------------

    def records_of(self, party: str) -> Mapping[str, list[dict[str, Any]]]:
        s = self._session
        points = list(
            s.scalars(select(ContactPointRow).where(ContactPointRow.party == party).order_by(ContactPointRow.position))
        )
        addresses = self._keys.open_many(
            [(p.address_ciphertext, ("contact_points", "address", p.ref)) for p in points], erased=ERASED
        )
        outbox = list(s.scalars(select(OutboxRow).where(OutboxRow.party == party).order_by(OutboxRow.id)))
        outbox_addresses = self._keys.open_many(
            [(r.address_ciphertext, ("outbox", "address", r.key)) for r in outbox], erased=ERASED
        )
        return {
            "contact_points": [
                {
                    "ref": p.ref,
                    "address": a,
                    "channels": [c for c in p.channels.split(",") if c],
                    "position": p.position,
                }
                for p, a in zip(points, addresses, strict=True)
            ],
            "contact_history": [
                {
                    "id": e.id,
                    "occurred_at": _iso(e.occurred_at),
                    "debt": e.debt,
                    "address_ref": e.address_ref,
                    "channel": e.channel,
                    "direction": e.direction,
                    "outcome": e.outcome,
                }
                for e in s.scalars(
                    select(ContactEventRow)
                    .where(ContactEventRow.party == party)
                    .order_by(ContactEventRow.occurred_at, ContactEventRow.id)
                )
            ],
            "planned_contacts": [
                {
                    "key": r.key,
                    "run_on": _iso(r.run_on),
                    "debt": r.debt,
                    "channel": r.channel,
                    "purpose": r.purpose,
                    "planned_at": _iso(r.planned_at),
                    "decision": r.effect,
                    "rules": [x for x in r.rules.split(",") if x],
                }
                for r in s.scalars(
                    select(PlannedContactRow)
                    .where(PlannedContactRow.party == party)
                    .order_by(PlannedContactRow.planned_at, PlannedContactRow.key)
                )
            ],
            "outbox": [
                {
                    "key": r.key,
                    "channel": r.channel,
                    "address": a,
                    "debt": r.debt,
                    "subject": r.subject,
                    "body": r.body,
                    "template": r.template,
                    "created_at": _iso(r.created_at),
                    "status": r.status,
                    "outcome": r.outcome,
                    "finished_at": _iso(r.finished_at),
                }
                for r, a in zip(outbox, outbox_addresses, strict=True)
            ],
        }

    def designated(self, borrower: str) -> tuple[Party, ...]:
        query = select(PartyRow).where(PartyRow.borrower == borrower, PartyRow.id != borrower).order_by(PartyRow.id)
        return tuple(_party(row) for row in self._session.scalars(query))

    def case_events_of(self, loans: Collection[str]) -> Mapping[str, tuple[CaseEvent, ...]]:
        query = (
            select(CaseEventRow.loan_id, CaseEventRow.kind, CaseEventRow.effective_on, CaseEventRow.data)
            .where(CaseEventRow.loan_id.in_(list(loans)))
            .order_by(CaseEventRow.seq)
        )
        out: dict[str, list[CaseEvent]] = {}
        for loan_id, kind, on, data in self._session.execute(query):
            out.setdefault(loan_id, []).append(_case_event(kind, on, json.loads(data)))
        return {loan_id: tuple(events) for loan_id, events in out.items()}

    # --- erasure -------------------------------------------------------------------------------------------

    def is_shredded(self, party: str) -> bool:
        return bool(self._keys.shredded([party]))

    def shred(self, parties: Sequence[str], at: datetime) -> list[str]:
        return self._keys.shred(parties, _utc(at, "at"))

    def cancel_messages(self, parties: Collection[str], at: datetime) -> tuple[int, int]:
        table = cast(Table, OutboxRow.__table__)
        owned = table.c.party.in_(list(parties))
        unsent: Any = self._session.execute(
            update(table)
            .where(owned, table.c.status.in_(("pending", "claimed")))
            .values(
                status="failed",
                subject="",
                body="",
                error="cancelled: the recipient's personal data was erased (PIPL Art. 47)",
                finished_at=_utc(at, "at"),
                claimed_by=None,
                claimed_at=None,
                retry_at=None,
            )
        )
        sent: Any = self._session.execute(
            update(table).where(owned, table.c.status.in_(("sent", "failed")), table.c.body != "").values(body="")
        )
        return int(unsent.rowcount), int(sent.rowcount)

    def contact_point_refs(self, party: str) -> list[tuple[str, str]]:
        points = list(
            self._session.scalars(
                select(ContactPointRow).where(ContactPointRow.party == party).order_by(ContactPointRow.position)
            )
        )
        addresses = self._keys.open_many([(p.address_ciphertext, ("contact_points", "address", p.ref)) for p in points])
        return [(p.ref, address_kind(a)) for p, a in zip(points, addresses, strict=True)]

    def replace_address(self, ref: str, address: str) -> None:
        row = self._session.get(ContactPointRow, ref)
        if row is None:
            raise KeyError(ref)
        row.address_ciphertext = self._keys.seal_many([(row.party, address, ("contact_points", "address", ref))])[0]
        row.address_index = self._keys.keyring.blind_index(address_kind(address), address)
        _flush(self._session, "contact point", ref)

    def record_erasure(self, party: str, *, borrower: str, by: str, at: datetime, reason: str, detail: Any) -> None:
        self._session.add(
            ErasureRow(
                party=party,
                borrower=borrower,
                erased_by=by,
                erased_at=_utc(at, "at"),
                reason=reason,
                detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
            )
        )
        _flush(self._session, "erasure", party)

    def erasure(self, party: str) -> Mapping[str, Any] | None:
        row = self._session.get(ErasureRow, party)
        if row is None:
            return None
        return {
            "erased_at": _iso(row.erased_at),
            "erased_by": row.erased_by,
            "reason": row.reason,
            "explanation": json.loads(row.detail),
        }

    # --- holds ---------------------------------------------------------------------------------------------

    def add_hold(
        self, *, party: str | None, loan: str | None, reason: str, until: date, by: str, at: datetime
    ) -> RetentionHold:
        row = RetentionHoldRow(party=party, loan=loan, reason=reason, until=until, set_by=by, set_at=_utc(at, "at"))
        self._session.add(row)
        _flush(self._session, "retention hold on", party or loan or "")
        return _hold(row)

    def release_hold(self, hold_id: int, by: str, at: datetime) -> RetentionHold | None:
        row = self._session.get(RetentionHoldRow, hold_id)
        if row is None or row.released_at is not None:
            return None
        row.released_by = by
        row.released_at = _utc(at, "at")
        _flush(self._session, "retention hold", str(hold_id))
        return _hold(row)

    def holds(self) -> tuple[RetentionHold, ...]:
        return tuple(_hold(r) for r in self._session.scalars(select(RetentionHoldRow).order_by(RetentionHoldRow.id)))

    # --- the purge -----------------------------------------------------------------------------------------

    def purgeable(
        self,
        record: RecordType,
        before: datetime,
        *,
        keep_parties: Collection[str],
        keep_loans: Collection[str],
        among_loans: Collection[str] | None,
        limit: int | None,
    ) -> list[str]:
        target = _TARGETS.get(record)
        if target is None:
            return []
        key, instant, party, loan, extra = target
        conditions: list[ColumnElement[bool]] = [instant < _utc(before, "before"), *extra]
        # NOT IN on a NULL is NULL, which would keep a row about no loan: test for NULL first.
        if party is not None and keep_parties:
            conditions.append(or_(party.is_(None), party.not_in(list(keep_parties))))
        if loan is not None and keep_loans:
            conditions.append(or_(loan.is_(None), loan.not_in(list(keep_loans))))
        if among_loans is not None and loan is not None:
            conditions.append(loan.in_(list(among_loans)))
        vouched = _VOUCHED.get(record)
        if vouched is not None:
            # An audit entry vouches for a whole batch of rows (its count and digest): purge a batch whole or not
            # at all, so `audit verify --records` sees it purged, never altered.
            blocked: list[ColumnElement[bool]] = [instant >= _utc(before, "before")]
            if party is not None and keep_parties:
                blocked.append(party.in_(list(keep_parties)))
            if loan is not None and keep_loans:
                blocked.append(loan.in_(list(keep_loans)))
            kept = select(vouched).where(vouched.is_not(None), or_(*blocked))
            conditions.append(or_(vouched.is_(None), vouched.not_in(kept)))
        if record is RecordType.CASE_EVENTS and keep_parties:
            # A case event has no party column: its loan's borrower decides.
            held = select(LoanRow.id).where(LoanRow.borrower.in_(list(keep_parties)))
            conditions.append(CaseEventRow.loan_id.not_in(held))
        query = select(key).where(*conditions).order_by(instant, key)
        if limit is not None:
            query = query.limit(limit)
        return [str(v) for v in self._session.scalars(query)]

    def delete(self, record: RecordType, ids: Sequence[str]) -> int:
        target = _TARGETS.get(record)
        if target is None or not ids:
            return 0
        key = target[0]
        values: list[Any] = [int(i) for i in ids] if record in _INTEGER_KEYS else list(ids)
        count = 0
        for first in range(0, len(values), CHUNK):
            result: Any = self._session.execute(
                delete(key.class_)
                .where(key.in_(values[first : first + CHUNK]))
                .execution_options(synchronize_session=False)
            )
            count += int(result.rowcount)
        return count


_Target = tuple[
    InstrumentedAttribute[Any],
    InstrumentedAttribute[Any],
    InstrumentedAttribute[Any] | None,
    InstrumentedAttribute[Any] | None,
    tuple[ColumnElement[bool], ...],
]

_TARGETS: dict[RecordType, _Target] = {
    RecordType.CONTACT_HISTORY: (
        ContactEventRow.id, ContactEventRow.occurred_at, ContactEventRow.party, ContactEventRow.debt, (),
    ),
    RecordType.PLANNED_CONTACTS: (
        PlannedContactRow.key, PlannedContactRow.planned_at, PlannedContactRow.party, PlannedContactRow.debt, (),
    ),
    RecordType.OUTBOX: (
        OutboxRow.key, OutboxRow.finished_at, OutboxRow.party, OutboxRow.debt,
        (OutboxRow.status.in_(("sent", "failed")),),
    ),
    RecordType.ACCESS_LOG: (
        AccessLogRow.id, AccessLogRow.at, AccessLogRow.party, AccessLogRow.loan, (AccessLogRow.party.is_not(None),),
    ),
    RecordType.CASE_EVENTS: (CaseEventRow.seq, CaseEventRow.recorded_at, None, CaseEventRow.loan_id, ()),
}  # fmt: skip
"""For each purgeable record type: its key, the instant its period counts from, its party and loan columns, and
any further condition. The audit log and the ledger are absent: never purged."""

_VOUCHED: dict[RecordType, InstrumentedAttribute[Any]] = {
    RecordType.CONTACT_HISTORY: ContactEventRow.audit_seq,
    RecordType.PLANNED_CONTACTS: PlannedContactRow.audit_seq,
}
"""The record types whose rows an audit entry vouches for in batches (migration 0013)."""

_INTEGER_KEYS = {RecordType.ACCESS_LOG, RecordType.CASE_EVENTS}


def _hold(row: RetentionHoldRow) -> RetentionHold:
    return RetentionHold(
        row.id, row.party, row.loan, row.reason, row.until, row.set_by, row.set_at, row.released_by, row.released_at
    )
