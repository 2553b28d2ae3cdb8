"""``fairdun user`` and ``fairdun agency`` on a SQLite file: the first admin, the acting user's permission, training,
an agency from registration to placement, and every error one line with exit status 2 and nothing stored."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.domain.cases import CollectorAssigned
from tests.login import run_cli

runner = CliRunner()
PLACEMENTS = "('case.placed', 'placement.refused')"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {"FAIRDUN_DATABASE_URL": f"sqlite:///{tmp_path / 'access.db'}", "COLUMNS": "200"}
    assert run_cli(["db", "upgrade"], env=environment).exit_code == 0
    return environment


@pytest.fixture
def book(env: dict[str, str]) -> dict[str, str]:
    generated = run_cli(["book", "generate", "--borrowers", "20", "--seed", "3"], env=env)
    assert generated.exit_code == 0, generated.output
    return env


def ok(args: list[str], env: dict[str, str]) -> Result:
    result = run_cli(args, env=env)
    assert result.exit_code == 0, result.output
    return result


def refused(args: list[str], env: dict[str, str], named: str) -> str:
    result = run_cli(args, env=env)
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    assert line.startswith("fairdun: error: ")
    assert named in line
    return line


def rows(env: dict[str, str], sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(env["FAIRDUN_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(sql))]
    finally:
        engine.dispose()


def test_the_first_admin_needs_no_by_and_every_later_account_does(env: dict[str, str]) -> None:
    refused(["user", "add", "c1", "--role", "collector"], env, "the first account must be an admin")
    ok(["user", "add", "admin-wang", "--role", "admin"], env)
    refused(["user", "add", "admin-2", "--role", "admin"], env, "only the very first admin is added without a login")
    refused(["user", "add", "c1", "--role", "boss", "--by", "admin-wang"], env, "--role: expected one of admin")
    ok(["user", "add", "c1", "--role", "collector", "--by", "admin-wang"], env)
    refused(["user", "add", "c2", "--role", "collector", "--by", "c1"], env, "may not manage users")
    assert rows(env, "SELECT id, role FROM users ORDER BY id") == [("admin-wang", "admin"), ("c1", "collector")]
    assert rows(env, "SELECT actor, action FROM audit_log WHERE action = 'user.added' ORDER BY seq") == [
        ("bootstrap", "user.added"),
        ("admin-wang", "user.added"),
    ]
    assert json.loads(ok(["audit", "verify"], env).stdout)["ok"] is True


def test_training_makes_a_collector_current_and_bad_dates_are_named(env: dict[str, str]) -> None:
    ok(["user", "add", "admin-wang", "--role", "admin"], env)
    ok(["user", "add", "c1", "--role", "collector", "--by", "admin-wang"], env)
    [listed] = [json.loads(x) for x in ok(["user", "list"], env).stdout.splitlines() if '"c1"' in x]
    assert listed["training"].startswith("onboarding training never passed")
    train = ["user", "train", "c1", "--kind", "onboarding", "--evidence", "EXAM-1", "--by", "admin-wang"]
    refused([*train, "--passed-on", "2026-13-01"], env, "--passed-on: expected a date")
    refused(
        [
            "user",
            "train",
            "c1",
            "--kind",
            "weekly",
            "--passed-on",
            "2026-01-01",
            "--evidence",
            "E",
            "--by",
            "admin-wang",
        ],
        env,
        "--kind",
    )
    refused([*train[:-2], "--passed-on", "2026-01-01"], env, "not logged in")
    assert rows(env, "SELECT count(*) FROM trainings") == [(0,)]
    # The command checks training against today's date: pass it yesterday.
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    out = json.loads(ok([*train, "--passed-on", yesterday], env).stdout)
    assert out["valid_until"] > yesterday
    [listed] = [json.loads(x) for x in ok(["user", "list"], env).stdout.splitlines() if '"c1"' in x]
    assert listed["training"] == "current"
    ok(["user", "deactivate", "c1", "--by", "admin-wang"], env)
    refused(["user", "deactivate", "admin-wang", "--by", "admin-wang"], env, "last active admin")


def open_case(env: dict[str, str], loan: str) -> None:
    """The loan's case opened and assigned, as the daily cycle would have done."""
    engine = create_engine(env["FAIRDUN_DATABASE_URL"])
    try:
        with SqlAlchemyUnitOfWork(engine) as uow:
            event = CollectorAssigned(date(2026, 8, 20), "collector-01")
            uow.case_events.append(loan, event, recorded_at=datetime(2026, 8, 20, tzinfo=UTC))
            uow.commit()
    finally:
        engine.dispose()


def test_an_agency_goes_from_registered_to_placed_and_each_refusal_is_on_record(book: dict[str, str]) -> None:
    admin = ["--by", "admin-demo"]
    ok(["user", "add", "sup-1", "--role", "supervisor", *admin], book)
    refused(["agency", "add", "ag-new", "--name", "New", "--shares", "name,address_book", *admin], book, "--shares")
    ok(["agency", "add", "ag-new", "--name", "New Agency", *admin], book)
    ok(["agency", "approve", "ag-new", *admin], book)
    [loan, borrower] = rows(book, "SELECT id, borrower FROM loans ORDER BY id LIMIT 1")[0]
    place = ["agency", "place", str(loan), "--agency", "ag-new", "--by", "sup-1"]
    refused(place, book, "has no open case")
    open_case(book, str(loan))
    line = refused(place, book, "has no passed evaluation current")
    assert "was not told before placement" in line
    assert "GB/T 45251-2025" in line
    assert "Art. 41" in line
    assert "PIPL Art. 23" in line
    ok(["agency", "evaluate", "ag-new", "--on", "2026-01-05", "--result", "pass", "--reference", "EV-1", *admin], book)
    ok(
        [
            "agency",
            "contract",
            "ag-new",
            "--reference",
            "DPA-1",
            "--signed-on",
            "2026-01-05",
            "--expires-on",
            "2030-01-04",
            *admin,
        ],
        book,
    )
    ok(
        [
            "agency",
            "inform",
            str(borrower),
            "--agency",
            "ag-new",
            "--channel",
            "letter",
            "--evidence",
            "LTR-9",
            "--by",
            "sup-1",
        ],
        book,
    )
    refused(["agency", "place", str(loan), "--agency", "ag-new", "--by", "admin-demo"], book, "may not assign")
    ok([*place, "--on", "2026-09-01"], book)
    refused(place, book, "already placed with 'ag-new'")
    listed = {json.loads(x)["id"]: json.loads(x) for x in ok(["agency", "list"], book).stdout.splitlines()}
    assert listed["ag-new"]["approved"] is True
    assert listed["ag-new"]["contract_until"] == "2030-01-04"
    assert listed["ag-new"]["shares"] == ["name", "phone"]
    actions = [a for (a,) in rows(book, f"SELECT action FROM audit_log WHERE action IN {PLACEMENTS} ORDER BY seq")]
    assert actions == ["placement.refused", "case.placed"]
    assert json.loads(ok(["audit", "verify"], book).stdout)["ok"] is True
