"""A rule pack compiled to one SQL query: the batch audit derived from the same Pack objects the gate runs.

Every check kind of ``fairdun.policy.checks`` has a SQL form here that gives, per log row, the same answer as
its ``verdict``: 0 allow, 1 deny, 2 indeterminate. A rule's answer is its first check that does not allow (as
in the gate); the query returns one row per attempt that broke a rule, with its answer ``e_k`` for every rule
``k`` (``output.finish`` turns these into one row per attempt and rule, in order, the same for both engines).

The SQL is the common subset of DuckDB and Spark SQL (window functions with ROWS and RANGE frames, CASE,
COALESCE, equi-joins with extra conditions, ``hash``), so both engines run the same rules text; ``dialect``
spells the one construct they write differently (a list literal), and the engines differ only around the rules
(DuckDB leaves the labels out and checks zones in the query). Inside it the enum columns are one-byte codes
(``CODED``); the rows come back in no particular order (``output.finish`` puts them in log order). Local time is
the instant plus its zone's UTC offset, written into the query as constants: per zone of the log, its offsets
over the log's span (:func:`zone_segments`, computed in Python from ``zoneinfo``, the database the gate uses, so
local times agree to the microsecond). The tables it reads:

* ``audit_log``: the canonical log (``rn``, ``id``, ``ts`` in epoch microseconds, the text columns);
* ``cflags``: per distinct (content, role), one 0/1 column per content check, computed by the gate's own
  screener and patterns (``content_flags``);
* ``f_<table>``: the fact tables that were supplied (columns ``c_<name>``; instants in epoch microseconds,
  clocks in seconds).

Local time needs one zone per cap key: a cap of ``N`` local days counts the rows on the attempt's local dates,
and a key's rows are placed on local dates in their own zone. A log where one party (or address, or debt, as the
caps use them) appears in two zones is refused: the query counts such key sets in ``zones_mixed`` (a column of
every row it returns) and the engine then names the row with ``loading.check_zones``. Zones are compared by class
(``zi``, :func:`zone_classes`): zones whose offsets agree over the whole log are one zone to the caps.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fairdun.domain.contact import Channel, Direction, Outcome, Purpose, Role, event_code
from fairdun.policy.checks import (
    Cap,
    Check,
    ConsentNeeded,
    ContentRequires,
    ContentScreen,
    FactIsFalse,
    OptOutHonoured,
    Recipients,
    TimeWindow,
)
from fairdun.policy.pack import Pack, Rule

DIALECTS = ("duckdb", "spark")
DAY_US = 86_400_000_000
SECOND_US = 1_000_000
WORD_BITS = 62  # sets of rows per BIGINT of ``marks`` (its bits; clear of the sign)

# A boolean fact, as the SQL column that holds it per row (1 true, 0 false, NULL unknown), and the fact table
# that makes it known.
BOOLEAN_FACT_TABLES: Mapping[str, str] = {
    "debtor_unreachable": "unreachable",
    "guarantor_liable": "guarantors",
    "represented_by_attorney": "attorneys",
    "cease_requested": "cease_requests",
    "time_barred": "time_barred",
}


def _lit(value: str) -> str:
    # Only enum values and identifiers reach SQL as literals; refuse anything that would need escaping rather
    # than escape it two dialects' ways.
    if not value.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"not a safe SQL literal: {value!r}")
    return f"'{value}'"


def _in(
    column: str, values: Iterable[str], universe: Sequence[str], literal: Callable[[str], str] | None = None
) -> str | None:
    """``column`` is one of ``values`` (None when that is every value): equality tests joined by OR, or the
    complement's when it is shorter (engines evaluate these as cheap comparisons; a long IN list can become a
    join)."""
    lit = literal or _lit
    chosen = sorted(set(values))
    if set(chosen) >= set(universe):
        return None
    others = sorted(set(universe) - set(chosen))
    if len(others) < len(chosen):
        return "(" + " AND ".join(f"{column} <> {lit(v)}" for v in others) + ")"
    return "(" + " OR ".join(f"{column} = {lit(v)}" for v in chosen) + ")"


# The log's enum columns travel through the query as small integers (their position in the enum, from 1): a
# 16-byte string per row and column becomes one byte, which is most of the memory of the materialised log, and
# tests on them compare integers. ``output.finish`` turns the codes back into the values.
CODED: Mapping[str, tuple[str, ...]] = {
    "role": tuple(r.value for r in Role),
    "channel": tuple(c.value for c in Channel),
    "purpose": tuple(p.value for p in Purpose),
    "direction": tuple(d.value for d in Direction),
    "outcome": tuple(o.value for o in Outcome),
}


def code(column: str, value: str) -> int:
    """The code of an enum value of ``column`` in the query."""
    return CODED[column].index(value) + 1


def _code(column: str) -> Callable[[str], str]:
    """The SQL literal of an enum value of ``column``, as it is coded in the query."""
    return lambda value: str(code(column, value))


def _coding(expr: str, column: str, dialect: str) -> str:
    """SQL that codes the text ``expr`` (a checked value of ``column``'s enum): its position in the list of
    values. One function call, not a CASE of comparisons nor arithmetic after it: DuckDB then evaluates it once
    per Parquet dictionary entry rather than once per row (a third of the CASE's cost, measured)."""
    values = ", ".join(_lit(v) for v in CODED[column])
    listed = f"array({values})" if dialect == "spark" else f"[{values}]"
    return f"CAST(array_position({listed}, {expr}) AS TINYINT)"


OUTBOUND = f"l.direction = {_code('direction')(Direction.OUTBOUND.value)}"

ZONE_NAME = re.compile(r"[A-Za-z0-9_+/-]+")  # every IANA zone name; nothing that would need quoting in SQL


def _zones(
    segments: Sequence[tuple[str, int, int, int]], classes: Mapping[str, int], dialect: str
) -> tuple[str, str, str]:
    """SQL for a log row's zone, from the zones' offsets (:func:`zone_segments`): (its position in the list of
    zones, read off the scan as the enum codes are; its UTC offset in microseconds, given ``a.ts`` and that
    position ``a.zx``; its class, :func:`zone_classes`). Constants in the query: a CASE on a small integer (and,
    in a zone that changes offset during the log, on the instant) costs less than joining every row to a table
    of offsets (measured: docs/benchmarks.md)."""
    spans: dict[str, list[tuple[int, int, int]]] = {}
    for zone, lo, hi, off in segments:
        if not ZONE_NAME.fullmatch(zone):
            raise ValueError(f"not a zone name: {zone!r}")
        spans.setdefault(zone, []).append((lo, hi, off))
    if not spans:  # an empty log: no row to place
        return "CAST(NULL AS INT)", "CAST(NULL AS BIGINT)", "CAST(NULL AS SMALLINT)"
    zones = sorted(spans)
    listed = ", ".join(f"'{z}'" for z in zones)
    position = f"array_position({f'array({listed})' if dialect == 'spark' else f'[{listed}]'}, tz)"
    offsets, kinds = [], []
    for i, zone in enumerate(zones, start=1):
        parts = sorted(spans[zone])
        # Offsets in order of the spans; the last holds from its start on.
        offset = " ".join(f"WHEN a.ts < {hi} THEN {off}" for _, hi, off in parts[:-1])
        offset = f"CASE {offset} ELSE {parts[-1][2]} END" if offset else str(parts[-1][2])
        offsets.append(f"WHEN {i} THEN {offset}")
        kinds.append(f"WHEN {i} THEN {classes[zone]}")
    return (
        f"CAST({position} AS SMALLINT)",
        f"CASE a.zx {' '.join(offsets)} END",
        f"CAST(CASE a.zx {' '.join(kinds)} END AS SMALLINT)",
    )


def _and(parts: Iterable[str | None]) -> str:
    kept = [p for p in parts if p]
    return " AND ".join(f"({p})" for p in kept) if kept else "TRUE"


@dataclass(frozen=True, slots=True)
class ContentCheck:
    """A content check and the column of ``cflags`` that holds its finding per (content, role)."""

    column: str
    check: ContentScreen | ContentRequires


def content_findings(checks: Sequence[ContentCheck], content: str, role: str) -> list[bool]:
    """Whether each check's finding holds for one (content, role).

    For a ``content`` check the finding is "the screener found one of the categories"; for ``content_requires``
    it is "a pattern matched". The gate's own screener and compiled patterns do the work
    (:meth:`~fairdun.policy.screen.Screener.finds`: the screen's answer without its evidence spans)."""
    found: list[bool] = []
    recipient: Role | None = None
    for c in checks:
        check = c.check
        if isinstance(check, ContentScreen):
            recipient = recipient or Role(role)
            found.append(check.screener.finds(content, recipient, check.categories))  # ``screen``'s answer, cheaper
        else:
            found.append(check.regex.search(content) is not None)
    return found


def content_flags(checks: Sequence[ContentCheck], pairs: Iterable[tuple[str, str]]) -> list[tuple[object, ...]]:
    """Rows of ``cflags``: for each distinct (content, role), 1 where the check's finding holds
    (:func:`content_findings`; ``screening.flag_table`` makes the same as Arrow columns, for many pairs)."""
    return [
        (content, role, *(1 if f else 0 for f in content_findings(checks, content, role))) for content, role in pairs
    ]


@dataclass(frozen=True, slots=True)
class CompiledAudit:
    """The query and what it needs around it."""

    sql: str
    pack: Pack
    content_checks: tuple[ContentCheck, ...]
    fact_tables: frozenset[str]
    """Fact tables the query reads (only those that were supplied)."""
    zone_keys: tuple[tuple[str, ...], ...]
    """Key column sets whose rows must share one zone (the caps' ``same`` keys)."""
    zone_classes: Mapping[str, int] | None = None
    """The log's zones by class (``zone_classes``), as ``zi`` numbers them; None before the log was read."""

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.pack.rules)


class _Compiler:
    def __init__(self, pack: Pack, supplied: frozenset[str], dialect: str) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r}; expected one of {', '.join(DIALECTS)}")
        self.dialect = dialect
        self.members: list[str] = []  # CTEs of row numbers; `marked` says per row whether it is in each
        self.pack = pack
        self.supplied = supplied
        self.flags: list[str] = []  # 0/1 columns the caps count, computed once per row
        self.cap_ctes: list[str] = []
        self.hits: dict[str, tuple[str, str, list[str]]] = {}  # name -> (table, on, scopes): fact lookups
        self.content: list[ContentCheck] = []
        self.zone_keys: list[tuple[str, ...]] = []
        self.used_tables: set[str] = set()

    # -- facts ----------------------------------------------------------------------------------------------------

    def _hit(self, name: str, table: str, on: str, scope: str) -> str:
        """A 0/1 column: 1 when a row of fact table ``table`` matches the log row ``l``."""
        self.used_tables.add(table)
        scopes = self.hits.setdefault(name, (table, on, []))[2]
        if scope not in scopes:
            scopes.append(scope)
        return self._member(name)

    def _member(self, name: str) -> str:
        """A 0/1 column of ``marked``: is this row's rn in the CTE ``name``? The CTEs are gathered into one table
        of row numbers (``marks``, a bit per CTE) joined to the log once: one join instead of one per CTE,
        and the same text for both dialects."""
        if name not in self.members:
            self.members.append(name)
        return f"l.in_{name}"

    def boolean_fact(self, fact: str, scope: str) -> str:
        """1, 0 or NULL (unknown) for a boolean fact at the row's instant."""
        if fact == "refused":
            table, on = "refusals", "f.c_party = l.party AND f.c_at <= l.ts"
        else:
            table = BOOLEAN_FACT_TABLES[fact]
            on = {
                "debtor_unreachable": "f.c_debtor = l.debtor AND f.c_since <= l.ts "
                "AND (f.c_until IS NULL OR l.ts < f.c_until)",
                "guarantor_liable": "f.c_debt = l.debt AND f.c_party = l.party",
                "represented_by_attorney": "f.c_debtor = l.debtor AND f.c_since <= l.ts "
                "AND (f.c_until IS NULL OR l.ts < f.c_until)",
                "cease_requested": "f.c_debt = l.debt AND f.c_at <= l.ts",
                "time_barred": "f.c_debt = l.debt AND f.c_since <= l.ts",
            }[fact]
        if table not in self.supplied:
            return "CAST(NULL AS INT)"
        return self._hit(f"h_{fact}", table, on, scope)

    # -- checks ---------------------------------------------------------------------------------------------------

    def check(self, check: Check, scope: str, name: str) -> str:
        if isinstance(check, TimeWindow):
            return self.time_window(check, scope, name)
        if isinstance(check, Cap):
            return self.cap(check, name)
        if isinstance(check, Recipients):
            return self.recipients(check, scope)
        if isinstance(check, ConsentNeeded):
            if "consents" not in self.supplied:
                return "2"
            on = (
                f"f.c_party = l.party AND f.c_purpose = {_lit(check.purpose)} AND f.c_granted_at <= l.ts "
                "AND (f.c_withdrawn_at IS NULL OR l.ts < f.c_withdrawn_at)"
            )
            hit = self._hit(f"h_consent_{check.purpose}", "consents", on, scope)
            return f"CASE WHEN {hit} = 1 THEN 0 ELSE 1 END"
        if isinstance(check, FactIsFalse):
            value = self.boolean_fact(check.fact, scope)
            return f"CASE WHEN {value} IS NULL THEN 2 WHEN {value} = 1 THEN 1 ELSE 0 END"
        if isinstance(check, OptOutHonoured):
            if "opt_outs" not in self.supplied:
                return "2"
            on = (
                f"f.c_party = l.party AND {_coding('f.c_channel', 'channel', self.dialect)} = l.channel "
                "AND (f.c_address IS NULL OR f.c_address = l.address) AND f.c_at <= l.ts"
            )
            return self._hit("h_opt_out", "opt_outs", on, scope)
        if isinstance(check, ContentScreen):
            column = f"cf_{len(self.content)}"
            self.content.append(ContentCheck(column, check))
            found = f"l.{column} = 1"
            if check.when is None:
                then = "1"
            else:
                value = self.boolean_fact(check.when, scope)
                then = f"CASE WHEN {value} IS NULL THEN 2 WHEN {value} = 1 THEN 1 ELSE 0 END"
            return f"CASE WHEN l.c_empty = 1 THEN 0 WHEN {found} THEN {then} ELSE 0 END"
        if isinstance(check, ContentRequires):
            column = f"cf_{len(self.content)}"
            self.content.append(ContentCheck(column, check))
            return f"CASE WHEN l.c_null = 1 THEN 2 WHEN l.{column} = 1 THEN 0 ELSE 1 END"
        raise NotImplementedError(f"check kind {check.kind!r} has no SQL form")  # pragma: no cover

    def time_window(self, check: TimeWindow, scope: str, name: str) -> str:
        by_window: dict[tuple[int, int], list[int]] = {}
        for weekday, spans in check.by_weekday.items():
            for start, end in spans:
                by_window.setdefault((start, end), []).append(weekday)
        inside = [
            f"({_in('l.wd', [str(d) for d in days], [str(d) for d in range(1, 8)], str) or 'TRUE'} "
            f"AND l.lus >= {start * SECOND_US} AND l.lus < {end * SECOND_US})"
            for (start, end), days in sorted(by_window.items())
        ]
        in_window = " OR ".join(inside) or "FALSE"
        if not check.agreed_windows:
            return f"CASE WHEN {in_window} THEN 0 ELSE 1 END"
        if "agreed_windows" not in self.supplied:
            return f"CASE WHEN {in_window} THEN 0 ELSE 2 END"
        on = (
            "f.c_party = l.party AND ((f.c_end > f.c_start AND l.lus >= f.c_start * 1000000 "
            "AND l.lus < f.c_end * 1000000) OR (f.c_end <= f.c_start AND (l.lus >= f.c_start * 1000000 "
            "OR l.lus < f.c_end * 1000000)))"
        )
        hit = self._hit(f"h_agreed_{name}", "agreed_windows", on, f"({scope}) AND NOT ({in_window})")
        return f"CASE WHEN {in_window} THEN 0 WHEN {hit} = 1 THEN 0 ELSE 1 END"

    def cap(self, check: Cap, name: str) -> str:
        """Prior matching rows with the same keys on the window's local dates, counted by a window function,
        but only for keys whose matching rows reach the maximum at all (``hot``): elsewhere no row can be
        denied, and the sort is skipped. Exact either way; fast because hot keys are few."""
        self.zone_keys.append(check.same)
        flag = f"m_{name}"
        self.flags.append(f"CAST({_event_filter(check.codes)} AS TINYINT) AS {flag}")  # a cast, not a CASE: cheaper
        group = [*check.same, *(["lday"] if check.days == 1 else [])]
        cols = ", ".join(group)
        keys = ", ".join(f"b.{c}" for c in check.same)
        before = "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"
        part = ", ".join(f"b.{c}" for c in group)
        expr = f"COALESCE(SUM(b.{flag}) OVER (PARTITION BY {part} ORDER BY b.ts, b.rn {before}), 0)"
        if check.days > 1:
            # Less the rows on local dates before the window (a key's dates only grow with time: its rows
            # share one zone).
            expr += (
                f" - COALESCE(SUM(b.{flag}) OVER (PARTITION BY {keys} ORDER BY b.lday "
                f"RANGE BETWEEN UNBOUNDED PRECEDING AND {check.days} PRECEDING), 0)"
            )
        # Keys are grouped by their hash (cheaper than by text): a collision only adds rows to the window,
        # which partitions by the keys themselves, so the count stays exact.
        self.cap_ctes.append(
            f"hot_{name} AS (SELECT hash({cols}) AS h FROM base WHERE {flag} = 1 GROUP BY hash({cols}) "
            f"HAVING count(*) >= {check.maximum})"
        )
        hashed = ", ".join(f"b.{c}" for c in group)
        self.cap_ctes.append(
            f"n_{name} AS (SELECT rn FROM (SELECT b.rn, {expr} AS n FROM base b JOIN hot_{name} h "
            f"ON hash({hashed}) = h.h) WHERE n >= {check.maximum})"
        )
        return f"{self._member(f'n_{name}')}"

    def recipients(self, check: Recipients, scope: str) -> str:
        deny: list[str] = []
        unknown: list[str] = []
        allowed = sorted(r.value for r in check.allow)
        deny.append(f"NOT ({_in('l.role', allowed, CODED['role'], _code('role')) or 'TRUE'})")
        for role, terms in check.allow.items():
            is_role = f"l.role = {_code('role')(role.value)}"
            if terms.purposes is not None:
                purposes = _in("l.purpose", terms.purposes, CODED["purpose"], _code("purpose")) or "TRUE"
                deny.append(f"{is_role} AND NOT ({purposes})")
            role_scope = f"({scope}) AND {is_role}"
            for fact in terms.requires:
                value = self.boolean_fact(fact, role_scope)
                deny.append(f"{is_role} AND {value} = 0")
                unknown.append(f"{is_role} AND {value} IS NULL")
            if terms.unless_refused:
                value = self.boolean_fact("refused", role_scope)
                deny.append(f"{is_role} AND {value} = 1")
                unknown.append(f"{is_role} AND {value} IS NULL")
        cases = [f"WHEN {d} THEN 1" for d in deny] + [f"WHEN {u} THEN 2" for u in unknown]
        return f"CASE {' '.join(cases)} ELSE 0 END"

    # -- the rule and the query -----------------------------------------------------------------------------------

    def rule(self, rule: Rule, k: int) -> str:
        selects = [
            _in("l.channel", (c.value for c in rule.channels), CODED["channel"], _code("channel")),
            _in("l.role", (r.value for r in rule.roles), CODED["role"], _code("role")),
            _in("l.purpose", (p.value for p in rule.purposes), CODED["purpose"], _code("purpose")),
        ]
        scope = _and([OUTBOUND, *selects])  # where fact lookups read the whole log
        answers = [self.check(c, scope, f"{k}_{j}") for j, c in enumerate(rule.checks)]
        # The first answer that does not allow; one check needs no COALESCE. `marked` holds outbound rows only.
        first = answers[0] if len(answers) == 1 else f"COALESCE({', '.join(f'NULLIF({a}, 0)' for a in answers)}, 0)"
        within = _and(selects)
        answer = first if within == "TRUE" else f"CASE WHEN {within} THEN {first} ELSE 0 END"
        return f"CAST({answer} AS TINYINT) AS e_{k}"

    def compile(
        self,
        check_zones: bool = True,
        common: int = 0,
        labels: bool = True,
        classes: Mapping[str, int] | None = None,
        segments: Sequence[tuple[str, int, int, int]] = (),
    ) -> CompiledAudit:
        effects = [self.rule(rule, k) for k, rule in enumerate(self.pack.rules)]
        # Only the columns the rules read go through the query (content becomes its 0/1 findings). The enum
        # columns are coded straight off the scan, where DuckDB still has them as Parquet dictionary entries.
        texts = ["rn", *(["id"] if labels else []), "ts", "debt", "debtor", "party", "address"]
        texts += ["op", "org"] if labels else []
        coded = [f"{_coding(c, c, self.dialect)} AS {c}" for c in CODED] + [
            "CAST(content IS NULL AS TINYINT) AS c_null",
            "CAST(content IS NULL OR content = '' AS TINYINT) AS c_empty",
        ]
        numbered = classes if classes is not None else zone_classes(segments)
        zone, offset, kind = _zones(segments, numbered, self.dialect)
        read = ", ".join([*texts, f"{zone} AS zx", *coded, *(["content"] if self.content else [])])
        narrow = ", ".join(f"a.{c}" for c in [*texts, *CODED, "c_null", "c_empty"])
        kept = ", ".join([*texts, *(c for c in CODED if c != "outcome"), "c_null", "c_empty"])
        kept += "".join(f", {c.column}" for c in self.content)
        narrow += "".join(f", COALESCE(cf.{c.column}, 0) AS {c.column}" for c in self.content)
        content_join = " LEFT JOIN cflags cf ON cf.content = a.content AND cf.role = a.role" if self.content else ""
        flags = "".join(f", {f}" for f in self.flags)
        ctes = [
            f"zoned AS (SELECT {narrow}, a.ts + ({offset}) AS lts, {kind} AS zi FROM (SELECT {read} FROM audit_log) a"
            f"{content_join})",
            f"dated AS (SELECT zoned.*, CAST(FLOOR(lts / {DAY_US}.0) AS INTEGER) AS lday FROM zoned)",
            # The materialised log: only what the rules read after it, in the narrowest types (its width is
            # most of the query's memory and of the time to write and scan it).
            f"base AS (SELECT {kept}, zi, lday, lts - lday * {DAY_US} AS lus, "
            f"CAST(((lday % 7) + 10) % 7 + 1 AS TINYINT) AS wd{flags} FROM dated)",
            *self.cap_ctes,
        ]
        for name, (table, on, scopes) in self.hits.items():
            where = " OR ".join(f"({s})" for s in scopes)
            ctes.append(f"{name} AS (SELECT l.rn FROM base l JOIN f_{table} f ON {on} WHERE {where})")
        if self.members:
            # Per row, one bit per set (in words of 62 bits, a BIGINT each): one aggregate and one column to join
            # per word, rather than one per set (measured: docs/benchmarks.md).
            words = range((len(self.members) + WORD_BITS - 1) // WORD_BITS)

            def bits(i: int) -> str:
                return ", ".join(f"{1 << i % WORD_BITS if i // WORD_BITS == w else 0} AS b_{w}" for w in words)

            union = " UNION ALL ".join(f"SELECT rn, {bits(i)} FROM {n}" for i, n in enumerate(self.members))
            found = ", ".join(f"bit_or(b_{w}) AS w_{w}" for w in words)
            ctes.append(f"marks AS (SELECT rn, {found} FROM ({union}) u GROUP BY rn)")
            marks = "".join(
                f", CAST((COALESCE(m.w_{i // WORD_BITS}, 0) & {1 << i % WORD_BITS}) > 0 AS TINYINT) AS in_{n}"
                for i, n in enumerate(self.members)
            )
            ctes.append(f"marked AS (SELECT l.*{marks} FROM base l LEFT JOIN marks m ON m.rn = l.rn WHERE {OUTBOUND})")
        else:
            ctes.append(f"marked AS (SELECT l.* FROM base l WHERE {OUTBOUND})")
        outputs = f"l.rn, {'l.id, ' if labels else ''}l.ts, l.lday, l.lus, l.debt, l.debtor, l.party, l.role, "
        outputs += "l.address, l.channel, l.purpose" + (", l.op AS operator, l.org" if labels else "")
        ctes.append(f"effects AS (SELECT {outputs},\n  " + ",\n  ".join(effects) + "\n  FROM marked l)")
        # One row per attempt that broke a rule, with its answer per rule (e_0 .. e_n); the rows per
        # (attempt, rule) and their order are made from these by ``output.finish``, the same for every engine.
        any_effect = " + ".join(f"e_{k}" for k in range(len(effects)))
        zone_keys = tuple(dict.fromkeys(self.zone_keys))
        # One zone per cap key, checked here over the materialised log (the loader's own check would read the
        # file again): the number of key sets with a key in two zones rides on every row, and the engine
        # refuses the log, naming the row through ``loading.check_zones``, when it is not 0. Only the rows
        # outside the zone ``common`` (the one most rows are in) are grouped by key; a key is in two zones when
        # its group spans two, or when a row in ``common`` has a key of those groups (a probe of a small table,
        # where grouping every row by key was a large one). Keys are compared by hash: a collision can only
        # raise the count, and ``loading.check_zones`` then compares the keys themselves.
        mixed = []
        for i, keys in enumerate(zone_keys if check_zones else ()):
            key = f"hash({', '.join(keys)})"
            ctes.append(
                f"zk_{i} AS (SELECT {key} AS h, min(zi) AS lo, max(zi) AS hi FROM base WHERE zi <> {common} GROUP BY 1)"
            )
            mixed.append(
                f"(SELECT count(*) FROM (SELECT 1 AS x FROM zk_{i} WHERE lo <> hi UNION ALL SELECT 1 AS x FROM base "
                f"WHERE zi = {common} AND {key} IN (SELECT h FROM zk_{i}) LIMIT 1) m)"
            )
        ctes.append(f"zones_mixed AS (SELECT {' + '.join(mixed) or '0'} AS zones_mixed)")
        # Not sorted: ``output.finish`` orders the rows by log position, in which DuckDB hands them over nearly
        # sorted already (runs of rows in order), so that a sort in the query would be work for nothing.
        sql = (
            "WITH " + ",\n".join(ctes) + "\nSELECT effects.*, zones_mixed.zones_mixed FROM effects "
            f"CROSS JOIN zones_mixed WHERE {any_effect} > 0"
        )
        return CompiledAudit(
            sql,
            self.pack,
            tuple(self.content),
            frozenset(self.used_tables),
            zone_keys,
            classes,
        )


def _event_filter(codes: frozenset[int]) -> str:
    """SQL for "this row's (channel, direction, outcome) is one the cap counts"."""
    combos = [(c, d, o) for c in Channel for d in Direction for o in Outcome if event_code(c, d, o) in codes]
    channels = {c.value for c, _, _ in combos}
    directions = {d.value for _, d, _ in combos}
    outcomes = {o.value for _, _, o in combos}
    if len(combos) == len(channels) * len(directions) * len(outcomes):
        return _and(
            [
                _in("channel", channels, CODED["channel"], _code("channel")),
                _in("direction", directions, CODED["direction"], _code("direction")),
                _in("outcome", outcomes, CODED["outcome"], _code("outcome")),
            ]
        )
    return " OR ".join(  # pragma: no cover - packs build caps as products; kept exact for any other set
        f"(channel = {_code('channel')(c.value)} AND direction = {_code('direction')(d.value)} "
        f"AND outcome = {_code('outcome')(o.value)})"
        for c, d, o in combos
    )


def compile_pack(
    pack: Pack,
    supplied: Iterable[str],
    dialect: str = "duckdb",
    *,
    check_zones: bool = True,
    common_zone: int = 0,
    labels: bool = True,
    classes: Mapping[str, int] | None = None,
    segments: Sequence[tuple[str, int, int, int]] = (),
) -> CompiledAudit:
    """The audit query for ``pack``, given the names of the fact tables that were supplied and the offsets of the
    log's zones over its span (``segments``, :func:`zone_segments`; a row of a zone not among them has no local
    time, so the engines pass every zone of the log).

    ``check_zones`` false leaves the one-zone-per-cap-key check out (``zones_mixed`` is 0): for a log of one zone,
    or one the loader has checked already; ``common_zone`` is the ``zi`` of the zone class most rows are in (any
    gives the same answer; that one the fastest), ``classes`` the zone classes (:func:`zone_classes`) the engine
    numbered ``zi`` by. ``labels`` false leaves the columns no rule reads (``id``, ``operator``, ``org``) out of
    the query: the engine then gives them to ``output`` from the log by row number (``loading.read_labels``),
    which is cheaper than carrying them through it."""
    return _Compiler(pack, frozenset(supplied), dialect).compile(check_zones, common_zone, labels, classes, segments)


def zone_segments(zones: Iterable[str], lo_us: int, hi_us: int) -> list[tuple[str, int, int, int]]:
    """Each zone's offsets: (zone, lo, hi, offset) in epoch microseconds, covering [lo_us, hi_us] for each zone.

    Offsets come from ``zoneinfo`` (the gate's zone database). Transitions are found by stepping an hour at a
    time and narrowing to the second; the first and last spans are open-ended so no row falls outside."""
    from datetime import UTC, datetime  # noqa: PLC0415 (only here)

    out: list[tuple[str, int, int, int]] = []
    start_s = lo_us // SECOND_US - 86_400
    end_s = hi_us // SECOND_US + 86_400
    very_low, very_high = -(2**62), 2**62

    def offset(zone: ZoneInfo, s: int) -> int:
        delta = datetime.fromtimestamp(s, UTC).astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    for key in sorted(set(zones)):
        zone = ZoneInfo(key)
        seg_lo = very_low
        current = offset(zone, start_s)
        s = start_s
        while s < end_s:
            nxt = min(s + 3600, end_s)
            if offset(zone, nxt) != current:
                a, b = s, nxt  # offset(a) == current, offset(b) != current
                while b - a > 1:
                    mid = (a + b) // 2
                    if offset(zone, mid) == current:
                        a = mid
                    else:
                        b = mid
                out.append((key, seg_lo, b * SECOND_US, current * SECOND_US))
                seg_lo, current = b * SECOND_US, offset(zone, b)
                s = b
                continue
            s = nxt
        out.append((key, seg_lo, very_high, current * SECOND_US))
    return out


def zone_classes(segments: Sequence[tuple[str, int, int, int]]) -> dict[str, int]:
    """Each zone of ``segments`` (:func:`zone_segments`) numbered by its class: zones whose UTC offsets agree over
    the whole span (Asia/Shanghai and Asia/Hong_Kong, say) place every instant on the same local date and time, so
    for the caps they are one zone. Classes are numbered in the order of their first zone's name."""
    spans: dict[str, list[tuple[int, int, int]]] = {}
    for zone, lo, hi, off in segments:
        spans.setdefault(zone, []).append((lo, hi, off))
    signatures: dict[tuple[tuple[int, int, int], ...], int] = {}
    classes = {}
    for zone in sorted(spans):
        classes[zone] = signatures.setdefault(tuple(spans[zone]), len(signatures))
    return classes
