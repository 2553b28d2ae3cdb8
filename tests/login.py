"""Running the CLI as a user who logged in, for the tests of commands that act for a person.

:func:`run_cli` is ``CliRunner.invoke`` that, when the arguments name a user with ``--by`` or ``--as``, first logs
that user in through ``fairdun.application.authentication`` (giving the account a known password if it has none,
as an admin's reset and the user's own change would) and runs the command with the session in
``FAIRDUN_SESSION``, as a script would after ``fairdun login --print-token``. The login itself, its failures and
its refusals are tested on their own in tests/access/test_login.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from click.testing import Result
from sqlalchemy import create_engine
from typer.testing import CliRunner

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application import authentication as auth
from fairdun.cli.main import app
from fairdun.domain.access import Credential

PASSWORD = "test-password-7Qz!"
runner = CliRunner()


def session_for(env: Mapping[str, str], user_id: str) -> str:
    """A live session token for ``user_id`` on the database of ``env`` (an unknown user gets none: "")."""
    engine = create_engine(env["FAIRDUN_DATABASE_URL"])
    try:
        uow = SqlAlchemyUnitOfWork(engine)
        now = datetime.now(UTC)
        with uow:
            if uow.access.user(user_id) is None:
                return ""
            credential = uow.access.credential(user_id)
            if (
                credential is None
                or credential.must_change
                or not auth.verify_password(PASSWORD, credential.password_hash)
            ):
                uow.access.set_credential(Credential(user_id, auth.hash_password(PASSWORD), now, user_id, False))
            result = auth.login(uow, user_id, PASSWORD, at=now)
            uow.commit()
        return result.token or ""
    finally:
        engine.dispose()


def actor_of(args: Sequence[str]) -> str | None:
    """The user ``--by`` or ``--as`` names in ``args``."""
    for option in ("--by", "--as"):
        if option in args:
            index = list(args).index(option)
            if index + 1 < len(args):
                return args[index + 1]
    return None


def run_cli(args: Sequence[str], env: Mapping[str, str], **kwargs: Any) -> Result:
    """``fairdun ARGS`` with ``env``, logged in as the user ``--by``/``--as`` names (if any, and if they exist)."""
    environment = dict(env)
    actor = actor_of(args)
    if actor is not None and actor.strip():
        environment["FAIRDUN_SESSION"] = session_for(env, actor.strip()) or "no-such-session"
    return runner.invoke(app, list(args), env=environment, **kwargs)
