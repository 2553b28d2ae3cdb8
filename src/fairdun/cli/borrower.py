"""``fairdun borrower``: registering borrowers and the contacts they designated (docs/identity.md) on the database
at ``FAIRDUN_DATABASE_URL``. Bad input is one line naming the borrower and field, exit status 2, and nothing of
the file is stored."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application.identity import RegistrationError, masked, parse_batch, register_borrowers
from fairdun.application.ports import PersistenceError
from fairdun.cli.database import fail, open_database
from fairdun.config.settings import SettingsError, load_settings

borrower_app = typer.Typer(
    help="Borrowers and their designated contacts: validated, sealed, at most FAIRDUN_MAX_CONTACTS (docs/identity.md).",
    no_args_is_help=True,
)

NOTHING_STORED = "nothing was stored"


def read_records(source: str) -> list[Any]:
    """The records in ``source`` (a path, or ``-`` for stdin): one JSON object, or JSON lines."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"{source}: cannot be read: {exc.strerror}")
    except UnicodeDecodeError:
        fail(f"{source}: not UTF-8 text")
    name = "stdin" if source == "-" else source
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        pass
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            fail(f"{name}: line {number}: not JSON ({exc.msg}); {NOTHING_STORED}")
    if not records:
        fail(f"{name}: no borrower records")
    return records


@borrower_app.command("add")
def add(
    file: Annotated[str, typer.Argument(help="A JSON object or JSON lines, one borrower each; - for stdin.")],
    by: Annotated[str, typer.Option("--by", help="Who registers them (recorded in the audit log).")] = "cli",
) -> None:
    """Register borrowers (name, resident ID, phones, e-mail, postal address, bank account, tz, risk tier) with
    their designated contacts (name, phone, relationship, consent with evidence): all validated first, stored in
    one transaction, sealed, and printed masked. More contacts than FAIRDUN_MAX_CONTACTS, an address book or a
    contact without consent evidence is refused and nothing is stored."""
    records = read_records(file)
    try:
        settings = load_settings()
    except SettingsError as exc:
        fail(str(exc))
    now = datetime.now(UTC)
    try:
        batch = parse_batch(records, today=now.date(), max_contacts=settings.max_contacts)
    except RegistrationError as exc:
        fail(f"{exc}; {NOTHING_STORED}")
    with open_database() as engine:
        uow = SqlAlchemyUnitOfWork(engine)
        try:
            with uow:
                done = register_borrowers(uow, batch, actor=by, at=now)
        except (PersistenceError, ValueError) as exc:
            fail(f"{exc}; {NOTHING_STORED}")
    for registered in done:
        typer.echo(json.dumps(masked(registered), ensure_ascii=False))
