"""``fairdun login``, ``logout`` and ``whoami``, and how every command that acts for a person learns who they are.

A login checks the password and gives a session token, kept in a file only its owner can read
(``FAIRDUN_SESSION_FILE``, by default ``$XDG_STATE_HOME/fairdun/session`` or ``~/.local/state/fairdun/session``),
or printed with ``--print-token`` for a script to put in ``FAIRDUN_SESSION``. A command that changes or reads
something on a person's behalf calls :func:`signed_in`: the session names the user (``--by``/``--as``, if given,
must name the same one), and their role must hold the permission. Scheduled jobs (``cycle run``, ``outbox
dispatch``, ``retention purge``, ``keys rotate``) act as the system, with the database's and the master key's
credentials as their boundary; docs/access.md says which is which.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application import authentication as auth
from fairdun.application.access_control import AccessControlError
from fairdun.application.ports import PersistenceError
from fairdun.cli.database import fail, open_database
from fairdun.domain.access import Permission, User, allowed


def _now() -> datetime:
    return datetime.now(UTC)


def session_file() -> Path:
    """Where the session token is kept between commands."""
    configured = os.environ.get("FAIRDUN_SESSION_FILE", "").strip()
    if configured:
        return Path(configured)
    state = os.environ.get("XDG_STATE_HOME", "").strip()
    base = Path(state) if state else Path.home() / ".local" / "state"
    return base / "fairdun" / "session"


def session_token() -> str | None:
    """The token of the current session: ``FAIRDUN_SESSION``, else the session file's; None when logged out."""
    token = os.environ.get("FAIRDUN_SESSION", "").strip()
    if token:
        return token
    path = session_file()
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"session file {path}: cannot be read ({type(exc).__name__})")
    return text or None


def _keep_token(token: str) -> Path:
    path = session_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(token + "\n")
        path.chmod(0o600)
    except OSError as exc:
        fail(f"session file {path}: cannot be written ({exc.strerror or type(exc).__name__})")
    return path


def _authenticate(token: str) -> auth.Signed:
    """What the session of ``token`` proves, now; one line and exit status 2 if nothing."""
    with open_database(personal_data=False) as engine:
        uow = SqlAlchemyUnitOfWork(engine)
        try:
            with uow:
                return auth.authenticate(uow, token, at=_now())
        except (AccessControlError, PersistenceError) as exc:
            fail(str(exc))


def signed_in(by: str | None = None, *, need: Permission | None = None, option: str = "--by") -> User:
    """The user the current session proves, if it is live, their password is not a one-time one, ``by`` (when
    given) names them, and their role holds ``need``; otherwise one line saying what to do, exit status 2."""
    token = session_token()
    if token is None:
        fail("not logged in: run `fairdun login ID` first (or set FAIRDUN_SESSION)")
    signed = _authenticate(token)
    user = signed.user
    if signed.must_change:
        fail(f"user {user.id!r}: set your own password first (`fairdun user password`): the one you have is one-time")
    if by is not None and by.strip() != user.id:
        fail(f"{option}: you are logged in as {user.id!r}, not {by.strip()!r}")
    if need is not None and not allowed(user, need):
        fail(f"user {user.id!r} ({user.role.value}) may not {need.value.replace('_', ' ')}")
    return user


def read_secret(prompt: str, *, from_stdin: bool, confirm: bool = False) -> str:
    """A password: the next line of standard input with ``from_stdin``, else asked for without echo."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            fail(f"{prompt.lower()}: expected a line on standard input, got none")
        return line.rstrip("\r\n")
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm))


Stdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password(s) from standard input, one a line.")]


def login(
    user_id: Annotated[str, typer.Argument(metavar="ID", help="Your account.")],
    hours: Annotated[int, typer.Option(help="How long the session lasts, 1 to 12 hours.")] = auth.SESSION_HOURS,
    password_stdin: Stdin = False,
    print_token: Annotated[
        bool, typer.Option("--print-token", help="Print the token (for FAIRDUN_SESSION) instead of keeping it.")
    ] = False,
) -> None:
    """Log in: the session is kept in the session file (or printed); every login and failed attempt is audited,
    and five wrong passwords in a row lock the account for 15 minutes."""
    password = read_secret("Password", from_stdin=password_stdin)
    at = _now()
    with open_database(personal_data=False) as engine:
        uow = SqlAlchemyUnitOfWork(engine)
        try:
            with uow:
                result = auth.login(uow, user_id.strip(), password, at=at, hours=hours)
                uow.commit()
        except (AccessControlError, PersistenceError) as exc:
            fail(str(exc))
    if not result.ok or result.token is None or result.session is None:
        if result.failure is not None and result.failure.startswith("locked until"):
            fail(f"user {user_id.strip()!r} is {result.failure} after {auth.MAX_FAILURES} wrong passwords")
        fail("login: wrong user id or password")
    answer = {
        "user": result.user,
        "expires_at": result.session.expires_at.isoformat(),
        "must_change": result.must_change,
    }
    if print_token:
        typer.echo(json.dumps({**answer, "token": result.token}))
    else:
        typer.echo(json.dumps({**answer, "session_file": str(_keep_token(result.token))}))
    if result.must_change:
        typer.echo("this password is one-time: set your own now with `fairdun user password`", err=True)


def logout() -> None:
    """End the current session (and forget the session file)."""
    token = session_token()
    if token is None:
        fail("not logged in")
    at = _now()
    path = session_file()
    with open_database(personal_data=False) as engine:
        uow = SqlAlchemyUnitOfWork(engine)
        try:
            with uow:
                user = auth.logout(uow, token, at=at)
                uow.commit()
        except (AccessControlError, PersistenceError) as exc:
            path.unlink(missing_ok=True)
            fail(str(exc))
    path.unlink(missing_ok=True)
    typer.echo(json.dumps({"logged_out": user}))


def whoami() -> None:
    """Who the current session is for, their role, and until when it lasts."""
    token = session_token()
    if token is None:
        fail("not logged in")
    signed = _authenticate(token)
    user = signed.user
    typer.echo(
        json.dumps(
            {
                "user": user.id,
                "role": user.role.value,
                "agency": user.agency,
                "expires_at": signed.session.expires_at.isoformat(),
                "must_change": signed.must_change,
            }
        )
    )
