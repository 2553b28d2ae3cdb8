"""``fairdun demo``: the main job, small. The same seed gives the same report, however many processes share the
book; bad options are refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from fairdun.application.report_data import ReportData
from fairdun.cli import demo
from fairdun.cli.main import app

runner = CliRunner()


def small(out: Path, workers: int, *, seed: int = 5) -> ReportData:
    return demo.run(borrowers=90, days=8, seed=seed, out=out, workers=workers, pack="cn", console=Console(quiet=True))


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ReportData]:
    out = tmp_path_factory.mktemp("whole")
    return out, small(out, 1)


def test_the_demo_writes_a_report_and_a_database_per_strategy(whole: tuple[Path, ReportData]) -> None:
    out, data = whole
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "<svg" in html
    assert "CN-TIME" in html
    assert sorted(p.name for p in (out / "db").iterdir() if p.suffix == ".sqlite") == [
        "aggressive-1.sqlite",
        "compliant-1.sqlite",
    ]
    compliant, aggressive = data.runs
    assert not compliant.audit_only
    assert aggressive.audit_only
    planned = sum(c.planned for c in aggressive.contacts.values())
    denied = sum(c.denied for c in aggressive.contacts.values())
    assert denied > planned / 2  # the gate refuses most of what the aggressive strategy would do
    assert (
        sum(c.denied for c in compliant.contacts.values()) <= sum(c.planned for c in compliant.contacts.values()) // 50
    )
    assert len(data.days()) == 8


def test_the_same_seed_gives_the_same_report_split_across_processes_or_not(
    whole: tuple[Path, ReportData], tmp_path: Path
) -> None:
    out, data = whole
    split = small(tmp_path, 2)
    assert split.runs == data.runs
    assert (tmp_path / "index.html").read_bytes() == (out / "index.html").read_bytes()


def test_another_seed_gives_another_book(whole: tuple[Path, ReportData], tmp_path: Path) -> None:
    _, data = whole
    assert small(tmp_path, 1, seed=6).runs != data.runs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--borrowers", "0"], "--borrowers: from 1 to"),
        (["--days", "0"], "--days: from 1 to 366"),
        (["--workers", "0"], "--workers: from 1 to 64"),
        (["--pack", "mars"], "unknown pack 'mars'"),
    ],
)
def test_bad_options_exit_2_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "r"), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "r" / "index.html").exists()
