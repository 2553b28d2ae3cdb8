"""``fairdun subject`` and ``fairdun retention`` through Typer's runner, on both databases: files written, holds
set and released, refusals exit 1 with the reason, and every error is one line with exit status 2."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tests.login import run_cli
from tests.persistence.conftest import Database

from .conftest import Book

runner = CliRunner()


@pytest.fixture
def env(database: Database, book: Book) -> dict[str, str]:
    return {
        "FAIRDUN_DATABASE_URL": database.url.render_as_string(hide_password=False),
        "FAIRDUN_MASTER_KEY": base64.b64encode(bytes(range(32))).decode(),
        "COLUMNS": "200",
    }


def invoke(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = run_cli(list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_subject_export_writes_the_json_and_the_html_page(env: dict[str, str], book: Book, tmp_path: Path) -> None:
    borrower = book.borrower(0)
    code, out, err = invoke(env, "subject", "export", borrower.id, "--by", "dpo-01", "--out", str(tmp_path / "x"))
    assert code == 0, err
    assert json.loads(out)["party"] == borrower.id
    document = json.loads((tmp_path / "x" / f"{borrower.id}.json").read_text("utf-8"))
    assert document["contact_points"][0]["address"] == borrower.phone
    assert "<!DOCTYPE html>" in (tmp_path / "x" / f"{borrower.id}.html").read_text("utf-8")


def test_subject_erase_refused_exits_1_with_the_reason_and_a_hold_can_be_set_and_released(
    env: dict[str, str], book: Book
) -> None:
    borrower = book.borrower(1)
    code, out, err = invoke(env, "subject", "erase", borrower.id, "--by", "dpo-01", "--reason", "DSR-1")
    assert code == 1
    assert json.loads(out)["status"] == "refused"
    assert "Art. 13(2)" in err

    contact = book.contacts_of(borrower.id)[0]
    code, out, _ = invoke(
        env, "retention", "hold", borrower.id, "--reason", "court order 7", "--until", "2027-01-01", "--by", "cco"
    )
    assert code == 0
    hold = json.loads(out)["id"]
    code, out, err = invoke(
        env, "subject", "erase", contact, "--by", "dpo-01", "--reason", "DSR-2", "--on", "2026-09-01"
    )
    assert code == 1
    assert "court order 7" in err
    assert invoke(env, "retention", "release", str(hold), "--by", "cco")[0] == 0
    code, out, err = invoke(
        env, "subject", "erase", contact, "--by", "dpo-01", "--reason", "DSR-2", "--on", "2026-09-01"
    )
    assert code == 0, err
    assert json.loads(out)["status"] == "erased"
    with book.engine.connect() as connection:
        actions = [
            a
            for (a,) in connection.execute(
                text("SELECT action FROM audit_log WHERE action NOT LIKE 'auth.%' ORDER BY seq")
            )
        ]
    assert actions[-5:] == [
        "subject.erasure_refused", "retention.hold_set", "subject.erasure_refused", "retention.hold_released",
        "subject.erased",
    ]  # fmt: skip


def test_retention_show_and_purge_print_json(env: dict[str, str]) -> None:
    code, out, _ = invoke(env, "retention", "show", "--json")
    assert code == 0
    assert {p["record"] for p in json.loads(out)["policies"]} >= {"contact_history", "audit_log"}
    code, out, _ = invoke(env, "retention", "show")
    assert "contact_history: delete, 5 years" in out
    code, out, _ = invoke(env, "retention", "purge", "--on", "2026-09-01", "--dry-run")
    assert code == 0
    assert json.loads(out)["dry_run"] is True


def test_a_borrower_exports_their_own_data_through_their_account(env: dict[str, str], tmp_path: Path) -> None:
    code, _, err = invoke(env, "subject", "export", "B000001", "--by", "portal-B000001", "--out", str(tmp_path))
    assert code == 0, err
    assert json.loads((tmp_path / "B000001.json").read_text("utf-8"))["generated_by"] == "portal-B000001"


def test_subject_correct_from_the_command_line(env: dict[str, str], book: Book) -> None:
    borrower = book.borrower(2)
    args = ["subject", "correct", borrower.id, "--field", "phone", "--value", "+8613800009998", "--by", "dpo-01"]
    code, out, err = invoke(env, *args, "--reason", "DSR-3")
    assert code == 0, err
    assert json.loads(out)["corrected"] == f"{borrower.id}/phone"
    assert "13800009998" not in out + err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["subject", "export", "B404", "--by", "dpo-01", "--out", "OUT"], "party: no party 'B404'"),
        (["subject", "erase", "B000001", "--by", "dpo-01", "--reason", " "], "reason: "),
        (["subject", "erase", "B000001", "--by", " ", "--reason", "x"], "not logged in"),
        (
            ["subject", "correct", "B000001", "--field", "phone", "--value", "1", "--by", "dpo-01", "--reason", "r"],
            "phone: ",
        ),
        (
            ["subject", "correct", "B000001", "--field", "iq", "--value", "1", "--by", "dpo-01", "--reason", "r"],
            "field: ",
        ),
        (["retention", "purge", "--on", "yesterday"], "on: expected a date"),
        (["retention", "hold", "B404", "--reason", "r", "--until", "2027-01-01", "--by", "cco"], "party: no party"),
        (["retention", "release", "999", "--by", "cco"], "hold: no active hold 999"),
        (["subject", "export", "B000002", "--by", "nobody", "--out", "OUT"], "not logged in"),
        (["subject", "export", "B000002", "--by", "col-1", "--out", "OUT"], "may not subject requests"),
        (["subject", "export", "B000002", "--by", "portal-B000001", "--out", "OUT"], "only ask about their own"),
        (["subject", "erase", "B000001", "--by", "portal-B000001", "--reason", "mine"], "may not subject requests"),
        (["retention", "hold", "B000001", "--reason", "r", "--until", "2027-01-01", "--by", "col-1"], "may not"),
        (["retention", "show", "--policies", "/nonexistent.toml"], "/nonexistent.toml: cannot be read"),
    ],
)
def test_errors_are_one_line_and_exit_2(env: dict[str, str], tmp_path: Path, args: list[str], message: str) -> None:
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    code, out, err = invoke(env, *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("fairdun: error: ")
    assert message in err


def test_after_an_erasure_the_cycle_reports_and_the_audit_commands_keep_working(
    env: dict[str, str], book: Book, tmp_path: Path
) -> None:
    borrower = book.borrower(0)
    book.settle(borrower.id)
    contact = book.contacts_of(book.borrower(1).id)[0]
    for party in (borrower.id, contact):
        code, _, err = invoke(env, "subject", "erase", party, "--by", "dpo-01", "--reason", "DSR", "--on", "2026-09-01")
        assert code == 0, err
    steps = [
        ["cycle", "run", "--date", "2026-09-01", "--channel", "simulate", "--simulate"],
        ["cycle", "status"],
        ["audit", "export", "--from", "2026-08-01", "--to", "2026-09-02", "--out", str(tmp_path / "log")],
        ["audit", "portfolio", "--from", "2026-08-01", "--to", "2026-09-02", "--json"],
        ["audit", "verify", "--records"],
        ["subject", "export", borrower.id, "--by", "dpo-01", "--out", str(tmp_path / "x")],
        ["retention", "purge", "--on", "2026-09-02"],
    ]
    for args in steps:
        code, _, err = invoke(env, *args)
        assert code == 0, (args, err)
    exported = json.loads((tmp_path / "x" / f"{borrower.id}.json").read_text("utf-8"))
    assert exported["erasure"]["explanation"]["status"] == "erased"
