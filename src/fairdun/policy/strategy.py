"""Collection strategies as data: which treatment each delinquent debt gets, and what it plans each day.

A strategy is built here, purely, from a parsed TOML document (reading the file is ``fairdun.config.strategies``;
the format is ``docs/strategies.md``). It has three axes:

- **bucket**: the names of a :class:`~fairdun.domain.delinquency.BucketTable` (default C, M1 ... M6, M6+);
- **amount band**: the overdue amount, cut at ``amount_bands`` edges (``[0, 1000, 10000]`` gives ``0-1000``,
  ``1000-10000`` and ``10000+``); each band holds its lower edge and not its upper one;
- **risk tier**: ``low``, ``medium``, ``high`` unless the file names its own tiers.

Each segment selects some buckets, bands and tiers (an omitted selector means all of them) and gives them one
treatment, or several *arms* (champion-challenger) that split the debts by a stable hash of the debt id.

**Precedence.** There is none to remember: every (bucket, band, tier) cell must be covered by exactly one segment
(a gap or an overlap is refused when the strategy is built, naming the cell), so the order of segments in the file
never matters and a more specific segment never silently overrides a general one. :meth:`Strategy.treatment_for`
resolves, in this order: the bucket by name, the band whose ``[low, high)`` holds the amount (an amount on an edge
belongs to the band above it), the tier by name, the one segment covering that cell, and within it the arm whose
share of ``[0, 10000)`` holds the debt's :func:`split_point` (arms take consecutive shares in the order listed).

**Days in bucket** count from 1: the day a loan enters a bucket is day 1 (:func:`days_in_bucket`). A treatment's
steps name their day of the cadence (1 ... ``repeat_every_days``); escalations name the day in the bucket from
which they are in effect (``from_day``).

Nothing here decides legality. Preferred windows are preferences; the daily cycle passes every planned step
through the contact gate, which may refuse it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fairdun.domain.contact import Channel, Purpose, Role
from fairdun.domain.delinquency import DEFAULT_BUCKETS, BucketTable
from fairdun.domain.errors import DomainError
from fairdun.domain.money import to_money
from fairdun.policy.errors import FieldError, PolicyError
from fairdun.policy.reader import Reader, join, parse_clock, parse_enum, type_name

#: Arms split ``[0, SPLIT_POINTS)`` between them: percentages with two decimal places (basis points).
SPLIT_POINTS = 10_000
DEFAULT_TIERS = ("low", "medium", "high")
#: The arm of a segment that gives one ``treatment`` rather than a list of arms.
CHAMPION = "champion"
#: The shortest slot one attempt may have when a step's window is shared by ``count`` attempts.
MIN_SLOT_SECONDS = 60

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
TEMPLATE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
DAY_SECONDS = 86_400


class StrategyError(PolicyError):
    """A strategy file is invalid. The message names the file, the segment or treatment, and the field::

    aggressive.toml: segment M1/0-1000/high: arms[1].percent: arms add up to 90, not 100
    """

    def __init__(
        self,
        source: str,
        problem: str,
        *,
        segment: str | None = None,
        treatment: str | None = None,
        field: str | None = None,
    ) -> None:
        where = [source]
        if segment:
            where.append(f"segment {segment}")
        if treatment:
            where.append(f"treatment {treatment}")
        if field:
            where.append(field)
        super().__init__(": ".join([*where, problem]))
        self.source = source
        self.segment = segment
        self.treatment = treatment
        self.field = field
        self.problem = problem


# --- values ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """Local wall-clock hours ``[start, end)`` as seconds after local midnight; ``end`` may be 86400 (24:00)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= DAY_SECONDS:
            raise FieldError("window", f"needs 0 <= start < end <= 86400 seconds, got {self.start}-{self.end}")

    @property
    def label(self) -> str:
        return f"{_clock_text(self.start)}-{_clock_text(self.end)}"

    def slots(self, count: int) -> tuple[Window, ...]:
        """The window cut into ``count`` consecutive slots of whole seconds; the last takes any remainder."""
        width = (self.end - self.start) // count
        starts = [self.start + k * width for k in range(count)]
        return tuple(Window(s, starts[k + 1] if k + 1 < count else self.end) for k, s in enumerate(starts))


@dataclass(frozen=True, slots=True)
class Step:
    """One contact on ``day`` of the cadence: ``count`` attempts spread over ``window``."""

    day: int
    channel: Channel
    template: str
    window: Window
    count: int = 1
    role: Role = Role.DEBTOR
    purpose: Purpose = Purpose.COLLECT


@dataclass(frozen=True, slots=True)
class AgentQueue:
    """Escalation to a queue of human agents, in effect from ``from_day`` in the bucket."""

    name: str
    from_day: int


@dataclass(frozen=True, slots=True)
class AgencyPlacement:
    """Placement with an outside collection agency, in effect from ``from_day`` in the bucket."""

    agency: str
    from_day: int


@dataclass(frozen=True, slots=True)
class LegalReview:
    """Referral for legal review, in effect from ``from_day`` in the bucket."""

    from_day: int


Escalation = AgentQueue | AgencyPlacement | LegalReview


@dataclass(frozen=True, slots=True)
class Treatment:
    """What a debt in a segment gets: steps on a cadence, and escalations.

    With ``repeat_every_days`` the steps repeat: day ``d`` in the bucket is cadence day
    ``(d - 1) % repeat_every_days + 1``. Without it, each step runs once, on its day in the bucket.
    """

    name: str
    steps: tuple[Step, ...]
    repeat_every_days: int | None = None
    agent_queue: AgentQueue | None = None
    agency: AgencyPlacement | None = None
    legal_review: LegalReview | None = None

    def cadence_day(self, days_in_bucket: int) -> int | None:
        """The cadence day that ``days_in_bucket`` falls on; None once a non-repeating cadence has run out."""
        _check_days(days_in_bucket)
        if self.repeat_every_days is None:
            return days_in_bucket if any(s.day >= days_in_bucket for s in self.steps) else None
        return (days_in_bucket - 1) % self.repeat_every_days + 1

    def escalations(self, days_in_bucket: int) -> tuple[Escalation, ...]:
        """The escalations in effect on ``days_in_bucket`` (each from its ``from_day`` on), queue first."""
        _check_days(days_in_bucket)
        found = (self.agent_queue, self.agency, self.legal_review)
        return tuple(e for e in found if e is not None and e.from_day <= days_in_bucket)


@dataclass(frozen=True, slots=True)
class Arm:
    """One arm of a segment: ``points`` of the ``SPLIT_POINTS`` split (basis points: 8000 is 80 %)."""

    name: str
    points: int
    treatment: Treatment

    @property
    def percent(self) -> Decimal:
        return Decimal(self.points) / 100


@dataclass(frozen=True, slots=True)
class Band:
    """Overdue amounts ``[low, high)``; ``high`` None for no upper end."""

    low: Decimal
    high: Decimal | None

    @property
    def label(self) -> str:
        low = _amount_text(self.low)
        return f"{low}+" if self.high is None else f"{low}-{_amount_text(self.high)}"

    def holds(self, amount: Decimal) -> bool:
        return self.low <= amount and (self.high is None or amount < self.high)


@dataclass(frozen=True, slots=True)
class Segment:
    """The cells a segment covers and its arms. ``salt`` is the strategy's name, which seeds the split."""

    label: str
    buckets: tuple[str, ...]
    bands: tuple[str, ...]
    tiers: tuple[str, ...]
    arms: tuple[Arm, ...]
    salt: str

    def arm_for(self, debt_id: str) -> Arm:
        point = split_point(self.salt, debt_id)
        upper = 0
        for arm in self.arms:
            upper += arm.points
            if point < upper:
                return arm
        raise AssertionError("arms cover [0, SPLIT_POINTS) when built")  # pragma: no cover

    def assign_arm(self, debt_id: str) -> str:
        """The name of the arm ``debt_id`` falls in: the same in every process, on every Python version."""
        return self.arm_for(debt_id).name


@dataclass(frozen=True, slots=True)
class Selection:
    """The treatment chosen for one debt, with the arm (and segment) every planned action records."""

    arm: str
    treatment: Treatment
    segment: str


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """A contact the strategy wants on local date ``on``, in the recipient's local ``window``.

    ``step`` is the index of the step in its treatment and ``attempt`` counts from 1 to the step's ``count``:
    with the debt, the date and the treatment they identify the planned contact (an idempotency key).
    """

    on: date
    day: int
    step: int
    attempt: int
    channel: Channel
    role: Role
    purpose: Purpose
    template: str
    window: Window


@dataclass(frozen=True, slots=True)
class Strategy:
    """A validated strategy. Build it with :func:`build_strategy`; select with :meth:`treatment_for`."""

    name: str
    version: str
    title: str
    description: str
    buckets: tuple[str, ...]
    bands: tuple[Band, ...]
    tiers: tuple[str, ...]
    treatments: Mapping[str, Treatment]
    segments: tuple[Segment, ...]
    source: str
    cells: Mapping[tuple[str, str, str], Segment] = field(repr=False, compare=False)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def band_for(self, overdue_amount: Decimal | int) -> Band:
        """The band holding ``overdue_amount`` (an amount on an edge belongs to the band above it)."""
        if isinstance(overdue_amount, bool) or not isinstance(overdue_amount, Decimal | int):
            raise FieldError("overdue_amount", f"must be a Decimal or an int, not {type(overdue_amount).__name__}")
        amount = Decimal(overdue_amount)
        if not amount.is_finite() or amount < 0:
            raise FieldError("overdue_amount", f"must be a finite amount of at least 0, got {overdue_amount}")
        # Bands start at 0 and the last is open-ended, so one always holds a valid amount.
        return next(b for b in reversed(self.bands) if b.holds(amount))

    def segment_for(self, bucket: str, overdue_amount: Decimal | int, risk_tier: str) -> Segment:
        """The one segment covering (bucket, the band of ``overdue_amount``, risk tier)."""
        if bucket not in self.buckets:
            raise FieldError("bucket", f"unknown bucket {bucket!r}; {self.label} has {', '.join(self.buckets)}")
        if risk_tier not in self.tiers:
            raise FieldError("risk_tier", f"unknown risk tier {risk_tier!r}; {self.label} has {', '.join(self.tiers)}")
        return self.cells[(bucket, self.band_for(overdue_amount).label, risk_tier)]

    def treatment_for(self, bucket: str, overdue_amount: Decimal | int, risk_tier: str, debt_id: str) -> Selection:
        """The treatment for a debt, and the arm it is in. See the module docstring for the order of resolution."""
        segment = self.segment_for(bucket, overdue_amount, risk_tier)
        arm = segment.arm_for(debt_id)
        return Selection(arm.name, arm.treatment, segment.label)


# --- pure functions -------------------------------------------------------------------------------------------


def split_point(salt: str, debt_id: str) -> int:
    """A debt's place in ``[0, SPLIT_POINTS)``: the first 8 bytes of sha256(``"salt:debt_id"``), big-endian, mod
    10000. Stable across processes, machines and Python versions (``hash()`` is salted per process, so never)."""
    if not isinstance(debt_id, str) or not debt_id:
        raise FieldError("debt_id", f"must be a non-empty string, got {debt_id!r}")
    digest = hashlib.sha256(f"{salt}:{debt_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % SPLIT_POINTS


def days_in_bucket(entered: date, on: date) -> int:
    """Day ``on`` of a stay in a bucket entered on ``entered``: 1 on the day it entered."""
    if on < entered:
        raise FieldError("on", f"{on} is before the day the bucket was entered ({entered})")
    return (on - entered).days + 1


def plan_steps(treatment: Treatment, days_in_bucket: int, local_date: date) -> list[PlannedStep]:
    """The contacts ``treatment`` plans for day ``days_in_bucket`` in the bucket, which is ``local_date`` for the
    recipient: one per attempt of each step due that cadence day, each in its slot of the step's window, ordered
    by slot start (then step, then attempt). No gate logic: the caller passes each one through the gate."""
    day = treatment.cadence_day(days_in_bucket)
    if day is None:
        return []
    planned = [
        PlannedStep(local_date, day, index, attempt, s.channel, s.role, s.purpose, s.template, slot)
        for index, s in enumerate(treatment.steps)
        if s.day == day
        for attempt, slot in enumerate(s.window.slots(s.count), start=1)
    ]
    planned.sort(key=lambda p: (p.window.start, p.step, p.attempt))
    return planned


def _check_days(days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise FieldError("days_in_bucket", f"must be an integer of at least 1 (the day of entry), got {days!r}")


def _clock_text(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def _amount_text(amount: Decimal) -> str:
    return str(int(amount)) if amount == amount.to_integral_value() else str(amount)


def _points_text(points: int) -> str:
    return str(Decimal(points) / 100)


# --- building from a document ----------------------------------------------------------------------------------


def build_strategy(document: Mapping[str, Any], source: str, buckets: BucketTable = DEFAULT_BUCKETS) -> Strategy:
    """A strategy from a parsed TOML document, or a :class:`StrategyError` naming ``source``, the segment or
    treatment, and the field. Bucket names are ``buckets``' names; unknown fields anywhere are errors."""
    try:
        top = _fields(Reader(document, ""), "strategy", "treatments", "segments")
        meta = _fields(top.table("strategy"), "name", "version", "title", "description", "risk_tiers", "amount_bands")
        name = meta.string("name")
        if not NAME.match(name):
            raise FieldError(meta.at("name"), f"{name!r}: use lower case letters, digits, '-' or '_'")
        version = meta.string("version")
        title = meta.string("title")
        description = meta.optional_string("description") or ""
        tiers = _names(meta, "risk_tiers", DEFAULT_TIERS)
        bands = _bands(meta)
        meta.finish()
        raw_treatments = top.table("treatments")
        raw_segments = top.sequence("segments")
        top.finish()
    except FieldError as exc:
        raise StrategyError(source, exc.problem, field=exc.field) from None

    treatments: dict[str, Treatment] = {}
    for key in raw_treatments.data:
        treatments[key] = _treatment(raw_treatments.data[key], key, source)
    if not treatments:
        raise StrategyError(source, "a strategy needs at least one treatment", field="treatments")
    if not raw_segments:
        raise StrategyError(source, "a strategy needs at least one segment", field="segments")

    axes = (buckets.names, tuple(b.label for b in bands), tiers)
    segments = tuple(
        _segment(raw, i, source, salt=name, axes=axes, treatments=treatments) for i, raw in enumerate(raw_segments)
    )
    used = {arm.treatment.name for s in segments for arm in s.arms}
    unused = [t for t in treatments if t not in used]
    if unused:
        raise StrategyError(source, "is not used by any segment (remove it, or use it)", treatment=unused[0])
    cells = _cover(segments, axes, source)
    return Strategy(name, version, title, description, axes[0], bands, tiers, treatments, segments, source, cells)


def _names(r: Reader, key: str, default: Sequence[str]) -> tuple[str, ...]:
    items = r.strings(key, default)
    if not items:
        raise FieldError(r.at(key), "needs at least one name")
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item in seen:
            raise FieldError(join(r.at(key), i), f"{item!r} is listed twice")
        seen.add(item)
    return items


def _bands(meta: Reader) -> tuple[Band, ...]:
    key = "amount_bands"
    raw = meta.sequence(key, [0])
    edges: list[Decimal] = []
    for i, value in enumerate(raw):
        path = join(meta.at(key), i)
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise FieldError(
                path, f'expected an amount (an integer or a string such as "999.50"), got {type_name(value)}'
            )
        try:
            edge = to_money(value, field=path)
        except DomainError as exc:
            raise FieldError(path, exc.problem) from None
        if i == 0 and edge != 0:
            raise FieldError(path, f"the first band must start at 0, got {value!r}")
        if edges and edge <= edges[-1]:
            raise FieldError(path, f"edges must increase; {value!r} follows {_amount_text(edges[-1])}")
        edges.append(edge)
    if not edges:
        raise FieldError(meta.at(key), "needs at least the edge 0")
    highs: list[Decimal | None] = [*edges[1:], None]
    return tuple(Band(low, high) for low, high in zip(edges, highs, strict=True))


def _treatment(raw: object, name: str, source: str) -> Treatment:
    try:
        if not NAME.match(name):
            raise FieldError("", f"{name!r} is not a treatment name: use lower case letters, digits, '-' or '_'")
        r = _fields(Reader(raw, ""), "steps", "repeat_every_days", "window", "agent_queue", "agency", "legal_review")
        repeat = r.integer("repeat_every_days", minimum=1) if r.has("repeat_every_days") else None
        r.raw("repeat_every_days", None)
        default_window = _window(r, "window") if r.has("window") else None
        r.raw("window", None)
        raw_steps = r.sequence("steps")
        steps = tuple(_step(item, join("steps", i), default_window, repeat) for i, item in enumerate(raw_steps))
        queue = agency = legal = None
        if (q := _optional_table(r, "agent_queue", "name", "from_day")) is not None:
            queue = AgentQueue(_label(q, "name"), q.integer("from_day", minimum=1))
            q.finish()
        if (a := _optional_table(r, "agency", "id", "from_day")) is not None:
            agency = AgencyPlacement(_label(a, "id"), a.integer("from_day", minimum=1))
            a.finish()
        if (lr := _optional_table(r, "legal_review", "from_day")) is not None:
            legal = LegalReview(lr.integer("from_day", minimum=1))
            lr.finish()
        r.finish()
    except FieldError as exc:
        raise StrategyError(source, exc.problem, treatment=name, field=exc.field or None) from None
    return Treatment(name, steps, repeat, queue, agency, legal)


def _fields(r: Reader, *keys: str) -> Reader:
    """``r``, once it is known to hold no key but ``keys``. Checked before anything is read, so a misspelt
    required field is reported as the unknown field it is, not as a missing one."""
    unknown = sorted(set(r.data) - set(keys))
    if unknown:
        raise FieldError(r.at(unknown[0]), f"unknown field (this table takes: {', '.join(sorted(keys))})")
    return r


def _optional_table(r: Reader, key: str, *keys: str) -> Reader | None:
    return _fields(r.table(key), *keys) if r.raw(key, None) is not None else None


def _label(r: Reader, key: str) -> str:
    value = r.string(key)
    if not TEMPLATE_ID.match(value):
        raise FieldError(r.at(key), f"{value!r}: use letters, digits, '.', '_' or '-' (no spaces)")
    return value


def _window(r: Reader, key: str) -> Window:
    value = r.raw(key)
    path = r.at(key)
    if not isinstance(value, str) or value.count("-") != 1:
        raise FieldError(path, f'expected local hours as "HH:MM-HH:MM" (00:00-24:00), got {value!r}')
    start_text, end_text = (part.strip() for part in value.split("-"))
    start = parse_clock(start_text, path)
    end = parse_clock(end_text, path, allow_24=True)
    if start >= end:
        raise FieldError(
            path, f"{value!r}: start must be before end; a window cannot wrap past midnight (use two steps)"
        )
    return Window(start, end)


def _step(raw: object, path: str, default_window: Window | None, repeat: int | None) -> Step:
    r = _fields(Reader(raw, path), "day", "channel", "template", "window", "count", "role", "purpose")
    day = r.integer("day", minimum=1)
    if repeat is not None and day > repeat:
        raise FieldError(r.at("day"), f"day {day} is past the end of the cadence (repeat_every_days = {repeat})")
    channel = parse_enum(Channel, r.raw("channel"), r.at("channel"))
    template = _label(r, "template")
    if r.has("window"):
        window = _window(r, "window")
    elif default_window is not None:
        window = default_window
    else:
        raise FieldError(r.at("window"), "is required (here or as the treatment's window)")
    r.raw("window", None)
    count = r.integer("count", minimum=1, default=1)
    if (window.end - window.start) // count < MIN_SLOT_SECONDS:
        raise FieldError(r.at("count"), f"{count} attempts leave less than a minute each in {window.label}")
    role = parse_enum(Role, r.raw("role", Role.DEBTOR.value), r.at("role"))
    purpose = parse_enum(Purpose, r.raw("purpose", Purpose.COLLECT.value), r.at("purpose"))
    r.finish()
    return Step(day, channel, template, window, count, role, purpose)


def _selector(r: Reader, key: str, choices: tuple[str, ...], what: str) -> tuple[str, ...]:
    if not r.has(key):
        r.raw(key, None)
        return choices
    items = _names(r, key, ())
    for i, item in enumerate(items):
        if item not in choices:
            raise FieldError(join(r.at(key), i), f"unknown {what} {item!r}; expected one of {', '.join(choices)}")
    return items


def _segment(
    raw: object,
    index: int,
    source: str,
    *,
    salt: str,
    axes: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]],
    treatments: Mapping[str, Treatment],
) -> Segment:
    try:
        r = _fields(Reader(raw, ""), "buckets", "bands", "tiers", "treatment", "arms")
        selectors = {
            "buckets": _selector(r, "buckets", axes[0], "bucket"),
            "bands": _selector(r, "bands", axes[1], "band"),
            "tiers": _selector(r, "tiers", axes[2], "risk tier"),
        }
    except FieldError as exc:
        raise StrategyError(source, exc.problem, field=exc.within(f"segments[{index}]").field) from None
    # The label names what the file wrote, in its order; "*" for a selector left out (all).
    label = "/".join(",".join(chosen) if r.has(key) else "*" for key, chosen in selectors.items())
    try:
        if r.has("treatment") == r.has("arms"):
            raise FieldError("", "give either a treatment or a list of arms")
        if r.has("treatment"):
            arms: tuple[Arm, ...] = (Arm(CHAMPION, SPLIT_POINTS, _lookup(r, "treatment", treatments)),)
            r.raw("arms", None)
        else:
            arms = _arms(r, treatments)
            r.raw("treatment", None)
        r.finish()
    except FieldError as exc:
        raise StrategyError(source, exc.problem, segment=label, field=exc.field or None) from None
    return Segment(label, selectors["buckets"], selectors["bands"], selectors["tiers"], arms, salt)


def _lookup(r: Reader, key: str, treatments: Mapping[str, Treatment]) -> Treatment:
    name = r.string(key)
    if name not in treatments:
        raise FieldError(r.at(key), f"unknown treatment {name!r}; the treatments are {', '.join(treatments)}")
    return treatments[name]


def _arms(r: Reader, treatments: Mapping[str, Treatment]) -> tuple[Arm, ...]:
    raw = r.sequence("arms")
    if not raw:
        raise FieldError("arms", "needs at least one arm")
    arms: list[Arm] = []
    for i, item in enumerate(raw):
        a = _fields(Reader(item, join("arms", i)), "name", "percent", "treatment")
        name = a.string("name")
        if not NAME.match(name):
            raise FieldError(a.at("name"), f"{name!r}: use lower case letters, digits, '-' or '_'")
        if any(arm.name == name for arm in arms):
            raise FieldError(a.at("name"), f"{name!r} is used twice in this segment")
        points = _points(a.raw("percent"), a.at("percent"))
        arms.append(Arm(name, points, _lookup(a, "treatment", treatments)))
        a.finish()
    total = sum(arm.points for arm in arms)
    if total != SPLIT_POINTS:
        last = join(join("arms", len(arms) - 1), "percent")
        raise FieldError(last, f"arms add up to {_points_text(total)}, not 100")
    return tuple(arms)


def _points(value: object, path: str) -> int:
    """A percentage (an integer, or a number or string with at most two decimals) in basis points."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldError(path, f"expected a percentage such as 20 or 12.5, got {type_name(value)}")
    try:
        # repr() of a float is the shortest text that reads back as it, so 12.5 stays 12.5 and 0.1 stays 0.1.
        percent = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise FieldError(path, f"expected a percentage such as 20 or 12.5, got {value!r}") from None
    points = percent * 100
    if not points.is_finite() or points != points.to_integral_value():
        raise FieldError(path, f"{value!r}: a percentage has at most two decimal places")
    if not 0 < points <= SPLIT_POINTS:
        raise FieldError(path, f"must be more than 0 and at most 100, got {value!r}")
    return int(points)


def _cover(
    segments: Sequence[Segment], axes: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], source: str
) -> dict[tuple[str, str, str], Segment]:
    cells: dict[tuple[str, str, str], Segment] = {}
    for segment in segments:
        for cell in ((b, n, t) for b in segment.buckets for n in segment.bands for t in segment.tiers):
            if cell in cells:
                problem = f"covers {'/'.join(cell)}, which segment {cells[cell].label} already covers"
                raise StrategyError(source, problem, segment=segment.label)
            cells[cell] = segment
    missing = ["/".join((b, n, t)) for b in axes[0] for n in axes[1] for t in axes[2] if (b, n, t) not in cells]
    if missing:
        more = f" (and {len(missing) - 1} more: {', '.join(missing[1:4])}{', ...' if len(missing) > 4 else ''})"
        problem = f"no segment covers {missing[0]}" + (more if len(missing) > 1 else "")
        raise StrategyError(source, problem, field="segments")
    return cells
