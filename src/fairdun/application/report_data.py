"""What a demo report shows, as plain values: the renderer draws these and computes nothing.

A :class:`ReportData` holds the run parameters and one :class:`StrategyRun` per strategy that was simulated (for
example "compliant" and "aggressive (audit-only)"). Every series is keyed by date and kept sorted; money is
``Decimal`` (a float is refused, so a rounding error cannot sneak into a recovery figure). Values are checked when
they are built, so a renderer can trust them: counts are non-negative integers, run names are unique, and
``generated_at`` carries a timezone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import TypeVar

V = TypeVar("V")


class ReportDataError(ValueError):
    """A report value that cannot be drawn truthfully; ``field`` names which one."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _count(where: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ReportDataError(where, f"must be a non-negative int, got {value!r}")
    return value


def _day(where: str, value: object) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ReportDataError(where, f"must be a date, got {value!r}")
    return value


def _frozen_by_day(where: str, series: Mapping[date, V]) -> Mapping[date, V]:
    for day in series:
        _day(f"{where} key", day)
    return MappingProxyType(dict(sorted(series.items())))


@dataclass(frozen=True, slots=True)
class RunParameters:
    """How the demo was run: portfolio size, simulated days, random seed, and the rule pack used."""

    borrowers: int
    days: int
    seed: int
    pack_label: str

    def __post_init__(self) -> None:
        _count("borrowers", self.borrowers)
        _count("days", self.days)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ReportDataError("seed", f"must be an int, got {self.seed!r}")


@dataclass(frozen=True, slots=True)
class ContactCounts:
    """One day's contacts: how many the strategy planned, and how many the gate allowed and denied.

    ``allowed + denied`` may be less than ``planned``: an indeterminate decision is neither.
    """

    planned: int
    allowed: int
    denied: int

    def __post_init__(self) -> None:
        for name in ("planned", "allowed", "denied"):
            _count(name, getattr(self, name))
        if self.allowed + self.denied > self.planned:
            raise ReportDataError("allowed", "allowed + denied cannot exceed planned")


@dataclass(frozen=True, slots=True)
class RuleDenials:
    """How many contacts one rule denied, with the rule's title and the law it cites."""

    rule_id: str
    title: str
    citation: str
    count: int

    def __post_init__(self) -> None:
        if not self.rule_id:
            raise ReportDataError("rule_id", "must not be empty")
        _count(f"denials[{self.rule_id}].count", self.count)


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """One line of a run's summary table; the value is already formatted for reading."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class StrategyRun:
    """One strategy simulated over the whole period.

    ``bucket_counts`` maps each day to {bucket name: loans in it}; ``recovered`` is cumulative (the amount recovered
    from the first day up to and including that day); ``audit_only`` marks a run whose denied contacts were only
    recorded, never sent.
    """

    name: str
    bucket_counts: Mapping[date, Mapping[str, int]] = field(default_factory=dict)
    recovered: Mapping[date, Decimal] = field(default_factory=dict)
    contacts: Mapping[date, ContactCounts] = field(default_factory=dict)
    denials: tuple[RuleDenials, ...] = ()
    cures: Mapping[date, int] = field(default_factory=dict)
    promises_made: int = 0
    promises_kept: int = 0
    summary: tuple[SummaryRow, ...] = ()
    audit_only: bool = False

    def __post_init__(self) -> None:
        where = f"runs[{self.name}]"
        if not self.name:
            raise ReportDataError("name", "a run needs a name")
        buckets: dict[date, Mapping[str, int]] = {}
        for day, counts in self.bucket_counts.items():
            for bucket, n in counts.items():
                _count(f"{where}.bucket_counts[{day}][{bucket}]", n)
            buckets[day] = MappingProxyType(dict(counts))
        object.__setattr__(self, "bucket_counts", _frozen_by_day(f"{where}.bucket_counts", buckets))
        for day, amount in self.recovered.items():
            if not isinstance(amount, Decimal) or not amount.is_finite():
                raise ReportDataError(f"{where}.recovered[{day}]", f"must be a finite Decimal, got {amount!r}")
        object.__setattr__(self, "recovered", _frozen_by_day(f"{where}.recovered", self.recovered))
        for day, contact in self.contacts.items():
            if not isinstance(contact, ContactCounts):
                raise ReportDataError(f"{where}.contacts[{day}]", "must be ContactCounts")
        object.__setattr__(self, "contacts", _frozen_by_day(f"{where}.contacts", self.contacts))
        for day, n in self.cures.items():
            _count(f"{where}.cures[{day}]", n)
        object.__setattr__(self, "cures", _frozen_by_day(f"{where}.cures", self.cures))
        object.__setattr__(self, "denials", tuple(self.denials))
        ids = [d.rule_id for d in self.denials]
        if len(set(ids)) != len(ids):
            raise ReportDataError(f"{where}.denials", "a rule id appears twice")
        object.__setattr__(self, "summary", tuple(self.summary))
        _count(f"{where}.promises_made", self.promises_made)
        _count(f"{where}.promises_kept", self.promises_kept)
        if self.promises_kept > self.promises_made:
            raise ReportDataError(f"{where}.promises_kept", "cannot exceed promises_made")


@dataclass(frozen=True, slots=True)
class ReportData:
    """A whole demo report. ``buckets`` gives the bucket order (and so the colours); empty means "as they appear"."""

    title: str
    generated_at: datetime
    parameters: RunParameters
    runs: tuple[StrategyRun, ...]
    buckets: tuple[str, ...] = ()
    currency: str = "CNY"

    def __post_init__(self) -> None:
        if self.generated_at.tzinfo is None or self.generated_at.utcoffset() is None:
            raise ReportDataError("generated_at", "must be timezone-aware")
        object.__setattr__(self, "runs", tuple(self.runs))
        names = [r.name for r in self.runs]
        if len(set(names)) != len(names):
            raise ReportDataError("runs", "run names must be unique")
        object.__setattr__(self, "buckets", tuple(self.buckets))

    def bucket_order(self) -> tuple[str, ...]:
        """The declared bucket order, followed by any bucket the runs use that was not declared."""
        order = list(self.buckets)
        for run in self.runs:
            for counts in run.bucket_counts.values():
                order.extend(b for b in counts if b not in order)
        return tuple(order)

    def days(self) -> tuple[date, ...]:
        """Every day any run has a value for, in order."""
        seen: set[date] = set()
        for run in self.runs:
            seen.update(run.bucket_counts, run.recovered, run.contacts, run.cures)
        return tuple(sorted(seen))
