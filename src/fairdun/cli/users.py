"""``fairdun user`` and ``fairdun agency``: accounts and their training, outside agencies, notices to borrowers and
placing a case with an agency (docs/access.md), on the database at ``FAIRDUN_DATABASE_URL``.

A command that changes something acts for the user logged in (``fairdun login``; ``--by``, if given, must name
them), whose role must hold the permission (``MANAGE_USERS``, ``MANAGE_AGENCIES``, ``ASSIGN``); the audit log
records them. The very first account, on a database without users, is an admin added without a login. Every new
account gets a one-time password, printed once, to be changed at the first login. Bad input or a refusal
is one line naming what is wrong, exit status 2, and nothing is stored, except a refused placement, whose refusal
is kept in the audit log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Annotated, TypeVar

import typer

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application import access_control as access
from fairdun.application import authentication as auth
from fairdun.application.ports import PersistenceError
from fairdun.cli.database import fail, open_database
from fairdun.cli.session import Stdin, read_secret, session_token, signed_in
from fairdun.domain.access import AccessDeniedError, User, UserRole
from fairdun.domain.agency import (
    MINIMAL_SHARE,
    Agency,
    EvaluationResult,
    TrainingKind,
    current_evaluation,
    training_current,
)
from fairdun.domain.errors import DomainError

user_app = typer.Typer(help="Accounts, roles and collectors' training (docs/access.md).", no_args_is_help=True)
agency_app = typer.Typer(
    help="Outside agencies: approval, evaluations, contracts, notices, placement (docs/access.md).",
    no_args_is_help=True,
)

T = TypeVar("T")
By = Annotated[
    str | None, typer.Option("--by", help="The acting user: must be the one logged in (default: that user).")
]


@contextmanager
def _uow() -> Iterator[SqlAlchemyUnitOfWork]:
    """A unit of work on FAIRDUN_DATABASE_URL (these tables hold no sealed personal field: no keyring)."""
    with open_database(personal_data=False) as engine:
        yield SqlAlchemyUnitOfWork(engine)


def _run(step: Callable[[SqlAlchemyUnitOfWork], T]) -> T:
    """Runs ``step`` in one transaction, committed only if it succeeds; its errors become one line. A refused
    placement commits its audit entry first."""
    with _uow() as uow:
        try:
            with uow:
                try:
                    result = step(uow)
                except access.PlacementRefusedError:
                    uow.commit()
                    raise
                uow.commit()
        except (access.AccessControlError, AccessDeniedError, DomainError, PersistenceError) as exc:
            fail(str(exc))
        return result


def _by(by: str | None) -> str:
    """The user logged in (whom ``--by``, if given, must name)."""
    return signed_in(by).id


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: expected a date YYYY-MM-DD, got {text!r}")


def _choice(text: str, option: str, values: list[str]) -> str:
    if text not in values:
        fail(f"{option}: expected one of {', '.join(values)}, got {text!r}")
    return text


def _now() -> datetime:
    return datetime.now(UTC)


# --- user -----------------------------------------------------------------------------------------------------


@user_app.command("add")
def user_add(
    user_id: Annotated[str, typer.Argument(metavar="ID")],
    role: Annotated[
        str, typer.Option(help="admin, compliance, supervisor, collector, agency_collector, auditor, borrower.")
    ],
    agency: Annotated[str | None, typer.Option(help="An agency collector's agency.")] = None,
    party: Annotated[str | None, typer.Option(help="A borrower account's party.")] = None,
    by: By = None,
) -> None:
    """Add an account, with a one-time password printed once (to be changed at the first login). Without a login
    only on a database with no users, and only an admin (the first account)."""
    chosen = UserRole(_choice(role, "--role", [r.value for r in UserRole]))
    user = User(user_id, chosen, agency, True, party)
    acting = None if session_token() is None and by is None else _by(by)
    one_time = _run(lambda uow: auth.add_account(uow, user, by=acting, at=_now()))
    typer.echo(json.dumps({"added": user_id, "role": chosen.value, "one_time_password": one_time}))
    typer.echo("give the one-time password to its owner privately; it must be changed at the first login", err=True)


@user_app.command("reset")
def user_reset(user_id: Annotated[str, typer.Argument(metavar="ID")], by: By = None) -> None:
    """Give an account a new one-time password (printed once), ending its sessions and any lock."""
    acting = _by(by)
    one_time = _run(lambda uow: auth.reset_password(uow, user_id, by=acting, at=_now()))
    typer.echo(json.dumps({"reset": user_id, "one_time_password": one_time}))


@user_app.command("password")
def user_password(password_stdin: Stdin = False) -> None:
    """Change your own password (the current one, then the new one twice; with --password-stdin two lines: the
    current and the new). Your other sessions end; this one goes on."""
    token = session_token()
    if token is None:
        fail("not logged in: run `fairdun login ID` first")
    current = read_secret("Current password", from_stdin=password_stdin)
    new = read_secret("New password", from_stdin=password_stdin, confirm=not password_stdin)
    at = _now()

    def change(uow: SqlAlchemyUnitOfWork) -> str:
        signed = auth.authenticate(uow, token, at=at)
        auth.change_password(uow, signed.user.id, current, new, at=at, keep=signed.session.token_hash)
        return signed.user.id

    with _uow() as uow:
        try:
            with uow:
                try:
                    user = change(uow)
                except auth.AuthenticationError:
                    uow.commit()  # a wrong current password counts as a failed login, and is audited
                    raise
                uow.commit()
        except (access.AccessControlError, AccessDeniedError, PersistenceError) as exc:
            fail(str(exc))
    typer.echo(json.dumps({"password_changed": user}))


@user_app.command("list")
def user_list() -> None:
    """Every account, one JSON object a line: id, role, agency, party, active, and for collectors whether their
    training is current today (and if not, why)."""
    today = _now().date()

    def rows(uow: SqlAlchemyUnitOfWork) -> list[dict[str, object]]:
        found = []
        for u in uow.access.users():
            row: dict[str, object] = {
                "id": u.id, "role": u.role.value, "agency": u.agency, "party": u.party, "active": u.active,
            }  # fmt: skip
            if u.role in access.DIALLING_ROLES:
                problem = training_current(uow.access.trainings([u.id]), today)
                row["training"] = "current" if problem is None else problem
            found.append(row)
        return found

    for row in _run(rows):
        typer.echo(json.dumps(row, ensure_ascii=False))


@user_app.command("deactivate")
def user_deactivate(user_id: Annotated[str, typer.Argument(metavar="ID")], by: By = None) -> None:
    """Deactivate an account (kept, since the logs name it; it may do nothing from now on)."""
    acting = _by(by)
    _run(lambda uow: access.deactivate_user(uow, user_id, by=acting, at=_now()))
    typer.echo(json.dumps({"deactivated": user_id}))


@user_app.command("train")
def user_train(  # noqa: PLR0917 - typer options
    user_id: Annotated[str, typer.Argument(metavar="ID")],
    kind: Annotated[str, typer.Option(help="onboarding or annual.")],
    passed_on: Annotated[str, typer.Option(help="The day the training and exam were passed.")],
    evidence: Annotated[str, typer.Option(help="What shows it: a certificate or exam reference.")],
    valid_until: Annotated[str | None, typer.Option(help="The last day it counts (default: a year).")] = None,
    by: By = None,
) -> None:
    """Record a training the user passed (GB/T 45251-2025: before the first case, and every year)."""
    acting = _by(by)
    chosen = TrainingKind(_choice(kind, "--kind", [k.value for k in TrainingKind]))
    passed = _day(passed_on, "--passed-on")
    until = _day(valid_until, "--valid-until") if valid_until is not None else None
    training = _run(
        lambda uow: access.record_training(
            uow, user_id, chosen, passed, evidence, by=acting, at=_now(), valid_until=until
        )
    )
    typer.echo(json.dumps({"user": user_id, "kind": chosen.value, "valid_until": training.valid_until.isoformat()}))


# --- agency ---------------------------------------------------------------------------------------------------


@agency_app.command("add")
def agency_add(
    agency_id: Annotated[str, typer.Argument(metavar="ID")],
    name: Annotated[str, typer.Option(help="The agency's name.")],
    shares: Annotated[str, typer.Option(help="The personal fields a placement shares, comma-separated.")] = ",".join(
        sorted(MINIMAL_SHARE)
    ),
    by: By = None,
) -> None:
    """Register an agency (not yet approved)."""
    acting = _by(by)
    fields = frozenset(f.strip() for f in shares.split(",") if f.strip())
    try:
        agency = Agency(agency_id, name, None, None, fields)
    except DomainError as exc:
        fail(str(exc).replace("shared_fields", "--shares", 1))
    _run(lambda uow: access.add_agency(uow, agency, by=acting, at=_now()))
    typer.echo(json.dumps({"added": agency_id, "shares": sorted(fields)}))


@agency_app.command("approve")
def agency_approve(agency_id: Annotated[str, typer.Argument(metavar="ID")], by: By = None) -> None:
    """Put the agency on the approved list."""
    acting = _by(by)
    _run(lambda uow: access.approve_agency(uow, agency_id, by=acting, at=_now()))
    typer.echo(json.dumps({"approved": agency_id}))


@agency_app.command("revoke")
def agency_revoke(agency_id: Annotated[str, typer.Argument(metavar="ID")], by: By = None) -> None:
    """Take the agency off the approved list: nothing more is placed with it, and every case placed with it is
    recalled at once."""
    acting = _by(by)
    recalled = _run(lambda uow: access.revoke_agency(uow, agency_id, by=acting, at=_now()))
    typer.echo(json.dumps({"revoked": agency_id, "recalled": list(recalled)}))


@agency_app.command("evaluate")
def agency_evaluate(
    agency_id: Annotated[str, typer.Argument(metavar="ID")],
    on: Annotated[str, typer.Option("--on", help="The day of the evaluation.")],
    result: Annotated[str, typer.Option(help="pass or fail.")],
    reference: Annotated[str, typer.Option(help="The evaluation report's reference.")],
    by: By = None,
) -> None:
    """Record the agency's yearly evaluation (compliance, effectiveness, information security)."""
    acting = _by(by)
    outcome = EvaluationResult(_choice(result, "--result", [r.value for r in EvaluationResult]))
    day = _day(on, "--on")
    evaluation = _run(lambda uow: access.evaluate_agency(uow, agency_id, day, outcome, reference, by=acting, at=_now()))
    typer.echo(
        json.dumps({"agency": agency_id, "result": outcome.value, "valid_until": evaluation.valid_until.isoformat()})
    )


@agency_app.command("contract")
def agency_contract(
    agency_id: Annotated[str, typer.Argument(metavar="ID")],
    reference: Annotated[str, typer.Option(help="The contract's reference.")],
    signed_on: Annotated[str, typer.Option(help="The day it was signed.")],
    expires_on: Annotated[str, typer.Option(help="The last day it is in force.")],
    by: By = None,
) -> None:
    """Record an entrusted-processing contract (PIPL Art. 21) with the agency."""
    acting = _by(by)
    signed, expires = _day(signed_on, "--signed-on"), _day(expires_on, "--expires-on")
    _run(lambda uow: access.contract_agency(uow, agency_id, reference, signed, expires, by=acting, at=_now()))
    typer.echo(json.dumps({"agency": agency_id, "contract": reference}))


@agency_app.command("inform")
def agency_inform(
    borrower: Annotated[str, typer.Argument(metavar="BORROWER")],
    agency: Annotated[str, typer.Option(help="The agency the borrower was told of.")],
    channel: Annotated[str, typer.Option(help="How: letter, sms, email, app, loan_agreement, ...")],
    evidence: Annotated[str, typer.Option(help="What shows it: a letter's reference, a message key.")],
    by: By = None,
) -> None:
    """Record that the borrower was told, now, that their case may go to the agency (before any placement)."""
    acting = _by(by)
    _run(lambda uow: access.inform_borrower(uow, borrower, agency, channel, evidence, by=acting, at=_now()))
    typer.echo(json.dumps({"borrower": borrower, "agency": agency}))


@agency_app.command("list")
def agency_list() -> None:
    """Every agency, one JSON object a line: approved now, evaluation current until, contract in force until,
    the fields a placement shares."""
    now = _now()

    def rows(uow: SqlAlchemyUnitOfWork) -> list[dict[str, object]]:
        found = []
        for a in uow.access.agencies():
            evaluation = current_evaluation(uow.access.evaluations(a.id), now.date())
            contracts = [c for c in uow.access.contracts(a.id) if c.in_force(now.date())]
            found.append(
                {
                    "id": a.id,
                    "name": a.name,
                    "approved": a.approved(now),
                    "evaluation_until": evaluation.valid_until.isoformat() if evaluation else None,
                    "contract_until": max(c.expires_on for c in contracts).isoformat() if contracts else None,
                    "shares": sorted(a.shared_fields),
                }
            )
        return found

    for row in _run(rows):
        typer.echo(json.dumps(row, ensure_ascii=False))


@agency_app.command("place")
def agency_place(
    loan: Annotated[str, typer.Argument(metavar="LOAN")],
    agency: Annotated[str, typer.Option(help="The agency to place the loan's case with.")],
    on: Annotated[str | None, typer.Option("--on", help="The local date of the placement (default: today).")] = None,
    by: By = None,
) -> None:
    """Place the loan's case with the agency, with the cycle's checks; a refusal names every reason and is
    kept in the audit log."""
    acting = _by(by)
    at = _now()
    day = _day(on, "--on") if on is not None else at.date()
    _run(lambda uow: access.place_case(uow, loan, agency, by=acting, at=at, on=day))
    typer.echo(json.dumps({"placed": loan, "agency": agency}))
