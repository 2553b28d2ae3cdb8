"""The demo report is parsed, not string-matched: its structure, its tables' numbers, and that it loads nothing."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from fairdun.adapters.report import html as report_html
from fairdun.adapters.report import render_report, write_report
from fairdun.application.report_data import (
    ContactCounts,
    ReportData,
    ReportDataError,
    RuleDenials,
    RunParameters,
    StrategyRun,
    SummaryRow,
)
from tests.report.parse import Node, parse, table_rows

START = date(2026, 1, 5)
DAYS = [START + timedelta(days=i) for i in range(3)]
SCRIPT_TITLE = '夜间 <script>alert("x")</script> & quiet hours'


def compliant() -> StrategyRun:
    return StrategyRun(
        name="compliant",
        bucket_counts={
            DAYS[0]: {"C": 90, "M1": 8, "M2": 2},
            DAYS[1]: {"C": 91, "M1": 7, "M2": 2},
            DAYS[2]: {"C": 93, "M1": 6, "M2": 1},
        },
        recovered={DAYS[0]: Decimal("1200.50"), DAYS[1]: Decimal("2500.00"), DAYS[2]: Decimal("1234567.89")},
        contacts={
            DAYS[0]: ContactCounts(planned=10, allowed=9, denied=1),
            DAYS[1]: ContactCounts(planned=12, allowed=12, denied=0),
            DAYS[2]: ContactCounts(planned=8, allowed=6, denied=1),
        },
        denials=(RuleDenials("cn.quiet-hours", SCRIPT_TITLE, "公约 第二十四条", 2),),
        cures={DAYS[0]: 1, DAYS[1]: 2, DAYS[2]: 0},
        promises_made=5,
        promises_kept=4,
        summary=(SummaryRow("回收 / Recovered", "CNY 1,234,567.89"), SummaryRow("治愈 / Cures", "3")),
    )


def aggressive() -> StrategyRun:
    return StrategyRun(
        name="aggressive (audit-only)",
        bucket_counts={
            DAYS[0]: {"C": 90, "M1": 8, "M2": 2},
            DAYS[1]: {"C": 92, "M1": 6, "M2": 2},
            DAYS[2]: {"C": 94, "M1": 5, "M2": 1},
        },
        recovered={DAYS[0]: Decimal("1300.00"), DAYS[1]: Decimal("2700.25"), DAYS[2]: Decimal("1300000.00")},
        contacts={
            DAYS[0]: ContactCounts(planned=40, allowed=10, denied=30),
            DAYS[1]: ContactCounts(planned=44, allowed=11, denied=33),
            DAYS[2]: ContactCounts(planned=38, allowed=9, denied=29),
        },
        denials=(
            RuleDenials("cn.quiet-hours", SCRIPT_TITLE, "公约 第二十四条", 50),
            RuleDenials("cn.daily-cap", "每日上限 / Daily cap", "公约 第二十三条", 42),
        ),
        cures={DAYS[0]: 1, DAYS[1]: 3, DAYS[2]: 1},
        promises_made=6,
        promises_kept=2,
        summary=(SummaryRow("回收 / Recovered", "CNY 1,300,000.00"), SummaryRow("拒绝 / Denied", "92")),
        audit_only=True,
    )


def report(*runs: StrategyRun) -> ReportData:
    return ReportData(
        title="fairdun 演示报告 / Demo report",
        generated_at=datetime(2026, 3, 1, 8, 30, tzinfo=UTC),
        parameters=RunParameters(borrowers=100, days=3, seed=42, pack_label="cn 2026.1"),
        runs=runs if runs else (compliant(), aggressive()),
        buckets=("C", "M1", "M2"),
    )


@pytest.fixture(scope="module")
def document() -> str:
    return render_report(report())


@pytest.fixture(scope="module")
def root(document: str) -> Node:
    return parse(document).root


def figures(root: Node) -> dict[str, Node]:
    return {f.attrs["id"] or "": f for f in root.find_all("figure") if "chart" in f.classes()}


def svg_title(svg: Node) -> str:
    return svg.find("title").text()


def amount(cell: str) -> Decimal:
    return Decimal(cell.replace(",", ""))


# The document


def test_the_document_is_html5_in_simplified_chinese_and_utf8(document: str) -> None:
    tree = parse(document)
    assert tree.doctype is not None
    assert tree.doctype.lower() == "doctype html"
    html = tree.root.find("html")
    assert html.attrs["lang"] == "zh-CN"
    assert html.find("meta").attrs.get("charset") == "utf-8"
    assert html.find("title").text() == "fairdun 演示报告 / Demo report"
    assert html.find("h1").text() == "fairdun 演示报告 / Demo report"
    assert html.find("time").attrs["datetime"] == "2026-03-01T08:30:00+00:00"


def test_the_report_draws_exactly_the_expected_charts(root: Node) -> None:
    titles = [svg_title(svg) for svg in root.find_all("svg")]
    assert titles == [
        "逾期阶段分布 / Bucket distribution — compliant",
        "逾期阶段分布 / Bucket distribution — aggressive (audit-only)",
        "累计回收金额 / Cumulative recovery (CNY)",
        "联络：计划 / 允许 / 拒绝 — Contacts planned / allowed / denied — compliant",
        "联络：计划 / 允许 / 拒绝 — Contacts planned / allowed / denied — aggressive (audit-only)",
        "按规则拒绝的联络 / Contacts denied by rule",
        "每日治愈 / Cures per day",
        "还款承诺：作出 / 兑现 — Promises to pay: made / kept",
    ]
    assert not root.find_all("p", **{"class": "no-data"})


def test_every_chart_is_titled_described_labelled_and_has_a_legend_and_a_table(root: Node) -> None:
    for key, figure in figures(root).items():
        assert figure.find("figcaption").text(), key
        svg = figure.find("svg")
        assert svg.attrs["role"] == "img"
        title, desc = svg.find("title"), svg.find("desc")
        assert (svg.attrs["aria-labelledby"] or "").split() == [title.attrs["id"], desc.attrs["id"]]
        assert svg_title(svg) == figure.find("figcaption").text()
        assert desc.text(), key
        axis_labels = [t.text() for t in svg.find_all("text") if "axis-label" in t.classes()]
        assert len(axis_labels) == 2, key
        assert all(" / " in label for label in axis_labels), f"{key}: labels are Chinese / English"
        legend = svg.find("g", **{"class": "legend"})
        assert legend.find_all("rect"), key
        assert len(legend.find_all("rect")) == len(legend.find_all("text")), key
        assert figure.find_all("table"), f"{key} has no data table"


def test_every_svg_is_well_formed_xml(document: str) -> None:
    svgs = re.findall(r"<svg\b.*?</svg>", document, flags=re.DOTALL)
    assert len(svgs) == 8
    for svg in svgs:
        element = ET.fromstring(svg)
        assert element.tag == "svg"
        assert element.find("title") is not None


def test_svg_ids_are_unique(root: Node) -> None:
    ids = [n.attrs["id"] for n in root.iter() if n.attrs.get("id")]
    assert len(ids) == len(set(ids))


# The numbers under each chart


def test_bucket_tables_hold_one_row_per_day_with_each_buckets_count(root: Node) -> None:
    charts = figures(root)
    for key, run in (("buckets-0", compliant()), ("buckets-1", aggressive())):
        header = [th.text() for th in charts[key].find("thead").find_all("th")]
        assert header[1:] == ["C", "M1", "M2", "合计 / Total"]
        rows = table_rows(charts[key].find("table"))
        assert len(rows) == len(run.bucket_counts)
        for row, (day, counts) in zip(rows, run.bucket_counts.items(), strict=True):
            assert row[0] == day.isoformat()
            assert [int(c) for c in row[1:4]] == [counts["C"], counts["M1"], counts["M2"]]
            assert int(row[4]) == sum(counts.values())


def test_the_bucket_bars_add_up_to_the_days_total(root: Node) -> None:
    svg = figures(root)["buckets-0"].find("svg")
    bars = svg.find("g", **{"class": "bars"}).find_all("rect")
    assert len(bars) == 9  # three days x three buckets, all non-zero
    heights = [float(bar.attrs["height"] or 0) for bar in bars]
    per_day = [sum(heights[i : i + 3]) for i in range(0, 9, 3)]
    totals = [100, 100, 100]
    assert per_day[0] == pytest.approx(per_day[1], abs=0.2)
    assert per_day[0] / totals[0] == pytest.approx(per_day[2] / totals[2], abs=0.01)


def test_the_recovery_table_shows_both_runs_to_the_cent(root: Node) -> None:
    rows = table_rows(figures(root)["recovery"].find("table"))
    assert len(rows) == 3
    for row, day in zip(rows, DAYS, strict=True):
        assert row[0] == day.isoformat()
        assert amount(row[1]) == compliant().recovered[day]
        assert amount(row[2]) == aggressive().recovered[day]
    assert rows[2][1] == "1,234,567.89"
    lines = figures(root)["recovery"].find("svg").find_all("polyline")
    assert len(lines) == 2
    assert all(len((line.attrs["points"] or "").split()) == 3 for line in lines)


def test_the_contacts_tables_hold_planned_allowed_and_denied_per_day(root: Node) -> None:
    charts = figures(root)
    for key, run in (("contacts-0", compliant()), ("contacts-1", aggressive())):
        rows = table_rows(charts[key].find("table"))
        assert [[int(c) for c in row[1:]] for row in rows] == [
            [c.planned, c.allowed, c.denied] for c in run.contacts.values()
        ]
        assert len(charts[key].find("svg").find_all("polyline")) == 3


def test_the_denials_table_names_each_rule_with_its_citation_and_counts_per_run(root: Node) -> None:
    rows = table_rows(figures(root)["denials"].find("table"))
    assert rows == [
        ["cn.quiet-hours", SCRIPT_TITLE, "公约 第二十四条", "2", "50"],
        ["cn.daily-cap", "每日上限 / Daily cap", "公约 第二十三条", "0", "42"],
    ]
    bars = figures(root)["denials"].find("svg").find("g", **{"class": "bars"}).find_all("rect")
    assert len(bars) == 4  # two rules x two runs


def test_the_cures_and_promises_tables_match_the_input(root: Node) -> None:
    charts = figures(root)
    cures = table_rows(charts["cures"].find("table"))
    assert [[int(c) for c in row[1:]] for row in cures] == [[1, 1], [2, 3], [0, 1]]
    promises = table_rows(charts["promises"].find("table"))
    assert promises == [["compliant", "5", "4", "80.0%"], ["aggressive (audit-only)", "6", "2", "33.3%"]]


def test_the_summary_puts_the_runs_side_by_side(root: Node) -> None:
    summary = next(t for t in root.find_all("table") if t.find("caption").text().startswith("摘要对比"))
    header = [th.text() for th in summary.find("thead").find_all("th")]
    assert header == ["指标 / Measure", "compliant", "aggressive (audit-only)"]
    assert table_rows(summary) == [
        ["回收 / Recovered", "CNY 1,234,567.89", "CNY 1,300,000.00"],
        ["治愈 / Cures", "3", "—"],
        ["拒绝 / Denied", "—", "92"],
    ]
    parameters = next(t for t in root.find_all("table") if t.find("caption").text().startswith("运行参数"))
    assert [row[1] for row in table_rows(parameters)] == ["100", "3", "42", "cn 2026.1"]


# Self-contained and safe


def test_nothing_is_loaded_from_anywhere(root: Node) -> None:
    for node in root.iter():
        for name, value in node.attrs.items():
            assert "http://" not in (value or ""), (node.tag, name)
            assert "https://" not in (value or ""), (node.tag, name)
            assert name not in {"src", "href", "srcset"}, (node.tag, name)
    assert not [n for n in root.iter() if n.tag in {"script", "link", "img", "iframe", "object", "embed"}]
    css = root.find("style").text()
    assert "url(" not in css
    assert "@import" not in css


def test_text_from_the_data_is_escaped(document: str, root: Node) -> None:
    assert not root.find_all("script")
    titles = [n.text() for n in root.iter("td") if "script" in n.text()]
    assert titles == [SCRIPT_TITLE]
    assert "<script>" not in document


def test_names_that_look_like_markup_stay_text() -> None:
    run = StrategyRun(name='<b onload="x">"bold"</b>', recovered={DAYS[0]: Decimal(1)})
    root = parse(render_report(report(run))).root
    assert not root.find_all("b")
    assert svg_title(root.find("svg")) == "累计回收金额 / Cumulative recovery (CNY)"
    assert [s.text() for s in root.find("svg").find("g", **{"class": "legend"}).find_all("text")] == [run.name]
    assert root.find("ul", **{"class": "runs"}).find("li").text() == run.name


def test_rendering_is_deterministic(document: str) -> None:
    assert render_report(report()) == document


# Missing data


def test_a_run_with_no_data_shows_a_no_data_note_instead_of_charts() -> None:
    root = parse(render_report(report(StrategyRun(name="empty")))).root
    charts = figures(root)
    notes = {key: f.find_all("p", **{"class": "no-data"}) for key, f in charts.items()}
    empty = {key for key, found in notes.items() if found}
    assert empty == {"buckets-0", "recovery", "contacts-0", "denials", "cures"}
    for key in empty:
        assert notes[key][0].text() == "暂无数据 / No data"
        assert not charts[key].find_all("svg")
        assert not charts[key].find_all("table")
    assert [svg_title(svg) for svg in root.find_all("svg")] == ["还款承诺：作出 / 兑现 — Promises to pay: made / kept"]


def test_a_report_with_no_runs_renders_notes_only() -> None:
    data = ReportData(
        title="empty",
        generated_at=datetime(2026, 3, 1, tzinfo=UTC),
        parameters=RunParameters(borrowers=0, days=0, seed=0, pack_label="cn"),
        runs=(),
    )
    root = parse(render_report(data)).root
    assert not root.find_all("svg")
    assert len(root.find_all("p", **{"class": "no-data"})) == 7  # summary + six charts


def test_a_single_day_and_all_zero_counts_still_draw() -> None:
    run = StrategyRun(
        name="one day",
        bucket_counts={DAYS[0]: {"C": 0}},
        recovered={DAYS[0]: Decimal("0.00")},
        contacts={DAYS[0]: ContactCounts(0, 0, 0)},
        cures={DAYS[0]: 0},
    )
    root = parse(render_report(report(run))).root
    assert len(root.find_all("svg")) == 5  # no denials at all: that chart is a note
    assert len(table_rows(figures(root)["recovery"].find("table"))) == 1


def test_axes_of_counts_tick_in_whole_numbers() -> None:
    run = StrategyRun(name="small", contacts={DAYS[0]: ContactCounts(2, 1, 1), DAYS[1]: ContactCounts(1, 1, 0)})
    svg = parse(render_report(report(run))).root.find("svg")
    ticks = [t.text() for t in svg.find("g", **{"class": "y-axis"}).find_all("text")]
    assert ticks == ["0", "1", "2"]


def test_bar_values_are_written_whole_with_thousands_separated() -> None:
    chart = report_html._Chart("big", "Big", "Counts in the millions", "Count", "Rule")
    series = report_html._Series("deny", "#c53030", {0: 1_233_937.0, 1: 9_556.0, 2: 0.0, 3: 2.5})
    svg = parse(report_html._hbars(chart, ["A", "B", "C", "D"], [series])).root.find("g", **{"class": "bars"})
    written = [t.text() for t in svg.find_all("text")]
    assert written == ["A", "1,233,937", "B", "9,556", "C", "0", "D", "2.5"]
    tips = [t.text() for t in svg.find_all("title")]
    assert tips == ["A deny: 1,233,937", "B deny: 9,556", "C deny: 0", "D deny: 2.5"]


# Values are checked when built


def test_money_as_float_is_refused() -> None:
    with pytest.raises(ReportDataError, match="recovered"):
        StrategyRun(name="x", recovered={DAYS[0]: 1.5})  # type: ignore[dict-item]


def test_a_naive_generated_at_is_refused() -> None:
    with pytest.raises(ReportDataError, match="generated_at"):
        ReportData(
            title="t",
            generated_at=datetime(2026, 3, 1),  # noqa: DTZ001 - the point of the test
            parameters=RunParameters(1, 1, 1, "cn"),
            runs=(),
        )


@pytest.mark.parametrize(
    "make",
    [
        lambda: ContactCounts(planned=1, allowed=1, denied=1),
        lambda: ContactCounts(planned=-1, allowed=0, denied=0),
        lambda: StrategyRun(name="x", promises_made=1, promises_kept=2),
        lambda: StrategyRun(name="x", cures={DAYS[0]: -1}),
        lambda: StrategyRun(name="x", denials=(RuleDenials("a", "t", "c", 1), RuleDenials("a", "t", "c", 2))),
        lambda: ReportData(
            "t",
            datetime(2026, 1, 1, tzinfo=UTC),
            RunParameters(1, 1, 1, "cn"),
            (StrategyRun(name="x"), StrategyRun(name="x")),
        ),
    ],
)
def test_impossible_values_are_refused(make: object) -> None:
    with pytest.raises(ReportDataError):
        make()  # type: ignore[operator]


def test_series_are_kept_in_date_order_and_frozen() -> None:
    run = StrategyRun(name="x", cures={DAYS[2]: 1, DAYS[0]: 2})
    assert list(run.cures) == [DAYS[0], DAYS[2]]
    with pytest.raises(TypeError):
        run.cures[DAYS[1]] = 3  # type: ignore[index]


# Writing the file


def test_write_report_creates_the_directory_and_writes_index_html(tmp_path: Path) -> None:
    target = write_report(report(), tmp_path / "a" / "demo-report")
    assert target == tmp_path / "a" / "demo-report" / "index.html"
    assert target.read_text(encoding="utf-8") == render_report(report())
    assert [p.name for p in target.parent.iterdir()] == ["index.html"]


def test_a_render_that_fails_leaves_the_old_report_and_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = write_report(report(), tmp_path)
    before = target.read_bytes()

    def broken(data: ReportData) -> str:
        raise RuntimeError("renderer broke")

    monkeypatch.setattr(report_html, "render_report", broken)
    with pytest.raises(RuntimeError, match="renderer broke"):
        report_html.write_report(report(), tmp_path)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]


def test_a_write_that_fails_midway_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_replace(self: Path, target: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_report(report(), tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []
