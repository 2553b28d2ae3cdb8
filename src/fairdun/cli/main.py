"""The ``fairdun`` command. Errors from any layer become one line on stderr and exit status 2; decisions,
whatever they are, exit 0."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from fairdun import __version__
from fairdun.application.gate import BatchError
from fairdun.bootstrap import App, bootstrap
from fairdun.cli import demo as demo_module
from fairdun.cli import gate_demo
from fairdun.cli.audit import audit_app
from fairdun.cli.borrower import borrower_app
from fairdun.cli.complaint import complaint_app
from fairdun.cli.consent import consent_app, contact_app, inbound_app, notice_app
from fairdun.cli.cycle import book_app, case_app, cycle_app, ledger_app, outbox_app
from fairdun.cli.keys import keys_app
from fairdun.cli.person import incident_app, person_app
from fairdun.cli.screen import screen_app
from fairdun.cli.session import login, logout, whoami
from fairdun.cli.subject import retention_app, subject_app
from fairdun.cli.template import template_app
from fairdun.cli.users import agency_app, user_app
from fairdun.config.packs import builtin_pack_names
from fairdun.config.settings import LANGUAGES, SettingsError
from fairdun.policy.errors import PolicyError
from fairdun.policy.pack import Pack
from fairdun.policy.wire import decision_to_json

app = typer.Typer(
    help="fairdun: compliance-first loan collections. Every contact passes the contact gate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
packs_app = typer.Typer(help="Rule packs: list them, show their rules and citations.", no_args_is_help=True)
gate_app = typer.Typer(help="The contact gate.", no_args_is_help=True)
db_app = typer.Typer(help="The database: migrations (FAIRDUN_DATABASE_URL).", no_args_is_help=True)
app.add_typer(packs_app, name="packs")
app.add_typer(gate_app, name="gate")
app.add_typer(db_app, name="db")
app.add_typer(screen_app, name="screen")
app.add_typer(audit_app, name="audit")
app.add_typer(cycle_app, name="cycle")
app.add_typer(outbox_app, name="outbox")
app.add_typer(book_app, name="book")
app.add_typer(ledger_app, name="ledger")
app.add_typer(case_app, name="case")
app.add_typer(keys_app, name="keys")
app.add_typer(template_app, name="template")
app.add_typer(user_app, name="user")
app.add_typer(agency_app, name="agency")
app.add_typer(complaint_app, name="complaint")
app.add_typer(subject_app, name="subject")
app.add_typer(retention_app, name="retention")
app.add_typer(borrower_app, name="borrower")
app.add_typer(notice_app, name="notice")
app.add_typer(consent_app, name="consent")
app.add_typer(contact_app, name="contact")
app.add_typer(inbound_app, name="inbound")
app.add_typer(person_app, name="person")
app.add_typer(incident_app, name="incident")
app.command("login")(login)
app.command("logout")(logout)
app.command("whoami")(whoami)


def fail(message: str) -> NoReturn:
    """One line on stderr naming what is wrong, exit status 2. Never a traceback."""
    typer.echo(f"fairdun: error: {message}", err=True)
    raise typer.Exit(2)


def _app() -> App:
    try:
        return bootstrap()
    except SettingsError as exc:
        fail(str(exc))


def _load(application: App, name: str) -> Pack:
    try:
        return application.packs.load(name)
    except KeyError as exc:
        fail(str(exc.args[0]))
    except PolicyError as exc:
        fail(str(exc))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fairdun {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """fairdun: compliance-first loan collections."""


@packs_app.command("list")
def packs_list() -> None:
    """List the built-in rule packs."""
    application = _app()
    table = Table(title="Built-in rule packs")
    for column in ("Pack", "Version", "Rules", "Title"):
        table.add_column(column)
    for name in builtin_pack_names():
        pack = _load(application, name)
        default = " (default)" if name == application.settings.pack else ""
        table.add_row(pack.name + default, pack.version, str(len(pack.rules)), pack.title)
    Console(soft_wrap=False).print(table)


@packs_app.command("show")
def packs_show(
    name: Annotated[str, typer.Argument(help="A built-in pack name (cn, us, ...) or a path to a .toml pack.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the rules as JSON instead of a table.")] = False,
) -> None:
    """Show a pack's rules, what each checks, and its citations."""
    pack = _load(_app(), name)
    rows: list[dict[str, Any]] = []
    for rule in pack.rules:
        scope: list[str] = []
        for label, values, everything in (
            ("channels", rule.channels, 7),
            ("roles", rule.roles, 6),
            ("purposes", rule.purposes, 3),
        ):
            if len(values) < everything:
                scope.append(f"{label}: {', '.join(sorted(v.value for v in values))}")
        rows.append(
            {
                "id": rule.id,
                "title": rule.title,
                "applies_to": "; ".join(scope) or "every attempt",
                "checks": [f"{c.kind}: {c.describe()}" for c in rule.checks],
                "citations": [
                    {
                        "law": c.law,
                        "article": c.article,
                        "checked": c.checked.isoformat(),
                        "confidence": c.confidence,
                        "url": c.url,
                        "note": c.note,
                    }
                    for c in rule.citations
                ],
                "source": rule.source,
            }
        )
    if as_json:
        payload = {"pack": pack.label, "title": pack.title, "extends": pack.extends, "rules": rows}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    extends = f", extends {pack.extends}" if pack.extends else ""
    table = Table(title=f"{pack.label}: {pack.title}{extends}", show_lines=True)
    table.add_column("Rule", no_wrap=True)
    table.add_column("What it enforces", ratio=3, overflow="fold")
    table.add_column("Citation", ratio=2, overflow="fold")
    for row in rows:
        cites = "\n".join(
            f"{c['law']}, {c['article']} [{c['confidence'] or '?'}; checked {c['checked']}]" for c in row["citations"]
        )
        enforces = "\n".join([row["title"], f"applies to: {row['applies_to']}", *row["checks"]])
        table.add_row(row["id"], enforces, cites)
    Console(soft_wrap=False).print(table)


def _read_documents(text: str) -> tuple[list[Any], list[int], bool]:
    """The requests on stdin: one JSON document, or JSON lines.

    Returns the documents, the line each starts on, and whether stdin held a single document."""
    if not text.strip():
        fail("stdin: no request given (one JSON object, or JSON lines for many)")
    try:
        return [json.loads(text)], [1], True
    except json.JSONDecodeError as whole:
        lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
        if len(lines) < 2:
            fail(f"stdin: not valid JSON: {whole.msg} (line {whole.lineno}, column {whole.colno})")
        documents = []
        for n, line in lines:
            try:
                documents.append(json.loads(line))
            except json.JSONDecodeError as exc:
                fail(f"line {n}: not valid JSON: {exc.msg} (column {exc.colno})")
        return documents, [n for n, _ in lines], False


@gate_app.command("check")
def gate_check(
    pack: Annotated[
        str | None,
        typer.Option(
            "--pack", help="Pack for every request (overrides a request's own 'pack'): a name or a .toml path."
        ),
    ] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="Language of messages: zh or en.")] = None,
) -> None:
    """Decide contact attempts: one JSON request on stdin (or JSON lines), JSON decisions on stdout.

    Exit status 0 whatever the decisions; 2 with one line naming the field on bad input.
    """
    application = _app()
    language = lang or application.settings.lang
    if language not in LANGUAGES:
        fail(f"--lang: expected one of {', '.join(LANGUAGES)}, got {language!r}")
    gate = application.gate
    if pack is not None:
        _load(application, pack)
        gate.default_pack = pack
        gate.override = True
    documents, line_numbers, single = _read_documents(sys.stdin.read())
    for document, n in zip(documents, line_numbers, strict=True):
        if not isinstance(document, dict):
            where = "stdin" if single else f"line {n}"
            fail(f"{where}: expected a JSON object (a request), got {type(document).__name__}")
    try:
        decisions = gate.check_all(documents)
    except BatchError as exc:
        where = "" if single else f"line {line_numbers[exc.index - 1]}: "
        fail(where + str(exc.error))
    except PolicyError as exc:
        fail(str(exc))
    for decision in decisions:
        payload = decision_to_json(decision, language)
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2 if single else None))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database at FAIRDUN_DATABASE_URL to the newest schema."""
    from fairdun.adapters.sqlalchemy import current_revision, head_revision, upgrade  # noqa: PLC0415 (slow import)

    url = _app().settings.database_url
    try:
        before = current_revision(url)
        upgrade(url)
    except Exception as exc:  # the edge: any driver or migration error becomes one line, without the URL
        fail(f"database: migration failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    typer.echo(f"database schema: {before or 'empty'} -> {head_revision()}")


@db_app.command("status")
def db_status() -> None:
    """Print the database's schema revision and the newest one this version of fairdun knows."""
    from fairdun.adapters.sqlalchemy import current_revision, head_revision  # noqa: PLC0415 (slow import)

    url = _app().settings.database_url
    try:
        current = current_revision(url)
    except Exception as exc:  # the edge, as above
        fail(f"database: cannot be read: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    head = head_revision()
    state = "up to date" if current == head else "needs `fairdun db upgrade`"
    typer.echo(f"database schema: {current or 'empty'} (newest {head}): {state}")


@gate_app.command("demo")
def gate_demo_command(
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same run.")] = 7,
) -> None:
    """An aggressive collector's week, every attempt gated by each built-in pack, with explanations."""
    application = _app()
    gate_demo.run(application, seed, Console())


@app.command("demo")
def demo(  # noqa: PLR0917 - typer options
    borrowers: Annotated[int, typer.Option(help="Fictional borrowers in the book.")] = 5000,
    days: Annotated[int, typer.Option(help="Days of the daily cycle to simulate.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same report.")] = 7,
    out: Annotated[Path, typer.Option(help="Where the report (index.html) and the databases go.")] = Path(
        "demo-report"
    ),
    workers: Annotated[
        int | None,
        typer.Option(
            help="Worker processes; the book is split in as many pieces per strategy (default: one per CPU core).",
            show_default=False,
        ),
    ] = None,
    pack: Annotated[str, typer.Option(help="The rule pack the gate applies.")] = "cn",
) -> None:
    """The main job: a synthetic book through the daily cycle, compliant vs aggressive, and an HTML report."""
    try:
        demo_module.run(
            borrowers=borrowers, days=days, seed=seed, out=out, workers=workers, pack=pack, console=Console()
        )
    except demo_module.DemoError as exc:
        fail(str(exc))
    except KeyError as exc:
        fail(str(exc.args[0]))
    except PolicyError as exc:
        fail(str(exc))


def run() -> None:
    app()
