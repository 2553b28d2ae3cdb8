"""Rotating the master key: every data key re-wrapped in batches, no sealed field rewritten, blind indexes moved to
the new index key, the old key no longer needed; a writer without the new key is reported. Then the command."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from fairdun.adapters.crypto import Keyring, KeyringError, MasterKey, generate_master_key
from fairdun.adapters.crypto.keyring import keyring_for_rotation
from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.adapters.sqlalchemy.data_keys import rotate_master_key
from fairdun.application.ports import ContactPoint, Party, UnitOfWork
from fairdun.application.simulation import load_portfolio
from fairdun.application.synthetic import generate_portfolio
from fairdun.cli.main import app
from fairdun.domain.contact import Channel, Role

from .conftest import fixed_keyring

NEW = MasterKey(bytes(range(100, 132)))
runner = CliRunner()


def factory(engine: Engine, keyring: Keyring) -> Callable[[], UnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(engine, keyring)


def snapshot(engine: Engine, sql: str) -> dict[str, bytes]:
    with engine.connect() as connection:
        return {str(k): bytes(v) for k, v in connection.execute(text(sql))}


def test_rotation_rewraps_every_key_in_batches_and_rewrites_no_field(engine: Engine) -> None:
    old = fixed_keyring()
    portfolio = generate_portfolio(12, 5, date(2026, 9, 1))
    load_portfolio(factory(engine, old), portfolio)
    with factory(engine, old)() as uow:
        before = uow.parties.contact_points()
    fields = snapshot(engine, "SELECT ref, address_ciphertext FROM contact_points")
    wrapped = snapshot(engine, "SELECT party, wrapped_key FROM data_keys")
    parties = len(wrapped)
    assert parties == len(portfolio.borrowers) + len(portfolio.contacts)

    done = rotate_master_key(engine, keyring_for_rotation(old, NEW), batch=7)

    assert (done.rewrapped, done.batches, done.remaining) == (parties, -(-parties // 7), 0)
    assert done.indexes == len(before) + len(portfolio.borrowers)  # every address, and each borrower's ID number
    assert snapshot(engine, "SELECT ref, address_ciphertext FROM contact_points") == fields
    rewrapped = snapshot(engine, "SELECT party, wrapped_key FROM data_keys")
    assert all(rewrapped[p] != wrapped[p] for p in wrapped)
    with engine.connect() as connection:
        ids = set(connection.execute(text("SELECT DISTINCT master_key_id FROM data_keys")).scalars())
    assert ids == {NEW.id}
    # The new key alone opens everything and finds a number; the old one alone opens nothing.
    new_only = Keyring(NEW)
    with factory(engine, new_only)() as uow:
        assert uow.parties.contact_points() == before
        phone = portfolio.borrowers[3].phone
        assert [p.address for p in uow.parties.find_contact_points(phone)] == [phone]
    with factory(engine, Keyring(old.master))() as uow, pytest.raises(KeyringError, match="not configured"):
        uow.parties.contact_points()
    assert rotate_master_key(engine, keyring_for_rotation(old, NEW)).rewrapped == 0


def test_keys_written_meanwhile_are_wrapped_under_the_new_key_or_reported(engine: Engine) -> None:
    old = fixed_keyring()
    load_portfolio(factory(engine, old), generate_portfolio(6, 5, date(2026, 9, 1)))
    during = Keyring(NEW, others=[old.master])  # a process run with FAIRDUN_NEW_MASTER_KEY set
    stale = Keyring(old.master)  # a process that was not told

    def add(keyring: Keyring, party: str) -> None:
        with factory(engine, keyring)() as uow:
            uow.parties.add(Party(party, party, Role.DEBTOR, "Asia/Shanghai"))
            uow.parties.add_contact_point(
                ContactPoint(f"{party}/phone", party, "+8613800099999", frozenset({Channel.CALL}))
            )
            uow.commit()

    writes = iter([lambda: add(during, "Z-new"), lambda: add(stale, "A-stale")])

    def progress(count: int) -> None:
        step = next(writes, None)
        if step is not None:
            step()

    done = rotate_master_key(engine, keyring_for_rotation(old, NEW), batch=4, progress=progress)
    assert done.remaining == 1  # A-stale sorts before where the rotation had got to
    with engine.connect() as connection:
        query = text("SELECT party, master_key_id FROM data_keys WHERE party IN ('Z-new', 'A-stale')")
        rows = {str(party): str(key) for party, key in connection.execute(query)}
    assert rows == {"Z-new": NEW.id, "A-stale": old.master_id}
    with factory(engine, during)() as uow:
        assert len(uow.parties.find_contact_points("+8613800099999")) == 2
    again = rotate_master_key(engine, keyring_for_rotation(old, NEW))
    assert (again.rewrapped, again.remaining) == (1, 0)
    with factory(engine, Keyring(NEW))() as uow:
        assert len(uow.parties.find_contact_points("+86 138 0009 9999")) == 2


# --- the command --------------------------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {
        "FAIRDUN_DATABASE_URL": f"sqlite:///{tmp_path / 'book.db'}",
        "FAIRDUN_MASTER_KEY": generate_master_key(),
        "FAIRDUN_MASTER_KEY_FILE": "",
        "FAIRDUN_NEW_MASTER_KEY": "",
        "COLUMNS": "200",
    }
    assert runner.invoke(app, ["db", "upgrade"], env=environment).exit_code == 0
    generated = runner.invoke(app, ["book", "generate", "--borrowers", "15", "--seed", "2"], env=environment)
    assert generated.exit_code == 0, generated.output
    return environment


def test_keys_rotate_moves_the_book_to_the_new_key(env: dict[str, str], tmp_path: Path) -> None:
    made = runner.invoke(app, ["keys", "generate", "--out", str(tmp_path / "new.key")], env=env)
    assert made.exit_code == 0, made.output
    new_key = (tmp_path / "new.key").read_text(encoding="ascii").strip()
    assert len(base64.b64decode(new_key)) == 32
    assert oct((tmp_path / "new.key").stat().st_mode & 0o777) == "0o600"

    rotated = runner.invoke(
        app, ["keys", "rotate", "--new-key-file", str(tmp_path / "new.key"), "--batch", "10"], env=env
    )
    assert rotated.exit_code == 0, rotated.output
    counts = json.loads(rotated.stdout)
    new_id = MasterKey.parse(new_key, "x").id
    assert counts["master_key_id"] == new_id
    assert counts["rewrapped"] > 15
    assert counts["remaining"] == 0

    status = runner.invoke(app, ["keys", "status"], env={**env, "FAIRDUN_MASTER_KEY": new_key})
    assert json.loads(status.stdout)["data_keys"] == {new_id: counts["rewrapped"]}
    log = f"path={tmp_path / 'o.jsonl'}"
    cycle = ["cycle", "run", "--date", "2026-09-01", "--simulate", "--channel-option", log]
    with_old = runner.invoke(app, cycle, env=env)
    assert with_old.exit_code == 2
    assert "not configured" in with_old.stderr
    assert "Traceback" not in with_old.output
    with_new = runner.invoke(app, cycle, env={**env, "FAIRDUN_MASTER_KEY": new_key})
    assert with_new.exit_code == 0, with_new.output


def test_keys_rotate_takes_the_new_key_from_the_environment(env: dict[str, str]) -> None:
    new_key = generate_master_key()
    rotated = runner.invoke(app, ["keys", "rotate"], env={**env, "FAIRDUN_NEW_MASTER_KEY": new_key})
    assert rotated.exit_code == 0, rotated.output
    assert json.loads(rotated.stdout)["master_key_id"] == MasterKey.parse(new_key, "x").id


@pytest.mark.parametrize(
    ("args", "extra", "message"),
    [
        (["keys", "rotate"], {}, "--new-key-file or FAIRDUN_NEW_MASTER_KEY: the new master key is required"),
        (["keys", "rotate", "--new-key-file", "/nonexistent/new.key"], {}, "--new-key-file: cannot read"),
        (["keys", "rotate", "--batch", "0"], {}, "--batch: at least 1"),
        (["keys", "rotate"], {"FAIRDUN_NEW_MASTER_KEY": "short"}, "FAIRDUN_NEW_MASTER_KEY: not base64"),
        (["keys", "status"], {"FAIRDUN_MASTER_KEY": "@@@"}, "FAIRDUN_MASTER_KEY: not base64"),
        (["cycle", "status"], {"FAIRDUN_MASTER_KEY": base64.b64encode(b"x" * 16).decode()}, "16 bytes once decoded"),
    ],
)
def test_bad_key_settings_exit_2_with_one_line(
    env: dict[str, str], args: list[str], extra: dict[str, str], message: str
) -> None:
    result = runner.invoke(app, args, env={**env, **extra})
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_rotating_to_the_current_key_is_refused(env: dict[str, str]) -> None:
    same = {**env, "FAIRDUN_NEW_MASTER_KEY": env["FAIRDUN_MASTER_KEY"]}
    result = runner.invoke(app, ["keys", "rotate"], env=same)
    assert result.exit_code == 2
    assert "the new master key is the current one" in result.stderr


def test_postgresql_without_a_master_key_is_refused_naming_the_setting() -> None:
    env = {
        "FAIRDUN_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/nothing",
        "FAIRDUN_MASTER_KEY": "",
        "FAIRDUN_MASTER_KEY_FILE": "",
    }
    result = runner.invoke(app, ["keys", "status"], env=env)
    assert result.exit_code == 2
    assert "FAIRDUN_MASTER_KEY (or FAIRDUN_MASTER_KEY_FILE) is not set" in result.stderr


def test_a_sqlite_book_without_a_key_gets_a_development_key_beside_it(tmp_path: Path) -> None:
    env = {
        "FAIRDUN_DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}",
        "FAIRDUN_MASTER_KEY": "",
        "FAIRDUN_MASTER_KEY_FILE": "",
    }
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    first = runner.invoke(app, ["book", "generate", "--borrowers", "3"], env=env)
    assert first.exit_code == 0, first.output
    assert "created a development master key" in first.stderr
    key_file = tmp_path / "dev.db.masterkey"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    status = runner.invoke(app, ["keys", "status"], env=env)
    assert status.exit_code == 0
    assert "created" not in status.stderr
    key_id = MasterKey.read(key_file, "x").id
    assert json.loads(status.stdout)["master_key_id"] == key_id
    assert key_file.read_bytes().strip() not in (tmp_path / "dev.db").read_bytes()
