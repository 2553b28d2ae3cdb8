"""Delinquency buckets, bucket histories, roll and cure rates, and what a backdated event changed.

A bucket table maps days past due to named buckets. The default is the one Chinese lenders report: C (current,
0 DPD), M1 (1-30) through M6 (151-180) and M6+ (181 and more), the write-off bucket. A table is checked when it is
built: it starts at 0, every bucket follows the previous one without a gap or an overlap, only the last is
open-ended, and names are unique.

A bucket history is a loan's spells in buckets: which bucket, the day it entered, the day it left. From the
histories of many loans, :func:`roll_rates` counts where the loans in each bucket on one date were on a later date
(the roll-rate matrix), and :func:`cure_rate` the share of delinquent loans that were current again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from fairdun.domain.errors import DomainError
from fairdun.domain.ledger import LoanEvent, dpd_history
from fairdun.domain.loans import Installment, Product


@dataclass(frozen=True, slots=True)
class Bucket:
    """DPD from ``low`` to ``high`` (both included; ``high=None`` for no upper end)."""

    name: str
    low: int
    high: int | None
    write_off: bool = False

    def holds(self, dpd: int) -> bool:
        return self.low <= dpd and (self.high is None or dpd <= self.high)


@dataclass(frozen=True, slots=True)
class BucketTable:
    """Buckets in DPD order, covering every DPD from 0 up exactly once."""

    buckets: tuple[Bucket, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.buckets, tuple) or not self.buckets:
            raise DomainError("buckets", "must be a non-empty tuple of Bucket")
        names: set[str] = set()
        expected = 0
        for k, bucket in enumerate(self.buckets):
            where = f"buckets[{k}]"
            if not isinstance(bucket, Bucket):
                raise DomainError(where, f"must be a Bucket, not {type(bucket).__name__}")
            if not isinstance(bucket.name, str) or not bucket.name.strip():
                raise DomainError(f"{where}.name", f"must be a non-empty string, got {bucket.name!r}")
            if bucket.name in names:
                raise DomainError(f"{where}.name", f"{bucket.name!r} is used twice")
            names.add(bucket.name)
            if bucket.low != expected:
                what = "start at 0" if k == 0 else f"start at {expected}, the day after {self.buckets[k - 1].name}"
                gap = "a gap" if bucket.low > expected else "an overlap"
                problem = f"must {what}; got {bucket.low}" + ("" if k == 0 else f" ({gap})")
                raise DomainError(f"{where}.low", problem)
            if bucket.high is None:
                if k != len(self.buckets) - 1:
                    raise DomainError(f"{where}.high", "only the last bucket may be open-ended (high=None)")
            elif bucket.high < bucket.low:
                raise DomainError(f"{where}.high", f"must be at least low ({bucket.low}), got {bucket.high}")
            else:
                expected = bucket.high + 1
        if self.buckets[-1].high is not None:
            raise DomainError(f"buckets[{len(self.buckets) - 1}].high", "the last bucket must be open-ended (None)")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.buckets)

    @property
    def current(self) -> Bucket:
        """The first bucket, which holds 0 DPD."""
        return self.buckets[0]

    def bucket_for(self, dpd: int) -> Bucket:
        if dpd < 0:
            raise DomainError("dpd", f"must not be negative, got {dpd}")
        return next(b for b in self.buckets if b.holds(dpd))

    @classmethod
    def monthly(cls, months: int = 6, *, days: int = 30, write_off: bool = True) -> BucketTable:
        """C, M1 ... M``months`` of ``days`` each, and M``months``+ (the write-off bucket if ``write_off``)."""
        buckets = [Bucket("C", 0, 0)]
        buckets += [Bucket(f"M{m}", (m - 1) * days + 1, m * days) for m in range(1, months + 1)]
        buckets.append(Bucket(f"M{months}+", months * days + 1, None, write_off=write_off))
        return cls(tuple(buckets))


DEFAULT_BUCKETS = BucketTable.monthly()


@dataclass(frozen=True, slots=True)
class Spell:
    """A stay in one bucket: from ``entered`` up to (not including) ``left``; ``left`` is None if it goes on past
    the end of the history."""

    bucket: str
    entered: date
    left: date | None

    def covers(self, day: date) -> bool:
        return self.entered <= day and (self.left is None or day < self.left)


def bucket_history(dpd_by_day: Iterable[tuple[date, int]], table: BucketTable = DEFAULT_BUCKETS) -> tuple[Spell, ...]:
    """Spells from a loan's DPD on consecutive days (as :func:`fairdun.domain.ledger.dpd_history` gives them)."""
    spells: list[Spell] = []
    previous: date | None = None
    for day, dpd in dpd_by_day:
        if previous is not None and (day - previous).days != 1:
            raise DomainError("dpd_by_day", f"days must be consecutive; {day} follows {previous}")
        previous = day
        name = table.bucket_for(dpd).name
        if not spells or spells[-1].bucket != name:
            if spells:
                spells[-1] = Spell(spells[-1].bucket, spells[-1].entered, day)
            spells.append(Spell(name, day, None))
    return tuple(spells)


def loan_bucket_history(
    product: Product,
    schedule: Sequence[Installment],
    events: Iterable[LoanEvent],
    start: date,
    end: date,
    *,
    table: BucketTable = DEFAULT_BUCKETS,
) -> tuple[Spell, ...]:
    """A loan's bucket spells from ``start`` to ``end``, from its events."""
    return bucket_history(dpd_history(product, schedule, events, start, end), table)


def bucket_on(history: Sequence[Spell], day: date) -> str | None:
    """The bucket a history says the loan was in on ``day``; None outside the history."""
    return next((s.bucket for s in history if s.covers(day)), None)


@dataclass(frozen=True, slots=True)
class RollRates:
    """How many loans moved from each bucket on ``start`` to each bucket on ``end``.

    ``counts[i][j]`` is the number in ``buckets[i]`` on ``start`` and ``buckets[j]`` on ``end``.
    """

    start: date
    end: date
    buckets: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]

    def count(self, from_bucket: str, to_bucket: str) -> int:
        return self.counts[self._index(from_bucket)][self._index(to_bucket)]

    def leaving(self, from_bucket: str) -> int:
        """How many loans were in ``from_bucket`` on ``start``."""
        return sum(self.counts[self._index(from_bucket)])

    def rate(self, from_bucket: str, to_bucket: str) -> Fraction | None:
        """The share of loans in ``from_bucket`` on ``start`` that were in ``to_bucket`` on ``end``; None if there
        were none to begin with."""
        row = self.counts[self._index(from_bucket)]
        total = sum(row)
        return Fraction(row[self._index(to_bucket)], total) if total else None

    def _index(self, name: str) -> int:
        try:
            return self.buckets.index(name)
        except ValueError:
            raise DomainError("bucket", f"no bucket {name!r}; the buckets are {', '.join(self.buckets)}") from None


def roll_rates(
    histories: Iterable[Sequence[Spell]], start: date, end: date, table: BucketTable = DEFAULT_BUCKETS
) -> RollRates:
    """The roll-rate matrix between two dates. Loans whose history does not cover both dates are left out."""
    if end <= start:
        raise DomainError("end", f"must be after start {start}, got {end}")
    names = table.names
    counts = [[0] * len(names) for _ in names]
    for history in histories:
        before, after = bucket_on(history, start), bucket_on(history, end)
        if before is not None and after is not None:
            counts[names.index(before)][names.index(after)] += 1
    return RollRates(start, end, names, tuple(tuple(row) for row in counts))


def cure_rate(
    histories: Iterable[Sequence[Spell]],
    start: date,
    end: date,
    table: BucketTable = DEFAULT_BUCKETS,
    *,
    from_buckets: Iterable[str] | None = None,
) -> Fraction | None:
    """The share of loans delinquent on ``start`` (in ``from_buckets``, default any but current) that are current
    on ``end``; None if no loan was delinquent on ``start``."""
    rates = roll_rates(histories, start, end, table)
    current = table.current.name
    sources = [n for n in table.names if n != current] if from_buckets is None else list(from_buckets)
    delinquent = sum(rates.leaving(name) for name in sources)
    cured = sum(rates.count(name, current) for name in sources)
    return Fraction(cured, delinquent) if delinquent else None


# --- backdated events ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayRestated:
    """One day whose DPD or bucket differs once the new events are known."""

    on: date
    dpd_before: int
    dpd_after: int
    bucket_before: str
    bucket_after: str


@dataclass(frozen=True, slots=True)
class Restatement:
    """What a change in the known events changed, day by day. Empty when nothing did."""

    days: tuple[DayRestated, ...]

    @property
    def since(self) -> date | None:
        """The first day that changed."""
        return self.days[0].on if self.days else None

    @property
    def buckets_changed(self) -> tuple[DayRestated, ...]:
        return tuple(d for d in self.days if d.bucket_before != d.bucket_after)

    def __bool__(self) -> bool:
        return bool(self.days)


def restate(
    product: Product,
    schedule: Sequence[Installment],
    before: Iterable[LoanEvent],
    after: Iterable[LoanEvent],
    *,
    start: date,
    end: date,
    table: BucketTable = DEFAULT_BUCKETS,
) -> Restatement:
    """The days from ``start`` to ``end`` whose DPD or bucket differ between the events known ``before`` a change
    (a payment learned late, a backdated pause, a reversal) and ``after`` it: what changed, and since when."""
    old = dpd_history(product, schedule, before, start, end)
    new = dpd_history(product, schedule, after, start, end)
    days = []
    for (day, was), (_, now) in zip(old, new, strict=True):
        if was != now:
            bucket_was, bucket_now = table.bucket_for(was).name, table.bucket_for(now).name
            days.append(DayRestated(day, was, now, bucket_was, bucket_now))
    return Restatement(tuple(days))
