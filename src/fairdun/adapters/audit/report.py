"""The audit report: one self-contained HTML page of the violations an audit found.

Built from the violations file the engine wrote (so it is the same whichever engine ran), summed with DuckDB.
Charts reuse the demo report's inline-SVG helpers (``fairdun.adapters.report.html``): nothing is fetched when
the page opens, each chart has a title, a description and its numbers in a table beside it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from fairdun.adapters.report.html import (
    SERIES_COLOURS,
    _Chart,
    _esc,
    _figure,
    _hbars,
    _Series,
    _stacked_bars,
    _table,
    page,
)
from fairdun.application.audit import AuditJob, AuditSummary

TOP_N = 15
REPORTED = 'id, rule, effect, "at", local_date, debtor, party, channel, operator, org'
"""The violations file's columns the report reads."""
DRILL_ROWS = 25
EFFECT_COLOURS = {"deny": "#c53030", "indeterminate": "#b7791f"}


@dataclass(frozen=True, slots=True)
class AuditReportData:
    title: str
    pack: str
    engine: str
    rows: int
    attempts: int
    violations: int
    attempts_in_breach: int
    generated_at: datetime
    unknown_facts: tuple[str, ...]
    by_rule: list[tuple[str, str, str, int, int]]  # rule, citation, message, deny, indeterminate
    by_day: list[tuple[date, str, int]]
    by_operator: list[tuple[str, int, int]]  # operator, violations, attempts in breach
    by_org: list[tuple[str, int, int]]
    worst_debtors: list[tuple[str, int, int]]
    drill: dict[str, list[tuple[str, str, str, str, str, str]]]  # operator -> (at, id, rule, effect, party, channel)


def _source(path: Path) -> str:
    quoted = str(path).replace("'", "''")
    return f"read_parquet('{quoted}')" if path.suffix == ".parquet" else f"read_csv('{quoted}', header = true)"


def collect(summary: AuditSummary, job: AuditJob) -> AuditReportData:
    con = duckdb.connect(":memory:")
    try:
        # Parquet is read by column, so every query below reads only what it needs; CSV would be parsed whole by
        # each (a 2 GB file for 2.2 M violations: 11 s in all), so its columns the report reads are read once.
        kind = "VIEW" if summary.output.suffix == ".parquet" else "TABLE"
        con.execute(f"CREATE TEMP {kind} v AS SELECT {REPORTED} FROM {_source(summary.output)}")
        breached = con.execute("SELECT count(DISTINCT id) FROM v").fetchone()
        by_rule_counts = {
            str(r): (int(d), int(i))
            for r, d, i in con.execute(
                "SELECT rule, count(*) FILTER (WHERE effect = 'deny'), count(*) FILTER (WHERE effect <> 'deny') "
                "FROM v GROUP BY rule"
            ).fetchall()
        }
        by_rule = [
            (
                r.id,
                r.citation,
                r.message_en if job.lang == "en" else r.message_zh,
                *by_rule_counts.get(r.id, (0, 0)),
            )
            for r in job.pack.rules
            if r.id in by_rule_counts
        ]
        by_day = [
            (d if isinstance(d, date) else date.fromisoformat(str(d)), str(r), int(n))
            for d, r, n in con.execute(
                "SELECT CAST(local_date AS DATE), rule, count(*) FROM v GROUP BY 1, 2 ORDER BY 1, 2"
            ).fetchall()
        ]

        def top(column: str) -> list[tuple[str, int, int]]:
            return [
                (str(k), int(n), int(a))
                for k, n, a in con.execute(
                    f"SELECT COALESCE({column}, '(none)'), count(*), count(DISTINCT id) FROM v GROUP BY 1 "
                    f"ORDER BY 2 DESC, 1 LIMIT {TOP_N}"
                ).fetchall()
            ]

        by_operator, by_org, worst_debtors = top("operator"), top("org"), top("debtor")
        drill: dict[str, list[tuple[str, str, str, str, str, str]]] = {}
        for operator, _, _ in by_operator[:10]:
            rows = con.execute(
                "SELECT strftime(\"at\", '%Y-%m-%d %H:%M:%S'), id, rule, effect, party, channel FROM v "
                "WHERE COALESCE(operator, '(none)') = ? ORDER BY \"at\", id, rule LIMIT ?",
                [operator, DRILL_ROWS],
            ).fetchall()
            drill[operator] = [tuple(str(x) for x in row) for row in rows]  # type: ignore[misc]
    finally:
        con.close()
    return AuditReportData(
        title=f"合规审计 / Compliance audit — {summary.pack}",
        pack=summary.pack,
        engine=summary.engine,
        rows=summary.rows,
        attempts=summary.attempts,
        violations=summary.violations,
        attempts_in_breach=int(breached[0]) if breached else 0,
        generated_at=datetime.now(UTC),
        unknown_facts=summary.unknown_facts,
        by_rule=by_rule,
        by_day=by_day,
        by_operator=by_operator,
        by_org=by_org,
        worst_debtors=worst_debtors,
        drill=drill,
    )


def _rules_figure(data: AuditReportData) -> str:
    title = "按规则 / Violations by rule"
    if not data.by_rule:
        return _figure("rules", title, None, None)
    ids = [r[0] for r in data.by_rule]
    groups = [
        _Series("拒绝 / deny", EFFECT_COLOURS["deny"], {i: float(r[3]) for i, r in enumerate(data.by_rule)}),
        _Series(
            "事实不明 / indeterminate",
            EFFECT_COLOURS["indeterminate"],
            {i: float(r[4]) for i, r in enumerate(data.by_rule)},
        ),
    ]
    chart = _Chart(
        "rules", title, f"Horizontal bars: violations per rule ({', '.join(ids)}).", "次数 / Count", "规则 / Rule"
    )
    table = _table(
        title,
        ["规则 / Rule", "依据 / Citation", "说明 / Message", "拒绝 / deny", "不明 / indeterminate"],
        [list(r) for r in data.by_rule],
        folded=False,
        text_columns=frozenset({1, 2}),
    )
    return _figure("rules", title, _hbars(chart, ids, groups), table)


def _days_figure(data: AuditReportData) -> str:
    title = "每日违规 / Violations per day (recipient's local date)"
    if not data.by_day:
        return _figure("days", title, None, None)
    first, last = data.by_day[0][0], data.by_day[-1][0]
    days = [date.fromordinal(o) for o in range(first.toordinal(), last.toordinal() + 1)]
    index = {d: i for i, d in enumerate(days)}
    rules = sorted({r for _, r, _ in data.by_day})
    stacks = []
    for k, rule in enumerate(rules):
        points = {index[d]: float(n) for d, r, n in data.by_day if r == rule}
        stacks.append(_Series(rule, SERIES_COLOURS[k % len(SERIES_COLOURS)], points))
    chart = _Chart("days", title, "Stacked bars: violations per local date, by rule.", "日期 / Date", "次数 / Count")
    table = _table(
        title, ["日期 / Date", "规则 / Rule", "次数 / Count"], [[d.isoformat(), r, n] for d, r, n in data.by_day]
    )
    return _figure("days", title, _stacked_bars(chart, days, stacks), table)


def _top_figure(key: str, title: str, what: str, rows: Sequence[tuple[str, int, int]]) -> str:
    if not rows:
        return _figure(key, title, None, None)
    names = [r[0] for r in rows]
    groups = [_Series("违规 / violations", SERIES_COLOURS[0], {i: float(r[1]) for i, r in enumerate(rows)})]
    chart = _Chart(key, title, f"Horizontal bars: violations per {what}, most first.", "次数 / Count", what)
    table = _table(title, [what, "违规 / Violations", "违规联络 / Attempts in breach"], [list(r) for r in rows])
    return _figure(key, title, _hbars(chart, names, groups), table)


def _drill(data: AuditReportData) -> str:
    if not data.drill:
        return ""
    parts = ["<h2>最严重的催收员 / Worst offenders: their violations</h2>"]
    for operator, rows in data.drill.items():
        table = _table(
            f"{operator}",
            ["时间 / At (UTC)", "联络 / Attempt", "规则 / Rule", "结果 / Effect", "对象 / Party", "渠道 / Channel"],
            rows,
            folded=False,
            text_columns=frozenset({1, 2, 3, 4, 5}),
        )
        count = next((n for o, n, _ in data.by_operator if o == operator), len(rows))
        shown = f" (first {len(rows)} of {count})" if count > len(rows) else ""
        parts.append(f"<details><summary>{_esc(operator)}: {count:,}{_esc(shown)}</summary>{table}</details>")
    return "\n".join(parts)


def render(data: AuditReportData) -> str:
    """The report as one HTML5 document that loads nothing from anywhere."""
    summary = _table(
        "摘要 / Summary",
        ["项目 / Item", "值 / Value"],
        [
            ["规则包 / Rule pack", data.pack],
            ["引擎 / Engine", data.engine],
            ["记录 / Log rows", f"{data.rows:,}"],
            ["联络尝试 / Attempts (outbound)", f"{data.attempts:,}"],
            ["违规 / Violations (attempt, rule)", f"{data.violations:,}"],
            ["违规联络 / Attempts in breach", f"{data.attempts_in_breach:,}"],
            ["未提供的事实表 / Fact tables not supplied", ", ".join(data.unknown_facts) or "—"],
        ],
        folded=False,
    )
    sections = [
        "<h2>摘要 / Summary</h2>",
        summary,
        '<p class="note">“事实不明”：规则所需的事实表未提供，闸门会因此拒绝联络（失败即关闭）。 / '
        "Indeterminate: a fact table the rule needs was not supplied, so the gate would have refused the "
        "contact (it fails closed).</p>",
        _rules_figure(data),
        _days_figure(data),
        '<div class="grid">'
        + _top_figure("operators", "按催收员 / By collector", "催收员 / Collector", data.by_operator)
        + _top_figure("orgs", "按机构 / By agency", "机构 / Agency", data.by_org)
        + "</div>",
        _top_figure("debtors", "受影响最多的债务人 / Debtors most affected", "债务人 / Debtor", data.worst_debtors),
        _drill(data),
    ]
    return page(data.title, data.generated_at, [], sections)


class HtmlAuditReporter:
    """Writes ``report.html`` beside the violations file, atomically."""

    def write(self, job: AuditJob, summary: AuditSummary) -> Path:
        document = render(collect(summary, job))
        job.out.mkdir(parents=True, exist_ok=True)
        target = job.out / "report.html"
        fd, tmp_name = tempfile.mkstemp(dir=job.out, prefix=".report.", suffix=".tmp")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(document)
            tmp.chmod(0o644)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        return target
