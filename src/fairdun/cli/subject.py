"""``fairdun subject`` (data-subject requests: export, correction, erasure; PIPL Arts. 44-47) and ``fairdun
retention`` (the retention policies, the purge, legal holds) on the database at ``FAIRDUN_DATABASE_URL``. See
docs/subject-rights.md. Bad input is one line naming the field, exit status 2, and nothing is stored."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import phonenumbers
import typer

from fairdun.adapters.report.subject_html import subject_page
from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application import subject_rights
from fairdun.application.ports import PersistenceError
from fairdun.application.retention import RetentionError, RetentionSchedule, purge
from fairdun.application.subject_rights import FIELDS, SubjectError, Validator
from fairdun.cli.database import fail, open_database
from fairdun.cli.session import signed_in
from fairdun.config.retention import load_retention
from fairdun.domain import identity
from fairdun.domain.access import AccessDeniedError

subject_app = typer.Typer(
    help="Data-subject requests: export, correction, erasure by crypto-shredding (docs/subject-rights.md).",
    no_args_is_help=True,
)
retention_app = typer.Typer(
    help="Retention: the policies per record type, the purge, legal holds (docs/subject-rights.md).",
    no_args_is_help=True,
)

T = TypeVar("T")

By = Annotated[str | None, typer.Option("--by", help="The user logged in, making the request (default: that user).")]
Reason = Annotated[str, typer.Option("--reason", help="Why: the request, its date and channel, the case.")]
Policies = Annotated[
    Path | None, typer.Option("--policies", help="A retention TOML file instead of the shipped policies.")
]


def _now() -> datetime:
    return datetime.now(UTC)


def _day(value: str | None, name: str) -> date:
    if value is None:
        return _now().date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{name}: expected a date YYYY-MM-DD, got {value!r}")


PURGE_ACTOR = "system:retention"


def _user(by: str | None) -> str:
    """The user logged in (whom ``--by``, if given, must name); their role is checked by the request itself."""
    return signed_in(by).id


def _schedule(path: Path | None) -> RetentionSchedule:
    try:
        return load_retention(path)
    except RetentionError as exc:
        fail(str(exc))


@contextmanager
def _engine_uow() -> Iterator[Callable[[], SqlAlchemyUnitOfWork]]:
    with open_database() as engine:
        yield lambda: SqlAlchemyUnitOfWork(engine)


def _run(step: Callable[[Callable[[], SqlAlchemyUnitOfWork]], T]) -> T:
    """Runs ``step`` with a unit-of-work factory; its errors become one line."""
    with _engine_uow() as factory:
        try:
            return step(factory)
        except (SubjectError, RetentionError, PersistenceError, AccessDeniedError, ValueError) as exc:
            fail(str(exc))


def validator(today: date) -> Validator:
    """Checks a corrected value by its field (``fairdun.domain.identity``; phone numbers through
    ``phonenumbers``, E.164 out) and returns it in the form it is stored in."""

    def check(field: str, value: str) -> str:
        match field:
            case "phone":
                try:
                    number = phonenumbers.parse(value, "CN")
                except phonenumbers.NumberParseException:
                    raise ValueError("phone: not a phone number") from None
                if not phonenumbers.is_possible_number(number):
                    raise ValueError("phone: not a possible phone number")
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            case "email":
                return identity.validate_email(value)
            case "name":
                return identity.validate_name(value)
            case "resident_id":
                return identity.validate_resident_id(value, today=today)
            case "bank_account":
                return identity.validate_bank_account(value)
            case "postal_address":
                return identity.validate_postal_address(value)
        raise ValueError(f"field: one of {', '.join(FIELDS)}, got {field!r}")

    return check


# --- subject ------------------------------------------------------------------------------------------------


@subject_app.command("export")
def subject_export(
    party: Annotated[str, typer.Argument(help="The party id of the data subject.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write PARTY.json and PARTY.html into.")],
    on: Annotated[str | None, typer.Option("--on", help="Loan states as of this date (default today).")] = None,
    by: By = None,
) -> None:
    """Everything held about PARTY as DIR/PARTY.json (versioned shape) and DIR/PARTY.html (readable, zh-CN and
    English headings, self-contained). Logged as an access and audited (subject.exported)."""
    actor, day, at = _user(by), _day(on, "on"), _now()
    if "/" in party or party in ("", ".", ".."):
        fail(f"party: {party!r} cannot name a file")
    document = _run(lambda f: subject_rights.export_subject(f(), party, actor=actor, at=at, on=day))
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{party}.json").write_text(subject_rights.dumps(document) + "\n", "utf-8")
        (out / f"{party}.html").write_text(subject_page(document, at), "utf-8")
    except OSError as exc:
        fail(f"out: cannot write {out}: {exc.strerror}")
    typer.echo(json.dumps({"party": party, "json": str(out / f"{party}.json"), "html": str(out / f"{party}.html")}))


@subject_app.command("correct")
def subject_correct(
    party: Annotated[str, typer.Argument(help="The party id of the data subject.")],
    field: Annotated[str, typer.Option("--field", help=f"One of {', '.join(FIELDS)}.")],
    value: Annotated[str, typer.Option("--value", help="The correct value (never printed or logged).")],
    reason: Reason,
    by: By = None,
) -> None:
    """Corrects one personal field of PARTY (PIPL Art. 46): validated, sealed again, audited (the field and who,
    never the values)."""
    actor, at = _user(by), _now()
    check = validator(at.date())
    target = _run(
        lambda f: subject_rights.correct(f(), party, field, value, actor=actor, reason=reason, at=at, validate=check)
    )
    typer.echo(json.dumps({"party": party, "field": field, "corrected": target}))


@subject_app.command("erase")
def subject_erase(  # noqa: PLR0917 - typer options
    party: Annotated[str, typer.Argument(help="The party id of the data subject.")],
    reason: Reason,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be erased and kept; change nothing.")
    ] = False,
    on: Annotated[str | None, typer.Option("--on", help="Judge holds as of this date (default today).")] = None,
    policies: Policies = None,
    by: By = None,
) -> None:
    """Erases PARTY by crypto-shredding its data key (PIPL Art. 47), or refuses while a hold applies. Prints the
    explanation as JSON on stdout (what was erased, kept, why and until when) and as text on stderr; exit 1 when
    refused."""
    actor, day, at, schedule = _user(by), _day(on, "on"), _now(), _schedule(policies)
    explanation = _run(
        lambda f: subject_rights.erase(
            f(), party, actor=actor, reason=reason, at=at, on=day, schedule=schedule, dry_run=dry_run
        )
    )
    typer.echo(json.dumps(explanation.to_document(), ensure_ascii=False, indent=2))
    typer.echo(explanation.to_text(), err=True)
    if explanation.status == "refused":
        raise typer.Exit(1)


# --- retention ----------------------------------------------------------------------------------------------


@retention_app.command("show")
def retention_show(
    policies: Policies = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of text.")] = False,
) -> None:
    """The retention policy of each record type: period, from when, action, legal basis and confidence."""
    schedule = _schedule(policies)
    rows = [
        {
            "record": p.record.value,
            "action": p.action.value,
            "years": p.years,
            "from": p.counted_from,
            "basis": p.basis,
            "confidence": p.confidence,
        }
        for p in schedule.policies
    ]
    if as_json:
        typer.echo(json.dumps({"version": schedule.version, "policies": rows}, ensure_ascii=False, indent=2))
        return
    typer.echo(f"retention policies {schedule.version}")
    for r in rows:
        period = f"{r['years']} years" if r["years"] else "kept"
        typer.echo(f"- {r['record']}: {r['action']}, {period} from {r['from']} [{r['confidence']}]: {r['basis']}")


@retention_app.command("purge")
def retention_purge(
    on: Annotated[str, typer.Option("--on", help="The date periods are measured to (YYYY-MM-DD).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be deleted; change nothing.")] = False,
    batch: Annotated[int, typer.Option("--batch", help="Rows per transaction (each with an audit entry).")] = 500,
    policies: Policies = None,
) -> None:
    """Deletes rows past their retention period on --on, in batches, each batch audited (retention.purged);
    never the audit log or the ledger, never rows of a held party or loan. Prints the counts as JSON. A scheduled
    job: it acts as ``system:retention``, as the cycle acts as ``system:cycle``."""
    day, schedule, actor, at = _day(on, "on"), _schedule(policies), PURGE_ACTOR, _now()
    report = _run(
        lambda f: purge(
            f, schedule, day, actor=actor, at=at, settled=subject_rights.settled_loans, dry_run=dry_run, batch=batch
        )
    )
    typer.echo(json.dumps(report.to_document(), ensure_ascii=False, indent=2))


@retention_app.command("hold")
def retention_hold(
    party: Annotated[str, typer.Argument(help="The party (or, with --loan, leave it as the borrower) to hold.")],
    reason: Reason,
    until: Annotated[str, typer.Option("--until", help="Last day the hold applies (YYYY-MM-DD).")],
    loan: Annotated[str | None, typer.Option("--loan", help="Hold one loan's records instead of the party's.")] = None,
    by: By = None,
) -> None:
    """Sets a legal hold (litigation, a regulator's request): nothing of the party (or loan) is erased or purged
    until it ends or is released. Audited (retention.hold_set)."""
    actor, end, at = _user(by), _day(until, "until"), _now()
    if not reason.strip():
        fail("reason: say why the records are held")

    def step(factory: Callable[[], SqlAlchemyUnitOfWork]) -> dict[str, object]:
        with factory() as uow:
            subject_rights.authorise(uow, actor, None, own=False)
            if uow.parties.get(party) is None:
                raise SubjectError(f"party: no party {party!r}")
            if loan is not None and uow.loans.get(loan) is None:
                raise SubjectError(f"loan: no loan {loan!r}")
            hold = uow.subjects.add_hold(
                party=None if loan is not None else party, loan=loan, reason=reason, until=end, by=actor, at=at
            )
            uow.audit.append(actor, "retention.hold_set", party, hold.to_document(), at=at)
            uow.commit()
            return hold.to_document()

    typer.echo(json.dumps(_run(step), ensure_ascii=False))


@retention_app.command("release")
def retention_release(
    hold: Annotated[int, typer.Argument(help="The hold's id (printed by `retention hold`).")],
    by: By = None,
) -> None:
    """Releases a legal hold (audited, retention.hold_released); the hold's record is kept."""
    actor, at = _user(by), _now()

    def step(factory: Callable[[], SqlAlchemyUnitOfWork]) -> dict[str, object]:
        with factory() as uow:
            subject_rights.authorise(uow, actor, None, own=False)
            released = uow.subjects.release_hold(hold, actor, at)
            if released is None:
                raise SubjectError(f"hold: no active hold {hold}")
            uow.audit.append(
                actor, "retention.hold_released", released.party or released.loan or "", {"hold": hold}, at=at
            )
            uow.commit()
            return released.to_document()

    typer.echo(json.dumps(_run(step), ensure_ascii=False))
