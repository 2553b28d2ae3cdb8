"""``fairdun template`` on a SQLite file: add, submit, approve, retire, list, show; bad input stores nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.login import run_cli

runner = CliRunner()

LAWFUL = """
id = "M1-SMS-REMINDER"
channel = "sms"
role = "debtor"
pack = "cn"
language = "zh-CN"
body = "【{lender_name}】{name}您好，您本期的还款尚未到账，如有困难请致电{service_phone}商量还款安排。"
author = "writer-wang"
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {"FAIRDUN_DATABASE_URL": f"sqlite:///{tmp_path / 'templates.db'}", "COLUMNS": "200"}
    assert run_cli(["db", "upgrade"], env=environment).exit_code == 0
    assert run_cli(["user", "add", "admin-1", "--role", "admin"], env=environment).exit_code == 0
    for user in ("writer-wang", "officer-li"):
        made = run_cli(["user", "add", user, "--role", "compliance", "--by", "admin-1"], env=environment)
        assert made.exit_code == 0, made.output
    return environment


def write(tmp_path: Path, text: str, name: str = "t.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def listed(env: dict[str, str], *options: str) -> list[dict[str, object]]:
    result = run_cli(["template", "list", *options], env=env)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_template_is_added_submitted_and_approved_by_a_second_person(env: dict[str, str], tmp_path: Path) -> None:
    added = run_cli(["template", "add", write(tmp_path, LAWFUL), "--by", "writer-wang"], env=env)
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout) == {"id": "M1-SMS-REMINDER", "version": 1, "ref": "M1-SMS-REMINDER@v1",
                                        "status": "draft"}  # fmt: skip
    assert run_cli(["template", "submit", "M1-SMS-REMINDER", "--by", "writer-wang"], env=env).exit_code == 0
    own = run_cli(["template", "approve", "M1-SMS-REMINDER", "--by", "writer-wang"], env=env)
    assert own.exit_code == 2
    assert "TPL-FOUR-EYES" in own.stderr
    assert len(own.stderr.strip().splitlines()) == 1
    approved = run_cli(["template", "approve", "M1-SMS-REMINDER", "--by", "officer-li"], env=env)
    assert approved.exit_code == 0, approved.output
    assert [r["ref"] for r in listed(env, "--status", "approved")] == ["M1-SMS-REMINDER@v1"]
    shown = json.loads(run_cli(["template", "show", "M1-SMS-REMINDER"], env=env).stdout)
    assert [(h["status"], h["by"]) for h in shown[0]["history"]] == [
        ("draft", "writer-wang"), ("in_review", "writer-wang"), ("approved", "officer-li"),
    ]  # fmt: skip
    retired = run_cli(["template", "retire", "M1-SMS-REMINDER", "--by", "officer-li"], env=env)
    assert retired.exit_code == 0
    assert json.loads(retired.stdout)["status"] == "retired"
    assert listed(env, "--status", "approved") == []


def test_submit_lists_every_lint_failure_and_changes_nothing(env: dict[str, str], tmp_path: Path) -> None:
    bad = LAWFUL.replace('role = "debtor"', 'role = "contact"').replace(
        "body = ", 'body = "你欠{amount}元不还就让你坐牢" #'
    )
    assert run_cli(["template", "add", write(tmp_path, bad), "--by", "writer-wang"], env=env).exit_code == 0
    refused = run_cli(["template", "submit", "M1-SMS-REMINDER", "--by", "writer-wang"], env=env)
    assert refused.exit_code == 2
    line = refused.stderr.strip()
    assert len(line.splitlines()) == 1
    for rule in ("TPL-LINT", "TPL-SCREEN", "TPL-SENDER", "TPL-DEBT-VARIABLE"):
        assert rule in line
    assert [r["status"] for r in listed(env)] == ["draft"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (('channel = "sms"', 'channel = "fax"'), "channel"),
        (('author = "writer-wang"', ""), "author: missing"),
        (('pack = "cn"', 'pack = "cn"\ncolour = "red"'), "colour"),
        (('id = "M1-SMS-REMINDER"', 'id = "lower case"'), "id"),
        (('pack = "cn"', "pack = 3"), "pack: expected a string"),
        (('language = "zh-CN"', 'language = "zh-CN'), "not valid TOML"),
    ],
)
def test_bad_input_exits_2_naming_what_is_wrong_and_stores_nothing(
    env: dict[str, str], tmp_path: Path, change: tuple[str, str], named: str
) -> None:
    result = run_cli(["template", "add", write(tmp_path, LAWFUL.replace(*change)), "--by", "writer-wang"], env=env)
    assert result.exit_code == 2
    assert named in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert listed(env) == []


def test_an_unknown_status_or_template_exits_2(env: dict[str, str]) -> None:
    assert run_cli(["template", "list", "--status", "live"], env=env).exit_code == 2
    shown = run_cli(["template", "show", "NOPE"], env=env)
    assert shown.exit_code == 2
    assert "TPL-NOT-FOUND" in shown.stderr
