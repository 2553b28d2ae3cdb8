"""The compliance audit: a month of contacts checked after the fact against a rule pack.

What an audit *means* is written here once, in plain Python, so the engines (DuckDB, Spark; see
``fairdun.adapters.audit``) have something to agree with:

* the log is ordered by ``at``, rows at the same instant in file order; every **outbound** row is an attempt,
  and the gate is asked about it
  with **every earlier row as history** (inbound rows, rows the rules forbid and rows that failed included:
  they happened) and with the **facts as they stood at the attempt's instant** (:func:`facts_at`);
* the audit reports one row per (attempt, rule) for which that gate decision names the rule: ``deny``, or
  ``indeterminate`` when a fact table the rule needs was not supplied (the gate fails closed; so does the audit).

:func:`replay` is that definition, running the real gate once per attempt: slow, exact, and the oracle the
engines are tested against.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from fairdun.domain.contact import (
    AgreedWindow,
    Attempt,
    Channel,
    Consent,
    ContactEvent,
    Direction,
    OptOut,
    Outcome,
    Purpose,
    Recipient,
    Role,
)
from fairdun.policy.decision import Effect
from fairdun.policy.engine import evaluate
from fairdun.policy.pack import Pack
from fairdun.policy.request import ContactRequest, Facts

# ---------------------------------------------------------------------------------------------------------------
# The input contract: the columns of the log and of each fact table.

LOG_REQUIRED: tuple[str, ...] = (
    "id",
    "at",
    "debt",
    "debtor",
    "party",
    "role",
    "address",
    "tz",
    "channel",
    "purpose",
    "direction",
    "outcome",
)
LOG_OPTIONAL: tuple[str, ...] = ("content", "operator", "org")

ENUMS: Mapping[str, tuple[str, ...]] = {
    "role": tuple(r.value for r in Role),
    "channel": tuple(c.value for c in Channel),
    "purpose": tuple(p.value for p in Purpose),
    "direction": tuple(d.value for d in Direction),
    "outcome": tuple(o.value for o in Outcome),
}

# Column kinds: text (required), text? (may be empty), instant (RFC 3339 with an offset), instant? (may be
# empty), zone (an IANA zone), clock (HH:MM or HH:MM:SS, 24:00 allowed), or an enum name from ENUMS.
LOG_SPEC: Mapping[str, str] = {
    "id": "text",
    "at": "instant",
    "debt": "text",
    "debtor": "text",
    "party": "text",
    "role": "role",
    "address": "text",
    "tz": "zone",
    "channel": "channel",
    "purpose": "purpose",
    "direction": "direction",
    "outcome": "outcome",
    "content": "text?",
    "operator": "text?",
    "org": "text?",
}

FACT_SPECS: Mapping[str, Mapping[str, str]] = {
    "consents": {"party": "text", "purpose": "text", "granted_at": "instant", "withdrawn_at": "instant?"},
    "refusals": {"party": "text", "at": "instant"},
    "opt_outs": {"party": "text", "channel": "channel", "address": "text?", "at": "instant"},
    "agreed_windows": {"party": "text", "start": "clock", "end": "clock"},
    "unreachable": {"debtor": "text", "since": "instant", "until": "instant?"},
    "guarantors": {"debt": "text", "party": "text"},
    "attorneys": {"debtor": "text", "since": "instant", "until": "instant?"},
    "cease_requests": {"debt": "text", "at": "instant"},
    "time_barred": {"debt": "text", "since": "instant"},
}
"""Fact tables, each an optional file ``<name>.parquet`` or ``<name>.csv`` in the facts directory.

A table that is absent leaves its fact **unknown** for every attempt (rules that need it are indeterminate); a
table that is present, even empty, makes the fact known. What each row means is in :func:`facts_at`."""

FACT_FOR_TABLE: Mapping[str, str] = {
    "consents": "consents",
    "refusals": "refused_parties",
    "opt_outs": "opt_outs",
    "agreed_windows": "agreed_windows",
    "unreachable": "debtor_unreachable",
    "guarantors": "guarantor_liable",
    "attorneys": "represented_by_attorney",
    "cease_requests": "cease_requested",
    "time_barred": "time_barred",
}


class AuditInputError(Exception):
    """Bad input: one line naming the file, and the row and column when there is one."""

    def __init__(self, file: str, problem: str, *, row: int | None = None, column: str | None = None) -> None:
        self.file, self.problem, self.row, self.column = file, problem, row, column
        where = file + (f": row {row}" if row is not None else "") + (f": column {column}" if column else "")
        super().__init__(f"{where}: {problem}")


class AuditEngineError(Exception):
    """The engine could not run (Spark did not start, a cluster refused the job)."""


# ---------------------------------------------------------------------------------------------------------------
# The reference definition, in Python.


@dataclass(frozen=True, slots=True)
class LogRow:
    id: str
    at: datetime
    debt: str
    debtor: str
    party: str
    role: Role
    address: str
    tz: str
    channel: Channel
    purpose: Purpose
    direction: Direction
    outcome: Outcome
    content: str | None = None
    operator: str | None = None
    org: str | None = None

    @property
    def event(self) -> ContactEvent:
        return ContactEvent(self.at, self.debt, self.party, self.address, self.channel, self.direction, self.outcome)

    @property
    def attempt(self) -> Attempt:
        recipient = Recipient(self.party, self.role, self.address, self.tz)
        return Attempt(self.at, self.debt, self.debtor, self.channel, self.purpose, recipient, self.content)


@dataclass(frozen=True, slots=True)
class Period:
    """A span [since, until) keyed by a debtor or a debt; ``until`` None is open."""

    key: str
    since: datetime
    until: datetime | None = None

    def covers(self, at: datetime) -> bool:
        return self.since <= at and (self.until is None or at < self.until)


@dataclass(frozen=True, slots=True)
class FactTables:
    """The fact tables, as rows. ``None`` for a table that was not supplied (its fact is unknown).

    A refusal, an opt-out, a cease request holds from its instant on; ``unreachable`` and ``attorneys`` are
    periods per debtor; ``time_barred`` holds from ``since`` per debt; ``guarantors`` lists the (debt, party)
    pairs where the guarantor is liable; consents are passed to the gate whole (it reads their validity)."""

    consents: tuple[Consent, ...] | None = None
    refusals: tuple[tuple[str, datetime], ...] | None = None
    opt_outs: tuple[tuple[OptOut, datetime], ...] | None = None
    agreed_windows: tuple[AgreedWindow, ...] | None = None
    unreachable: tuple[Period, ...] | None = None
    guarantors: frozenset[tuple[str, str]] | None = None
    attorneys: tuple[Period, ...] | None = None
    cease_requests: tuple[tuple[str, datetime], ...] | None = None
    time_barred: tuple[tuple[str, datetime], ...] | None = None


def facts_at(tables: FactTables, row: LogRow) -> Facts:
    """The gate's :class:`Facts` for one attempt: what the tables say held at ``row.at``."""
    at = row.at

    def since_any(items: tuple[tuple[str, datetime], ...] | None, key: str) -> bool | None:
        return None if items is None else any(k == key and t <= at for k, t in items)

    def period(items: tuple[Period, ...] | None, key: str) -> bool | None:
        return None if items is None else any(p.key == key and p.covers(at) for p in items)

    return Facts(
        debtor_unreachable=period(tables.unreachable, row.debtor),
        refused_parties=(None if tables.refusals is None else frozenset(p for p, t in tables.refusals if t <= at)),
        opt_outs=None if tables.opt_outs is None else tuple(o for o, t in tables.opt_outs if t <= at),
        consents=tables.consents,
        agreed_windows=tables.agreed_windows,
        guarantor_liable=None if tables.guarantors is None else (row.debt, row.party) in tables.guarantors,
        represented_by_attorney=period(tables.attorneys, row.debtor),
        cease_requested=since_any(tables.cease_requests, row.debt),
        time_barred=since_any(tables.time_barred, row.debt),
    )


@dataclass(frozen=True, slots=True)
class Finding:
    """One (attempt, rule) the audit reports."""

    id: str
    rule: str
    effect: Effect


def replay(rows: Iterable[LogRow], tables: FactTables, pack: Pack) -> list[Finding]:
    """The audit by definition: the real gate, once per outbound row, with every earlier row as history
    (earlier: a smaller ``at``, or the same ``at`` and earlier in ``rows``).

    History is narrowed to earlier rows that share the attempt's party, address or debt: every cap counts only
    such rows (its ``same`` keys), so the decision is the one the whole history would give."""
    ordered = [r for _, _, r in sorted((r.at.timestamp(), i, r) for i, r in enumerate(rows))]
    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    events = [r.event for r in ordered]
    out: list[Finding] = []
    for i, row in enumerate(ordered):
        if row.direction is Direction.OUTBOUND:
            related = sorted(
                set(by_key[("party", row.party)])
                | set(by_key[("address", row.address)])
                | set(by_key[("debt", row.debt)])
            )
            request = ContactRequest(row.attempt, tuple(events[j] for j in related), facts_at(tables, row), pack)
            decision = evaluate(request)
            out.extend(Finding(row.id, r.rule, r.effect) for r in decision.reasons)
        for key in (("party", row.party), ("address", row.address), ("debt", row.debt)):
            by_key[key].append(i)
    return out


# ---------------------------------------------------------------------------------------------------------------
# The use case and its ports.

ENGINES: tuple[str, ...] = ("duckdb", "spark")
FORMATS: tuple[str, ...] = ("parquet", "csv")


@dataclass(frozen=True, slots=True)
class AuditJob:
    pack: Pack
    log: Path
    facts: Path | None
    out: Path
    format: str = "parquet"
    lang: str = "zh"


@dataclass(frozen=True, slots=True)
class AuditSummary:
    """What an engine reports back: the figures a person reads first. The rows are in ``output``."""

    pack: str
    rows: int
    attempts: int
    violations: int
    by_rule: Mapping[str, int]
    output: Path
    engine: str
    seconds: float = 0.0
    report: Path | None = None
    unknown_facts: tuple[str, ...] = field(default=())
    phases: Mapping[str, float] = field(default_factory=dict)
    """Seconds per phase (load and check, rules, output), for benchmarks and the curious."""

    @property
    def clean(self) -> bool:
        return self.violations == 0


class AuditEngine(Protocol):
    """Runs one audit job and writes its violations to ``job.out``; raises :class:`AuditInputError` before
    writing anything when the input is bad."""

    name: str

    def run(self, job: AuditJob) -> AuditSummary: ...


class AuditReporter(Protocol):
    def write(self, job: AuditJob, summary: AuditSummary) -> Path: ...


def run_audit(job: AuditJob, engine: AuditEngine, reporter: AuditReporter | None = None) -> AuditSummary:
    """Audit a log: the engine writes the violations, then the reporter (if any) writes the HTML report."""
    summary = engine.run(job)
    if reporter is None:
        return summary
    report = reporter.write(job, summary)
    return AuditSummary(
        summary.pack,
        summary.rows,
        summary.attempts,
        summary.violations,
        summary.by_rule,
        summary.output,
        summary.engine,
        summary.seconds,
        report,
        summary.unknown_facts,
        summary.phases,
    )


__all__ = [
    "ENGINES",
    "FACT_SPECS",
    "FORMATS",
    "LOG_OPTIONAL",
    "LOG_REQUIRED",
    "LOG_SPEC",
    "AuditEngine",
    "AuditEngineError",
    "AuditInputError",
    "AuditJob",
    "AuditReporter",
    "AuditSummary",
    "FactTables",
    "Finding",
    "LogRow",
    "Period",
    "facts_at",
    "replay",
    "run_audit",
]


# ---------------------------------------------------------------------------------------------------------------
# What-if: the same log under two packs.


@dataclass(frozen=True, slots=True)
class Comparison:
    """Which attempts each pack would have blocked (any rule, deny or indeterminate), and the difference."""

    first: AuditSummary
    second: AuditSummary
    blocked_first: int
    blocked_second: int
    only_first: int
    only_second: int
    output: Path


class AuditComparer(Protocol):
    def compare(self, first: AuditSummary, second: AuditSummary, out: Path, fmt: str) -> Comparison: ...


def compare_audits(
    first: AuditJob, second: AuditJob, engine: AuditEngine, comparer: AuditComparer, out: Path
) -> Comparison:
    """Audit the same log under two packs (each into its own directory under ``out``) and compare them."""
    return comparer.compare(engine.run(first), engine.run(second), out, first.format)
