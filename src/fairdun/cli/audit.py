"""``fairdun audit``: the batch compliance audit of a contact log against a rule pack.

Exit status: 0 when the log is clean, 1 when violations were found (so a scheduler can alert), 2 on bad input,
with one line naming the file, the row and the column, and nothing written.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from fairdun.application.audit import (
    ENGINES,
    FACT_SPECS,
    FORMATS,
    AuditEngineError,
    AuditInputError,
    AuditJob,
    AuditSummary,
    compare_audits,
    run_audit,
)
from fairdun.bootstrap import bootstrap
from fairdun.cli.database import open_database
from fairdun.config.settings import LANGUAGES, SettingsError
from fairdun.policy.errors import PolicyError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from fairdun.application.analytics import ComplaintRate, PortfolioAnalytics

PURGE_ACTIONS = ("retention.purged",)
"""Audit actions after which an entry's rows may be gone entirely (a retention purge), not tampered with."""

audit_app = typer.Typer(help="The compliance audit: a contact log checked against a rule pack.", no_args_is_help=True)


def _fail(message: str) -> NoReturn:
    typer.echo(f"fairdun: error: {message}", err=True)
    raise typer.Exit(2)


# Cores for the DuckDB engine: its threads and the processes that screen the messages (``screening``).
Threads = Annotated[
    int | None,
    typer.Option(
        "--threads",
        min=1,
        help="Cores for DuckDB and for screening the messages (default: every core); DuckDB engine only.",
    ),
]


@audit_app.command("run")
def audit_run(  # noqa: PLR0917 (a command's options are its interface)
    log: Annotated[
        Path | None,
        typer.Option("--log", help="The contact log: a .parquet or .csv file, or a directory of them (or --database)."),
    ] = None,
    pack: Annotated[str | None, typer.Option("--pack", help="A built-in pack name or a .toml path.")] = None,
    facts: Annotated[
        Path | None, typer.Option("--facts", help="A directory of fact tables (consents.csv, refusals.parquet, ...).")
    ] = None,
    database: Annotated[
        bool, typer.Option("--database", help="Audit what the daily cycle recorded at FAIRDUN_DATABASE_URL.")
    ] = False,
    start: Annotated[str | None, typer.Option("--from", help="With --database: the first day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="With --database: the last day (YYYY-MM-DD).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Where violations.<format> and report.html go.")] = Path(
        "audit-out"
    ),
    engine: Annotated[str, typer.Option("--engine", help="duckdb (in process) or spark.")] = "duckdb",
    spark_master: Annotated[
        str | None, typer.Option("--spark-master", help="Spark master URL (default local[*]); implies --engine spark.")
    ] = None,
    threads: Threads = None,
    fmt: Annotated[str, typer.Option("--format", help="Output format: parquet or csv.")] = "parquet",
    lang: Annotated[str | None, typer.Option("--lang", help="Language of messages: zh or en.")] = None,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write the HTML report beside the output.")
    ] = True,
) -> None:
    """Audit a contact log: one row per (attempt, rule) the gate would have refused; exit 1 if any.

    The log is a file (--log), or what the daily cycle recorded from --from to --to (--database), with the fact
    tables the book vouches for and any others from --facts."""
    _check_source(log, database=database, start=start, end=end)
    try:
        application = bootstrap()
    except SettingsError as exc:
        _fail(str(exc))
    language = lang or application.settings.lang
    if language not in LANGUAGES:
        _fail(f"--lang: expected one of {', '.join(LANGUAGES)}, got {language!r}")
    if spark_master is not None:
        engine = "spark"
    if engine not in ENGINES:
        _fail(f"--engine: expected one of {', '.join(ENGINES)}, got {engine!r}")
    if fmt not in FORMATS:
        _fail(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    try:
        rule_pack = application.packs.load(pack or application.settings.pack)
    except KeyError as exc:
        _fail(str(exc.args[0]))
    except PolicyError as exc:
        _fail(str(exc))
    from fairdun.adapters.audit import make_engine  # noqa: PLC0415 (DuckDB and Arrow load only for audits)
    from fairdun.adapters.audit.report import HtmlAuditReporter  # noqa: PLC0415

    with _log_source(log, facts, database=database, start=start, end=end) as source:
        # From the database, the report comes with the book's portfolio analytics for the same days (roll rates
        # need two days); taken first, so a failure leaves nothing written.
        period = source.period
        figures = _portfolio(*period) if report and period is not None and period[1] > period[0] else None
        job = AuditJob(rule_pack, source.log, source.facts, out, fmt, language)
        try:
            summary = run_audit(
                job,
                make_engine(engine, spark_master=spark_master, threads=threads),
                HtmlAuditReporter() if report else None,
            )
        except AuditInputError as exc:
            _fail(source.explain(exc))
        except AuditEngineError as exc:
            _fail(f"{engine}: {exc}")
    page = None
    if figures is not None:  # written before anything is printed: a closed terminal loses no file
        from fairdun.adapters.report.portfolio_html import write_portfolio  # noqa: PLC0415

        try:
            page = write_portfolio(figures, out / "portfolio.html")
        except OSError as exc:
            _fail(f"{out / 'portfolio.html'}: cannot be written: {exc.strerror}")
    console = Console(soft_wrap=True)
    _print_summary(console, summary)
    if page is not None:
        console.print(f"portfolio: {page}")
    elif database and report:
        console.print("portfolio: not written (roll rates need --to after --from)")
    if not summary.clean:
        raise typer.Exit(1)


def _print_summary(console: Console, summary: AuditSummary) -> None:
    console.print(
        f"{summary.engine}: {summary.rows:,} rows, {summary.attempts:,} attempts audited with {summary.pack} "
        f"in {summary.seconds:.1f} s: {summary.violations:,} violations"
    )
    if summary.by_rule:
        table = Table()
        table.add_column("Rule")
        table.add_column("Violations", justify="right")
        for rule, count in summary.by_rule.items():
            table.add_row(rule, f"{count:,}")
        console.print(table)
    if summary.unknown_facts:
        console.print(f"fact tables not supplied (unknown facts): {', '.join(summary.unknown_facts)}")
    console.print(f"written: {summary.output}")
    if summary.report is not None:
        console.print(f"report: {summary.report}")


@audit_app.command("compare")
def audit_compare(  # noqa: PLR0917 (a command's options are its interface)
    packs: Annotated[
        list[str], typer.Option("--pack", help="Two packs, each a built-in name or a .toml path (give --pack twice).")
    ],
    log: Annotated[
        Path | None,
        typer.Option("--log", help="The contact log: a .parquet or .csv file, or a directory of them (or --database)."),
    ] = None,
    facts: Annotated[Path | None, typer.Option("--facts", help="A directory of fact tables.")] = None,
    database: Annotated[
        bool, typer.Option("--database", help="Compare on what the daily cycle recorded at FAIRDUN_DATABASE_URL.")
    ] = False,
    start: Annotated[str | None, typer.Option("--from", help="With --database: the first day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="With --database: the last day (YYYY-MM-DD).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Where the two audits and compare.<format> go.")] = Path(
        "audit-compare"
    ),
    engine: Annotated[str, typer.Option("--engine", help="duckdb (in process) or spark.")] = "duckdb",
    spark_master: Annotated[
        str | None, typer.Option("--spark-master", help="Spark master URL; implies --engine spark.")
    ] = None,
    threads: Threads = None,
    fmt: Annotated[str, typer.Option("--format", help="Output format: parquet or csv.")] = "parquet",
) -> None:
    """What-if: which past attempts each of two packs would have blocked, and the difference. Exit 0."""
    _check_source(log, database=database, start=start, end=end)
    if len(packs) != 2:
        _fail(f"--pack: give exactly two packs to compare, got {len(packs)}")
    if spark_master is not None:
        engine = "spark"
    if engine not in ENGINES:
        _fail(f"--engine: expected one of {', '.join(ENGINES)}, got {engine!r}")
    if fmt not in FORMATS:
        _fail(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    try:
        application = bootstrap()
        first, second = (application.packs.load(p) for p in packs)
    except SettingsError as exc:
        _fail(str(exc))
    except KeyError as exc:
        _fail(str(exc.args[0]))
    except PolicyError as exc:
        _fail(str(exc))
    if first.label == second.label:
        _fail(f"--pack: both packs are {first.label}; nothing to compare")
    from fairdun.adapters.audit import make_engine  # noqa: PLC0415
    from fairdun.adapters.audit.compare import DuckDBAuditComparer  # noqa: PLC0415

    lang = application.settings.lang
    with _log_source(log, facts, database=database, start=start, end=end) as source:
        jobs = [
            AuditJob(p, source.log, source.facts, out / p.label.replace("@", "-"), fmt, lang) for p in (first, second)
        ]
        try:
            result = compare_audits(
                jobs[0],
                jobs[1],
                make_engine(engine, spark_master=spark_master, threads=threads),
                DuckDBAuditComparer(),
                out,
            )
        except AuditInputError as exc:
            _fail(source.explain(exc))
        except AuditEngineError as exc:
            _fail(f"{engine}: {exc}")
    console = Console(soft_wrap=True)
    table = Table(title=f"{result.first.attempts:,} attempts")
    table.add_column("")
    table.add_column(first.label, justify="right")
    table.add_column(second.label, justify="right")
    table.add_row("attempts blocked", f"{result.blocked_first:,}", f"{result.blocked_second:,}")
    table.add_row("blocked by this pack only", f"{result.only_first:,}", f"{result.only_second:,}")
    for rule in dict.fromkeys([*result.first.by_rule, *result.second.by_rule]):
        table.add_row(rule, f"{result.first.by_rule.get(rule, 0):,}", f"{result.second.by_rule.get(rule, 0):,}")
    console.print(table)
    console.print(f"written: {result.output}")


# --- the tamper-evident audit log in the database (docs/privacy.md) ------------------------------------------


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        str | None,
        typer.Option("--anchor", help="A head hash from `fairdun audit anchor`: prove nothing up to it changed."),
    ] = None,
    records: Annotated[
        bool,
        typer.Option(
            "--records", help="Also recompute each decision and attempt batch's digest from the rows it vouches for."
        ),
    ] = False,
) -> None:
    """Recompute the audit log's hash chain: exit 0 if it holds (JSON counts), 1 naming the first broken entry.
    With --records, also check that the planned contacts and the contact history still match their entries."""
    from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork  # noqa: PLC0415 (slow import)
    from fairdun.adapters.sqlalchemy.audit_log import verify_log  # noqa: PLC0415
    from fairdun.application.audit_trail import verify_records  # noqa: PLC0415

    if anchor is not None and not re.fullmatch(r"[0-9a-f]{64}", anchor):
        _fail("--anchor: 64 lower-case hex digits (the hash `fairdun audit anchor` printed)")
    with open_database(personal_data=False) as engine:
        found = verify_log(engine, anchor)
        check = None
        if records:
            with SqlAlchemyUnitOfWork(engine) as uow:
                check = verify_records(uow, purge_actions=PURGE_ACTIONS)
    payload: dict[str, object] = {
        "entries": found.entries,
        "head": {"seq": found.head_seq, "hash": found.head_hash},
        "ok": found.ok and (check is None or check.ok),
    }
    if check is not None:
        payload["records"] = {"entries": check.entries, "rows": check.rows, "purged": check.purged, "ok": check.ok}
    typer.echo(json.dumps(payload, sort_keys=True))
    if found.problem is not None:
        typer.echo(f"fairdun: audit log broken: {found.problem}", err=True)
        raise typer.Exit(1)
    if check is not None and check.problems:
        more = f" (and {len(check.problems) - 1} more)" if len(check.problems) > 1 else ""
        typer.echo(f"fairdun: records do not match the audit log: {check.problems[0]}{more}", err=True)
        raise typer.Exit(1)


@audit_app.command("anchor")
def audit_anchor() -> None:
    """Print the audit log's head (seq and hash) as JSON, to keep somewhere the database's owners cannot rewrite."""
    from fairdun.adapters.sqlalchemy.audit_log import log_head  # noqa: PLC0415

    with open_database(personal_data=False) as engine:
        seq, digest = log_head(engine)
    typer.echo(json.dumps({"seq": seq, "hash": digest}, sort_keys=True))


# --- portfolio analytics from the database (issue 6) --------------------------------------------------------


def _percent(value: Fraction | None) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f} %"


@audit_app.command("portfolio")
def audit_portfolio(
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD), after the first.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of tables.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the tables and charts to this self-contained HTML file.")
    ] = None,
) -> None:
    """Portfolio analytics of the book at FAIRDUN_DATABASE_URL for a period: roll-rate matrix, cure rate,
    promise-to-pay kept rate, right-party contact rate, contact intensity, complaints per 10,000 contacts
    (docs/audit.md)."""
    figures = _portfolio(_day(start, "--from"), _day(end, "--to"))
    first, last = figures.start, figures.end
    roll = figures.roll
    if html is not None:
        from fairdun.adapters.report.portfolio_html import write_portfolio  # noqa: PLC0415

        try:
            write_portfolio(figures, html)
        except OSError as exc:
            _fail(f"--html: {html}: cannot be written: {exc.strerror}")
    if as_json:
        document = {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "loans": figures.loans,
            "roll_counts": {
                a: dict(zip(roll.buckets, row, strict=True)) for a, row in zip(roll.buckets, roll.counts, strict=True)
            },
            "cure_rate": None if figures.cure_rate is None else float(figures.cure_rate),
            "promises": {
                "made": figures.promises_made,
                "kept": figures.promises_kept,
                "broken": figures.promises_broken,
                "pending": figures.promises_pending,
            },
            "promise_kept_rate": None if figures.promise_kept_rate is None else float(figures.promise_kept_rate),
            "right_party_contact_rate": None
            if figures.right_party_contact_rate is None
            else float(figures.right_party_contact_rate),
            "contact_intensity": None if figures.contact_intensity is None else float(figures.contact_intensity),
            "complaints": figures.complaints,
            "complaints_per_10k": _float(figures.complaints_per_10k),
            "complaints_by_category": dict(figures.complaints_by_category),
            "complaints_by_collector": _rates(figures.by_collector),
            "complaints_by_agency": _rates(figures.by_agency),
            "complaints_by_month": _rates(figures.by_month),
        }
        typer.echo(json.dumps(document, sort_keys=True))
        return
    console = Console()
    matrix = Table(title=f"Roll rates {first} → {last} (share of each row's loans; row totals on the right)")
    matrix.add_column("from \\ to")
    for name in roll.buckets:
        matrix.add_column(name, justify="right")
    matrix.add_column("loans", justify="right")
    for name in roll.buckets:
        leaving = roll.leaving(name)
        matrix.add_row(name, *(_percent(roll.rate(name, to)) for to in roll.buckets), str(leaving))
    console.print(matrix)
    table = Table(title="Portfolio")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("loans", f"{figures.loans:,}")
    table.add_row("cure rate (delinquent on the first day, current on the last)", _percent(figures.cure_rate))
    table.add_row(
        "promises to pay made / kept / broken / pending",
        f"{figures.promises_made:,} / {figures.promises_kept:,} / {figures.promises_broken:,} / "
        f"{figures.promises_pending:,}",
    )
    table.add_row("promise-to-pay kept rate (of those settled)", _percent(figures.promise_kept_rate))
    table.add_row("right-party contact rate (debtor calls answered)", _percent(figures.right_party_contact_rate))
    intensity = figures.contact_intensity
    table.add_row(
        "contact intensity (contacts per delinquent loan-day)", "—" if intensity is None else f"{float(intensity):.2f}"
    )
    per_10k = figures.complaints_per_10k
    table.add_row(
        "complaints received / per 10,000 contacts",
        f"{figures.complaints:,} / {'—' if per_10k is None else f'{float(per_10k):.2f}'}",
    )
    console.print(table)
    for title, rates in (
        ("collector", figures.by_collector),
        ("agency", figures.by_agency),
        ("month", figures.by_month),
    ):
        breakdown = Table(title=f"Complaints per 10,000 contacts by {title}")
        for column in (title, "complaints", "contacts", "per 10,000"):
            breakdown.add_column(column, justify="left" if column == title else "right")
        for r in rates:
            rate = "—" if r.per_10k is None else f"{float(r.per_10k):.2f}"
            breakdown.add_row(r.key, f"{r.complaints:,}", f"{r.contacts:,}", rate)
        console.print(breakdown)
    if html is not None:
        console.print(f"written: {html}")


def _float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def _rates(rates: Sequence[ComplaintRate]) -> dict[str, dict[str, float | int | None]]:
    return {r.key: {"complaints": r.complaints, "contacts": r.contacts, "per_10k": _float(r.per_10k)} for r in rates}


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"{option}: not a date (YYYY-MM-DD): {text!r}")


@audit_app.command("export")
def audit_export(
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD).")],
    out: Annotated[Path, typer.Option("--out", help="Where contacts.csv and facts/ go.")] = Path("audit-log"),
) -> None:
    """Write the contacts the daily cycle recorded at FAIRDUN_DATABASE_URL as an audit log (`OUT/contacts.csv`)
    with the fact tables the book vouches for (`OUT/facts/`), for `fairdun audit run --log OUT/contacts.csv
    --facts OUT/facts`."""
    first, last = _days(start, end)
    contacts, tables = _export(first, last, out)
    typer.echo(json.dumps({"contacts": contacts, "facts": sorted(tables), "out": str(out)}))


def _portfolio(first: date, last: date) -> PortfolioAnalytics:
    """The portfolio analytics of the book at FAIRDUN_DATABASE_URL from ``first`` to ``last``."""
    from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork  # noqa: PLC0415 (slow import)
    from fairdun.application.analytics import portfolio_analytics  # noqa: PLC0415
    from fairdun.domain.errors import DomainError  # noqa: PLC0415

    try:
        with open_database(personal_data=False) as engine, SqlAlchemyUnitOfWork(engine) as uow:
            return portfolio_analytics(uow, first, last)
    except DomainError as exc:
        _fail(f"--to: {exc.problem}" if exc.field == "end" else str(exc))


def _days(start: str, end: str) -> tuple[date, date]:
    first, last = _day(start, "--from"), _day(end, "--to")
    if last < first:
        _fail(f"--to: must not be before --from {first}, got {last}")
    return first, last


def _export(first: date, last: date, out: Path) -> tuple[int, list[str]]:
    """The cycle's contacts from ``first`` to ``last`` as ``out/contacts.csv`` and the fact tables the book vouches
    for as ``out/facts/<name>.csv``; returns the number of contacts and the tables' names."""
    import csv  # noqa: PLC0415

    from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork  # noqa: PLC0415 (slow import)
    from fairdun.application.contact_log import FACT_COLUMNS, LOG_COLUMNS, contact_log, fact_tables  # noqa: PLC0415

    facts_dir = out / "facts"
    with open_database(personal_data=False) as engine, SqlAlchemyUnitOfWork(engine) as uow:
        rows = list(contact_log(uow, first, last))
        tables = fact_tables(uow)
    facts_dir.mkdir(parents=True, exist_ok=True)
    with (out / "contacts.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LOG_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    for name, table in tables.items():
        with (facts_dir / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=FACT_COLUMNS[name])
            writer.writeheader()
            writer.writerows(table)
    return len(rows), sorted(tables)


def _check_source(log: Path | None, *, database: bool, start: str | None, end: str | None) -> None:
    """Exactly one log: a file (--log) or the database (--database, with --from and --to)."""
    if database and log is not None:
        _fail("--log and --database: give one log, a file or the database")
    if not database and log is None:
        _fail(
            "--log: missing; give the contact log (a .parquet or .csv file, or a directory of them), "
            "or --database --from D1 --to D2"
        )
    if not database and (start is not None or end is not None):
        _fail("--from and --to go with --database (a file's log is audited whole)")
    if database and (start is None or end is None):
        _fail(f"{'--from' if start is None else '--to'}: missing; --database audits the days from --from to --to")


@dataclass(frozen=True)
class _Source:
    """What an audit reads: the log, the fact directory, and the names a person knows them by."""

    log: Path
    facts: Path | None
    names: Mapping[str, str] = field(default_factory=dict)
    period: tuple[date, date] | None = None
    """The days exported from the database (None for a file's log)."""

    def explain(self, exc: AuditInputError) -> str:
        """The error, naming the file as the person gave it (or the database), not a temporary copy."""
        shown = self.names.get(exc.file)
        return str(exc) if shown is None else str(AuditInputError(shown, exc.problem, row=exc.row, column=exc.column))


@contextmanager
def _log_source(
    log: Path | None, facts: Path | None, *, database: bool, start: str | None, end: str | None
) -> Iterator[_Source]:
    """The log and the fact directory to audit: the files given, or the database's contacts and fact tables
    exported to a temporary directory (removed afterwards), with --facts adding the tables the book does not
    vouch for (``unreachable``: the cycle works it out day by day and keeps no table of it)."""
    if not database:
        assert log is not None  # _check_source
        yield _Source(log, facts)
        return
    assert start is not None  # _check_source
    assert end is not None
    first, last = _days(start, end)
    if facts is not None and not facts.is_dir():
        _fail(f"{facts}: no such directory (--facts names a directory of fact tables)")
    from fairdun.adapters.audit.loading import find_file  # noqa: PLC0415 (DuckDB and Arrow load only for audits)

    with tempfile.TemporaryDirectory(prefix="fairdun-audit-") as scratch:
        exported = Path(scratch) / "database"
        _, tables = _export(first, last, exported)
        period = f"{first} to {last}"
        names = {str(exported / "contacts.csv"): f"the database's contacts ({period})"}
        names |= {str(exported / "facts" / f"{n}.csv"): f"the database's {n}" for n in tables}
        if facts is not None:  # tables the book does not give, added from --facts
            for name in FACT_SPECS:
                try:
                    given = find_file(facts, name)  # the loader's own lookup (refusing .parquet and .csv at once)
                except AuditInputError as exc:
                    _fail(str(exc))
                if given is None:
                    continue
                if name in tables:
                    _fail(
                        f"{given}: the database gives {name}; with --database, --facts adds only the tables it "
                        f"does not give ({', '.join(sorted(set(FACT_SPECS) - set(tables)))})"
                    )
                copy = exported / "facts" / given.name
                shutil.copyfile(given, copy)
                names[str(copy)] = str(given)
        yield _Source(exported / "contacts.csv", exported / "facts", names, (first, last))
