"""The daily cycle's repositories: parties, contact points and consents; case events; runs, planned contacts and
restatements. Bulk writes are single multi-row statements, since a day's cycle writes thousands of rows."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from fairdun.adapters.crypto.keyring import address_kind
from fairdun.adapters.sqlalchemy.consent_repository import consent_record
from fairdun.adapters.sqlalchemy.data_keys import DataKeyStore
from fairdun.adapters.sqlalchemy.models import (
    CaseEventRow,
    ConsentRow,
    ContactPointRow,
    CycleRunRow,
    PartyRow,
    PlannedContactRow,
    RestatementRow,
)
from fairdun.adapters.sqlalchemy.repositories import _execute_many, _flush, _utc
from fairdun.application.ports import (
    ConflictError,
    ConsentRecord,
    ContactPoint,
    CycleRun,
    Party,
    PlannedRecord,
    RestatementRecord,
    RunStatus,
)
from fairdun.domain.cases import (
    CaseEvent,
    CollectorAssigned,
    Cured,
    DisputeOpened,
    DisputeResolved,
    PlacedWithAgency,
    PlanAgreed,
    PlanInstallment,
    PromiseMade,
    RecalledFromAgency,
)
from fairdun.domain.contact import Channel, Role

# --- parties ------------------------------------------------------------------------------------------------


class SqlAlchemyPartyRepository:
    """Parties, their contact points and consents. A contact point's address is sealed with the party's data key
    and indexed blind (HMAC) for :meth:`find_contact_points`; it is opened on the way out."""

    def __init__(self, session: Session, keys: DataKeyStore) -> None:
        self._session = session
        self._keys = keys

    def add(self, party: Party) -> None:
        self._session.add(
            PartyRow(
                id=party.id,
                borrower=party.borrower,
                role=party.role.value,
                tz=party.tz,
                relationship=party.relationship,
                risk_tier=party.risk_tier,
            )
        )
        _flush(self._session, "party", party.id)

    def add_contact_point(self, point: ContactPoint) -> None:
        row = self._point_rows([point])[0]
        self._session.add(ContactPointRow(**row))
        _flush(self._session, "contact point", point.ref)

    def _point_rows(self, points: Sequence[ContactPoint]) -> list[dict[str, Any]]:
        sealed = self._keys.seal_many([(c.party, c.address, ("contact_points", "address", c.ref)) for c in points])
        index = self._keys.keyring.blind_index
        return [
            {
                "ref": c.ref,
                "party": c.party,
                "address_ciphertext": s,
                "address_index": index(address_kind(c.address), c.address),
                "channels": ",".join(sorted(ch.value for ch in c.channels)),
                "position": c.position,
            }
            for c, s in zip(points, sealed, strict=True)
        ]

    def add_consent(self, consent: ConsentRecord) -> None:
        self._session.add(
            ConsentRow(
                party=consent.party,
                purpose=consent.purpose,
                granted_at=_utc(consent.granted_at, "granted_at"),
                withdrawn_at=None if consent.withdrawn_at is None else _utc(consent.withdrawn_at, "withdrawn_at"),
                evidence=consent.evidence,
                **_consent_ledger(consent),
            )
        )
        _flush(self._session, "consent of", consent.party)

    def add_many(
        self, parties: Sequence[Party], points: Sequence[ContactPoint], consents: Sequence[ConsentRecord]
    ) -> None:
        rows = [
            {
                "id": p.id,
                "borrower": p.borrower,
                "role": p.role.value,
                "tz": p.tz,
                "relationship": p.relationship,
                "risk_tier": p.risk_tier,
            }
            for p in parties
        ]
        _execute_many(self._session, PartyRow.__table__, rows, "party", parties[0].id if parties else "")
        point_rows = self._point_rows(points) if points else []
        _execute_many(
            self._session, ContactPointRow.__table__, point_rows, "contact point", points[0].ref if points else ""
        )
        consent_rows = [
            {
                "party": c.party,
                "purpose": c.purpose,
                "granted_at": _utc(c.granted_at, "granted_at"),
                "withdrawn_at": None if c.withdrawn_at is None else _utc(c.withdrawn_at, "withdrawn_at"),
                "evidence": c.evidence,
                **_consent_ledger(c),
            }
            for c in consents
        ]
        _execute_many(
            self._session, ConsentRow.__table__, consent_rows, "consent of", consents[0].party if consents else ""
        )

    def withdraw_consent(self, party: str, purpose: str, at: datetime) -> int:
        when = _utc(at, "at")
        statement = (
            update(ConsentRow)
            .where(
                ConsentRow.party == party,
                ConsentRow.purpose == purpose,
                ConsentRow.withdrawn_at.is_(None),
                ConsentRow.granted_at <= when,
            )
            .values(withdrawn_at=when, withdrawal_channel="unrecorded", withdrawal_evidence="")
        )
        result: Any = self._session.execute(statement)
        return int(result.rowcount)

    def get(self, party_id: str) -> Party | None:
        row = self._session.get(PartyRow, party_id)
        return None if row is None else _party(row)

    def all(self) -> tuple[Party, ...]:
        return tuple(_party(row) for row in self._session.scalars(select(PartyRow).order_by(PartyRow.id)))

    def contact_points(self, *, opened: bool = True) -> tuple[ContactPoint, ...]:
        query = select(ContactPointRow).order_by(ContactPointRow.party, ContactPointRow.position, ContactPointRow.ref)
        if opened:
            return self._points(self._session.scalars(query))
        rows = list(self._session.scalars(query))
        erased = self._keys.shredded({row.party for row in rows})  # as in _points: an erased party is not listed
        return tuple(_unopened(row) for row in rows if row.party not in erased)

    def addresses(self, refs: Collection[str]) -> dict[str, str]:
        """The addresses of the contact points ``refs``, opened, by ref (a ref not stored is left out): the cycle
        opens only the addresses it sends to, and logs each read."""
        wanted = sorted(set(refs))
        out: dict[str, str] = {}
        for first in range(0, len(wanted), 500):
            query = select(ContactPointRow).where(ContactPointRow.ref.in_(wanted[first : first + 500]))
            out.update((p.ref, p.address) for p in self._points(self._session.scalars(query)))
        return out

    def find_contact_points(self, address: str) -> tuple[ContactPoint, ...]:
        """The contact points whose address is ``address`` (a phone number in any spelling E.164 allows, an e-mail
        address in any case), found through the blind index: the database never compares plaintext."""
        indexes = self._keys.keyring.blind_indexes(address_kind(address), address)
        query = (
            select(ContactPointRow)
            .where(ContactPointRow.address_index.in_(indexes))
            .order_by(ContactPointRow.party, ContactPointRow.position, ContactPointRow.ref)
        )
        return self._points(self._session.scalars(query))

    def points_of(self, party: str) -> tuple[ContactPoint, ...]:
        """The contact points of one party, addresses opened, by position: only that party's rows are read."""
        query = (
            select(ContactPointRow)
            .where(ContactPointRow.party == party)
            .order_by(ContactPointRow.position, ContactPointRow.ref)
        )
        return self._points(self._session.scalars(query))

    def _points(self, rows: Iterable[ContactPointRow]) -> tuple[ContactPoint, ...]:
        rows = list(rows)
        # An erased party (its data key shredded) has no readable address: it is never listed, so never contacted.
        erased = self._keys.shredded({row.party for row in rows})
        rows = [row for row in rows if row.party not in erased]
        addresses = self._keys.open_many(
            [(row.address_ciphertext, ("contact_points", "address", row.ref)) for row in rows]
        )
        return tuple(
            ContactPoint(
                row.ref,
                row.party,
                address,
                frozenset(Channel(c) for c in row.channels.split(",") if c),
                row.position,
            )
            for row, address in zip(rows, addresses, strict=True)
        )

    def consents(self) -> tuple[ConsentRecord, ...]:
        query = select(ConsentRow).order_by(ConsentRow.granted_at, ConsentRow.id)
        return tuple(consent_record(row) for row in self._session.scalars(query))


def _unopened(row: ContactPointRow) -> ContactPoint:
    """A contact point without its address (left sealed): ``address`` is empty."""
    channels = frozenset(Channel(c) for c in row.channels.split(",") if c)
    return ContactPoint(row.ref, row.party, "", channels, row.position)


def _consent_ledger(c: ConsentRecord) -> dict[str, Any]:
    """The consent ledger's columns (migration 0008): a withdrawn record names how (``unrecorded`` if it does not)."""
    withdrawn = c.withdrawn_at is not None
    return {
        "notice_version": c.notice_version,
        "channel": c.channel,
        "withdrawal_channel": (c.withdrawal_channel or "unrecorded") if withdrawn else None,
        "withdrawal_evidence": (c.withdrawal_evidence or "") if withdrawn else None,
    }


def _party(row: PartyRow) -> Party:
    return Party(row.id, row.borrower, Role(row.role), row.tz, row.relationship, row.risk_tier)


# --- case events --------------------------------------------------------------------------------------------


def _case_row(event: CaseEvent) -> tuple[str, dict[str, Any]]:
    if isinstance(event, CollectorAssigned):
        return "assigned", {"collector_id": event.collector_id}
    if isinstance(event, PlacedWithAgency):
        return "placed", {"agency_id": event.agency_id}
    if isinstance(event, RecalledFromAgency):
        return "recalled", {}
    if isinstance(event, PromiseMade):
        return "promise", {"amount": str(event.amount), "due": event.due.isoformat()}
    if isinstance(event, PlanAgreed):
        installments = [{"due": i.due.isoformat(), "amount": str(i.amount)} for i in event.installments]
        return "plan", {"total": str(event.total), "installments": installments}
    if isinstance(event, DisputeOpened):
        return "dispute_opened", {"reason": event.reason}
    if isinstance(event, DisputeResolved):
        return "dispute_resolved", {}
    if isinstance(event, Cured):
        return "cured", {}
    raise ValueError(f"case event {type(event).__name__} is derived from the ledger and not stored")


def _case_event(kind: str, on: date, data: Mapping[str, Any]) -> CaseEvent:
    if kind == "assigned":
        return CollectorAssigned(on, str(data["collector_id"]))
    if kind == "placed":
        return PlacedWithAgency(on, str(data["agency_id"]))
    if kind == "recalled":
        return RecalledFromAgency(on)
    if kind == "promise":
        return PromiseMade(on, Decimal(data["amount"]), date.fromisoformat(data["due"]))
    if kind == "plan":
        installments = tuple(
            PlanInstallment(date.fromisoformat(i["due"]), Decimal(i["amount"])) for i in data["installments"]
        )
        return PlanAgreed(on, Decimal(data["total"]), installments)
    if kind == "dispute_opened":
        return DisputeOpened(on, str(data.get("reason", "")))
    if kind == "dispute_resolved":
        return DisputeResolved(on)
    return Cured(on)


class SqlAlchemyCaseEventRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def append(self, loan_id: str, event: CaseEvent, *, recorded_at: datetime) -> None:
        kind, data = _case_row(event)
        self._session.add(
            CaseEventRow(
                loan_id=loan_id,
                kind=kind,
                effective_on=event.on,
                data=json.dumps(data, sort_keys=True),
                recorded_at=_utc(recorded_at, "recorded_at"),
            )
        )
        _flush(self._session, f"{kind} on loan", loan_id)

    def append_many(self, events: Sequence[tuple[str, CaseEvent]], *, recorded_at: datetime) -> None:
        at = _utc(recorded_at, "recorded_at")
        rows = []
        for loan_id, event in events:
            kind, data = _case_row(event)
            rows.append(
                {
                    "loan_id": loan_id,
                    "kind": kind,
                    "effective_on": event.on,
                    "data": json.dumps(data, sort_keys=True),
                    "recorded_at": at,
                }
            )
        _execute_many(self._session, CaseEventRow.__table__, rows, "case event on loan", events[0][0] if events else "")

    def all(self) -> Mapping[str, tuple[CaseEvent, ...]]:
        query = select(CaseEventRow.loan_id, CaseEventRow.kind, CaseEventRow.effective_on, CaseEventRow.data)
        out: dict[str, list[CaseEvent]] = {}
        for loan_id, kind, on, data in self._session.execute(query.order_by(CaseEventRow.seq)):
            out.setdefault(loan_id, []).append(_case_event(kind, on, json.loads(data)))
        return {loan_id: tuple(events) for loan_id, events in out.items()}


# --- cycle runs and planned contacts ------------------------------------------------------------------------


class SqlAlchemyCycleRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def start(self, run: CycleRun) -> CycleRun:
        existing = self.get(run.run_on)
        if existing is not None:
            return existing
        self._session.add(
            CycleRunRow(
                run_on=run.run_on,
                strategy=run.strategy,
                mode=run.mode,
                pack=run.pack,
                status=run.status.value,
                started_at=_utc(run.started_at, "started_at"),
                finished_at=None,
                summary=json.dumps(dict(run.summary), sort_keys=True),
            )
        )
        _flush(self._session, "cycle run", run.run_on.isoformat())
        return run

    def finish(self, run_on: date, summary: Mapping[str, int], at: datetime) -> None:
        statement = (
            update(CycleRunRow)
            .where(CycleRunRow.run_on == run_on)
            .values(
                status=RunStatus.DONE.value,
                finished_at=_utc(at, "at"),
                summary=json.dumps(dict(summary), sort_keys=True),
            )
        )
        result: Any = self._session.execute(statement)
        if result.rowcount != 1:
            raise ConflictError("cycle run", run_on.isoformat(), "was never started")

    def get(self, run_on: date) -> CycleRun | None:
        row = self._session.get(CycleRunRow, run_on, populate_existing=True)
        return None if row is None else _run(row)

    def runs(self) -> tuple[CycleRun, ...]:
        return tuple(_run(row) for row in self._session.scalars(select(CycleRunRow).order_by(CycleRunRow.run_on)))

    def record_planned(
        self, records: Sequence[PlannedRecord], *, vouch: Callable[[Sequence[PlannedRecord]], int] | None = None
    ) -> int:
        if not records:
            return 0
        keys = [r.key for r in records]
        stored: set[str] = set()
        days = {r.run_on for r in records}
        anything = select(PlannedContactRow.key).where(PlannedContactRow.run_on.in_(days)).limit(1)
        for first in range(0, len(keys) if self._session.scalars(anything).first() is not None else 0, 500):
            chunk = keys[first : first + 500]
            query = select(PlannedContactRow.key).where(PlannedContactRow.key.in_(chunk))
            stored.update(self._session.scalars(query))
        fresh = [r for r in records if r.key not in stored]
        seq = vouch(fresh) if vouch is not None and fresh else None
        new = [_planned_values(r) | {"audit_seq": seq} for r in fresh]
        _execute_many(self._session, PlannedContactRow.__table__, new, "planned contact", new[0]["key"] if new else "")
        return len(new)

    def vouched_planned(self) -> Iterator[tuple[int, list[PlannedRecord]]]:
        query = (
            select(PlannedContactRow)
            .where(PlannedContactRow.audit_seq.is_not(None))
            .order_by(PlannedContactRow.audit_seq, PlannedContactRow.key)
            .execution_options(yield_per=5000)
        )
        seq: int | None = None
        group: list[PlannedRecord] = []
        for row in self._session.scalars(query):
            if row.audit_seq != seq and group:
                assert seq is not None
                yield seq, group
                group = []
            seq = row.audit_seq
            group.append(_planned(row))
        if group and seq is not None:
            yield seq, group

    def planned(self, run_on: date) -> tuple[PlannedRecord, ...]:
        query = (
            select(PlannedContactRow)
            .where(PlannedContactRow.run_on == run_on)
            .order_by(PlannedContactRow.planned_at, PlannedContactRow.key)
        )
        return tuple(_planned(row) for row in self._session.scalars(query))

    def record_restatement(self, record: RestatementRecord) -> None:
        self._session.execute(
            insert(RestatementRow).values(
                loan_id=record.loan_id,
                learned_on=record.learned_on,
                since=record.since,
                days=record.days,
                bucket_days=record.bucket_days,
                contacts=record.contacts,
                detail=record.detail,
            )
        )

    def restatements(self) -> tuple[RestatementRecord, ...]:
        rows = self._session.scalars(select(RestatementRow).order_by(RestatementRow.id))
        return tuple(
            RestatementRecord(r.loan_id, r.learned_on, r.since, r.days, r.bucket_days, r.contacts, r.detail)
            for r in rows
        )


def _run(row: CycleRunRow) -> CycleRun:
    return CycleRun(
        run_on=row.run_on,
        strategy=row.strategy,
        mode=row.mode,
        pack=row.pack,
        status=RunStatus(row.status),
        started_at=row.started_at,
        finished_at=row.finished_at,
        summary={str(k): int(v) for k, v in json.loads(row.summary).items()},
    )


def _planned_values(r: PlannedRecord) -> dict[str, Any]:
    return {
        "key": r.key,
        "run_on": r.run_on,
        "debt": r.debt,
        "party": r.party,
        "address_ref": r.address_ref,
        "channel": r.channel.value,
        "purpose": r.purpose,
        "template": r.template,
        "planned_at": _utc(r.planned_at, "planned_at"),
        "arm": r.arm,
        "segment": r.segment,
        "treatment": r.treatment,
        "effect": r.effect,
        "rules": ",".join(r.rules),
        "mode": r.mode,
        "replan_at": None if r.replan_at is None else _utc(r.replan_at, "replan_at"),
        "replanned_from": r.replanned_from,
    }


def _planned(row: PlannedContactRow) -> PlannedRecord:
    return PlannedRecord(
        key=row.key,
        run_on=row.run_on,
        debt=row.debt,
        party=row.party,
        address_ref=row.address_ref,
        channel=Channel(row.channel),
        purpose=row.purpose,
        template=row.template,
        planned_at=row.planned_at,
        arm=row.arm,
        segment=row.segment,
        treatment=row.treatment,
        effect=row.effect,
        rules=tuple(r for r in row.rules.split(",") if r),
        mode=row.mode,
        replan_at=row.replan_at,
        replanned_from=row.replanned_from,
    )
