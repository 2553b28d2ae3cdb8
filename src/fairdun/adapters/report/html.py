"""The demo report as one self-contained HTML5 document: inline CSS, charts drawn here as inline SVG.

Nothing is fetched when the page is opened: no script, no CDN, no web font, no image by URL, so the report can be
mailed or archived and still reads the same. Each chart is a ``<figure>`` with a caption, an SVG with ``<title>``
and ``<desc>`` (named by ``aria-labelledby``), a legend, axis labels, and the numbers it draws in a table below it,
so nothing depends on seeing the picture. Labels are Chinese first, then English.

Every piece of text passes through :func:`_esc` (``html.escape`` with quotes), which also keeps each SVG well-formed
XML. Money stays ``Decimal`` in every figure shown; it becomes a float only to place a pixel.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from html import escape
from pathlib import Path

from fairdun.application.report_data import ReportData, StrategyRun

__all__ = ["page", "render_report", "write_report"]

NO_DATA = "暂无数据 / No data"

# Bucket colours run from calm to alarming, in bucket order; series colours tell runs and measures apart.
BUCKET_COLOURS = ("#2f855a", "#ecc94b", "#ed8936", "#e53e3e", "#9b2c2c", "#b83280", "#6b46c1", "#44337a", "#1a202c")
SERIES_COLOURS = ("#2b6cb0", "#c53030", "#2f855a", "#b7791f", "#6b46c1", "#2c7a7b")

LEFT, RIGHT, TOP = 80, 20, 16
PLOT_HEIGHT = 210

CSS = """
:root { color-scheme: light; }
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", system-ui,
  sans-serif; margin: 0 auto; max-width: 1120px; padding: 24px; color: #1a202c; background: #fff; line-height: 1.5; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 32px 0 8px; border-bottom: 1px solid #cbd5e0; padding-bottom: 4px; }
.meta { color: #4a5568; margin: 0 0 16px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 16px; }
figure.chart { margin: 0; padding: 12px; border: 1px solid #e2e8f0; border-radius: 6px; background: #fff; }
figure.chart figcaption { font-weight: 600; margin-bottom: 6px; }
svg { width: 100%; height: auto; display: block; }
svg text { font-family: inherit; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 6px 0; }
th, td { border: 1px solid #e2e8f0; padding: 2px 8px; text-align: right; }
th:first-child, td:first-child, .text { text-align: left; }
main > figure.chart { margin-top: 16px; }
thead th { background: #f7fafc; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
details summary { cursor: pointer; color: #2b6cb0; font-size: 0.9rem; }
.no-data { color: #718096; font-style: italic; padding: 24px; text-align: center; border: 1px dashed #cbd5e0; }
.badge { display: inline-block; font-size: 0.75rem; padding: 0 6px; border-radius: 4px; background: #fed7d7;
  color: #9b2c2c; margin-left: 6px; vertical-align: middle; }
.note { color: #4a5568; font-size: 0.9rem; }
"""


def _esc(value: object) -> str:
    return escape(str(value), quote=True)


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _num(value: float) -> str:
    """A coordinate with one decimal: enough for a screen, short in the file."""
    return f"{value:.1f}"


def _text_width(text: str, size: float = 12) -> float:
    """An estimate of rendered width: CJK glyphs are about square, Latin ones about half as wide."""
    return sum(size if ord(c) >= 0x2E80 else size * 0.6 for c in text)


def _nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top`` (1, 2 or 5 times a power of ten apart)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10.0 ** math.floor(math.log10(raw))
    # Counts are whole numbers, and a fraction of a yuan is noise on this scale: never a step below 1.
    step = max(1.0, next(m * power for m in (1, 2, 5, 10) if m * power >= raw))
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(ticks[-1] + step)
    return ticks


def _tick_label(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 10_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def _value(value: float) -> str:
    """A value written beside its bar: whole, with thousands separated (1,233,937, not ``:g``'s 1.23394e+06)."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.6g}"


@dataclass(frozen=True, slots=True)
class _Series:
    name: str
    colour: str
    points: dict[int, float]  # x index -> value


@dataclass(frozen=True, slots=True)
class _Chart:
    """What every chart shares: an id for its anchors, its title, its description and its axis labels."""

    key: str
    title: str
    desc: str
    x_label: str
    y_label: str
    width: int = 760  # viewBox width: 760 for a chart across the page, 480 for one of a side-by-side pair


def _legend(items: Sequence[tuple[str, str]], top: float, width: int) -> tuple[list[str], float]:
    """Swatches and names laid out in rows under the plot; returns the elements and the height they take."""
    out = ['<g class="legend">']
    x, y = float(LEFT), top
    for name, colour in items:
        item = 16 + _text_width(name) + 14
        if x + item > width - RIGHT and x > LEFT:
            x, y = float(LEFT), y + 20
        out.append(f'<rect x="{_num(x)}" y="{_num(y)}" width="12" height="12" fill="{_esc(colour)}"/>')
        out.append(f'<text x="{_num(x + 16)}" y="{_num(y + 10)}" font-size="12">{_esc(name)}</text>')
        x += item
    out.append("</g>")
    return out, y + 20 - top


def _frame(chart: _Chart, body: list[str], legend: Sequence[tuple[str, str]], plot_bottom: float) -> str:
    """Wrap a plot in an accessible SVG with its axis labels and legend; the height follows the legend."""
    x_label_y = plot_bottom + 38
    legend_parts, legend_height = _legend(legend, x_label_y + 14, chart.width)
    height = x_label_y + 14 + legend_height + 4
    mid_y = (TOP + plot_bottom) / 2
    parts = [
        f'<svg viewBox="0 0 {chart.width} {_num(height)}" role="img" '
        f'aria-labelledby="{chart.key}-title {chart.key}-desc">',
        f'<title id="{chart.key}-title">{_esc(chart.title)}</title>',
        f'<desc id="{chart.key}-desc">{_esc(chart.desc)}</desc>',
        *body,
        f'<text class="axis-label" x="{_num((LEFT + chart.width - RIGHT) / 2)}" y="{_num(x_label_y)}" font-size="12" '
        f'text-anchor="middle">{_esc(chart.x_label)}</text>',
        f'<text class="axis-label" x="14" y="{_num(mid_y)}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {_num(mid_y)})">{_esc(chart.y_label)}</text>',
        *legend_parts,
        "</svg>",
    ]
    return "\n".join(parts)


def _y_axis(ticks: Sequence[float], plot_bottom: float, width: int) -> list[str]:
    top = ticks[-1]
    out = ['<g class="y-axis">']
    for tick in ticks:
        y = plot_bottom - (tick / top) * (plot_bottom - TOP)
        out.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{_num(y)}" y2="{_num(y)}" stroke="#e2e8f0"/>')
        out.append(
            f'<text x="{LEFT - 6}" y="{_num(y + 4)}" font-size="11" text-anchor="end">{_esc(_tick_label(tick))}</text>'
        )
    out.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{_num(plot_bottom)}" stroke="#4a5568"/>')
    out.append("</g>")
    return out


def _x_axis_days(days: Sequence[date], x_of: Callable[[int], float], plot_bottom: float, width: int) -> list[str]:
    """A date label about every sixth of the way, plus the last day."""
    out = ['<g class="x-axis">']
    out.append(
        f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{_num(plot_bottom)}" y2="{_num(plot_bottom)}" stroke="#4a5568"/>'
    )
    step = max(1, round(len(days) / 6))
    shown = set(range(0, len(days), step)) | {len(days) - 1}
    if len(days) > 1 and (len(days) - 1) - max(shown - {len(days) - 1}, default=0) < step / 2:
        shown.discard(max(shown - {len(days) - 1}, default=-1))
    for i in sorted(shown):
        x = x_of(i)
        out.append(
            f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{_num(plot_bottom)}" y2="{_num(plot_bottom + 4)}" '
            'stroke="#4a5568"/>'
        )
        out.append(
            f'<text x="{_num(x)}" y="{_num(plot_bottom + 18)}" font-size="11" text-anchor="middle">'
            f"{_esc(days[i].strftime('%m-%d'))}</text>"
        )
    out.append("</g>")
    return out


def _stacked_bars(chart: _Chart, days: Sequence[date], stacks: Sequence[_Series]) -> str:
    plot_bottom = TOP + PLOT_HEIGHT
    totals = [sum(s.points.get(i, 0.0) for s in stacks) for i in range(len(days))]
    ticks = _nice_ticks(max(totals, default=0.0))
    slot = (chart.width - RIGHT - LEFT) / len(days)
    bar = min(40.0, max(1.0, slot * 0.8))

    def x_of(i: int) -> float:
        return LEFT + slot * (i + 0.5)

    body = _y_axis(ticks, plot_bottom, chart.width)
    body.append('<g class="bars">')
    scale = (plot_bottom - TOP) / ticks[-1]
    for i, day in enumerate(days):
        y = float(plot_bottom)
        for series in stacks:
            value = series.points.get(i, 0.0)
            if value <= 0:
                continue
            h = value * scale
            y -= h
            body.append(
                f'<rect x="{_num(x_of(i) - bar / 2)}" y="{_num(y)}" width="{_num(bar)}" height="{_num(h)}" '
                f'fill="{_esc(series.colour)}"><title>{_esc(f"{day} {series.name}: {_value(value)}")}</title></rect>'
            )
    body.append("</g>")
    body.extend(_x_axis_days(days, x_of, plot_bottom, chart.width))
    return _frame(chart, body, [(s.name, s.colour) for s in stacks], plot_bottom)


def _line_chart(chart: _Chart, days: Sequence[date], lines: Sequence[_Series]) -> str:
    plot_bottom = TOP + PLOT_HEIGHT
    ticks = _nice_ticks(max((v for s in lines for v in s.points.values()), default=0.0))
    span = chart.width - RIGHT - LEFT - 20

    def x_of(i: int) -> float:
        return LEFT + 10 + (span * i / (len(days) - 1) if len(days) > 1 else span / 2)

    scale = (plot_bottom - TOP) / ticks[-1]
    body = _y_axis(ticks, plot_bottom, chart.width)
    for series in lines:
        body.append(f'<g class="series" data-series="{_esc(series.name)}">')
        coords = [f"{_num(x_of(i))},{_num(plot_bottom - v * scale)}" for i, v in sorted(series.points.items())]
        if len(coords) > 1:
            body.append(
                f'<polyline points="{" ".join(coords)}" fill="none" stroke="{_esc(series.colour)}" stroke-width="2"/>'
            )
        if len(coords) <= 12:
            for point in coords:
                cx, cy = point.split(",")
                body.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{_esc(series.colour)}"/>')
        body.append("</g>")
    body.extend(_x_axis_days(days, x_of, plot_bottom, chart.width))
    return _frame(chart, body, [(s.name, s.colour) for s in lines], plot_bottom)


def _hbars(chart: _Chart, categories: Sequence[str], groups: Sequence[_Series]) -> str:
    """Horizontal bars: one row per category, one bar per series in it, the value written at the bar's end."""
    label_width = min(260.0, max((_text_width(c, 11) for c in categories), default=40.0) + 12)
    left = LEFT + label_width
    bar_h, gap = 14.0, 10.0
    row_h = bar_h * len(groups) + gap
    plot_bottom = TOP + row_h * len(categories)
    ticks = _nice_ticks(max((v for s in groups for v in s.points.values()), default=0.0))
    scale = (chart.width - RIGHT - left - 40) / ticks[-1]
    body = ['<g class="x-axis">']
    for tick in ticks:
        x = left + tick * scale
        body.append(f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{TOP}" y2="{_num(plot_bottom)}" stroke="#e2e8f0"/>')
        body.append(
            f'<text x="{_num(x)}" y="{_num(plot_bottom + 16)}" font-size="11" text-anchor="middle">'
            f"{_esc(_tick_label(tick))}</text>"
        )
    body.append(f'<line x1="{_num(left)}" x2="{_num(left)}" y1="{TOP}" y2="{_num(plot_bottom)}" stroke="#4a5568"/>')
    body.append("</g>")
    body.append('<g class="bars">')
    for r, category in enumerate(categories):
        y0 = TOP + r * row_h + gap / 2
        body.append(
            f'<text x="{_num(left - 6)}" y="{_num(y0 + row_h / 2)}" font-size="11" text-anchor="end">'
            f"{_esc(category)}</text>"
        )
        for g, series in enumerate(groups):
            value = series.points.get(r, 0.0)
            y = y0 + g * bar_h
            w = value * scale
            tip = _esc(f"{category} {series.name}: {_value(value)}")
            body.append(
                f'<rect x="{_num(left)}" y="{_num(y)}" width="{_num(w)}" height="{_num(bar_h - 2)}" '
                f'fill="{_esc(series.colour)}"><title>{tip}</title></rect>'
            )
            body.append(
                f'<text x="{_num(left + w + 4)}" y="{_num(y + bar_h - 4)}" font-size="10">{_esc(_value(value))}</text>'
            )
    body.append("</g>")
    return _frame(chart, body, [(s.name, s.colour) for s in groups], plot_bottom)


def _table(
    caption: str,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    folded: bool = True,
    text_columns: frozenset[int] = frozenset(),
) -> str:
    """A data table; long ones fold under a summary so the charts stay close together."""
    head = "".join(
        f'<th scope="col" class="text">{_esc(h)}</th>' if k in text_columns else f'<th scope="col">{_esc(h)}</th>'
        for k, h in enumerate(header)
    )
    body = "".join(
        "<tr>"
        + "".join(
            (f'<th scope="row">{_esc(c)}</th>' if k == 0 else _cell(c, k in text_columns)) for k, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    table = (
        f'<table class="data"><caption>{_esc(caption)}</caption><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )
    if not folded:
        return table
    return f"<details><summary>数据表 / Data table</summary>{table}</details>"


def _cell(value: object, text: bool) -> str:
    return f'<td class="text">{_esc(value)}</td>' if text else f"<td>{_esc(value)}</td>"


def _figure(key: str, title: str, svg: str | None, table: str | None) -> str:
    if svg is None:
        return (
            f'<figure class="chart" id="{_esc(key)}"><figcaption>{_esc(title)}</figcaption>'
            f'<p class="no-data">{_esc(NO_DATA)}</p></figure>'
        )
    return f'<figure class="chart" id="{_esc(key)}"><figcaption>{_esc(title)}</figcaption>{svg}{table or ""}</figure>'


def _run_label(run: StrategyRun) -> str:
    return f"{run.name}（仅审计 / audit-only）" if run.audit_only and "audit" not in run.name else run.name


def _bucket_figure(key: str, run: StrategyRun, order: Sequence[str]) -> str:
    title = f"逾期阶段分布 / Bucket distribution — {_run_label(run)}"
    days = list(run.bucket_counts)
    if not days:
        return _figure(key, title, None, None)
    used = [b for b in order if any(b in counts for counts in run.bucket_counts.values())]
    stacks = [
        _Series(
            b,
            BUCKET_COLOURS[order.index(b) % len(BUCKET_COLOURS)],
            {i: float(run.bucket_counts[d].get(b, 0)) for i, d in enumerate(days)},
        )
        for b in used
    ]
    chart = _Chart(
        key,
        title,
        f"Stacked bars, one per day from {days[0]} to {days[-1]}: loans in each bucket "
        f"({', '.join(used)}), run {run.name}.",
        "日期 / Date",
        "贷款数 / Loans",
        width=480,
    )
    rows = [
        [d.isoformat(), *(run.bucket_counts[d].get(b, 0) for b in used), sum(run.bucket_counts[d].values())]
        for d in days
    ]
    table = _table(f"逾期阶段分布 / Bucket distribution — {run.name}", ["日期 / Date", *used, "合计 / Total"], rows)
    return _figure(key, title, _stacked_bars(chart, days, stacks), table)


def _recovery_figure(data: ReportData) -> str:
    title = f"累计回收金额 / Cumulative recovery ({data.currency})"
    days = sorted({d for r in data.runs for d in r.recovered})
    if not days:
        return _figure("recovery", title, None, None)
    index = {d: i for i, d in enumerate(days)}
    lines = [
        _Series(
            _run_label(r), SERIES_COLOURS[k % len(SERIES_COLOURS)], {index[d]: float(v) for d, v in r.recovered.items()}
        )
        for k, r in enumerate(data.runs)
    ]
    chart = _Chart(
        "recovery",
        title,
        f"Line chart of the amount recovered since {days[0]}, one line per run: "
        f"{', '.join(r.name for r in data.runs)}.",
        "日期 / Date",
        f"金额 / Amount ({data.currency})",
    )
    rows = [[d.isoformat(), *(_money(r.recovered[d]) if d in r.recovered else "—" for r in data.runs)] for d in days]
    table = _table(title, ["日期 / Date", *(r.name for r in data.runs)], rows)
    return _figure("recovery", title, _line_chart(chart, days, lines), table)


def _contacts_figure(key: str, run: StrategyRun) -> str:
    title = f"联络：计划 / 允许 / 拒绝 — Contacts planned / allowed / denied — {_run_label(run)}"
    days = list(run.contacts)
    if not days:
        return _figure(key, title, None, None)
    measures = (
        ("计划 / Planned", "planned", "#2b6cb0"),
        ("允许 / Allowed", "allowed", "#2f855a"),
        ("拒绝 / Denied", "denied", "#c53030"),
    )
    lines = [
        _Series(label, colour, {i: float(getattr(run.contacts[d], attr)) for i, d in enumerate(days)})
        for label, attr, colour in measures
    ]
    chart = _Chart(
        key,
        title,
        f"Line chart per day from {days[0]} to {days[-1]} of contacts the strategy planned, "
        f"the gate allowed and the gate denied, run {run.name}.",
        "日期 / Date",
        "联络次数 / Contacts",
        width=480,
    )
    rows = [[d.isoformat(), c.planned, c.allowed, c.denied] for d, c in run.contacts.items()]
    table = _table(f"联络 / Contacts — {run.name}", ["日期 / Date", *(m[0] for m in measures)], rows)
    return _figure(key, title, _line_chart(chart, days, lines), table)


def _denials_figure(data: ReportData) -> str:
    title = "按规则拒绝的联络 / Contacts denied by rule"
    rules: dict[str, tuple[str, str]] = {}
    for run in data.runs:
        for d in run.denials:
            rules.setdefault(d.rule_id, (d.title, d.citation))
    if not rules:
        return _figure("denials", title, None, None)
    ids = list(rules)
    counts = [{d.rule_id: d.count for d in run.denials} for run in data.runs]
    groups = [
        _Series(
            _run_label(run),
            SERIES_COLOURS[k % len(SERIES_COLOURS)],
            {i: float(counts[k].get(rule, 0)) for i, rule in enumerate(ids)},
        )
        for k, run in enumerate(data.runs)
    ]
    chart = _Chart(
        "denials",
        title,
        f"Horizontal bars: for each rule ({', '.join(ids)}), how many contacts it denied in each run.",
        "拒绝次数 / Denials",
        "规则 / Rule",
    )
    rows = [[rule, rules[rule][0], rules[rule][1], *(c.get(rule, 0) for c in counts)] for rule in ids]
    table = _table(
        title,
        ["规则 / Rule", "名称 / Title", "依据 / Citation", *(r.name for r in data.runs)],
        rows,
        folded=False,
        text_columns=frozenset({1, 2}),
    )
    return _figure("denials", title, _hbars(chart, ids, groups), table)


def _cures_figure(data: ReportData) -> str:
    title = "每日治愈 / Cures per day"
    days = sorted({d for r in data.runs for d in r.cures})
    if not days:
        return _figure("cures", title, None, None)
    index = {d: i for i, d in enumerate(days)}
    lines = [
        _Series(
            _run_label(r), SERIES_COLOURS[k % len(SERIES_COLOURS)], {index[d]: float(v) for d, v in r.cures.items()}
        )
        for k, r in enumerate(data.runs)
    ]
    chart = _Chart(
        "cures",
        title,
        f"Line chart of loans cured (back to current) each day from {days[0]} to {days[-1]}, one line per run.",
        "日期 / Date",
        "治愈数 / Cures",
        width=480,
    )
    rows = [[d.isoformat(), *(r.cures.get(d, "—") for r in data.runs)] for d in days]
    table = _table(title, ["日期 / Date", *(r.name for r in data.runs)], rows)
    return _figure("cures", title, _line_chart(chart, days, lines), table)


def _promises_figure(data: ReportData) -> str:
    title = "还款承诺：作出 / 兑现 — Promises to pay: made / kept"
    if not data.runs:
        return _figure("promises", title, None, None)
    labels = [_run_label(r) for r in data.runs]
    groups = [
        _Series("作出 / Made", "#2b6cb0", {i: float(r.promises_made) for i, r in enumerate(data.runs)}),
        _Series("兑现 / Kept", "#2f855a", {i: float(r.promises_kept) for i, r in enumerate(data.runs)}),
    ]
    chart = _Chart(
        "promises",
        title,
        "Horizontal bars: promises to pay made and kept in each run.",
        "承诺数 / Promises",
        "策略 / Strategy",
        width=480,
    )

    def rate(run: StrategyRun) -> str:
        if not run.promises_made:
            return "—"
        return f"{Decimal(run.promises_kept * 100) / Decimal(run.promises_made):.1f}%"

    rows = [[r.name, r.promises_made, r.promises_kept, rate(r)] for r in data.runs]
    table = _table(title, ["策略 / Strategy", "作出 / Made", "兑现 / Kept", "兑现率 / Kept rate"], rows, folded=False)
    return _figure("promises", title, _hbars(chart, labels, groups), table)


def _summary(data: ReportData) -> str:
    if not data.runs:
        return f'<p class="no-data">{_esc(NO_DATA)}</p>'
    labels: list[str] = []
    for run in data.runs:
        labels.extend(row.label for row in run.summary if row.label not in labels)
    if not labels:
        return f'<p class="no-data">{_esc(NO_DATA)}</p>'
    values = [{row.label: row.value for row in run.summary} for run in data.runs]
    rows = [[label, *(v.get(label, "—") for v in values)] for label in labels]
    return _table(
        "摘要对比 / Summary side by side", ["指标 / Measure", *(_run_label(r) for r in data.runs)], rows, folded=False
    )


def render_report(data: ReportData) -> str:
    """The whole report as one HTML5 document that loads nothing from anywhere."""
    p = data.parameters
    order = data.bucket_order()
    params = _table(
        "运行参数 / Run parameters",
        ["参数 / Parameter", "值 / Value"],
        [
            ["借款人 / Borrowers", f"{p.borrowers:,}"],
            ["天数 / Days", p.days],
            ["随机种子 / Seed", p.seed],
            ["规则包 / Rule pack", p.pack_label],
        ],
        folded=False,
    )
    audit_note = ""
    if any(r.audit_only for r in data.runs):
        audit_note = (
            '<p class="note">仅审计的策略：被拒绝的联络只被记录，从未发出。 / An audit-only run\'s denied '
            "contacts were recorded, never sent: they show what that strategy would have done that the "
            "rules forbid.</p>"
        )
    badge = '<span class="badge">仅审计 / audit-only</span>'
    runs_nav = "".join(f"<li>{_esc(r.name)}{badge if r.audit_only else ''}</li>" for r in data.runs)
    sections = [
        "<h2>摘要 / Summary</h2>",
        f'<div class="grid"><div>{params}</div><div>{_summary(data)}</div></div>',
        "<h2>逾期阶段分布 / Bucket distribution over time</h2>",
        '<div class="grid">'
        + "".join(_bucket_figure(f"buckets-{k}", r, order) for k, r in enumerate(data.runs))
        + ("" if data.runs else _figure("buckets", "逾期阶段分布 / Bucket distribution", None, None))
        + "</div>",
        "<h2>回收 / Recovery</h2>",
        _recovery_figure(data),
        "<h2>联络与规则 / Contacts and the rules</h2>",
        '<div class="grid">'
        + "".join(_contacts_figure(f"contacts-{k}", r) for k, r in enumerate(data.runs))
        + ("" if data.runs else _figure("contacts", "联络 / Contacts", None, None))
        + "</div>",
        _denials_figure(data),
        "<h2>治愈与承诺 / Cures and promises</h2>",
        f'<div class="grid">{_cures_figure(data)}{_promises_figure(data)}</div>',
    ]
    return page(data.title, data.generated_at, [f'<ul class="runs">{runs_nav}</ul>', audit_note], sections)


def page(title: str, generated_at: datetime, header: Sequence[str], sections: Sequence[str]) -> str:
    """A whole self-contained document: the shared head and style, a header with the title, when it was generated
    (in UTC) and ``header``'s extra lines, then ``sections``. The demo report and the audit report both use it."""
    generated = generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="zh-CN">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_esc(title)}</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body>",
            "<header>",
            f"<h1>{_esc(title)}</h1>",
            f'<p class="meta">生成时间 / Generated at: <time datetime="{_esc(generated_at.isoformat())}">'
            f"{_esc(generated)}</time></p>",
            *header,
            "</header>",
            "<main>",
            *sections,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )


def write_report(data: ReportData, directory: Path) -> Path:
    """Render the report and write ``directory/index.html`` atomically; returns the file's path.

    The document is rendered before anything is written, then written to a temporary file in the same directory
    and renamed over ``index.html``: a reader sees the old report or the new one, never half of one, and a failure
    leaves no temporary file behind.
    """
    document = render_report(data)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "index.html"
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=".index.", suffix=".html.tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(document)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(0o644)
        tmp.replace(target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return target
