"""Logins on SQLite and PostgreSQL: passwords kept as hashes, one-time passwords that must be changed, sessions that
end, lock-outs after five wrong passwords, every step in the audit log, and the commands that act for a person
refusing anyone not logged in, or logged in as someone else, or without the permission."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application import authentication as auth
from fairdun.application.access_control import AccessControlError, add_user
from fairdun.cli.main import app
from fairdun.domain.access import Credential, User, UserRole
from tests.persistence.conftest import Database

runner = CliRunner()
AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
OWN = "Plum-Blossom-Lantern-62"


@pytest.fixture
def env(database: Database, engine: Engine, tmp_path: Path) -> dict[str, str]:
    return {
        "FAIRDUN_DATABASE_URL": database.url.render_as_string(hide_password=False),
        "FAIRDUN_SESSION_FILE": str(tmp_path / "state" / "session"),
        "COLUMNS": "200",
    }


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, list(args), env=env, input=stdin)


def ok(env: dict[str, str], *args: str, stdin: str | None = None) -> dict[str, object]:
    result = cli(env, *args, stdin=stdin)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout.splitlines()[-1]))


def refused(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = cli(env, *args, stdin=stdin)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("fairdun: error: ")
    return lines[0]


def audit(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT actor, action, subject FROM audit_log ORDER BY seq"))
        return [(str(a), str(b), str(c)) for a, b, c in rows]


def enrol(env: dict[str, str], user: str, role: str = "admin", by: tuple[str, ...] = ()) -> str:
    """Adds the account and sets its own password through the one-time one; returns nothing to keep: OWN is it."""
    one_time = str(ok(env, "user", "add", user, "--role", role, *by)["one_time_password"])
    ok(env, "login", user, "--password-stdin", stdin=one_time + "\n")
    ok(env, "user", "password", "--password-stdin", stdin=f"{one_time}\n{OWN}\n")
    return one_time


def test_the_first_admin_logs_in_with_the_one_time_password_and_must_change_it(
    env: dict[str, str], engine: Engine
) -> None:
    assert cli(env, "db", "upgrade").exit_code == 0
    made = ok(env, "user", "add", "admin-wang", "--role", "admin")
    one_time = str(made["one_time_password"])
    with engine.connect() as connection:
        [(stored,)] = connection.execute(text("SELECT password_hash FROM credentials WHERE user_id = 'admin-wang'"))
    assert one_time not in stored
    assert stored.startswith("scrypt$16384$8$1$")

    session = ok(env, "login", "admin-wang", "--password-stdin", stdin=one_time + "\n")
    assert session["must_change"] is True
    path = Path(env["FAIRDUN_SESSION_FILE"])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    token = path.read_text().strip()
    with engine.connect() as connection:
        kept = [r[0] for r in connection.execute(text("SELECT token_hash FROM sessions"))]
    assert kept == [auth.token_hash(token)]  # the token itself is not stored

    assert "set your own password first" in refused(env, "user", "add", "dpo-li", "--role", "compliance")
    assert "at least 12 characters" in refused(
        env, "user", "password", "--password-stdin", stdin=f"{one_time}\nshort\n"
    )
    assert "must not contain the user id" in refused(
        env, "user", "password", "--password-stdin", stdin=f"{one_time}\nmy-admin-wang-pass\n"
    )
    assert "current password: wrong" in refused(
        env, "user", "password", "--password-stdin", stdin=f"not-the-one\n{OWN}\n"
    )
    ok(env, "user", "password", "--password-stdin", stdin=f"{one_time}\n{OWN}\n")
    assert ok(env, "whoami") == {
        "user": "admin-wang", "role": "admin", "agency": None, "expires_at": session["expires_at"],
        "must_change": False,
    }  # fmt: skip
    assert ok(env, "user", "add", "dpo-li", "--role", "compliance")["added"] == "dpo-li"
    assert ok(env, "logout") == {"logged_out": "admin-wang"}
    assert not path.exists()
    assert "not logged in" in refused(env, "whoami")
    assert "not logged in" in refused(env, "user", "add", "c1", "--role", "collector")
    assert refused(env, "login", "admin-wang", "--password-stdin", stdin=one_time + "\n") == (
        "fairdun: error: login: wrong user id or password"
    )
    assert [(a, b) for a, b, _ in audit(engine) if b.startswith("auth.")] == [
        ("bootstrap", "auth.password_reset"),
        ("admin-wang", "auth.login"),
        ("anonymous", "auth.login_failed"),  # the wrong current password
        ("admin-wang", "auth.password_changed"),
        ("admin-wang", "auth.password_reset"),  # dpo-li's one-time password
        ("admin-wang", "auth.logout"),
        ("anonymous", "auth.login_failed"),
    ]
    assert json.loads(cli(env, "audit", "verify").stdout)["ok"] is True


def test_a_wrong_password_an_unknown_user_and_no_password_answer_alike_and_the_log_says_why(
    env: dict[str, str], engine: Engine
) -> None:
    assert cli(env, "db", "upgrade").exit_code == 0
    enrol(env, "admin-wang")
    with SqlAlchemyUnitOfWork(engine) as uow:  # an account made before logins existed: no password
        add_user(uow, User("old-1", UserRole.AUDITOR), by="admin-wang", at=AT)
        uow.commit()
    answers = {
        refused(env, "login", user, "--password-stdin", stdin="Wrong-Password-123\n")
        for user in ("admin-wang", "nobody", "old-1")
    }
    assert answers == {"fairdun: error: login: wrong user id or password"}
    with engine.connect() as connection:
        reasons = [
            json.loads(d)["reason"]
            for (d,) in connection.execute(
                text("SELECT detail FROM audit_log WHERE action = 'auth.login_failed' ORDER BY seq")
            )
        ]
    assert reasons[-3:] == ["wrong password", "no such user", "no password set"]
    one_time = ok(env, "user", "reset", "old-1")["one_time_password"]
    assert ok(env, "login", "old-1", "--password-stdin", "--print-token", stdin=f"{one_time}\n")["must_change"] is True


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(engine: Engine) -> None:
    with SqlAlchemyUnitOfWork(engine) as uow:
        add_user(uow, User("admin-wang", UserRole.ADMIN), by=None, at=AT)
        uow.access.set_credential(Credential("admin-wang", auth.hash_password(OWN), AT, "admin-wang", False))
        uow.commit()
    for k in range(5):
        with SqlAlchemyUnitOfWork(engine) as uow:
            result = auth.login(uow, "admin-wang", "Wrong-Password-123", at=AT + timedelta(seconds=k))
            uow.commit()
        assert not result.ok
    with SqlAlchemyUnitOfWork(engine) as uow:
        locked = auth.login(uow, "admin-wang", OWN, at=AT + timedelta(minutes=14))
        uow.commit()
    assert locked.failure is not None
    assert locked.failure.startswith("locked until")
    with SqlAlchemyUnitOfWork(engine) as uow:
        later = auth.login(uow, "admin-wang", OWN, at=AT + timedelta(minutes=16))
        uow.commit()
    assert later.ok
    assert later.token is not None
    with SqlAlchemyUnitOfWork(engine) as uow:
        signed = auth.authenticate(uow, later.token, at=AT + timedelta(minutes=17))
        assert signed.user.id == "admin-wang"
        with pytest.raises(AccessControlError, match="expired"):
            auth.authenticate(uow, later.token, at=AT + timedelta(hours=9))
    actions = [b for _, b, _ in audit(engine)]
    assert actions.count("auth.login_failed") == 6  # five wrong passwords, then the locked attempt
    assert actions.count("auth.locked") == 1


def test_the_session_decides_who_acts_and_the_role_what_they_may_do(env: dict[str, str], engine: Engine) -> None:
    assert cli(env, "db", "upgrade").exit_code == 0
    enrol(env, "admin-wang")
    ok(env, "user", "add", "c1", "--role", "collector")
    assert "--by: you are logged in as 'admin-wang', not 'c1'" in refused(
        env, "user", "deactivate", "admin-wang", "--by", "c1"
    )
    c1 = Path(env["FAIRDUN_SESSION_FILE"]).with_name("c1-session")
    as_c1 = {**env, "FAIRDUN_SESSION_FILE": str(c1)}
    one_time = ok(env, "user", "reset", "c1")["one_time_password"]
    ok(as_c1, "login", "c1", "--password-stdin", stdin=f"{one_time}\n")
    ok(as_c1, "user", "password", "--password-stdin", stdin=f"{one_time}\n{OWN}\n")
    assert "may not manage users" in refused(as_c1, "user", "add", "c2", "--role", "collector")
    assert "may not list complaints" in refused(as_c1, "complaint", "list")
    assert "may not manage templates" in refused(as_c1, "template", "approve", "T-1")
    ok(env, "user", "deactivate", "c1")
    assert "session was ended" in refused(as_c1, "whoami")  # deactivation ends the sessions
    assert "wrong user id or password" in refused(as_c1, "login", "c1", "--password-stdin", stdin=f"{OWN}\n")


def test_a_token_from_the_environment_and_a_bad_one(env: dict[str, str], engine: Engine) -> None:
    assert cli(env, "db", "upgrade").exit_code == 0
    enrol(env, "admin-wang")
    token = str(ok(env, "login", "admin-wang", "--password-stdin", "--print-token", stdin=f"{OWN}\n")["token"])
    scripted = {**env, "FAIRDUN_SESSION_FILE": str(Path(env["FAIRDUN_SESSION_FILE"]).with_name("none"))}
    assert ok({**scripted, "FAIRDUN_SESSION": token}, "whoami")["user"] == "admin-wang"
    assert "not known to this database" in refused({**scripted, "FAIRDUN_SESSION": "forged"}, "whoami")
    assert "hours: 1 to 12" in refused(env, "login", "admin-wang", "--hours", "48", "--password-stdin", stdin=OWN)


def test_the_password_is_asked_for_without_echo_when_not_piped(env: dict[str, str]) -> None:
    assert cli(env, "db", "upgrade").exit_code == 0
    one_time = str(ok(env, "user", "add", "admin-wang", "--role", "admin")["one_time_password"])
    asked = cli(env, "login", "admin-wang", stdin=f"{one_time}\n")
    assert asked.exit_code == 0, asked.output
    assert one_time not in asked.stdout  # hidden input is not echoed
    mismatch = cli(env, "user", "password", stdin=f"{one_time}\n{OWN}\nsomething-else-99\n{OWN}\n{OWN}\n")
    assert mismatch.exit_code == 0, mismatch.output  # the confirmation is asked again until both agree
    assert json.loads(mismatch.stdout.splitlines()[-1]) == {"password_changed": "admin-wang"}
    assert ok(env, "whoami")["must_change"] is False
