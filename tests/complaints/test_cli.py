"""``fairdun complaint`` and ``fairdun audit portfolio --html`` on a SQLite file: intake, listing, showing,
resolving, bad input (one line, exit 2, nothing stored), and the portfolio page parsed: every chart present and
its numbers those of the JSON."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fairdun.application.access_control import DEMO_ADMIN
from tests.login import run_cli
from tests.report.parse import Node, parse, table_rows

runner = CliRunner()
SUMMARY = "晚上十一点还在打电话，一天打了二十次"
CHARTS = (
    "roll",
    "rates",
    "promises",
    "intensity",
    "complaints-collector",
    "complaints-agency",
    "complaints-month",
    "complaints-category",
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A fictional book of 40 borrowers with three days of the cycle run."""
    environment = {"FAIRDUN_DATABASE_URL": f"sqlite:///{tmp_path / 'book.db'}", "COLUMNS": "200"}
    assert run_cli(["db", "upgrade"], env=environment).exit_code == 0
    generated = run_cli(["book", "generate", "--borrowers", "40", "--seed", "8"], env=environment)
    assert generated.exit_code == 0, generated.output
    made = run_cli(["user", "add", "agent-01", "--role", "supervisor", "--by", DEMO_ADMIN], env=environment)
    assert made.exit_code == 0, made.output
    log = f"path={tmp_path / 'o.jsonl'}"
    for day in ("2026-09-01", "2026-09-02", "2026-09-03"):
        ran = run_cli(["cycle", "run", "--date", day, "--simulate", "--channel-option", log], env=environment)
        assert ran.exit_code == 0, ran.output
    return environment


def loans(env: dict[str, str]) -> list[str]:
    with sqlite3.connect(env["FAIRDUN_DATABASE_URL"].removeprefix("sqlite:///")) as connection:
        return [row[0] for row in connection.execute("SELECT id FROM loans ORDER BY id")]


def count(env: dict[str, str], table: str) -> int:
    with sqlite3.connect(env["FAIRDUN_DATABASE_URL"].removeprefix("sqlite:///")) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def add(env: dict[str, str], *options: str) -> dict[str, object]:
    result = run_cli(["complaint", "add", "--by", "agent-01", *options], env=env)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_a_complaint_is_taken_in_listed_shown_and_resolved(env: dict[str, str]) -> None:
    loan = loans(env)[0]
    added = add(
        env, "--loan", loan, "--category", "harassment", "--channel", "regulator_referral", "--role", "debtor",
        "--reference", "12378-2026-000123", "--collector", "C-007", "--summary", SUMMARY,
        "--received-at", "2026-09-03T10:00:00+08:00",
    )  # fmt: skip
    assert added["status"] == "open"
    assert added["suspends"] is True
    assert "summary" not in added
    listed = run_cli(["complaint", "list", "--status", "open", "--json", "--by", "agent-01"], env=env)
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [added["id"]]
    table = run_cli(["complaint", "list", "--by", "agent-01"], env=env)
    assert "harassment (holds)" in table.stdout
    sealed = json.loads(run_cli(["complaint", "show", str(added["id"]), "--by", "agent-01"], env=env).stdout)
    assert sealed["summary"] == "[sealed]"
    assert sealed["reference"] == "12378-2026-000123"
    for user, role in (("qa-02", "compliance"), ("col-09", "collector")):  # the generated book's admin adds them
        made = run_cli(["user", "add", user, "--role", role, "--by", DEMO_ADMIN], env=env)
        assert made.exit_code == 0, made.output
    denied = run_cli(["complaint", "show", str(added["id"]), "--by", "col-09", "--reason", "x"], env=env)
    assert denied.exit_code == 2
    assert denied.stderr.startswith("fairdun: error: --by: user 'col-09' may not see the case of")
    unreasoned = run_cli(["complaint", "show", str(added["id"]), "--by", "qa-02", "--reason", " "], env=env)
    assert unreasoned.exit_code == 2
    assert "stated reason" in unreasoned.stderr
    opened = run_cli(["complaint", "show", str(added["id"]), "--by", "qa-02", "--reason", "12378 回复调查"], env=env)
    assert opened.exit_code == 0, opened.output
    assert json.loads(opened.stdout)["summary"] == SUMMARY
    with sqlite3.connect(env["FAIRDUN_DATABASE_URL"].removeprefix("sqlite:///")) as connection:
        logged = connection.execute(
            "SELECT actor, action, fields FROM access_log WHERE fields LIKE '%complaint_text%' ORDER BY id"
        ).fetchall()
    assert [(a, b) for a, b, _ in logged] == [("col-09", "denied"), ("qa-02", "denied"), ("qa-02", "unmask")]
    resolved = run_cli(
        ["complaint", "resolve", str(added["id"]), "--outcome", "upheld", "--note", "录音核实", "--by", "qa-02"],
        env=env,
    )
    assert resolved.exit_code == 0, resolved.output
    assert json.loads(resolved.stdout)["status"] == "upheld"
    again = run_cli(
        ["complaint", "resolve", str(added["id"]), "--outcome", "withdrawn", "--note", "x", "--by", "qa-02"],
        env=env,
    )
    assert again.exit_code == 2
    assert again.stderr.startswith("fairdun: error: status: complaint")
    shown = json.loads(
        run_cli(["complaint", "show", str(added["id"]), "--by", "qa-02", "--reason", "复核"], env=env).stdout
    )
    assert [(h["status"], h["by"], h["note"]) for h in shown["history"]] == [
        ("open", "agent-01", None),
        ("upheld", "qa-02", "录音核实"),
    ]


def test_complaints_are_read_from_a_json_file(env: dict[str, str], tmp_path: Path) -> None:
    first, second = loans(env)[:2]
    path = tmp_path / "complaints.json"
    path.write_text(
        json.dumps(
            [
                {"loan": first, "category": "time_of_day", "channel": "portal", "role": "debtor"},
                {"loan": second, "category": "other", "channel": "internet_platform", "role": "third_party"},
            ]
        ),
        encoding="utf-8",
    )
    result = run_cli(["complaint", "add", "--by", "agent-01", "--json", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["loan"] for line in result.stdout.splitlines()] == [first, second]
    assert count(env, "complaints") == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--category", "harassment", "--channel", "phone", "--role", "debtor"], "loan: missing"),
        (["--loan", "L-NOSUCH", "--category", "harassment", "--channel", "phone", "--role", "debtor"],
         "loan: no loan 'L-NOSUCH'"),
        (["--loan", "{loan}", "--category", "rude", "--channel", "phone", "--role", "debtor"],
         "category: expected one of"),
        (["--loan", "{loan}", "--category", "other", "--channel", "fax", "--role", "debtor"],
         "channel: expected one of"),
        (["--loan", "{loan}", "--category", "other", "--channel", "phone", "--role", "contact"], "party: a contact"),
        (["--loan", "{loan}", "--category", "other", "--channel", "phone", "--role", "debtor",
          "--received-at", "2026-09-03T10:00"], "received_at: give the offset"),
        (["--loan", "{loan}", "--category", "other", "--channel", "phone", "--role", "debtor", "--contact", "c:nope"],
         "contacts[0]: no contact 'c:nope'"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2_and_stores_nothing(env: dict[str, str], options: list[str], message: str) -> None:
    loan = loans(env)[0]
    result = run_cli(["complaint", "add", "--by", "agent-01", *(o.format(loan=loan) for o in options)], env=env)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert count(env, "complaints") == 0


def test_unknown_complaints_and_outcomes_are_refused(env: dict[str, str]) -> None:
    missing = run_cli(["complaint", "show", "99", "--by", "agent-01"], env=env)
    assert (missing.exit_code, missing.stderr.strip()) == (2, "fairdun: error: ID: no complaint 99")
    outcome = run_cli(["complaint", "resolve", "1", "--outcome", "open", "--note", "x", "--by", "qa-02"], env=env)
    assert outcome.exit_code == 2
    assert "--outcome: expected one of upheld, not_upheld, withdrawn" in outcome.stderr


def figure(root: Node, key: str) -> Node:
    return root.find("figure", id=key)


def test_the_portfolio_page_has_every_chart_and_the_numbers_of_the_json(env: dict[str, str], tmp_path: Path) -> None:
    first, second = loans(env)[:2]
    add(env, "--loan", first, "--category", "harassment", "--channel", "phone", "--role", "debtor",
        "--collector", "C-007", "--received-at", "2026-09-02T10:00:00+08:00")  # fmt: skip
    add(env, "--loan", second, "--category", "privacy", "--channel", "portal", "--role", "debtor",
        "--agency", "AG-EAST", "--received-at", "2026-09-03T09:00:00+08:00")  # fmt: skip
    page = tmp_path / "out" / "portfolio.html"
    period = ["--from", "2026-09-01", "--to", "2026-09-03"]
    result = run_cli(["audit", "portfolio", *period, "--json", "--html", str(page)], env=env)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["complaints"] == 2
    document = page.read_text(encoding="utf-8")
    root = parse(document).root
    assert not [n for n in root.iter() if n.tag == "script" or n.attrs.get("src") or n.attrs.get("href")]
    for key in CHARTS:
        assert figure(root, key).find_all("svg"), f"chart {key} is not drawn"
    collectors = {row[0]: row[1:] for row in table_rows(figure(root, "complaints-collector").find("table"))}
    for name, counts in figures["complaints_by_collector"].items():
        per = "—" if counts["per_10k"] is None else f"{counts['per_10k']:.2f}"
        assert collectors[name] == [str(counts["complaints"]), str(counts["contacts"]), per]
    assert collectors["C-007"][0] == "1"
    agencies = {row[0]: row[1] for row in table_rows(figure(root, "complaints-agency").find("table"))}
    assert agencies["AG-EAST"] == "1"
    months = {row[0]: row[1:] for row in table_rows(figure(root, "complaints-month").find("table"))}
    assert months["2026-09"][:2] == [str(figures["complaints_by_month"]["2026-09"]["complaints"]),
                                     str(figures["complaints_by_month"]["2026-09"]["contacts"])]  # fmt: skip
    summary = {row[0]: row[1] for row in table_rows(root.find("table"))}
    assert summary["每万次联络投诉 / Complaints per 10,000 contacts"] == f"{figures['complaints_per_10k']:.2f}"
    assert summary["贷款 / Loans"] == f"{figures['loans']:,}"
    roll = table_rows(figure(root, "roll").find("table"))
    assert [r[0] for r in roll] == list(figures["roll_counts"])
    assert [int(r[-1]) for r in roll] == [sum(row.values()) for row in figures["roll_counts"].values()]
    promises = (
        {row[0]: row[1] for row in table_rows(figure(root, "promises").find("table"))}
        if figures["promises"]["made"]
        else {}
    )
    if promises:
        assert promises["作出 / Made"] == str(figures["promises"]["made"])
    rates = {row[0]: row[1] for row in table_rows(figure(root, "rates").find("table"))}
    rpc = figures["right_party_contact_rate"]
    assert rates["本人接通率 / Right-party contact rate"] == ("—" if rpc is None else f"{rpc * 100:.1f}%")


def test_an_unwritable_html_path_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    result = run_cli(
        ["audit", "portfolio", "--from", "2026-09-01", "--to", "2026-09-03", "--html", str(blocker / "x.html")],
        env=env,
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("fairdun: error: --html:")


def test_a_file_with_one_bad_complaint_stores_none(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "complaints.json"
    path.write_text(
        json.dumps(
            [
                {"loan": loans(env)[0], "category": "harassment", "channel": "portal", "role": "debtor"},
                {"loan": "L-NOSUCH", "category": "other", "channel": "portal", "role": "debtor"},
            ]
        ),
        encoding="utf-8",
    )
    result = run_cli(["complaint", "add", "--by", "agent-01", "--json", str(path)], env=env)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"fairdun: error: {path}[1]: loan: no loan 'L-NOSUCH'"
    assert count(env, "complaints") == 0
    assert count(env, "complaint_transitions") == 0


def test_a_borrower_files_only_their_own_complaints_and_a_collector_none(env: dict[str, str]) -> None:
    with sqlite3.connect(env["FAIRDUN_DATABASE_URL"].removeprefix("sqlite:///")) as connection:
        (mine, me), (_, other) = connection.execute("SELECT id, borrower FROM loans ORDER BY id LIMIT 2").fetchall()
    for user, role, extra in (("portal-1", "borrower", ["--party", me]), ("col-1", "collector", [])):
        made = run_cli(["user", "add", user, "--role", role, *extra, "--by", DEMO_ADMIN], env=env)
        assert made.exit_code == 0, made.output
    about = ["--loan", mine, "--category", "harassment", "--channel", "portal", "--role", "debtor"]
    own = run_cli(["complaint", "add", *about, "--party", me, "--by", "portal-1"], env=env)
    assert own.exit_code == 0, own.output
    assert json.loads(own.stdout)["party"] == me
    stranger = run_cli(["complaint", "add", *about, "--party", other, "--by", "portal-1"], env=env)
    assert stranger.exit_code == 2
    assert f"a borrower records only their own complaints (--party {me}), got {other}" in stranger.stderr
    collector = run_cli(["complaint", "add", *about, "--by", "col-1"], env=env)
    assert collector.exit_code == 2
    assert "may not handle complaints" in collector.stderr
    listed = run_cli(["complaint", "list", "--json", "--by", "portal-1"], env=env)
    assert listed.exit_code == 2
    assert count(env, "complaints") == 1
