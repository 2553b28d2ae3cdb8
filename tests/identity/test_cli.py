"""``fairdun borrower add`` on a SQLite file: a JSON object or JSON lines (or stdin), printed masked; every refusal
is one line on stderr, exit 2, and nothing is stored."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from fairdun.cli.main import app

from .data import BORROWER_ID_NUMBER, record

runner = CliRunner()
KEY = base64.b64encode(bytes(range(32))).decode("ascii")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {"FAIRDUN_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}", "FAIRDUN_MASTER_KEY": KEY}
    assert runner.invoke(app, ["db", "upgrade"], env=environment).exit_code == 0
    return environment


def write(tmp_path: Path, *records: dict[str, Any], lines: bool = False) -> str:
    path = tmp_path / "borrowers.json"
    text_ = "\n".join(json.dumps(r, ensure_ascii=False) for r in records) if lines else json.dumps(records[0])
    path.write_text(text_, encoding="utf-8")
    return str(path)


def parties(env: dict[str, str]) -> int:
    engine = create_engine(env["FAIRDUN_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT COUNT(*) FROM parties")).scalar_one())
    finally:
        engine.dispose()


def test_borrowers_are_registered_and_printed_masked(env: dict[str, str], tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["borrower", "add", write(tmp_path, record(), record("B000124", contacts=1), lines=True)], env=env
    )
    assert result.exit_code == 0, result.output
    shown = [json.loads(line) for line in result.stdout.splitlines()]
    assert [s["id"] for s in shown] == ["B000123", "B000124"]
    assert shown[0]["resident_id"] == "110105********002X"
    assert [c["slot"] for c in shown[0]["contacts"]] == [1, 2]
    assert BORROWER_ID_NUMBER not in result.stdout
    assert "13800004211" not in result.stdout
    assert parties(env) == 5


def test_stdin_is_read_with_a_dash(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["borrower", "add", "-"], input=json.dumps(record(contacts=0)), env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["contacts"] == []


def refused(env: dict[str, str], path: str, extra: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, ["borrower", "add", path], env={**env, **(extra or {})})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.output
    return result.stderr.strip()


def test_seven_contacts_are_refused_naming_pipl_art_6(env: dict[str, str], tmp_path: Path) -> None:
    assert refused(env, write(tmp_path, record(contacts=7))) == (
        "fairdun: error: borrower B000123: 7 designated contacts, at most 3 (PIPL Art. 6, minimum necessary);"
        " nothing was stored"
    )
    assert parties(env) == 0


def test_the_limit_follows_fairdun_max_contacts(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, record(contacts=5))
    assert "5 designated contacts, at most 3" in refused(env, path)
    assert "at most 3" not in refused(env, path, {"FAIRDUN_MAX_CONTACTS": "6"})
    assert "never more than 5" in refused(env, path, {"FAIRDUN_MAX_CONTACTS": "6"})
    result = runner.invoke(app, ["borrower", "add", path], env={**env, "FAIRDUN_MAX_CONTACTS": "5"})
    assert result.exit_code == 0, result.output
    assert parties(env) == 6


def test_an_address_book_is_refused_and_nothing_stored(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, record("B000100"), record(address_book=[]), lines=True)
    assert refused(env, path).startswith("fairdun: error: line 2: borrower B000123: address_book is address-book data")
    assert parties(env) == 0


def test_a_bad_file_and_a_stored_borrower_are_one_line(env: dict[str, str], tmp_path: Path) -> None:
    assert "cannot be read" in refused(env, str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "B1"}\n{not json\n', encoding="utf-8")
    assert "line 2: not JSON" in refused(env, str(bad))
    path = write(tmp_path, record())
    assert runner.invoke(app, ["borrower", "add", path], env=env).exit_code == 0
    assert refused(env, path) == "fairdun: error: party 'B000123': already stored; nothing was stored"
