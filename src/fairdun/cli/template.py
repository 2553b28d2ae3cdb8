"""``fairdun template``: the message template registry (docs/screening.md#templates) on the database at
``FAIRDUN_DATABASE_URL``. Bad input is one line naming what is wrong, exit status 2, and nothing is stored."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application import templates as registry
from fairdun.application.ports import PersistenceError
from fairdun.cli.database import fail, open_database
from fairdun.cli.session import signed_in
from fairdun.config.packs import load_screener
from fairdun.domain.access import Permission
from fairdun.domain.contact import Channel, Role
from fairdun.domain.templates import Template, TemplateError, TemplateStatus

template_app = typer.Typer(
    help="Message templates: versions, four-eyes approval, the lint on submit (docs/screening.md#templates).",
    no_args_is_help=True,
)

FIELDS = ("id", "channel", "role", "pack", "language", "subject", "body", "author")
T = TypeVar("T")


@contextmanager
def _uow() -> Iterator[SqlAlchemyUnitOfWork]:
    """A unit of work on FAIRDUN_DATABASE_URL (templates hold no personal data: no keyring)."""
    with open_database(personal_data=False) as engine:
        yield SqlAlchemyUnitOfWork(engine)


def _run(step: Callable[[SqlAlchemyUnitOfWork], T]) -> T:
    """Runs ``step`` in one transaction, committed only if it succeeds; its errors become one line."""
    with _uow() as uow:
        try:
            with uow:
                result = step(uow)
                uow.commit()
        except (TemplateError, PersistenceError, ValueError) as exc:  # a rule refused, or the store did
            fail(str(exc))
        return result


def _text(doc: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = doc.get(name)
    if value is None:
        if required:
            fail(f"{name}: missing")
        return None
    if not isinstance(value, str):
        fail(f"{name}: expected a string, got {type(value).__name__}")
    return value


def _enum(doc: dict[str, Any], name: str, kind: type[Channel] | type[Role]) -> str:
    value = _text(doc, name)
    allowed = [v.value for v in kind]
    if value not in allowed:
        fail(f"{name}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def read_spec(path: Path) -> registry.TemplateSpec:
    """A template spec from a TOML file; exits 2 naming the file and field that is wrong."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"{path}: cannot be read: {exc.strerror}")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        fail(f"{path}: not valid TOML: {exc}")
    unknown = sorted(set(doc) - set(FIELDS))
    if unknown:
        fail(f"{path}: {unknown[0]}: unknown field; expected {', '.join(FIELDS)}")
    return registry.TemplateSpec(
        id=_text(doc, "id") or "",
        channel=Channel(_enum(doc, "channel", Channel)),
        role=Role(_enum(doc, "role", Role)),
        pack=_text(doc, "pack") or "",
        language=_text(doc, "language") or "",
        subject=_text(doc, "subject", required=False),
        body=_text(doc, "body") or "",
        author=_text(doc, "author") or "",
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _summary(t: Template) -> dict[str, Any]:
    return {"id": t.id, "version": t.version, "ref": t.ref, "status": t.status.value}


def _json(t: Template) -> dict[str, Any]:
    return {
        **_summary(t),
        "channel": t.channel.value,
        "role": t.role.value,
        "pack": t.pack,
        "language": t.language,
        "subject": t.subject,
        "body": t.body,
        "author": t.author,
        "variables": sorted(t.variables),
        "history": [{"status": h.status.value, "by": h.by, "at": h.at.isoformat()} for h in t.history],
    }


By = Annotated[
    str | None, typer.Option("--by", help="The user logged in, who makes the transition (default: that user).")
]


def _editor(by: str | None) -> str:
    """The user logged in, who must hold manage_templates (docs/templates.md)."""
    return signed_in(by, need=Permission.MANAGE_TEMPLATES).id


@template_app.command("add")
def template_add(
    file: Annotated[Path, typer.Argument(help="A TOML file: " + ", ".join(FIELDS) + ".")], by: By = None
) -> None:
    """Store a template from a TOML file as a new draft version of its id; its author is the user logged in."""
    spec = read_spec(file)
    editor = _editor(by)
    if spec.author != editor:
        fail(f"{file}: author: the file names {spec.author!r}, but you are logged in as {editor!r}")
    added = _run(lambda uow: registry.add(uow, spec, at=_now()))
    typer.echo(json.dumps(_summary(added)))


@template_app.command("submit")
def template_submit(
    template_id: Annotated[str, typer.Argument(metavar="ID")],
    by: By = None,
    lender: Annotated[
        str | None, typer.Option(help="The lender's name, accepted instead of {lender_name} as the sender.")
    ] = None,
) -> None:
    """Send the newest draft to review if it passes the lint; otherwise list every failure (exit 2)."""
    editor = _editor(by)
    screener = load_screener()
    submitted = _run(
        lambda uow: registry.submit(uow, template_id, by=editor, at=_now(), screener=screener, lender_name=lender)
    )
    typer.echo(json.dumps(_summary(submitted)))


@template_app.command("approve")
def template_approve(template_id: Annotated[str, typer.Argument(metavar="ID")], by: By = None) -> None:
    """Approve the version in review (not by its author); the version approved before is retired."""
    editor = _editor(by)
    approved = _run(lambda uow: registry.approve(uow, template_id, by=editor, at=_now()))
    typer.echo(json.dumps(_summary(approved)))


@template_app.command("retire")
def template_retire(template_id: Annotated[str, typer.Argument(metavar="ID")], by: By = None) -> None:
    """Retire the approved version (or withdraw the newest draft or version in review)."""
    editor = _editor(by)
    retired = _run(lambda uow: registry.retire(uow, template_id, by=editor, at=_now()))
    typer.echo(json.dumps(_summary(retired)))


@template_app.command("list")
def template_list(
    status: Annotated[
        str | None, typer.Option(help="Only versions in this status: draft, in_review, approved, retired.")
    ] = None,
) -> None:
    """Every version, one JSON object a line: id, version, status, channel, role, pack, language, author."""
    if status is not None and status not in [s.value for s in TemplateStatus]:
        fail(f"--status: expected one of {', '.join(s.value for s in TemplateStatus)}, got {status!r}")
    wanted = TemplateStatus(status) if status is not None else None
    for t in _run(lambda uow: uow.templates.all(wanted)):
        row = {k: v for k, v in _json(t).items() if k not in ("body", "subject", "variables", "history")}
        typer.echo(json.dumps(row, ensure_ascii=False))


@template_app.command("show")
def template_show(template_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Every version of a template, with its text and who moved it through the workflow when."""
    versions = _run(lambda uow: uow.templates.versions(template_id))
    if not versions:
        fail(f"TPL-NOT-FOUND: no template {template_id!r}")
    typer.echo(json.dumps([_json(t) for t in versions], ensure_ascii=False, indent=2))
