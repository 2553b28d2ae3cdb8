"""The hash-chained audit log on both databases: appended in the transaction of the change, and every kind of
tampering — an altered, deleted, inserted or reordered entry, a cut-off tail, a chain rewritten whole — is found
(the last two only against an anchor, which is what anchors are for)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, text
from typer.testing import CliRunner

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.adapters.sqlalchemy.audit_log import GENESIS, entry_hash, log_head, verify_chain, verify_log
from fairdun.adapters.sqlalchemy.models import AuditLogRow
from fairdun.cli.main import app

AT = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)
runner = CliRunner()


def append(engine: Engine, count: int) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    for n in range(count):
        with uow:
            uow.audit.append(
                f"collector-{n % 3}",
                "contact.unmasked" if n % 2 else "consent.withdrawn",
                f"P{n:06d}",
                {"reason": "客户来电核实", "n": n},
                at=AT + timedelta(minutes=n),
            )
            uow.commit()


def run(engine: Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def forged(engine: Engine, seq: int, prev: str) -> str:
    """An entry as a forger who knows the algorithm would write it after ``prev``: its own hash is right."""
    digest = entry_hash(prev, seq=seq, at=AT, actor="forger", action="consent.granted", subject="P999999", detail={})
    row = {"actor": "forger", "action": "consent.granted", "subject": "P999999", "detail": "{}"}
    with engine.begin() as connection:
        connection.execute(
            insert(AuditLogRow.__table__).values(seq=seq, at=AT, prev_hash=prev, hash=digest, **row)  # type: ignore[arg-type]
        )
    return digest


def insert_one(engine: Engine) -> None:
    """A forged entry put in as the third, the later ones renumbered to make room."""
    run(
        engine,
        "UPDATE audit_log SET seq = seq + 100 WHERE seq >= 3",
        "UPDATE audit_log SET seq = seq - 99 WHERE seq > 100",
    )
    forged(engine, 3, hash_of(engine, 2))


def hash_of(engine: Engine, seq: int) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text(f"SELECT hash FROM audit_log WHERE seq = {seq}")).scalar_one())


def test_an_untouched_log_verifies_and_its_head_is_the_last_entry(engine: Engine) -> None:
    assert verify_log(engine).ok
    assert log_head(engine) == (0, GENESIS)
    append(engine, 5)
    found = verify_log(engine)
    assert (found.ok, found.entries, found.head_seq) == (True, 5, 5)
    assert log_head(engine) == (5, found.head_hash) == (5, hash_of(engine, 5))
    assert verify_log(engine, anchor=hash_of(engine, 3)).ok


def test_an_entry_is_kept_with_its_transaction_or_not_at_all(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.audit.append("admin-1", "pack.changed", "cn", {"version": "2026.11.0"}, at=AT)  # never committed
    assert log_head(engine) == (0, GENESIS)
    with uow:
        first = uow.audit.append("admin-1", "pack.changed", "cn", {"version": "2026.11.0"}, at=AT)
        second = uow.audit.append("admin-1", "pack.changed", "cn", {"version": "2026.11.1"}, at=AT)
        uow.commit()
    assert (first.seq, second.seq, second.prev_hash) == (1, 2, first.hash)
    with uow, pytest.raises(ValueError, match="timezone-aware"):
        uow.audit.append("admin-1", "pack.changed", "cn", at=AT.replace(tzinfo=None))


TAMPERING: dict[str, tuple[Callable[[Engine], None], str, int]] = {
    "an altered detail": (
        lambda e: run(e, """UPDATE audit_log SET detail = '{"n": 3, "reason": "none"}' WHERE seq = 3"""),
        "entry 3: its hash does not match its content (altered)",
        3,
    ),
    "an altered actor": (
        lambda e: run(e, "UPDATE audit_log SET actor = 'collector-9' WHERE seq = 4"),
        "entry 4: its hash does not match its content",
        4,
    ),
    "a detail that is no longer JSON": (
        lambda e: run(e, "UPDATE audit_log SET detail = 'n=3' WHERE seq = 3"),
        "entry 3: its detail is not JSON",
        3,
    ),
    "a deleted entry": (
        lambda e: run(e, "DELETE FROM audit_log WHERE seq = 3"),
        "entry 3 is missing (the next is 4)",
        3,
    ),
    "the first entry deleted": (lambda e: run(e, "DELETE FROM audit_log WHERE seq = 1"), "entry 1 is missing", 1),
    "an entry inserted, the rest renumbered": (insert_one, "entry 4 does not follow entry 3", 4),
    "two entries swapped": (
        lambda e: run(
            e,
            "UPDATE audit_log SET seq = 100 WHERE seq = 2",
            "UPDATE audit_log SET seq = 2 WHERE seq = 3",
            "UPDATE audit_log SET seq = 3 WHERE seq = 100",
        ),
        "entry 2 does not follow entry 1",
        2,
    ),
    "an entry's hash replaced by a forger's": (
        lambda e: run(e, f"UPDATE audit_log SET prev_hash = '{GENESIS}' WHERE seq = 2"),
        "entry 2 does not follow entry 1",
        2,
    ),
}


@pytest.mark.parametrize("tampering", list(TAMPERING))
def test_tampering_is_found_at_the_first_broken_entry(engine: Engine, tampering: str) -> None:
    change, problem, seq = TAMPERING[tampering]
    append(engine, 6)
    change(engine)
    found = verify_log(engine)
    assert not found.ok
    assert found.problem is not None
    assert problem in found.problem
    assert found.broken_at == seq


def test_a_cut_off_tail_is_found_against_an_anchor(engine: Engine) -> None:
    append(engine, 6)
    anchor = log_head(engine)[1]
    run(engine, "DELETE FROM audit_log WHERE seq >= 5")
    assert verify_log(engine).ok  # a chain cut short is still a chain: this is what the anchor is for
    found = verify_log(engine, anchor=anchor)
    assert found.problem == f"the anchor {anchor} is not in the log: rewritten or cut short at or before it"


def test_a_chain_rewritten_whole_is_found_against_an_anchor(engine: Engine) -> None:
    append(engine, 4)
    anchor = log_head(engine)[1]
    run(engine, "DELETE FROM audit_log")
    prev = GENESIS
    for seq in range(1, 5):
        prev = forged(engine, seq, prev)
    assert verify_log(engine).ok
    assert not verify_log(engine, anchor=anchor).ok


def test_an_anchor_must_be_a_hash() -> None:
    with pytest.raises(ValueError, match="--anchor: 64 lower-case hex digits"):
        verify_chain([], anchor="abc")


# --- the commands -------------------------------------------------------------------------------------------


def test_audit_verify_and_anchor_from_the_command_line(tmp_path: Path) -> None:
    env = {"FAIRDUN_DATABASE_URL": f"sqlite:///{tmp_path / 'log.db'}"}
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    empty = runner.invoke(app, ["audit", "verify"], env=env)
    assert empty.exit_code == 0, empty.output
    assert json.loads(empty.stdout) == {"entries": 0, "head": {"seq": 0, "hash": GENESIS}, "ok": True}

    from fairdun.adapters.sqlalchemy import make_engine  # noqa: PLC0415

    engine = make_engine(env["FAIRDUN_DATABASE_URL"])
    append(engine, 3)
    anchored = runner.invoke(app, ["audit", "anchor"], env=env)
    assert anchored.exit_code == 0
    head = json.loads(anchored.stdout)
    assert head == {"seq": 3, "hash": hash_of(engine, 3)}
    ok = runner.invoke(app, ["audit", "verify", "--anchor", head["hash"]], env=env)
    assert ok.exit_code == 0, ok.output

    run(engine, "UPDATE audit_log SET subject = 'P000000' WHERE seq = 2")
    engine.dispose()
    broken = runner.invoke(app, ["audit", "verify"], env=env)
    assert broken.exit_code == 1
    assert broken.stderr.strip() == (
        "fairdun: audit log broken: entry 2: its hash does not match its content (altered)"
    )
    assert json.loads(broken.stdout)["ok"] is False
    bad = runner.invoke(app, ["audit", "verify", "--anchor", "HEAD"], env=env)
    assert bad.exit_code == 2
    assert "--anchor: 64 lower-case hex digits" in bad.stderr


def test_a_rotation_is_recorded_in_the_audit_log(engine: Engine) -> None:
    from fairdun.adapters.crypto import MasterKey  # noqa: PLC0415
    from fairdun.adapters.crypto.keyring import keyring_for_rotation  # noqa: PLC0415
    from fairdun.adapters.sqlalchemy.data_keys import rotate_master_key  # noqa: PLC0415
    from fairdun.application.ports import ContactPoint, Party  # noqa: PLC0415
    from fairdun.domain.contact import Channel, Role  # noqa: PLC0415

    from .conftest import fixed_keyring  # noqa: PLC0415

    with SqlAlchemyUnitOfWork(engine) as uow:
        parties = [Party(f"B{n:06d}", f"B{n:06d}", Role.DEBTOR, "Asia/Shanghai") for n in range(5)]
        points = [
            ContactPoint(f"{p.id}/phone", p.id, f"+86138000{n:05d}", frozenset({Channel.SMS}))
            for n, p in enumerate(parties)
        ]
        uow.parties.add_many(parties, points, [])
        uow.commit()
    new = MasterKey(bytes(range(64, 96)))
    done = rotate_master_key(engine, keyring_for_rotation(fixed_keyring(), new), batch=2)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT action, subject, detail FROM audit_log ORDER BY seq")).all()
    assert (
        [(a, s) for a, s, _ in rows] == [("keys.rewrapped", new.id)] * done.batches == [("keys.rewrapped", new.id)] * 3
    )
    assert sum(json.loads(d)["data_keys"] for _, _, d in rows) == 5
    assert verify_log(engine).ok
