"""The portfolio analytics (``fairdun audit portfolio --html FILE``) as one self-contained HTML page.

Built on the demo report's page shell and inline-SVG helpers (``fairdun.adapters.report.html``), as the audit report
is: nothing is fetched when the page opens, each chart is a ``<figure>`` with a title, a description, and the
numbers it draws in a table beside it. Only the roll-rate heat map is drawn here, because no shared chart shows a
matrix. Rates are shown as percentages with one decimal, complaints per 10,000 contacts with two; a rate with
nothing to divide by is "—", never a zero.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

from fairdun.adapters.report.html import (
    LEFT,
    SERIES_COLOURS,
    TOP,
    _Chart,
    _esc,
    _figure,
    _frame,
    _hbars,
    _num,
    _Series,
    _table,
    _text_width,
    page,
)
from fairdun.application.analytics import ComplaintRate, PortfolioAnalytics

__all__ = ["per_10k", "percent", "render_portfolio", "write_portfolio"]

CELL_W, CELL_H = 64.0, 30.0


def percent(value: Fraction | None) -> str:
    """A rate as a percentage with one decimal; "—" when there was nothing to divide by."""
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def per_10k(value: Fraction | None) -> str:
    return "—" if value is None else f"{float(value):.2f}"


def _shade(share: float) -> str:
    """White for 0, deep blue for 1: the share of a row's loans that went to a column's bucket."""
    low, high = (255, 255, 255), (43, 108, 176)
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _heatmap(chart: _Chart, names: Sequence[str], counts: Sequence[Sequence[int]]) -> str:
    """The roll-rate matrix: a cell per (from, to) shaded by the row's share, with the share written in it."""
    left = LEFT + max((_text_width(n, 11) for n in names), default=40.0)
    body = ['<g class="heatmap">']
    for c, name in enumerate(names):
        x = left + c * CELL_W + CELL_W / 2
        body.append(f'<text x="{_num(x)}" y="{_num(TOP + 10)}" font-size="11" text-anchor="middle">{_esc(name)}</text>')
    for r, (name, row) in enumerate(zip(names, counts, strict=True)):
        y = TOP + 16 + r * CELL_H
        body.append(
            f'<text x="{_num(left - 6)}" y="{_num(y + CELL_H / 2 + 4)}" font-size="11" text-anchor="end">'
            f"{_esc(name)}</text>"
        )
        total = sum(row)
        for c, count in enumerate(row):
            share = count / total if total else 0.0
            x = left + c * CELL_W
            label = f"{share * 100:.0f}%" if total else "—"
            body.append(
                f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(CELL_W - 2)}" height="{_num(CELL_H - 2)}" '
                f'fill="{_shade(share)}" stroke="#e2e8f0"><title>{_esc(f"{name} → {names[c]}: {count} ({label})")}'
                "</title></rect>"
            )
            colour = "#fff" if share > 0.55 else "#1a202c"  # dark text stops reading on the deeper blues
            body.append(
                f'<text x="{_num(x + CELL_W / 2 - 1)}" y="{_num(y + CELL_H / 2 + 3)}" font-size="11" '
                f'text-anchor="middle" fill="{colour}">{_esc(label)}</text>'
            )
    body.append("</g>")
    plot_bottom = TOP + 16 + CELL_H * len(names)
    return _frame(chart, body, [("0%", _shade(0.0)), ("100%", _shade(1.0))], plot_bottom)


def _roll_figure(figures: PortfolioAnalytics) -> str:
    roll = figures.roll
    title = f"滚动率矩阵 / Roll-rate matrix {figures.start} → {figures.end}"
    if not any(any(row) for row in roll.counts):
        return _figure("roll", title, None, None)
    chart = _Chart(
        "roll",
        title,
        "Heat map: for each bucket on the first day (rows), the share of its loans in each bucket on the last day "
        "(columns).",
        "期末 / Bucket on the last day",
        "期初 / First day",
    )
    rows = [[name, *(percent(roll.rate(name, to)) for to in roll.buckets), roll.leaving(name)] for name in roll.buckets]
    table = _table(title, ["期初 \\ 期末 / from \\ to", *roll.buckets, "贷款 / Loans"], rows, folded=False)
    counts = _table(
        "滚动计数 / Roll counts",
        ["期初 \\ 期末 / from \\ to", *roll.buckets],
        [[name, *row] for name, row in zip(roll.buckets, roll.counts, strict=True)],
    )
    return _figure("roll", title, _heatmap(chart, roll.buckets, roll.counts), table + counts)


def _rates_figure(figures: PortfolioAnalytics) -> str:
    title = "比率 / Rates"
    measures = [
        ("治愈率 / Cure rate", figures.cure_rate),
        ("承诺兑现率 / Promise-to-pay kept rate", figures.promise_kept_rate),
        ("本人接通率 / Right-party contact rate", figures.right_party_contact_rate),
    ]
    chart = _Chart(
        "rates",
        title,
        "Horizontal bars, in percent: the cure rate, the promise-to-pay kept rate and the right-party contact rate.",
        "百分比 / Percent",
        "指标 / Measure",
        width=480,
    )
    points = {i: float(v) * 100 for i, (_, v) in enumerate(measures) if v is not None}
    rows = [
        [
            "治愈率 / Cure rate",
            percent(figures.cure_rate),
            "期初逾期、期末正常 / delinquent on the first day, current on the last",
        ],
        [
            "承诺兑现率 / Promise-to-pay kept rate",
            percent(figures.promise_kept_rate),
            f"{figures.promises_kept} / {figures.promises_kept + figures.promises_broken}",
        ],
        [
            "本人接通率 / Right-party contact rate",
            percent(figures.right_party_contact_rate),
            f"{figures.right_party_contacts} / {figures.calls_to_debtors}",
        ],
    ]
    table = _table(
        title, ["指标 / Measure", "值 / Value", "计算 / Of"], rows, folded=False, text_columns=frozenset({2})
    )
    series = [_Series("%", SERIES_COLOURS[0], {i: round(v, 1) for i, v in points.items()})]
    svg = _hbars(chart, [m[0] for m in measures], series) if points else None
    return _figure("rates", title, svg, table)


def _promises_figure(figures: PortfolioAnalytics) -> str:
    title = "还款承诺 / Promises to pay"
    measures = [
        ("作出 / Made", figures.promises_made),
        ("兑现 / Kept", figures.promises_kept),
        ("未兑现 / Broken", figures.promises_broken),
        ("待定 / Pending", figures.promises_pending),
    ]
    chart = _Chart(
        "promises", title, "Horizontal bars: promises to pay made in the period, kept, broken and pending.",
        "承诺数 / Promises", "状态 / Status", width=480,
    )  # fmt: skip
    series = [_Series("承诺 / Promises", SERIES_COLOURS[2], {i: float(n) for i, (_, n) in enumerate(measures)})]
    table = _table(title, ["状态 / Status", "数量 / Count"], [list(m) for m in measures], folded=False)
    return _figure("promises", title, _hbars(chart, [m[0] for m in measures], series), table)


def _intensity_figure(figures: PortfolioAnalytics) -> str:
    title = "联络强度 / Contact intensity"
    intensity = figures.contact_intensity
    rows = [
        ["外呼联络 / Outbound contacts", f"{figures.contacts:,}"],
        ["逾期贷款日 / Delinquent loan-days", f"{figures.delinquent_loan_days:,}"],
        [
            "每逾期贷款日联络 / Contacts per delinquent loan-day",
            "—" if intensity is None else f"{float(intensity):.2f}",
        ],
    ]
    table = _table(title, ["指标 / Measure", "值 / Value"], rows, folded=False)
    if intensity is None:
        return _figure("intensity", title, None, table)
    chart = _Chart(
        "intensity", title, "A horizontal bar: outbound contacts per delinquent loan-day in the period.",
        "联络 / Contacts", "", width=480,
    )  # fmt: skip
    series = [_Series("每逾期贷款日 / per delinquent loan-day", SERIES_COLOURS[3], {0: round(float(intensity), 2)})]
    return _figure("intensity", title, _hbars(chart, ["联络强度 / Intensity"], series), table)


def _rate_figure(key: str, title: str, what: str, rates: Sequence[ComplaintRate]) -> str:
    """Complaints per 10,000 contacts for each collector, agency or month, with the counts behind each."""
    if not rates:
        return _figure(key, title, None, None)
    shown = [r for r in rates if r.per_10k is not None]
    rows = [[r.key, r.complaints, r.contacts, per_10k(r.per_10k)] for r in rates]
    table = _table(
        title, [what, "投诉 / Complaints", "联络 / Contacts", "每万次联络 / Per 10,000 contacts"], rows, folded=False
    )
    if not shown:
        return _figure(key, title, None, table)
    chart = _Chart(key, title, f"Horizontal bars: complaints per 10,000 outbound contacts per {what}.",
                   "每万次联络投诉 / Complaints per 10,000 contacts", what, width=480)  # fmt: skip
    series = [
        _Series(
            "每万次 / per 10,000", SERIES_COLOURS[1], {i: round(float(r.per_10k or 0), 2) for i, r in enumerate(shown)}
        )
    ]
    return _figure(key, title, _hbars(chart, [r.key for r in shown], series), table)


def _categories_figure(figures: PortfolioAnalytics) -> str:
    title = "投诉类别 / Complaints by category"
    if not figures.complaints_by_category:
        return _figure("complaints-category", title, None, None)
    names = [c for c, _ in figures.complaints_by_category]
    chart = _Chart("complaints-category", title, "Horizontal bars: complaints received per category.",
                   "投诉 / Complaints", "类别 / Category", width=480)  # fmt: skip
    series = [
        _Series(
            "投诉 / Complaints",
            SERIES_COLOURS[1],
            {i: float(n) for i, (_, n) in enumerate(figures.complaints_by_category)},
        )
    ]
    table = _table(
        title, ["类别 / Category", "投诉 / Complaints"], [list(c) for c in figures.complaints_by_category], folded=False
    )
    return _figure("complaints-category", title, _hbars(chart, names, series), table)


def render_portfolio(figures: PortfolioAnalytics, *, generated_at: datetime) -> str:
    """The page as one HTML5 document that loads nothing from anywhere."""
    summary = _table(
        "摘要 / Summary",
        ["指标 / Measure", "值 / Value"],
        [
            ["期间 / Period", f"{figures.start} → {figures.end}"],
            ["贷款 / Loans", f"{figures.loans:,}"],
            ["治愈率 / Cure rate", percent(figures.cure_rate)],
            ["承诺兑现率 / Promise-to-pay kept rate", percent(figures.promise_kept_rate)],
            ["本人接通率 / Right-party contact rate", percent(figures.right_party_contact_rate)],
            [
                "联络强度 / Contact intensity",
                "—" if figures.contact_intensity is None else f"{float(figures.contact_intensity):.2f}",
            ],
            ["投诉 / Complaints received", f"{figures.complaints:,}"],
            ["每万次联络投诉 / Complaints per 10,000 contacts", per_10k(figures.complaints_per_10k)],
        ],
        folded=False,
    )
    sections = [
        "<h2>摘要 / Summary</h2>",
        summary,
        "<h2>逾期迁移 / Roll rates</h2>",
        _roll_figure(figures),
        "<h2>催收效果 / Collection results</h2>",
        f'<div class="grid">{_rates_figure(figures)}{_promises_figure(figures)}{_intensity_figure(figures)}</div>',
        "<h2>投诉 / Complaints per 10,000 contacts</h2>",
        '<p class="note">投诉按收到日期（借款人当地时间）计入；联络按其当地日期计入催收员与机构。 / A complaint counts '
        "for the collector and agency it names, else those handling the case the day it was received; a contact "
        "for those handling its case that day.</p>",
        '<div class="grid">'
        + _rate_figure("complaints-collector", "按催收员 / By collector", "催收员 / Collector", figures.by_collector)
        + _rate_figure("complaints-agency", "按机构 / By agency", "机构 / Agency", figures.by_agency)
        + "</div>",
        '<div class="grid">'
        + _rate_figure("complaints-month", "按月份 / By month", "月份 / Month", figures.by_month)
        + _categories_figure(figures)
        + "</div>",
    ]
    title = f"资产组合分析 / Portfolio analytics {figures.start} → {figures.end}"
    return page(title, generated_at, [], sections)


def write_portfolio(figures: PortfolioAnalytics, target: Path, *, generated_at: datetime | None = None) -> Path:
    """Renders the page and writes it to ``target`` atomically (a temporary file renamed over it)."""
    document = render_portfolio(figures, generated_at=generated_at or datetime.now(UTC))
    directory = target.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=".portfolio.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(document)
        tmp.chmod(0o644)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
