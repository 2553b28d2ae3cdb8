"""``fairdun complaint``: complaint intake and resolution (docs/complaints.md) on the database at
``FAIRDUN_DATABASE_URL``. Bad input is one line naming the field, exit status 2, and nothing is stored."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application.complaints import (
    ComplainantRole,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintIntake,
    ComplaintStatus,
    advance_complaint,
    read_complaint,
    receive_complaint,
)
from fairdun.application.ports import PersistenceError
from fairdun.cli.database import fail, open_database
from fairdun.cli.session import signed_in
from fairdun.domain.access import AccessDeniedError, Permission, UserRole, allowed
from fairdun.domain.errors import DomainError

complaint_app = typer.Typer(
    help="Complaints: intake, investigation, resolution; an open serious complaint holds collection contact at once.",
    no_args_is_help=True,
)

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)
FIELDS = (
    "loan",
    "category",
    "channel",
    "role",
    "party",
    "collector",
    "agency",
    "contacts",
    "reference",
    "summary",
    "received_at",
)
OUTCOMES = (ComplaintStatus.UPHELD, ComplaintStatus.NOT_UPHELD, ComplaintStatus.WITHDRAWN)


@contextmanager
def _uow(*, personal_data: bool) -> Iterator[SqlAlchemyUnitOfWork]:
    with open_database(personal_data=personal_data) as engine:
        yield SqlAlchemyUnitOfWork(engine)


def _run(step: Callable[[SqlAlchemyUnitOfWork], T], *, personal_data: bool = True) -> T:
    """Runs ``step`` in one transaction, committed only if it succeeds; its errors become one line."""
    with _uow(personal_data=personal_data) as uow:
        try:
            with uow:
                result = step(uow)
                uow.commit()
        except (DomainError, PersistenceError, ValueError) as exc:
            fail(str(exc))
        return result


def _enum(kind: type[E], name: str, value: object) -> E:
    allowed = [v.value for v in kind]
    if value not in allowed:
        fail(f"{name}: expected one of {', '.join(allowed)}, got {value!r}")
    return kind(str(value))


def _instant(name: str, value: object) -> datetime:
    if not isinstance(value, str):
        fail(f"{name}: expected an ISO 8601 instant with its offset, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{name}: not an ISO 8601 instant: {value!r}")
    if parsed.utcoffset() is None:
        fail(f"{name}: give the offset (2026-09-01T10:00:00+08:00), got {value!r}")
    return parsed


def _optional_text(doc: dict[str, Any], name: str) -> str | None:
    value = doc.get(name)
    if value is not None and not isinstance(value, str):
        fail(f"{name}: expected a string, got {type(value).__name__}")
    return value


def intake_from(doc: dict[str, Any], where: str = "") -> ComplaintIntake:
    """A complaint from a JSON object (the fields of ``complaint add``); exits 2 naming the field."""
    prefix = f"{where}: " if where else ""
    unknown = sorted(set(doc) - set(FIELDS))
    if unknown:
        fail(f"{prefix}{unknown[0]}: unknown field; expected {', '.join(FIELDS)}")
    loan = doc.get("loan")
    if not isinstance(loan, str) or not loan:
        fail(f"{prefix}loan: missing (the loan the complaint is about)")
    contacts = doc.get("contacts", [])
    if not isinstance(contacts, list) or not all(isinstance(c, str) for c in contacts):
        fail(f"{prefix}contacts: expected a list of contact keys")
    received = doc.get("received_at")
    return ComplaintIntake(
        received_at=datetime.now(UTC) if received is None else _instant(f"{prefix}received_at", received),
        channel=_enum(ComplaintChannel, f"{prefix}channel", doc.get("channel")),
        role=_enum(ComplainantRole, f"{prefix}role", doc.get("role")),
        loan=loan,
        category=_enum(ComplaintCategory, f"{prefix}category", doc.get("category")),
        party=_optional_text(doc, "party"),
        collector=_optional_text(doc, "collector"),
        agency=_optional_text(doc, "agency"),
        contacts=tuple(contacts),
        reference=_optional_text(doc, "reference"),
        summary=_optional_text(doc, "summary"),
    )


def _json(complaint: Complaint, *, text: bool) -> dict[str, Any]:
    i = complaint.intake
    out: dict[str, Any] = {
        "id": complaint.id,
        "status": complaint.status.value,
        "suspends": complaint.suspends,
        "received_at": i.received_at.isoformat(),
        "channel": i.channel.value,
        "role": i.role.value,
        "party": i.party,
        "loan": i.loan,
        "category": i.category.value,
        "collector": i.collector,
        "agency": i.agency,
        "contacts": list(i.contacts),
        "reference": i.reference,
    }
    if text:
        out["summary"] = i.summary
        out["history"] = [
            {"status": h.status.value, "at": h.at.isoformat(), "by": h.by, "note": h.note} for h in complaint.history
        ]
    return out


By = Annotated[str | None, typer.Option("--by", help="The user logged in, who records it (default: that user).")]


def _handler(by: str | None) -> str:
    """The user logged in, who must hold handle_complaints."""
    return signed_in(by, need=Permission.HANDLE_COMPLAINTS).id


def _reader(by: str | None) -> str:
    """The user logged in, who must handle complaints or read the audit records (auditors)."""
    user = signed_in(by)
    if not (allowed(user, Permission.HANDLE_COMPLAINTS) or allowed(user, Permission.READ_AUDIT)):
        fail(f"user {user.id!r} ({user.role.value}) may not list complaints")
    return user.id


@complaint_app.command("add")
def complaint_add(  # noqa: PLR0917 (a command's options are its interface)
    by: By = None,
    loan: Annotated[str | None, typer.Option("--loan", help="The loan complained about.")] = None,
    category: Annotated[
        str | None, typer.Option("--category", help=", ".join(c.value for c in ComplaintCategory) + ".")
    ] = None,
    channel: Annotated[
        str | None, typer.Option("--channel", help=", ".join(c.value for c in ComplaintChannel) + ".")
    ] = None,
    role: Annotated[str | None, typer.Option("--role", help="debtor, contact, third_party or regulator.")] = None,
    party: Annotated[str | None, typer.Option("--party", help="The complainant's party id, if known.")] = None,
    collector: Annotated[str | None, typer.Option("--collector", help="The collector named.")] = None,
    agency: Annotated[str | None, typer.Option("--agency", help="The agency named.")] = None,
    contact: Annotated[
        list[str] | None, typer.Option("--contact", help="A contact complained of, by its outbox key (repeatable).")
    ] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="The regulator's or platform's ticket number.")
    ] = None,
    summary: Annotated[str | None, typer.Option("--summary", help="The complainant's words (sealed at rest).")] = None,
    received_at: Annotated[
        str | None, typer.Option("--received-at", help="When it was received (ISO 8601 with offset; default now).")
    ] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Read the complaint (or a list of them) from this JSON file instead.")
    ] = None,
) -> None:
    """Take in a complaint; print it as JSON with the messages withdrawn from the outbox. A harassment,
    third-party disclosure, threat or impersonation complaint holds the borrower's collection contact at once."""
    if json_file is not None:
        try:
            loaded = json.loads(json_file.read_text(encoding="utf-8"))
        except OSError as exc:
            fail(f"{json_file}: cannot be read: {exc.strerror}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            fail(f"{json_file}: not valid JSON: {exc}")
        docs = loaded if isinstance(loaded, list) else [loaded]
        if not docs or not all(isinstance(d, dict) for d in docs):
            fail(f"{json_file}: expected a JSON object or a list of objects")
        places = [f"{json_file}[{k}]" if isinstance(loaded, list) else str(json_file) for k in range(len(docs))]
        intakes = [intake_from(d, place) for d, place in zip(docs, places, strict=True)]
    else:
        doc: dict[str, Any] = {
            "loan": loan,
            "category": category,
            "channel": channel,
            "role": role,
            "party": party,
            "collector": collector,
            "agency": agency,
            "contacts": contact or [],
            "reference": reference,
            "summary": summary,
            "received_at": received_at,
        }
        intakes = [intake_from({k: v for k, v in doc.items() if v is not None})]
        places = [""]
    user = signed_in(by)
    if user.role is UserRole.BORROWER and allowed(user, Permission.OWN_DATA):
        strangers = sorted({str(i.party) for i in intakes if i.party != user.party})
        if strangers:
            fail(f"party: a borrower records only their own complaints (--party {user.party}), got {strangers[0]}")
    elif not allowed(user, Permission.HANDLE_COMPLAINTS):
        fail(f"user {user.id!r} ({user.role.value}) may not handle complaints")
    by = user.id
    now = datetime.now(UTC)

    def take(uow: SqlAlchemyUnitOfWork) -> list[tuple[Complaint, tuple[str, ...]]]:
        taken = []
        for intake, place in zip(intakes, places, strict=True):
            try:
                taken.append(receive_complaint(uow, intake, by=by, at=now))
            except DomainError as exc:  # name the complaint of the file as well as its field
                raise DomainError(f"{place}: {exc.field}" if place else exc.field, exc.problem) from exc
        return taken

    for complaint, withdrawn in _run(take):
        typer.echo(json.dumps({**_json(complaint, text=False), "withdrawn": list(withdrawn)}, ensure_ascii=False))


@complaint_app.command("list")
def complaint_list(
    status: Annotated[
        str | None, typer.Option("--status", help=", ".join(s.value for s in ComplaintStatus) + ".")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line instead of a table.")] = False,
    by: By = None,
) -> None:
    """Every complaint (or those in one status), oldest first, without the sealed text."""
    wanted = None if status is None else _enum(ComplaintStatus, "--status", status)
    _reader(by)
    complaints = _run(lambda uow: uow.complaints.all(status=wanted), personal_data=False)
    if as_json:
        for c in complaints:
            typer.echo(json.dumps(_json(c, text=False), ensure_ascii=False))
        return
    table = Table(title=f"{len(complaints)} complaints")
    for column in ("id", "received", "loan", "category", "role", "channel", "collector", "agency", "status"):
        table.add_column(column)
    for c in complaints:
        i = c.intake
        table.add_row(
            str(c.id),
            i.received_at.isoformat(timespec="minutes"),
            i.loan,
            i.category.value + (" (holds)" if c.suspends else ""),
            i.role.value,
            i.channel.value,
            i.collector or "—",
            i.agency or "—",
            c.status.value,
        )
    Console(soft_wrap=True).print(table)


def _id(text: str) -> int:
    if not text.isdigit():
        fail(f"ID: a complaint number, got {text!r}")
    return int(text)


@complaint_app.command("show")
def complaint_show(
    complaint_id: Annotated[str, typer.Argument(metavar="ID")],
    by: By = None,
    reason: Annotated[
        str, typer.Option("--reason", help="Open the sealed words and notes, saying why (access-logged).")
    ] = "",
) -> None:
    """One complaint as JSON with every status change, for those who handle complaints and auditors. Its words and
    notes are sealed: opened only with a --reason, for a user who may unmask the case's data, and that read is
    written to the access log (a refusal too)."""
    number = _id(complaint_id)
    if not reason:
        _reader(by)
        found = _run(lambda uow: uow.complaints.get(number), personal_data=False)
        if found is None:
            fail(f"ID: no complaint {number}")
        typer.echo(json.dumps(_json(found, text=True), ensure_ascii=False, indent=2))
        return
    reader = signed_in(by)
    now = datetime.now(UTC)
    try:
        opened = _run(lambda uow: read_complaint(uow, number, user_id=reader.id, reason=reason, at=now))
    except AccessDeniedError as exc:
        fail(f"--by: {exc}")
    typer.echo(json.dumps(_json(opened, text=True), ensure_ascii=False, indent=2))


@complaint_app.command("investigate")
def complaint_investigate(
    complaint_id: Annotated[str, typer.Argument(metavar="ID")],
    by: By = None,
    note: Annotated[str | None, typer.Option("--note", help="What is being looked into (sealed).")] = None,
) -> None:
    """Mark an open complaint as under investigation (it still holds collection contact)."""
    number = _id(complaint_id)
    by = _handler(by)
    now = datetime.now(UTC)
    changed = _run(lambda uow: advance_complaint(uow, number, ComplaintStatus.INVESTIGATING, by=by, at=now, note=note))
    typer.echo(json.dumps(_json(changed, text=False), ensure_ascii=False))


@complaint_app.command("resolve")
def complaint_resolve(
    complaint_id: Annotated[str, typer.Argument(metavar="ID")],
    outcome: Annotated[str, typer.Option("--outcome", help="upheld, not_upheld or withdrawn.")],
    note: Annotated[str, typer.Option("--note", help="What was found and done (sealed at rest).")],
    by: By = None,
) -> None:
    """Resolve a complaint; a hold it put on collection contact lifts from the next cycle run."""
    number = _id(complaint_id)
    status = _enum(ComplaintStatus, "--outcome", outcome)
    if status not in OUTCOMES:
        fail(f"--outcome: expected one of {', '.join(o.value for o in OUTCOMES)}, got {outcome!r}")
    handler = _handler(by)
    now = datetime.now(UTC)
    changed = _run(lambda uow: advance_complaint(uow, number, status, by=handler, at=now, note=note))
    typer.echo(json.dumps(_json(changed, text=False), ensure_ascii=False))
