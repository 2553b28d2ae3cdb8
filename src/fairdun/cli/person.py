"""``fairdun person`` (a data subject's personal data, masked unless unmasked for a stated reason; who read it) and
``fairdun incident`` (whose data an account read, for breach notification) on the database at
``FAIRDUN_DATABASE_URL``. See docs/access-log.md.

The CLI has no login of its own: ``--as`` names the user reading, whose role and cases decide what they see, and
whom the access log and the audit log name. Every read, and every refusal, is logged before anything is printed.
Bad input or a refusal is one line naming what is wrong, exit status 2.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application import personal_data
from fairdun.application.personal_data import AffectedParty, PartyView, UnknownPartyError
from fairdun.application.ports import AccessRecord, PersistenceError
from fairdun.cli.database import fail, open_database
from fairdun.cli.session import signed_in
from fairdun.domain.access import AccessDeniedError, User

person_app = typer.Typer(
    help="A person's personal data, masked by default, and who read it (docs/access-log.md).", no_args_is_help=True
)
incident_app = typer.Typer(
    help="Incidents: whose personal data an account read in a window (PIPL Art. 57; docs/access-log.md).",
    no_args_is_help=True,
)

T = TypeVar("T")
As = Annotated[str | None, typer.Option("--as", help="The user logged in, who reads (default: that user); checked.")]
Json = Annotated[bool, typer.Option("--json", help="JSON instead of a table.")]


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _factory() -> Iterator[Callable[[], SqlAlchemyUnitOfWork]]:
    with open_database() as engine:
        yield lambda: SqlAlchemyUnitOfWork(engine)


def _user(user_id: str | None) -> User:
    """The user logged in (whom ``--as``, if given, must name); their role and cases decide what they see."""
    return signed_in(user_id, option="--as")


def _run(user_id: str | None, step: Callable[[SqlAlchemyUnitOfWork, User], T]) -> T:
    """Runs ``step`` as the user logged in (``--as``) with a fresh unit of work; refusals and errors become one
    line."""
    user = _user(user_id)
    with _factory() as factory:
        try:
            return step(factory(), user)
        except (AccessDeniedError, UnknownPartyError, PersistenceError, ValueError) as exc:
            fail(str(exc))


def _instant(value: str, name: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{name}: expected an ISO 8601 time with a UTC offset (2026-09-01T08:00:00+08:00), got {value!r}")
    if at.utcoffset() is None:
        fail(f"{name}: {value!r} has no UTC offset; write it as 2026-09-01T08:00:00+08:00 or ...Z")
    return at


def _second(at: datetime) -> str:
    """An instant in a table: UTC to the second (JSON keeps the microseconds)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _print_table(title: str, columns: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console(soft_wrap=False).print(table)


# --- fairdun person -----------------------------------------------------------------------------------------


def _view_json(view: PartyView) -> dict[str, Any]:
    return {
        "party": view.party,
        "borrower": view.borrower,
        "role": view.role,
        "relationship": view.relationship,
        "unmasked": view.unmasked,
        "loan": view.loan,
        "fields": [{"field": f.field, "ref": f.ref, "value": f.value, "clear": f.clear} for f in view.fields],
        "withheld": list(view.withheld),
    }


@person_app.command("show")
def show(  # noqa: PLR0917 (a command's options are its interface)
    party: Annotated[str, typer.Argument(help="The party id (a borrower, or a person they designated).")],
    as_user: As = None,
    unmask: Annotated[bool, typer.Option("--unmask", help="Show the values in clear (needs --reason).")] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why: the case, the request, the call.")] = "",
    field: Annotated[list[str] | None, typer.Option("--field", help="Only this field (repeatable).")] = None,
    as_json: Json = False,
) -> None:
    """A person's personal fields, masked unless --unmask --reason; the read is logged (an unmask also audited)."""
    view = _run(
        as_user,
        lambda uow, user: personal_data.view_party(
            uow, user, party, at=_now(), reason=reason, unmask=unmask, fields=field or ()
        ),
    )
    if as_json:
        typer.echo(json.dumps(_view_json(view), ensure_ascii=False, indent=2))
        return
    state = "in clear" if view.unmasked else "masked"
    title = (
        f"{view.party} ({view.role}{', ' + view.relationship if view.relationship else ''}) of {view.borrower}, {state}"
    )
    _print_table(title, ("Field", "Value", "Kept at"), [(f.field, f.value, f.ref) for f in view.fields])
    if view.withheld:
        typer.echo(f"not shared with your agency: {', '.join(view.withheld)}")


def _access_json(record: AccessRecord) -> dict[str, Any]:
    return {
        "at": record.at.isoformat(),
        "actor": record.actor,
        "action": record.action.value,
        "fields": list(record.fields),
        "purpose": record.purpose,
        "loan": record.loan,
        "detail": record.detail,
    }


@person_app.command("accesses")
def accesses(
    party: Annotated[str, typer.Argument(help="The party id.")],
    as_user: As = None,
    as_json: Json = False,
) -> None:
    """Who read this person's data, when, which fields and why (PIPL Arts. 44-45): for the person themselves
    (a borrower account) or for staff with subject_requests or read_audit."""
    found = _run(as_user, lambda uow, user: personal_data.accesses_of(uow, user, party, at=_now()))
    if as_json:
        typer.echo(json.dumps([_access_json(r) for r in found], ensure_ascii=False, indent=2))
        return
    rows = [(_second(r.at), r.actor, r.action.value, ",".join(r.fields), r.purpose) for r in found]
    _print_table(f"Who read {party}'s personal data", ("At (UTC)", "Who", "What", "Fields", "Why"), rows)


# --- fairdun incident ---------------------------------------------------------------------------------------


def _affected_json(a: AffectedParty) -> dict[str, Any]:
    return {
        "party": a.party,
        "borrower": a.borrower,
        "fields": list(a.fields),
        "reads": a.reads,
        "first": a.first.isoformat(),
        "last": a.last.isoformat(),
        "actions": list(a.actions),
    }


@incident_app.command("affected")
def affected(
    actor: Annotated[str, typer.Option("--actor", help="The account (user id, or system:cycle / system:dispatch).")],
    since: Annotated[str, typer.Option("--from", help="Start of the window, with a UTC offset (included).")],
    until: Annotated[str, typer.Option("--to", help="End of the window, with a UTC offset (included).")],
    as_user: As = None,
    as_json: Json = False,
) -> None:
    """Every person whose personal data ACTOR read from --from to --to: fields, reads, first and last, borrower
    (PIPL Art. 57 breach notification). Needs the incident permission; the query is itself logged and audited."""
    start, end = _instant(since, "--from"), _instant(until, "--to")
    if start > end:
        fail(f"--from: {since} is after --to: {until}")
    found = _run(
        as_user, lambda uow, user: personal_data.affected_by(uow, user, actor=actor, since=start, until=end, at=_now())
    )
    if as_json:
        window = {"actor": actor, "from": start.isoformat(), "to": end.isoformat()}
        typer.echo(json.dumps({**window, "affected": [_affected_json(a) for a in found]}, ensure_ascii=False, indent=2))
        return
    rows = [
        (a.party, a.borrower or "", ",".join(a.fields), str(a.reads), _second(a.first), _second(a.last)) for a in found
    ]
    title = f"Read by {actor} from {start.isoformat()} to {end.isoformat()}: {len(found)} people"
    _print_table(title, ("Party", "Borrower", "Fields", "Reads", "First", "Last"), rows)
