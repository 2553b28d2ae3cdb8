"""The ``fairdun`` command, driven through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fairdun.cli.main import app

ROOT = Path(__file__).parent.parent
runner = CliRunner()


def request(**attempt: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "at": "2026-11-23T10:00:00+08:00",
        "debt": "L1",
        "debtor": "B1",
        "channel": "call",
        "purpose": "collect",
        "recipient": {"party": "B1", "role": "debtor", "address": "+8613800000001", "tz": "Asia/Shanghai"},
    }
    base.update(attempt)
    return {
        "attempt": base,
        "history": [],
        "facts": {
            "debtor_unreachable": False,
            "refused_parties": [],
            "opt_outs": [],
            "consents": [],
            "agreed_windows": [],
            "guarantor_liable": False,
            "represented_by_attorney": False,
            "cease_requested": False,
            "time_barred": False,
        },
    }


def gate(stdin: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["gate", "check", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_a_daytime_call_is_allowed_and_the_decision_is_json() -> None:
    code, out, _ = gate(json.dumps(request()))
    assert code == 0
    decision = json.loads(out)
    assert decision["decision"] == "allow"
    assert decision["pack"].startswith("cn@")
    assert decision["reasons"] == []
    assert decision["next_allowed_at"] is None


def test_a_night_call_is_denied_with_reason_citation_and_next_allowed_at_and_exit_0() -> None:
    code, out, _ = gate(json.dumps(request(at="2026-11-23T22:00:00+08:00")), "--lang", "en")
    assert code == 0
    decision = json.loads(out)
    assert decision["decision"] == "deny"
    [reason] = decision["reasons"]
    assert reason["rule"] == "CN-TIME"
    assert "GB/T 45251-2025" in reason["citation"]
    assert reason["message"].startswith("No collection contact between 22:00 and 08:00")
    assert "22:00" in reason["messages"]["zh"]
    assert decision["next_allowed_at"] == "2026-11-24T08:00:00+08:00"


def test_json_lines_give_one_decision_per_line() -> None:
    lines = "\n".join(json.dumps(request(at=t)) for t in ("2026-11-23T07:00:00+08:00", "2026-11-23T09:00:00+08:00"))
    code, out, _ = gate(lines + "\n\n")
    assert code == 0
    decisions = [json.loads(line) for line in out.splitlines()]
    assert [d["decision"] for d in decisions] == ["deny", "allow"]


def test_the_pack_option_overrides_the_pack_a_request_names() -> None:
    doc = request(at="2026-11-23T21:30:00-05:00")
    doc["attempt"]["recipient"]["tz"] = "America/New_York"
    doc["pack"] = "cn"  # 21:30 is within cn's hours, outside us's
    assert json.loads(gate(json.dumps(doc))[1])["decision"] == "allow"
    code, out, _ = gate(json.dumps(doc), "--pack", "us")
    assert code == 0
    decision = json.loads(out)
    assert decision["pack"].startswith("us@")
    assert decision["decision"] == "deny"
    assert [r["rule"] for r in decision["reasons"]] == ["US-TIME"]


def test_a_user_pack_extending_cn_applies_its_stricter_hours() -> None:
    code, out, _ = gate(json.dumps(request(at="2026-11-23T20:30:00+08:00")), "--pack", "examples/packs/cn-ningxia.toml")
    assert code == 0
    decision = json.loads(out)
    assert decision["pack"] == "cn-ningxia@2026.11.0"
    assert decision["decision"] == "deny"
    assert decision["next_allowed_at"] == "2026-11-24T08:00:00+08:00"


@pytest.mark.parametrize(
    ("stdin", "args", "names"),
    [
        ("{not json", (), "not valid JSON"),
        ("", (), "no request given"),
        ("[1, 2]", (), "expected a JSON object"),
        (json.dumps({**request(), "pack": "xx"}), (), "pack: unknown pack 'xx'"),
        (json.dumps(request()), ("--pack", "nowhere/missing.toml"), "no pack file at"),
        (json.dumps(request(channel="fax")), (), "attempt.channel: unknown value 'fax'"),
        (json.dumps(request(purpose="shame")), (), "attempt.purpose: unknown value 'shame'"),
        (json.dumps(request(at="2026-11-23T22:00:00")), (), "attempt.at: '2026-11-23T22:00:00' has no UTC offset"),
        (json.dumps(request(at="tomorrow")), (), "attempt.at: 'tomorrow' is not an RFC 3339 time"),
        (
            json.dumps(request(recipient={"party": "B1", "role": "boss", "address": "x", "tz": "Asia/Shanghai"})),
            (),
            "attempt.recipient.role: unknown value 'boss'",
        ),
        (
            json.dumps(request(recipient={"party": "B1", "role": "debtor", "address": "x", "tz": "Asia/Shangai"})),
            (),
            "attempt.recipient.tz: unknown time zone 'Asia/Shangai'",
        ),
        (json.dumps({"history": []}), (), "attempt: is required"),
        (json.dumps(request()), ("--lang", "fr"), "--lang: expected one of zh, en"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_field(stdin: str, args: tuple[str, ...], names: str) -> None:
    code, out, err = gate(stdin, *args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("fairdun: error: ")
    assert names in lines[0]
    assert "Traceback" not in err


def test_a_bad_history_event_is_named_by_its_index() -> None:
    doc = request()
    doc["history"] = [
        {"at": "2026-11-23T09:00:00+08:00", "debt": "L1", "party": "B1", "address": "a", "channel": "call",
         "direction": "outbound", "outcome": "conversation"},
        {"at": "2026-11-23T09:00:00+08:00", "debt": "L1", "party": "B1", "address": "a", "channel": "call",
         "direction": "sideways", "outcome": "conversation"},
    ]  # fmt: skip
    code, _, err = gate(json.dumps(doc))
    assert code == 2
    assert "history[1].direction: unknown value 'sideways'" in err


def test_a_bad_line_among_json_lines_is_named_by_its_line_and_nothing_is_decided() -> None:
    good = json.dumps(request())
    bad = json.dumps(request(channel="pigeon"))
    code, out, err = gate(f"{good}\n{good}\n{bad}\n")
    assert code == 2
    assert out == ""
    assert err.strip() == "fairdun: error: line 3: attempt.channel: unknown value 'pigeon'; expected one of " + (
        "call|ai_call|sms|email|im|letter|visit"
    )


def test_packs_list_shows_every_builtin_pack_with_cn_as_default() -> None:
    result = runner.invoke(app, ["packs", "list"])
    assert result.exit_code == 0
    for name in ("cn (default)", "us", "au", "in", "ru"):
        assert name in result.stdout


def test_packs_show_lists_rules_with_citations() -> None:
    result = runner.invoke(app, ["packs", "show", "us", "--json"])
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    ids = [r["id"] for r in shown["rules"]]
    assert ids[:3] == ["US-TIME", "US-7IN7", "US-CONV-7D"]
    seven = shown["rules"][1]
    assert seven["citations"][0]["law"].startswith("12 CFR 1006.14")
    assert seven["citations"][0]["checked"] == "2026-11-01"
    table = runner.invoke(app, ["packs", "show", "cn"], env={"COLUMNS": "200"})
    assert table.exit_code == 0
    assert "CN-CONV-DAY" in table.stdout
    assert "GB/T 45251-2025" in table.stdout


def test_packs_show_of_an_unknown_pack_exits_2() -> None:
    result = runner.invoke(app, ["packs", "show", "mars"])
    assert result.exit_code == 2
    assert "unknown pack 'mars'" in result.stderr


def test_gate_demo_runs_every_builtin_pack_and_the_gate_stops_the_aggressive_week() -> None:
    result = runner.invoke(app, ["gate", "demo", "--seed", "3"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for label in ("cn@", "us@", "au@", "in@", "ru@", "CN-TIME", "CN-CONSENT", "US-CONV-7D"):
        assert label in result.stdout


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("fairdun ")


def test_db_upgrade_creates_the_schema_and_status_reports_it(tmp_path: Path) -> None:
    env = {"FAIRDUN_DATABASE_URL": f"sqlite:///{tmp_path / 'f.db'}"}
    before = runner.invoke(app, ["db", "status"], env=env)
    assert before.exit_code == 0
    assert "empty" in before.stdout
    assert "needs `fairdun db upgrade`" in before.stdout
    upgraded = runner.invoke(app, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    after = runner.invoke(app, ["db", "status"], env=env)
    assert "up to date" in after.stdout


def test_db_upgrade_against_an_unreachable_server_exits_2_with_one_line() -> None:
    env = {"FAIRDUN_DATABASE_URL": "postgresql+psycopg://nobody:secret@127.0.0.1:1/nothing"}
    result = runner.invoke(app, ["db", "upgrade"], env=env)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("fairdun: error: database: migration failed")
    assert "secret" not in result.stderr
