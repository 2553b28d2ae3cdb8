"""The kinds of check a rule can be made of.

A rule pack names each check's ``kind`` and parameters; this module turns them into objects with two methods:

* ``verdict(ctx, t)``: allow, deny or indeterminate for the attempt moved to instant ``t`` (epoch seconds);
* ``earliest(ctx, t)``: the earliest instant >= ``t`` at which this check alone would allow, or None when
  waiting cannot help. The engine combines these into ``next_allowed_at``.

Checks read only the request; nothing here reads a clock, a file or the network.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from operator import attrgetter
from typing import Any, ClassVar, Protocol

from fairdun.domain.contact import Attempt, Channel, ContactEvent, Direction, Outcome, Purpose, Role, event_code
from fairdun.policy.decision import Effect
from fairdun.policy.errors import FieldError
from fairdun.policy.localtime import DAY_SECONDS, day_start, local_parts, wall_to_epoch
from fairdun.policy.reader import Reader, join, parse_clock, parse_enum
from fairdun.policy.request import BOOLEAN_FACTS, ContactRequest
from fairdun.policy.screen import CATEGORIES, Screener

# ---------------------------------------------------------------------------------------------------------------
# Verdicts and the per-request context


@dataclass(frozen=True, slots=True)
class Verdict:
    effect: Effect
    detail: str | None = None
    missing: tuple[str, ...] = ()


ALLOW = Verdict(Effect.ALLOW)


def deny(detail: str | None = None) -> Verdict:
    return Verdict(Effect.DENY, detail)


def unknown(*missing: str) -> Verdict:
    return Verdict(Effect.INDETERMINATE, "unknown: " + ", ".join(missing), missing)


class Context:
    """What every check of one request shares: the attempt's instant and zone, computed once."""

    __slots__ = ("_parts", "attempt", "facts", "history", "history_ts", "request", "ts", "tz")

    def __init__(self, request: ContactRequest) -> None:
        self.request = request
        self.attempt = request.attempt
        self.facts = request.facts
        self.history = request.history
        self.history_ts = request.history_ts
        self.tz = request.attempt.recipient.tz
        self.ts = request.attempt.at.timestamp()
        self._parts: tuple[float, tuple[int, float, int]] | None = None

    def parts(self, t: float) -> tuple[int, float, int]:
        """(local date ordinal, local seconds of day, ISO weekday) of instant ``t`` in the recipient's zone."""
        cached = self._parts
        if cached is not None and cached[0] == t:
            return cached[1]
        parts = local_parts(self.tz, t)
        self._parts = (t, parts)
        return parts


class Check(Protocol):
    kind: ClassVar[str]
    time_dependent: ClassVar[bool]

    def verdict(self, ctx: Context, t: float) -> Verdict: ...

    def earliest(self, ctx: Context, t: float) -> float | None: ...

    def describe(self) -> str: ...


def _now_or_never(verdict: Verdict, t: float) -> float | None:
    """``earliest`` for checks whose answer does not change with time: waiting never helps."""
    return t if verdict.effect is Effect.ALLOW else None


def _hhmm(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}" + (f":{s % 60:02d}" if s % 60 else "")


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_SETS = {"all": range(1, 8), "mon-fri": range(1, 6), "sat-sun": range(6, 8)}


def _parse_days(value: object, path: str) -> frozenset[int]:
    if isinstance(value, str) and value in _DAY_SETS:
        return frozenset(_DAY_SETS[value])
    if isinstance(value, list) and value:
        days = set()
        for i, item in enumerate(value):
            if not isinstance(item, str) or item not in _WEEKDAYS:
                raise FieldError(join(path, i), f"unknown day {item!r}; expected one of {', '.join(_WEEKDAYS)}")
            days.add(_WEEKDAYS.index(item) + 1)
        return frozenset(days)
    raise FieldError(path, f"expected 'all', 'mon-fri', 'sat-sun' or a list of day names, got {value!r}")


# ---------------------------------------------------------------------------------------------------------------
# time_window


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Contact only inside the pack's daily windows (recipient's local time), or inside a window the
    recipient agreed to when ``agreed_windows`` is on. Windows are half-open: [08:00, 22:00) allows 08:00:00
    and denies 22:00:00."""

    kind: ClassVar[str] = "time_window"
    time_dependent: ClassVar[bool] = True

    by_weekday: Mapping[int, tuple[tuple[int, int], ...]]
    agreed_windows: bool
    spec: tuple[tuple[str, int, int], ...]

    @classmethod
    def build(cls, r: Reader) -> TimeWindow:
        by_weekday: dict[int, list[tuple[int, int]]] = {d: [] for d in range(1, 8)}
        spec = []
        items = r.sequence("windows")
        if not items:
            raise FieldError(r.at("windows"), "needs at least one window")
        for i, item in enumerate(items):
            w = Reader(item, join(r.at("windows"), i))
            days_raw = w.raw("days", "all")
            days = _parse_days(days_raw, w.at("days"))
            start = parse_clock(w.raw("start"), w.at("start"))
            end = parse_clock(w.raw("end"), w.at("end"), allow_24=True)
            if end <= start:
                raise FieldError(w.at("end"), f"must be after start ({_hhmm(start)}); windows do not wrap")
            w.finish()
            for d in days:
                by_weekday[d].append((start, end))
            spec.append((str(days_raw), start, end))
        agreed = r.boolean("agreed_windows", False)
        return cls({d: tuple(sorted(v)) for d, v in by_weekday.items()}, agreed, tuple(spec))

    def _agreed(self, ctx: Context) -> list[tuple[int, int]] | None:
        """The recipient's agreed windows as (start, end) seconds, wrapping ones split in two."""
        windows = ctx.facts.agreed_windows
        if windows is None:
            return None
        party = ctx.attempt.recipient.party
        out: list[tuple[int, int]] = []
        for w in windows:
            if w.party != party:
                continue
            start = w.start.hour * 3600 + w.start.minute * 60 + w.start.second
            end = w.end.hour * 3600 + w.end.minute * 60 + w.end.second
            if end > start:
                out.append((start, end))
            else:
                out.extend([(start, DAY_SECONDS), (0, end)])
        return out

    def verdict(self, ctx: Context, t: float) -> Verdict:
        _, seconds, weekday = ctx.parts(t)
        for start, end in self.by_weekday[weekday]:
            if start <= seconds < end:
                return ALLOW
        where = f"local time {_hhmm(seconds)} {_WEEKDAYS[weekday - 1]} in {ctx.tz}"
        if not self.agreed_windows:
            return deny(where)
        agreed = self._agreed(ctx)
        if agreed is None:
            return unknown("facts.agreed_windows")
        if any(start <= seconds < end for start, end in agreed):
            return ALLOW
        return deny(where)

    def earliest(self, ctx: Context, t: float) -> float | None:
        ordinal, seconds, weekday = ctx.parts(t)
        agreed = (self._agreed(ctx) or []) if self.agreed_windows else []
        for offset in range(8):
            day_weekday = (weekday - 1 + offset) % 7 + 1
            intervals = [*self.by_weekday[day_weekday], *agreed]
            floor = seconds if offset == 0 else 0.0
            best: float | None = None
            for start, end in intervals:
                if end <= floor:
                    continue
                candidate = max(float(start), floor)
                if best is None or candidate < best:
                    best = candidate
            if best is not None:
                return t if offset == 0 and best == seconds else wall_to_epoch(ctx.tz, ordinal + offset, best)
        return None

    def describe(self) -> str:
        parts = [f"{days} [{_hhmm(s)}, {_hhmm(e)})" for days, s, e in self.spec]
        return "local " + "; ".join(parts) + (" or an agreed window" if self.agreed_windows else "")


# ---------------------------------------------------------------------------------------------------------------
# cap

_SAME_KEYS = ("party", "address", "debt")
_ATTEMPT_PATHS = {"party": "recipient.party", "address": "recipient.address", "debt": "debt"}


@dataclass(frozen=True, slots=True)
class Cap:
    """At most ``max`` matching contacts in history on the ``days`` local dates ending on the attempt's date
    (the attempt itself is not in history, so history holding ``max`` already denies). ``days = 0`` means all
    of history. ``same`` picks history about the same party, address and/or debt as the attempt."""

    kind: ClassVar[str] = "cap"
    time_dependent: ClassVar[bool] = True

    maximum: int
    days: int
    codes: frozenset[int]
    same: tuple[str, ...]
    key_of: Callable[[ContactEvent], Any]
    target_of: Callable[[Attempt], Any]
    spec: str

    @classmethod
    def build(cls, r: Reader) -> Cap:
        maximum = r.integer("max", minimum=1)
        days = r.integer("days", minimum=0)
        count = r.table("count")
        channels = count.enums("channels", Channel, [c.value for c in Channel])
        directions = count.enums("directions", Direction, [d.value for d in Direction])
        outcomes = count.enums("outcomes", Outcome, [o.value for o in Outcome])
        same = count.strings("same")
        for i, key in enumerate(same):
            if key not in _SAME_KEYS:
                raise FieldError(join(count.at("same"), i), f"unknown key {key!r}; expected {', '.join(_SAME_KEYS)}")
        if not same:
            raise FieldError(count.at("same"), "needs at least one of party, address, debt")
        count.finish()
        codes = frozenset(event_code(c, d, o) for c in channels for d in directions for o in outcomes)
        ordered = tuple(k for k in _SAME_KEYS if k in same)
        window = "all of history" if days == 0 else ("the local day" if days == 1 else f"{days} local days")
        spec = (
            f"< {maximum} of {{{', '.join(sorted(c.value for c in channels))}}} "
            f"{'/'.join(sorted(d.value for d in directions))} "
            f"{{{', '.join(sorted(o.value for o in outcomes))}}} per {'+'.join(ordered)} in {window}"
        )
        target_of = attrgetter(*(_ATTEMPT_PATHS[k] for k in ordered))
        return cls(maximum, days, codes, ordered, attrgetter(*ordered), target_of, spec)

    def _count(self, ctx: Context, lo: float, hi: float) -> int:
        history = ctx.history
        assert history is not None
        ts = ctx.history_ts
        i = bisect_left(ts, lo) if lo > float("-inf") else 0
        j = bisect_left(ts, hi, i)
        codes, key_of, target = self.codes, self.key_of, self.target_of(ctx.attempt)
        n = 0
        for k in range(i, j):
            e = history[k]
            if e.code in codes and key_of(e) == target:
                n += 1
        return n

    def _bounds(self, ctx: Context, ordinal: int) -> tuple[float, float]:
        if self.days == 0:
            return float("-inf"), float("inf")
        return day_start(ctx.tz, ordinal - self.days + 1), day_start(ctx.tz, ordinal + 1)

    def verdict(self, ctx: Context, t: float) -> Verdict:
        if ctx.history is None:
            return unknown("history")
        ordinal = ctx.parts(t)[0] if self.days else 0
        lo, hi = self._bounds(ctx, ordinal)
        n = self._count(ctx, lo, hi)
        if n < self.maximum:
            return ALLOW
        if self.days == 0:
            return deny(f"{n} already, limit {self.maximum}")
        first = date.fromordinal(ordinal - self.days + 1)
        last = date.fromordinal(ordinal)
        span = last.isoformat() if self.days == 1 else f"{first.isoformat()}..{last.isoformat()}"
        return deny(f"{n} on {span}, limit {self.maximum}")

    def earliest(self, ctx: Context, t: float) -> float | None:
        if ctx.history is None:
            return None
        if self.verdict(ctx, t).effect is Effect.ALLOW:
            return t
        if self.days == 0:
            return None
        ordinal = ctx.parts(t)[0]
        # Events only leave the window as the date advances; future events may enter it. Past the last
        # event's date plus the window, nothing is left to count.
        last_ordinal = ctx.parts(ctx.history_ts[-1])[0] if ctx.history_ts else ordinal
        for day in range(ordinal + 1, max(ordinal, last_ordinal) + self.days + 2):
            lo, hi = self._bounds(ctx, day)
            if self._count(ctx, lo, hi) < self.maximum:
                return day_start(ctx.tz, day)
        return None  # pragma: no cover - the loop always passes an empty window

    def describe(self) -> str:
        return self.spec


# ---------------------------------------------------------------------------------------------------------------
# recipients


@dataclass(frozen=True, slots=True)
class RoleTerms:
    purposes: frozenset[str] | None
    requires: tuple[str, ...]
    unless_refused: bool


@dataclass(frozen=True, slots=True)
class Recipients:
    """Who may be contacted at all, and on what terms. A role the pack does not list is never allowed."""

    kind: ClassVar[str] = "recipients"
    time_dependent: ClassVar[bool] = False

    allow: Mapping[Role, RoleTerms]

    @classmethod
    def build(cls, r: Reader) -> Recipients:
        table = r.table("allow")
        allow: dict[Role, RoleTerms] = {}
        for key in list(table.data):
            role = parse_enum(Role, key, table.at(key))
            t = table.table(key)
            purposes = t.strings("purposes", []) or None
            for i, p in enumerate(purposes or ()):
                parse_enum(Purpose, p, join(t.at("purposes"), i))
            requires = t.strings("requires", [])
            for i, fact in enumerate(requires):
                if fact not in BOOLEAN_FACTS:
                    raise FieldError(
                        join(t.at("requires"), i),
                        f"unknown fact {fact!r}; expected {', '.join(sorted(BOOLEAN_FACTS))}",
                    )
            unless_refused = t.boolean("unless_refused", False)
            t.finish()
            allow[role] = RoleTerms(frozenset(purposes) if purposes else None, requires, unless_refused)
        table.finish()
        if not allow:
            raise FieldError(r.at("allow"), "lists no role; nobody could ever be contacted")
        return cls(allow)

    def verdict(self, ctx: Context, t: float) -> Verdict:
        a = ctx.attempt
        role = a.recipient.role
        terms = self.allow.get(role)
        if terms is None:
            return deny(f"role {role.value} may not be contacted")
        if terms.purposes is not None and a.purpose.value not in terms.purposes:
            allowed = ", ".join(sorted(terms.purposes))
            return deny(f"role {role.value} only for purpose {allowed}, not {a.purpose.value}")
        missing = []
        for fact in terms.requires:
            value = getattr(ctx.facts, fact)
            if value is None:
                missing.append(f"facts.{fact}")
            elif value is not True:
                return deny(f"role {role.value} needs {fact}")
        if terms.unless_refused:
            refused = ctx.facts.refused_parties
            if refused is None:
                missing.append("facts.refused_parties")
            elif a.recipient.party in refused:
                return deny(f"party {a.recipient.party} refused further contact")
        return unknown(*missing) if missing else ALLOW

    def earliest(self, ctx: Context, t: float) -> float | None:
        return _now_or_never(self.verdict(ctx, t), t)

    def describe(self) -> str:
        parts = []
        for role, terms in self.allow.items():
            extra = []
            if terms.purposes:
                extra.append("purpose " + "/".join(sorted(terms.purposes)))
            extra.extend(f"if {f}" for f in terms.requires)
            if terms.unless_refused:
                extra.append("unless refused")
            parts.append(role.value + (f" ({', '.join(extra)})" if extra else ""))
        return "only " + "; ".join(parts)


# ---------------------------------------------------------------------------------------------------------------
# consent


@dataclass(frozen=True, slots=True)
class ConsentNeeded:
    """The recipient must hold a consent for ``purpose`` that is granted and not withdrawn at the instant."""

    kind: ClassVar[str] = "consent"
    time_dependent: ClassVar[bool] = True

    purpose: str

    @classmethod
    def build(cls, r: Reader) -> ConsentNeeded:
        return cls(r.string("purpose"))

    def verdict(self, ctx: Context, t: float) -> Verdict:
        consents = ctx.facts.consents
        if consents is None:
            return unknown("facts.consents")
        party = ctx.attempt.recipient.party
        mine = [c for c in consents if c.party == party and c.purpose == self.purpose]
        if any(c.valid_at(t) for c in mine):
            return ALLOW
        if any(c.withdrawn_at is not None and c.withdrawn_at.timestamp() <= t for c in mine):
            return deny(f"{self.purpose} consent of {party} withdrawn")
        return deny(f"no {self.purpose} consent from {party}")

    def earliest(self, ctx: Context, t: float) -> float | None:
        consents = ctx.facts.consents
        if consents is None:
            return None
        party = ctx.attempt.recipient.party
        best: float | None = None
        for c in consents:
            if c.party != party or c.purpose != self.purpose:
                continue
            start = max(t, c.granted_at.timestamp())
            if c.withdrawn_at is not None and start >= c.withdrawn_at.timestamp():
                continue
            best = start if best is None else min(best, start)
        return best

    def describe(self) -> str:
        return f"a current {self.purpose} consent"


# ---------------------------------------------------------------------------------------------------------------
# fact


@dataclass(frozen=True, slots=True)
class FactIsFalse:
    """Deny while a boolean fact is true (a cease request, attorney representation)."""

    kind: ClassVar[str] = "fact"
    time_dependent: ClassVar[bool] = False

    fact: str

    @classmethod
    def build(cls, r: Reader) -> FactIsFalse:
        fact = r.string("deny_if")
        if fact not in BOOLEAN_FACTS:
            raise FieldError(r.at("deny_if"), f"unknown fact {fact!r}; expected {', '.join(sorted(BOOLEAN_FACTS))}")
        return cls(fact)

    def verdict(self, ctx: Context, t: float) -> Verdict:
        value = getattr(ctx.facts, self.fact)
        if value is None:
            return unknown(f"facts.{self.fact}")
        return deny(self.fact) if value else ALLOW

    def earliest(self, ctx: Context, t: float) -> float | None:
        return _now_or_never(self.verdict(ctx, t), t)

    def describe(self) -> str:
        return f"not while {self.fact}"


# ---------------------------------------------------------------------------------------------------------------
# opt_out


@dataclass(frozen=True, slots=True)
class OptOutHonoured:
    """A channel (optionally one address) the recipient opted out of is never used again."""

    kind: ClassVar[str] = "opt_out"
    time_dependent: ClassVar[bool] = False

    @classmethod
    def build(cls, r: Reader) -> OptOutHonoured:
        return cls()

    def verdict(self, ctx: Context, t: float) -> Verdict:
        opt_outs = ctx.facts.opt_outs
        if opt_outs is None:
            return unknown("facts.opt_outs")
        a = ctx.attempt
        for o in opt_outs:
            if (
                o.party == a.recipient.party
                and o.channel is a.channel
                and (o.address is None or o.address == a.recipient.address)
            ):
                return deny(f"{a.recipient.party} opted out of {a.channel.value}")
        return ALLOW

    def earliest(self, ctx: Context, t: float) -> float | None:
        return _now_or_never(self.verdict(ctx, t), t)

    def describe(self) -> str:
        return "no channel the person opted out of"


# ---------------------------------------------------------------------------------------------------------------
# content


@dataclass(frozen=True, slots=True)
class ContentScreen:
    """Deny content the screener finds in one of ``categories``. With ``when``, only while that fact is true
    (``legal_action`` on a time-barred debt). No content (a call without a script) has nothing to screen."""

    kind: ClassVar[str] = "content"
    time_dependent: ClassVar[bool] = False

    categories: frozenset[str]
    when: str | None
    screener: Screener

    @classmethod
    def build(cls, r: Reader, screener: Screener) -> ContentScreen:
        cats = r.strings("categories")
        for i, c in enumerate(cats):
            if c not in CATEGORIES:
                raise FieldError(
                    join(r.at("categories"), i), f"unknown category {c!r}; expected {', '.join(CATEGORIES)}"
                )
        when = r.optional_string("when")
        if when is not None and when not in BOOLEAN_FACTS:
            raise FieldError(r.at("when"), f"unknown fact {when!r}; expected {', '.join(sorted(BOOLEAN_FACTS))}")
        return cls(frozenset(cats), when, screener)

    def verdict(self, ctx: Context, t: float) -> Verdict:
        content = ctx.attempt.content
        role = ctx.attempt.recipient.role
        if not content or self.screener.clean(content, role, self.categories):  # the common case, told cheaply
            return ALLOW
        findings = [f for f in self.screener.screen(content, role) if f.category in self.categories]
        if not findings:
            return ALLOW
        if self.when is not None:
            value = getattr(ctx.facts, self.when)
            if value is None:
                return unknown(f"facts.{self.when}")
            if not value:
                return ALLOW
        shown = "; ".join(f"{f.category} {f.text!r} at {f.start}-{f.end}" for f in findings[:3])
        return deny(shown)

    def earliest(self, ctx: Context, t: float) -> float | None:
        return _now_or_never(self.verdict(ctx, t), t)

    def describe(self) -> str:
        cats = ", ".join(sorted(self.categories))
        return f"no {cats} in content" + (f" while {self.when}" if self.when else "")


@dataclass(frozen=True, slots=True)
class ContentRequires:
    """The content must contain one of ``patterns`` (case-insensitive regular expressions), e.g. an opt-out
    instruction. Content is needed to check it: without it the answer is indeterminate."""

    kind: ClassVar[str] = "content_requires"
    time_dependent: ClassVar[bool] = False

    regex: re.Pattern[str]
    what: str

    @classmethod
    def build(cls, r: Reader) -> ContentRequires:
        patterns = r.strings("patterns")
        if not patterns:
            raise FieldError(r.at("patterns"), "needs at least one pattern")
        for i, p in enumerate(patterns):
            try:
                re.compile(p)
            except re.error as exc:
                raise FieldError(join(r.at("patterns"), i), f"not a valid regular expression: {exc}") from None
        what = r.string("what")
        return cls(re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE), what)

    def verdict(self, ctx: Context, t: float) -> Verdict:
        content = ctx.attempt.content
        if content is None:
            return unknown("attempt.content")
        return ALLOW if self.regex.search(content) else deny(f"missing {self.what}")

    def earliest(self, ctx: Context, t: float) -> float | None:
        return _now_or_never(self.verdict(ctx, t), t)

    def describe(self) -> str:
        return f"content has {self.what}"


CHECK_KINDS: tuple[str, ...] = (
    TimeWindow.kind,
    Cap.kind,
    Recipients.kind,
    ConsentNeeded.kind,
    FactIsFalse.kind,
    OptOutHonoured.kind,
    ContentScreen.kind,
    ContentRequires.kind,
)


def build_check(data: object, path: str, screener: Screener) -> Check:
    """A check from its pack table; ``path`` names it in errors (``checks[0]``)."""
    r = Reader(data, path)
    kind = r.string("kind")
    check: Check
    if kind == TimeWindow.kind:
        check = TimeWindow.build(r)
    elif kind == Cap.kind:
        check = Cap.build(r)
    elif kind == Recipients.kind:
        check = Recipients.build(r)
    elif kind == ConsentNeeded.kind:
        check = ConsentNeeded.build(r)
    elif kind == FactIsFalse.kind:
        check = FactIsFalse.build(r)
    elif kind == OptOutHonoured.kind:
        check = OptOutHonoured.build(r)
    elif kind == ContentScreen.kind:
        check = ContentScreen.build(r, screener)
    elif kind == ContentRequires.kind:
        check = ContentRequires.build(r)
    else:
        raise FieldError(r.at("kind"), f"unknown check kind {kind!r}; expected one of {', '.join(CHECK_KINDS)}")
    r.finish()
    return check
