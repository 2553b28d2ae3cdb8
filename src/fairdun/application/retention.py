"""Retention: how long each kind of record is kept and why, legal holds, and the purge job that deletes what has
outlived its period.

The periods are shipped data (``fairdun/config/retention.toml``, read by ``fairdun.config.retention``), each with
its legal basis and how sure we are of it. The purge works in batches, each its own transaction with an audit
entry (``retention.purged``: which record type, how many, the cut-off; never the rows' contents). It never touches
the audit log (deleting an entry would break its hash chain, and the log holds no personal value) and never a row
of a party or loan under a hold. The ledger (loan events) is kept: it is the lender's books, refers to opaque ids
only, and deleting it would make a paid loan look unpaid.

This module also declares :class:`SubjectRepository`, the port for what the data-subject rights and the purge need
beyond the other repositories (``fairdun.adapters.sqlalchemy.subject_repository`` implements it). It imports
nothing from :mod:`fairdun.application.ports`, which imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from fairdun.application.ports import Party, UnitOfWork
    from fairdun.domain.cases import CaseEvent

# --- policies -----------------------------------------------------------------------------------------------


class RecordType(StrEnum):
    """The kinds of record a retention policy covers."""

    CONTACT_HISTORY = "contact_history"
    PLANNED_CONTACTS = "planned_contacts"
    OUTBOX = "outbox"
    ACCESS_LOG = "access_log"
    AUDIT_LOG = "audit_log"
    CONSENTS = "consents"
    CASE_EVENTS = "case_events"
    LOAN_EVENTS = "loan_events"


class PurgeAction(StrEnum):
    DELETE = "delete"
    """Rows past the period are deleted."""
    KEEP = "keep"
    """Never purged by the job (the policy says why)."""


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long ``record`` is kept: ``years`` after the instant ``counted_from`` names, then ``action``; the legal
    ``basis`` (law, article) and ``confidence`` (``P`` primary source read, ``S`` secondary, as in RULES.md)."""

    record: RecordType
    action: PurgeAction
    years: int | None
    counted_from: str
    basis: str
    confidence: str

    def cutoff(self, on: date) -> datetime | None:
        """Rows whose instant is before this are past their period on ``on`` (None: never)."""
        if self.action is PurgeAction.KEEP or self.years is None:
            return None
        return datetime.combine(years_before(on, self.years), time(), UTC)


def years_before(day: date, years: int) -> date:
    """``day`` ``years`` earlier (29 February becomes 28 February in a common year)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True, slots=True)
class RetentionSchedule:
    """Every record type's policy, under a version."""

    version: str
    policies: tuple[RetentionPolicy, ...]

    def policy(self, record: RecordType) -> RetentionPolicy:
        return next(p for p in self.policies if p.record is record)

    def __post_init__(self) -> None:
        missing = set(RecordType) - {p.record for p in self.policies}
        if missing:
            raise RetentionError(f"retention policy: no policy for {sorted(missing)[0]}")
        for p in self.policies:
            if p.record is RecordType.AUDIT_LOG and p.action is not PurgeAction.KEEP:
                raise RetentionError("retention policy audit_log: must be keep (its hash chain is never cut)")


class RetentionError(Exception):
    """A retention request that cannot be done as asked; the message names the field."""


# --- holds --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetentionHold:
    """A legal hold on a party's or a loan's records: nothing of them is erased or purged while it is active."""

    id: int
    party: str | None
    loan: str | None
    reason: str
    until: date
    set_by: str
    set_at: datetime
    released_by: str | None = None
    released_at: datetime | None = None

    def active(self, on: date) -> bool:
        return self.released_at is None and on <= self.until

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "party": self.party,
            "loan": self.loan,
            "reason": self.reason,
            "until": self.until.isoformat(),
            "set_by": self.set_by,
            "set_at": self.set_at.isoformat(),
            "released_by": self.released_by,
            "released_at": None if self.released_at is None else self.released_at.isoformat(),
        }


# --- the port -----------------------------------------------------------------------------------------------


class SubjectRepository(Protocol):
    """What data-subject requests and the purge read and change beyond the other repositories. Records come back
    as JSON-able mappings (the export's shape); nothing here commits."""

    def records_of(self, party: str) -> Mapping[str, list[dict[str, Any]]]:
        """Everything stored under ``party``'s id, by category: ``contact_points`` (addresses opened, or
        ``[erased]``), ``contact_history``, ``planned_contacts``, ``outbox``."""
        ...

    def designated(self, borrower: str) -> tuple[Party, ...]:
        """The people ``borrower`` designated, by id."""
        ...

    def case_events_of(self, loans: Collection[str]) -> Mapping[str, tuple[CaseEvent, ...]]:
        """The case events of ``loans`` in recorded order, by loan id."""
        ...

    def is_shredded(self, party: str) -> bool: ...

    def shred(self, parties: Sequence[str], at: datetime) -> list[str]:
        """Destroys the parties' data keys; those shredded now."""
        ...

    def cancel_messages(self, parties: Collection[str], at: datetime) -> tuple[int, int]:
        """Unsent outbox messages to ``parties`` marked failed with their subject and body blanked, and sent ones
        with their body blanked: ``(cancelled, blanked)``."""
        ...

    def contact_point_refs(self, party: str) -> list[tuple[str, str]]:
        """``(ref, kind)`` of the party's contact points (kind ``phone``, ``email`` or ``address``), by position."""
        ...

    def replace_address(self, ref: str, address: str) -> None:
        """Seals ``address`` again as contact point ``ref``'s address and recomputes its blind index."""
        ...

    def record_erasure(self, party: str, *, borrower: str, by: str, at: datetime, reason: str, detail: Any) -> None: ...

    def erasure(self, party: str) -> Mapping[str, Any] | None:
        """The stored explanation of ``party``'s erasure, if it was erased."""
        ...

    def add_hold(
        self, *, party: str | None, loan: str | None, reason: str, until: date, by: str, at: datetime
    ) -> RetentionHold: ...

    def release_hold(self, hold_id: int, by: str, at: datetime) -> RetentionHold | None:
        """Releases an active hold; None when there is no such hold or it was released already."""
        ...

    def holds(self) -> tuple[RetentionHold, ...]:
        """Every hold, released ones included, by id."""
        ...

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
        """Ids (as text) of ``record`` rows whose instant is before ``before``, none of a kept party or loan;
        with ``among_loans``, only rows of those loans. Oldest first, at most ``limit``."""
        ...

    def delete(self, record: RecordType, ids: Sequence[str]) -> int: ...


# --- the purge ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PurgeLine:
    record: RecordType
    action: PurgeAction
    cutoff: datetime | None
    rows: int
    batches: int
    basis: str


@dataclass(frozen=True, slots=True)
class PurgeReport:
    on: date
    dry_run: bool
    schedule: str
    held_parties: int
    held_loans: int
    lines: tuple[PurgeLine, ...]

    def to_document(self) -> dict[str, Any]:
        return {
            "on": self.on.isoformat(),
            "dry_run": self.dry_run,
            "schedule": self.schedule,
            "held": {"parties": self.held_parties, "loans": self.held_loans},
            "records": [
                {
                    "record": line.record.value,
                    "action": line.action.value,
                    "cutoff": None if line.cutoff is None else line.cutoff.isoformat(),
                    "rows": line.rows,
                    "batches": line.batches,
                    "basis": line.basis,
                }
                for line in self.lines
            ],
        }


def kept(uow: UnitOfWork, on: date) -> tuple[set[str], set[str]]:
    """The parties and loans whose records a hold keeps on ``on``. A hold on a borrower keeps the borrower, the
    people they designated and their loans; a hold on a loan keeps that loan's records."""
    parties: set[str] = set()
    loans: set[str] = set()
    for hold in uow.subjects.holds():
        if not hold.active(on):
            continue
        if hold.loan is not None:
            loans.add(hold.loan)
        if hold.party is not None:
            parties.add(hold.party)
            parties.update(p.id for p in uow.subjects.designated(hold.party))
            loans.update(loan.id for loan in uow.loans.for_borrower(hold.party))
    return parties, loans


def purge(
    uow_factory: Callable[[], UnitOfWork],
    schedule: RetentionSchedule,
    on: date,
    *,
    actor: str,
    at: datetime,
    settled: Callable[[UnitOfWork, date], set[str]],
    dry_run: bool = False,
    batch: int = 500,
) -> PurgeReport:
    """Deletes every row past its retention period on ``on``, ``batch`` rows per transaction, each batch with an
    audit entry ``retention.purged`` in the same transaction. Rows of held parties and loans stay; case events are
    purged only for loans ``settled(uow, on)`` says are paid off (a live case needs its events); the audit log and
    the ledger are never purged. With ``dry_run``, counts what would go and changes nothing."""
    if batch < 1:
        raise RetentionError(f"batch: at least 1, got {batch}")
    with uow_factory() as uow:
        keep_parties, keep_loans = kept(uow, on)
        paid = settled(uow, on)
    lines = []
    for policy in schedule.policies:
        cutoff = policy.cutoff(on)
        rows = batches = 0
        if cutoff is not None:
            among = paid if policy.record is RecordType.CASE_EVENTS else None
            if dry_run:
                with uow_factory() as uow:
                    rows = len(
                        uow.subjects.purgeable(
                            policy.record,
                            cutoff,
                            keep_parties=keep_parties,
                            keep_loans=keep_loans,
                            among_loans=among,
                            limit=None,
                        )
                    )
            else:
                while True:
                    with uow_factory() as uow:
                        ids = uow.subjects.purgeable(
                            policy.record,
                            cutoff,
                            keep_parties=keep_parties,
                            keep_loans=keep_loans,
                            among_loans=among,
                            limit=batch,
                        )
                        if not ids:
                            break
                        deleted = uow.subjects.delete(policy.record, ids)
                        uow.audit.append(
                            actor,
                            "retention.purged",
                            policy.record.value,
                            {"rows": deleted, "cutoff": cutoff.isoformat(), "on": on.isoformat(), "batch": batches + 1},
                            at=at,
                        )
                        uow.commit()
                    rows += deleted
                    batches += 1
        lines.append(PurgeLine(policy.record, policy.action, cutoff, rows, batches, policy.basis))
    return PurgeReport(on, dry_run, schedule.version, len(keep_parties), len(keep_loans), tuple(lines))
