"""The portfolio page in a real browser, as the demo report is (tests/report/test_browser.py): Debian's headless
Chromium builds every chart, draws the page, and asks the network for nothing beyond what it asks with a blank
page."""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path

import pytest

from fairdun.adapters.report.portfolio_html import write_portfolio
from fairdun.application.analytics import ComplaintRate, PortfolioAnalytics
from fairdun.domain.delinquency import RollRates
from tests.report.test_browser import addresses, browse, chromium

__all__ = ["chromium"]

BUCKETS = ("C", "M1", "M2", "M3")


def figures() -> PortfolioAnalytics:
    """Fixed, fictional figures: every chart has something to draw."""
    roll = RollRates(
        date(2026, 9, 1),
        date(2026, 9, 30),
        BUCKETS,
        ((410, 22, 0, 0), (31, 40, 18, 0), (4, 3, 12, 9), (0, 1, 2, 15)),
    )
    return PortfolioAnalytics(
        start=date(2026, 9, 1),
        end=date(2026, 9, 30),
        loans=567,
        roll=roll,
        cure_rate=Fraction(35, 139),
        promises_made=48,
        promises_kept=29,
        promises_broken=11,
        promises_pending=8,
        calls_to_debtors=1900,
        right_party_contacts=640,
        contacts=4210,
        delinquent_loan_days=3300,
        complaints=7,
        complaints_by_category=(("harassment", 3), ("time_of_day", 2), ("fees_or_amount", 2)),
        by_collector=(ComplaintRate("collector-01", 3, 1500), ComplaintRate("collector-02", 1, 1710)),
        by_agency=(ComplaintRate("AG-EAST", 4, 1000), ComplaintRate("lender", 3, 3210)),
        by_month=(ComplaintRate("2026-09", 7, 4210),),
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("portfolio") / "portfolio.html"
    return write_portfolio(figures(), target, generated_at=datetime(2026, 10, 1, 8, tzinfo=UTC))


def test_the_portfolio_page_asks_the_network_for_nothing(chromium: str, page: Path, tmp_path: Path) -> None:
    blank = tmp_path / "blank.html"
    blank.write_text("<!doctype html><title>blank</title>", encoding="utf-8")
    control = tmp_path / "control.html"
    control.write_text(
        page.read_text(encoding="utf-8").replace("</body>", '<img src="http://cdn.example.com/logo.png"></body>'),
        encoding="utf-8",
    )
    baseline = addresses(chromium, tmp_path / "blank", blank)
    assert addresses(chromium, tmp_path / "control", control) - baseline == {"http://cdn.example.com/logo.png"}
    assert addresses(chromium, tmp_path / "portfolio", page) - baseline == set()


def test_the_browser_builds_every_chart_of_the_portfolio_page(chromium: str, page: Path, tmp_path: Path) -> None:
    done = browse(chromium, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    source = page.read_text(encoding="utf-8")
    assert source.count("<svg") == 8  # roll, rates, promises, intensity, and four of complaints
    assert done.stdout.count("<svg") == source.count("<svg")
    assert done.stdout.count("<figure") == source.count("<figure")
    assert "资产组合分析 / Portfolio analytics" in done.stdout


def test_the_browser_draws_the_portfolio_page(chromium: str, page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "portfolio.png"
    done = browse(chromium, tmp_path / "profile", "--window-size=1200,2400", f"--screenshot={shot}", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1200, 2400)
    assert len(data) > 30_000  # charts, tables and text, not a blank page
