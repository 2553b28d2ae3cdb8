"""``fairdun notice``, ``consent``, ``contact refuse`` and ``inbound sms``: the consent ledger (docs/consent.md) on the
database at ``FAIRDUN_DATABASE_URL``. Each command is one transaction with its audit entries: bad input is one line
naming what is wrong, exit status 2, and nothing is stored."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application import consent as ledger
from fairdun.application.access_control import acting
from fairdun.application.consent import ConsentError, PrivacyNotice, RefusalChannel
from fairdun.application.personal_data import case_holders
from fairdun.application.ports import ConsentRecord, PersistenceError
from fairdun.cli.database import fail, open_database
from fairdun.cli.session import signed_in
from fairdun.domain.access import AccessDeniedError, Permission, sees_case

notice_app = typer.Typer(help="Privacy notices: versioned, never edited (docs/consent.md).", no_args_is_help=True)
consent_app = typer.Typer(
    help="Consents per purpose: grant, withdraw, history (docs/consent.md).", no_args_is_help=True
)
contact_app = typer.Typer(
    help="Designated contacts: record a permanent refusal (docs/consent.md).", no_args_is_help=True
)
inbound_app = typer.Typer(help="Inbound messages: stop keywords (docs/consent.md).", no_args_is_help=True)

T = TypeVar("T")
By = Annotated[
    str | None,
    typer.Option("--by", help="The user logged in, who records it: a compliance officer (manage_consent)."),
]
At = Annotated[str | None, typer.Option("--at", help="When it happened, ISO 8601 with a zone offset (default: now).")]
Evidence = Annotated[str, typer.Option("--evidence", help="A reference to the proof: a recording id, a form id.")]


@contextmanager
def _uow(*, personal_data: bool) -> Iterator[SqlAlchemyUnitOfWork]:
    with open_database(personal_data=personal_data) as engine:
        yield SqlAlchemyUnitOfWork(engine)


def _run(step: Callable[[SqlAlchemyUnitOfWork], T], *, personal_data: bool = False) -> T:
    """Runs ``step`` in one transaction, committed only if it succeeds; its errors become one line."""
    with _uow(personal_data=personal_data) as uow:
        try:
            with uow:
                result = step(uow)
                uow.commit()
        except (ConsentError, AccessDeniedError, PersistenceError, ValueError) as exc:
            fail(str(exc))
        return result


def _may(uow: SqlAlchemyUnitOfWork, user_id: str, permission: Permission) -> str:
    """The id of the active user ``user_id`` (the one logged in: ``signed_in``, before the transaction) if their
    role holds ``permission`` (domain/access.py); else refused."""
    return acting(uow, user_id, permission).id


def _when(at: str | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        fail(f"--at: not an ISO 8601 instant: {at!r}")
    if when.utcoffset() is None:
        fail(f"--at: give a zone offset (2026-09-01T10:00:00+08:00), got {at!r}")
    return when


def _notice(n: PrivacyNotice, *, text: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "version": n.version,
        "language": n.language,
        "sha256": n.sha256,
        "published_at": n.published_at.isoformat(),
        "published_by": n.published_by,
    }
    if text:
        out["text"] = n.text
    return out


def _consent(c: ConsentRecord) -> dict[str, Any]:
    return {
        "id": c.id,
        "party": c.party,
        "purpose": c.purpose,
        "notice": c.notice_version,
        "granted_at": c.granted_at.isoformat(),
        "channel": c.channel,
        "evidence": c.evidence,
        "withdrawn_at": None if c.withdrawn_at is None else c.withdrawn_at.isoformat(),
        "withdrawal_channel": c.withdrawal_channel,
        "withdrawal_evidence": c.withdrawal_evidence,
    }


def _echo(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False))


# --- notices ------------------------------------------------------------------------------------------------


@notice_app.command("publish")
def notice_publish(
    file: Annotated[Path, typer.Argument(help="The notice's text, UTF-8.")],
    version: Annotated[str, typer.Option("--version", help="The new version (never reused).")],
    language: Annotated[str, typer.Option("--language", help="Its language tag.")] = "zh-CN",
    at: At = None,
    by: By = None,
) -> None:
    """Publish a new version of the privacy notice from a file; prints its version and SHA-256."""
    try:
        body = file.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"{file}: cannot be read: {exc.strerror}")
    except UnicodeDecodeError:
        fail(f"{file}: not UTF-8 text")
    when, user = _when(at), signed_in(by).id
    published = _run(
        lambda uow: ledger.publish_notice(
            uow,
            version=version,
            language=language,
            text=body,
            actor=_may(uow, user, Permission.MANAGE_CONSENT),
            at=when,
        )
    )
    _echo(_notice(published))


@notice_app.command("list")
def notice_list() -> None:
    """Every published version, oldest first, one JSON object a line (without the text)."""
    for n in _run(lambda uow: uow.consents.notices()):
        _echo(_notice(n))


@notice_app.command("show")
def notice_show(version: Annotated[str, typer.Argument(metavar="V")]) -> None:
    """One version with its text."""
    found = _run(lambda uow: uow.consents.notice(version))
    if found is None:
        fail(f"version: unknown notice version {version!r}")
    _echo(_notice(found, text=True))


# --- consents -----------------------------------------------------------------------------------------------

ChannelOption = Annotated[str, typer.Option("--channel", help="app, web, paper, recorded_call, portal, sms, ...")]


@consent_app.command("grant")
def consent_grant(  # noqa: PLR0917 (a command's options are its interface)
    party: Annotated[str, typer.Argument(metavar="PARTY")],
    purpose: Annotated[
        str, typer.Argument(metavar="PURPOSE", help="collection_contact, contact_relay, agency_sharing, sensitive_info")
    ],
    notice: Annotated[str, typer.Option("--notice", help="The notice version it was given under.")],
    channel: ChannelOption,
    evidence: Evidence,
    at: At = None,
    by: By = None,
) -> None:
    """Record a consent: a new row, whatever came before."""
    when, user = _when(at), signed_in(by).id
    granted = _run(
        lambda uow: ledger.grant_consent(
            uow,
            party=party,
            purpose=purpose,
            notice=notice,
            channel=channel,
            evidence=evidence,
            actor=_may(uow, user, Permission.MANAGE_CONSENT),
            at=when,
        )
    )
    _echo(_consent(granted))


@consent_app.command("withdraw")
def consent_withdraw(  # noqa: PLR0917 (a command's options are its interface)
    party: Annotated[str, typer.Argument(metavar="PARTY")],
    purpose: Annotated[str, typer.Argument(metavar="PURPOSE")],
    channel: ChannelOption,
    evidence: Evidence,
    at: At = None,
    by: By = None,
) -> None:
    """Withdraw the party's consent to the purpose: effective for the very next decision and dispatch."""
    when, user = _when(at), signed_in(by).id
    withdrawn = _run(
        lambda uow: ledger.withdraw_consent(
            uow,
            party=party,
            purpose=purpose,
            channel=channel,
            evidence=evidence,
            actor=_may(uow, user, Permission.MANAGE_CONSENT),
            at=when,
        )
    )
    for c in withdrawn:
        _echo(_consent(c))


@consent_app.command("history")
def consent_history(party: Annotated[str, typer.Argument(metavar="PARTY")]) -> None:
    """Every consent row of the party, oldest first (newest last), withdrawn ones included."""
    for c in _run(lambda uow: ledger.consent_history(uow, party)):
        _echo(_consent(c))


# --- refusals and inbound -----------------------------------------------------------------------------------


@contact_app.command("refuse")
def contact_refuse(
    party: Annotated[str, typer.Argument(metavar="PARTY")],
    evidence: Evidence,
    by: Annotated[str | None, typer.Option("--by", help="The user logged in: the collector who heard it.")] = None,
    at: At = None,
) -> None:
    """Record, as the collector who heard it, a designated contact's permanent refusal of further contact."""
    when, user = _when(at), signed_in(by).id
    refusal = _run(
        lambda uow: ledger.refuse_contact(
            uow,
            party=party,
            channel=RefusalChannel.COLLECTOR,
            evidence=evidence,
            actor=_heard(uow, user, party),
            at=when,
        )
    )
    _echo({"party": refusal.party, "refused_at": refusal.at.isoformat(), "channel": refusal.channel.value})


def _heard(uow: SqlAlchemyUnitOfWork, user_id: str, party: str) -> str:
    """``user_id`` (the one logged in), if they may record outcomes and see a case of the party's borrower (a
    collector: one assigned to them; an agency collector: one placed with their agency)."""
    user = acting(uow, user_id, Permission.RECORD_OUTCOME)
    found = uow.parties.get(party)
    if found is None:
        return user.id  # the ledger names the unknown party
    cases = case_holders(uow, found.borrower).values()
    if not any(sees_case(user, assignee=a, agency=g, borrower=found.borrower) for a, g in cases):
        raise AccessDeniedError(f"user {user.id!r} may not see a case of {found.borrower}, whose contact {party} is")
    return user.id


@inbound_app.command("sms")
def inbound_sms(
    sender: Annotated[str, typer.Option("--from", help="The sender's number (E.164, or 11 digits for +86).")],
    text: Annotated[str, typer.Option("--text", help="The message.")],
    at: At = None,
    by: Annotated[str, typer.Option("--by", help="The process receiving it (a system actor).")] = "system:inbound",
) -> None:
    """Act on an inbound SMS: a stop keyword from a designated contact is a permanent refusal, from a debtor an SMS
    opt-out. Prints what changed (nothing, for an unknown number or a text without a keyword)."""
    when = _when(at)
    outcome = _run(lambda uow: ledger.inbound_sms(uow, sender=sender, text=text, at=when, actor=by), personal_data=True)
    changes = [{"party": p, "recorded": what} for p, what in outcome.changes]
    _echo({"keyword": outcome.keyword, "changes": changes, "note": outcome.note or None})
