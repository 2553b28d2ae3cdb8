"""What the daily cycle and the outbox write into the tamper-evident audit log, and how those entries are checked
against the rows they vouch for.

The gate decides about every planned contact, and the outbox records every attempt: hundreds of thousands of rows
a day on a large book. One audit entry per row would double the writes, so the log holds one entry per batch —
the cycle's decisions of a day, the outbox's results of a dispatch batch — written in the same transaction as the
rows, with their counts and a SHA-256 digest of their canonical form; each row names its entry (``audit_seq``).
``fairdun audit verify --records`` recomputes every digest from the rows: a decision or an attempt altered,
deleted or added afterwards breaks its entry's digest, and the entry itself cannot be changed without breaking
the chain. The cycle's configuration (strategy, rule pack and mode, by content digest) is recorded when a run
starts, as ``config.changed`` whenever it differs from the previous run's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from fairdun.application.ports import ContactRecord, PlannedRecord, UnitOfWork
from fairdun.policy.pack import Pack
from fairdun.policy.strategy import Strategy

DECISIONS = "gate.decisions"
"""The gate's decisions on a day's planned contacts (subject ``run:YYYY-MM-DD``)."""
CONTACTS = "contacts.recorded"
"""Attempts entered in the contact history: a dispatch batch's results, or an audit-only day's simulated calls."""
CYCLE_STARTED = "cycle.started"
CONFIG_CHANGED = "config.changed"
SYSTEM_CYCLE = "system:cycle"

_R = TypeVar("_R")


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


_LINE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""What ``json.dumps(line, ensure_ascii=False, separators=(",", ":"))`` would write, without a new encoder per
line (hundreds of thousands a day)."""


def _digest(lines: Iterable[list[Any]]) -> str:
    """SHA-256 over the rows' canonical JSON lines, in sorted order (so the order rows are read in never
    matters)."""
    encode = _LINE.encode
    encoded = sorted(encode(line) for line in lines)
    return hashlib.sha256("\n".join(encoded).encode()).hexdigest()


def planned_line(r: PlannedRecord) -> list[Any]:
    """A planned contact and its decision, canonically."""
    replan = None if r.replan_at is None else _instant(r.replan_at)
    return [
        r.key,
        r.run_on.isoformat(),
        r.debt,
        r.party,
        r.address_ref,
        r.channel.value,
        r.purpose,
        r.template,
        _instant(r.planned_at),
        r.arm,
        r.segment,
        r.treatment,
        r.effect,
        list(r.rules),
        r.mode,
        replan,
        r.replanned_from,
    ]


def contact_line(r: ContactRecord) -> list[Any]:
    """An attempt in the contact history, canonically."""
    e = r.event
    return [r.id, _instant(e.at), e.debt, e.party, e.address, e.channel.value, e.direction.value, e.outcome.value]


def decisions_digest(records: Iterable[PlannedRecord]) -> str:
    return _digest(planned_line(r) for r in records)


def contacts_digest(records: Iterable[ContactRecord]) -> str:
    return _digest(contact_line(r) for r in records)


def vouch_decisions(uow: UnitOfWork, records: Sequence[PlannedRecord], *, on: date, at: datetime) -> int:
    """Appends the entry for ``records`` (a day's new decisions), in ``uow``'s transaction; its ``seq``."""
    rules = Counter(rule for r in records for rule in r.rules)
    detail = {
        "count": len(records),
        "effects": dict(sorted(Counter(r.effect for r in records).items())),
        "rules": dict(sorted(rules.items())),
        "modes": sorted({r.mode for r in records}),
        "digest": decisions_digest(records),
    }
    return uow.audit.append(SYSTEM_CYCLE, DECISIONS, f"run:{on.isoformat()}", detail, at=at).seq


def vouch_contacts(
    uow: UnitOfWork,
    records: Sequence[ContactRecord],
    *,
    actor: str,
    at: datetime,
    statuses: Mapping[str, int] | None = None,
) -> int:
    """Appends the entry for ``records`` (attempts about to enter the history) and, for a dispatch batch, how its
    messages ended (``statuses``: sent, failed, retrying); its ``seq``."""
    detail: dict[str, Any] = {
        "count": len(records),
        "outcomes": dict(sorted(Counter(r.event.outcome.value for r in records).items())),
        "channels": dict(sorted(Counter(r.event.channel.value for r in records).items())),
        "digest": contacts_digest(records),
    }
    if statuses is not None:
        detail["statuses"] = dict(sorted(statuses.items()))
    subject = f"contacts:{min(r.id for r in records)}" if records else "contacts:none"
    return uow.audit.append(actor, CONTACTS, subject, detail, at=at).seq


# --- configuration ------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A deterministic JSON-able form of a configuration value (sets sorted, enums by value)."""
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.compare and f.name != "source"
        }
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, frozenset | set):
        return sorted((_plain(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal | date | time | datetime):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def fingerprint(value: Any) -> str:
    """SHA-256 of a configuration object's content: the same rules give the same fingerprint in any process."""
    return hashlib.sha256(json.dumps(_plain(value), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def pack_fingerprint(pack: Pack) -> str:
    """A rule pack's content, by its rules as written (after ``extends``) and its name and version."""
    return fingerprint({"name": pack.name, "version": pack.version, "rules": [r.document for r in pack.rules]})


@dataclass(frozen=True, slots=True)
class Configuration:
    strategy: str
    strategy_digest: str
    pack: str
    pack_digest: str
    mode: str

    @classmethod
    def of(cls, strategy: Strategy, pack: Pack, mode: str) -> Configuration:
        return cls(strategy.label, fingerprint(strategy), pack.label, pack_fingerprint(pack), mode)


def vouch_configuration(
    uow: UnitOfWork, configuration: Configuration, *, on: date, previous: Mapping[str, Any] | None, at: datetime
) -> int:
    """Appends ``cycle.started`` for the run of ``on``, or ``config.changed`` (with what it was) when the strategy,
    the pack or the mode differs from ``previous`` (the detail of the last such entry)."""
    detail: dict[str, Any] = dataclasses.asdict(configuration)
    changed = previous is not None and any(previous.get(k) != v for k, v in detail.items())
    if changed:
        assert previous is not None
        detail["previous"] = {k: previous.get(k) for k in dataclasses.asdict(configuration)}
    action = CONFIG_CHANGED if changed else CYCLE_STARTED
    return uow.audit.append(SYSTEM_CYCLE, action, f"run:{on.isoformat()}", detail, at=at).seq


# --- verification -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordsCheck:
    """What :func:`verify_records` found: entries and rows checked, entries whose rows are gone entirely after a
    retention purge (``purged``), and the problems (none: every vouched row is as its entry says)."""

    entries: int
    rows: int
    purged: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_records(uow: UnitOfWork, *, purge_actions: Collection[str] = ()) -> RecordsCheck:
    """Recomputes the digest of every batch of decisions and attempts from the rows that name its entry. An entry
    none of whose rows remain counts as purged when a ``purge_actions`` entry follows it, as a problem otherwise.
    The chain itself is checked by ``verify_log``; this checks that the rows still match the chain."""
    purges = [seq for seq, _, _ in uow.audit.entries(purge_actions)] if purge_actions else []
    decisions = _check(uow, DECISIONS, "decisions", uow.cycle.vouched_planned(), decisions_digest, purges)
    attempts = _check(uow, CONTACTS, "attempts", uow.contacts.vouched(), contacts_digest, purges)
    return RecordsCheck(
        decisions.entries + attempts.entries,
        decisions.rows + attempts.rows,
        decisions.purged + attempts.purged,
        decisions.problems + attempts.problems,
    )


def _check(  # noqa: PLR0917 - one private step of verify_records
    uow: UnitOfWork,
    action: str,
    what: str,
    groups: Iterable[tuple[int, list[_R]]],
    digest: Callable[[Iterable[_R]], str],
    purges: Sequence[int],
) -> RecordsCheck:
    expected = {seq: detail for seq, _, detail in uow.audit.entries((action,))}
    entries, rows, purged = len(expected), 0, 0
    problems: list[str] = []
    for seq, group in groups:
        rows += len(group)
        detail = expected.pop(seq, None)
        if detail is None:
            problems.append(f"{len(group)} {what} name audit entry {seq}, which is not a {action} entry")
        elif len(group) != detail.get("count"):
            problems.append(f"entry {seq} vouches for {detail.get('count')} {what}, {len(group)} are stored")
        elif digest(group) != detail.get("digest"):
            problems.append(f"entry {seq}: its {what} were changed after it was written (digest differs)")
    for seq, detail in expected.items():
        if not detail.get("count"):
            continue
        if any(p > seq for p in purges):
            purged += 1
        else:
            problems.append(f"entry {seq} vouches for {detail.get('count')} {what}, none are stored")
    return RecordsCheck(entries, rows, purged, tuple(problems))
