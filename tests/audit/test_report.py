"""The audit's HTML report, parsed (not matched as text): self-contained, every chart with its table, the numbers
those tables show equal to the violations file's."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq

from fairdun.adapters.audit.duckdb_engine import DuckDBAuditEngine
from fairdun.adapters.audit.report import HtmlAuditReporter
from fairdun.application.audit import AuditJob, run_audit
from fairdun.config.packs import PackLoader
from tests.audit.data import seeded_log, write_facts, write_log_parquet


class Page(HTMLParser):
    """Collects what the tests look at: external references, figures, and each table's rows by caption."""

    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []
        self.figures: list[str] = []
        self.svgs = 0
        self.tables: dict[str, list[list[str]]] = {}
        self._caption: str | None = None
        self._in_caption = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("src", "href"):
            if values.get(key):
                self.external.append(str(values[key]))
        if tag == "script":
            self.external.append("<script>")
        if tag == "figure" and values.get("id"):
            self.figures.append(str(values["id"]))
        if tag == "svg":
            self.svgs += 1
        if tag == "caption":
            self._in_caption, self._caption = True, ""
        if tag == "tr":
            self._row = []
        if tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._in_caption = False
            assert self._caption is not None
            self.tables.setdefault(self._caption, [])
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        if tag == "tr" and self._row is not None and self._caption is not None:
            self.tables[self._caption].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._in_caption and self._caption is not None:
            self._caption += data
        if self._cell is not None:
            self._cell.append(data)


def test_the_report_is_self_contained_and_its_tables_match_the_violations(tmp_path: Path, loader: PackLoader) -> None:
    rows, tables = seeded_log(300, 5)
    job = AuditJob(
        loader.load("cn"),
        write_log_parquet(rows, tmp_path / "log.parquet"),
        write_facts(tables, tmp_path / "facts"),
        tmp_path / "out",
        lang="en",
    )
    summary = run_audit(job, DuckDBAuditEngine(), HtmlAuditReporter())
    assert summary.report == tmp_path / "out" / "report.html"
    page = Page()
    page.feed(summary.report.read_text(encoding="utf-8"))
    assert page.external == []
    assert {"rules", "days", "operators", "orgs", "debtors"} <= set(page.figures)
    assert page.svgs >= 5

    violations = pq.read_table(summary.output)
    by_rule = Counter(zip(violations["rule"].to_pylist(), violations["effect"].to_pylist(), strict=True))
    rule_rows = page.tables["按规则 / Violations by rule"][1:]
    shown = {(r[0], "deny"): int(r[3]) for r in rule_rows} | {(r[0], "indeterminate"): int(r[4]) for r in rule_rows}
    assert {k: v for k, v in shown.items() if v} == dict(by_rule)

    by_operator = Counter(violations["operator"].to_pylist())
    operator_rows = page.tables["按催收员 / By collector"][1:]
    assert {r[0]: int(r[1].replace(",", "")) for r in operator_rows} == dict(by_operator)
    worst = max(by_operator.values())
    assert int(operator_rows[0][1].replace(",", "")) == worst


def test_a_report_from_csv_output_shows_what_one_from_parquet_shows(tmp_path: Path, loader: PackLoader) -> None:
    rows, tables = seeded_log(300, 6)
    log = write_log_parquet(rows, tmp_path / "log.parquet")
    facts = write_facts(tables, tmp_path / "facts")
    pages = {}
    for fmt in ("parquet", "csv"):
        job = AuditJob(loader.load("cn"), log, facts, tmp_path / fmt, format=fmt, lang="en")
        summary = run_audit(job, DuckDBAuditEngine(), HtmlAuditReporter())
        assert summary.output.suffix == f".{fmt}"
        assert summary.report is not None
        pages[fmt] = Page()
        pages[fmt].feed(summary.report.read_text(encoding="utf-8"))
    assert pages["csv"].tables["按规则 / Violations by rule"][1:]  # violations to show
    assert pages["csv"].tables == pages["parquet"].tables
    assert pages["csv"].figures == pages["parquet"].figures


def test_a_clean_log_has_a_report_that_says_there_is_no_data(tmp_path: Path, loader: PackLoader) -> None:
    rows, _ = seeded_log(0, 1)
    job = AuditJob(loader.load("cn"), write_log_parquet(rows, tmp_path / "log.parquet"), None, tmp_path / "out")
    summary = run_audit(job, DuckDBAuditEngine(), HtmlAuditReporter())
    assert summary.violations == 0
    assert summary.report is not None
    page = Page()
    page.feed(summary.report.read_text(encoding="utf-8"))
    assert page.svgs == 0
    assert "rules" in page.figures
