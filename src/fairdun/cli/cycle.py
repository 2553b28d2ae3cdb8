"""``fairdun cycle``, ``fairdun outbox``, ``fairdun book`` and ``fairdun ledger``: the daily cycle from the command
line, on the database at ``FAIRDUN_DATABASE_URL``. Every error is one line naming what is wrong, exit status 2."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from fairdun.adapters.channels.factory import KINDS, build_channel
from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application.channels import Channel, ChannelError
from fairdun.application.cycle import (
    EXPIRE_AFTER,
    STALE_CLAIM,
    Book,
    CycleConfig,
    CycleError,
    SimulatedChannel,
    run_day,
)
from fairdun.application.outbox import dispatch, expire, recover
from fairdun.application.planning import Mode
from fairdun.application.ports import ConflictError, PersistenceError
from fairdun.application.simulation import load_book
from fairdun.application.synthetic import MAX_BORROWERS, generate_portfolio
from fairdun.cli.database import fail, open_database
from fairdun.config.packs import PackLoader
from fairdun.config.settings import SettingsError, load_settings
from fairdun.config.strategies import load_strategy
from fairdun.domain.cases import (
    BucketChanged,
    CaseEvent,
    DisputeOpened,
    DisputeResolved,
    PlanAgreed,
    PlanInstallment,
    PromiseMade,
    RecalledFromAgency,
    case_history,
)
from fairdun.domain.delinquency import DEFAULT_BUCKETS
from fairdun.domain.errors import DomainError
from fairdun.domain.ledger import LoanEvent, PauseGranted, PaymentReceived, PaymentReversed
from fairdun.policy.errors import PolicyError

E = TypeVar("E")

cycle_app = typer.Typer(help="The daily collection cycle (see docs/cycle.md).", no_args_is_help=True)
outbox_app = typer.Typer(help="The outbox: send what the gate allowed, when it is due.", no_args_is_help=True)
book_app = typer.Typer(help="The loan book: load a fictional one to try fairdun on.", no_args_is_help=True)
ledger_app = typer.Typer(help="The ledger: record payments, reversals and hardship pauses.", no_args_is_help=True)
case_app = typer.Typer(help="Cases: record promises, payment plans and disputes.", no_args_is_help=True)


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: not a date (YYYY-MM-DD): {text!r}")


def _channel(kind: str, options: list[str], seed: int) -> Channel:
    if kind == "simulate":
        return SimulatedChannel(seed)
    values: dict[str, object] = {}
    for item in options:
        name, sep, value = item.partition("=")
        if not sep or not name:
            fail(f"--channel-option: expected NAME=VALUE, got {item!r}")
        values[name] = int(value) if value.isdigit() else value
    if kind == "log" and "path" not in values:
        values["path"] = "fairdun-outbox.jsonl"
    try:
        return build_channel(kind, values)
    except ChannelError as exc:
        fail(str(exc))


CHANNEL_HELP = f"Where messages go: {', '.join(KINDS)} or simulate (sends nothing; answers as the demo's debtors)."


@cycle_app.command("run")
def cycle_run(  # noqa: PLR0917 - typer options
    on: Annotated[str, typer.Option("--date", help="The local date to run (YYYY-MM-DD).")],
    strategy: Annotated[str, typer.Option(help="A built-in strategy or a strategy file.")] = "default",
    pack: Annotated[str | None, typer.Option(help="The rule pack (default: FAIRDUN_PACK).")] = None,
    mode: Annotated[str, typer.Option(help="enforce, or audit-only (judges everything, sends nothing).")] = "enforce",
    channel: Annotated[str, typer.Option(help=CHANNEL_HELP)] = "log",
    channel_option: Annotated[
        list[str] | None, typer.Option("--channel-option", help="NAME=VALUE for the channel (docs/channels.md).")
    ] = None,
    simulate: Annotated[
        bool, typer.Option(help="Send each message at its planned instant (a replay) instead of what is due now.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the simulated channel.")] = 7,
) -> None:
    """Run the daily cycle for one date: buckets, cases, plan, gate, outbox, send. A date already run is not run
    again: its first result is printed."""
    day = _date(on, "--date")
    modes = {"enforce": Mode.ENFORCE, "audit-only": Mode.AUDIT_ONLY}
    if mode not in modes:
        fail(f"--mode: enforce or audit-only, got {mode!r}")
    if channel not in (*KINDS, "simulate"):
        fail(f"--channel: one of {', '.join((*KINDS, 'simulate'))}, got {channel!r}")
    try:
        loaded_pack = PackLoader().load(pack or load_settings().pack)
        config = CycleConfig(load_strategy(strategy), loaded_pack, modes[mode])
    except (KeyError, PolicyError, SettingsError, CycleError) as exc:
        fail(str(exc.args[0]) if isinstance(exc, KeyError) else str(exc))
    sender = _channel(channel, channel_option or [], seed)
    with open_database() as engine:
        factory = _factory(engine)
        try:
            with factory() as uow:
                book = Book.load(uow, on=day, lookback=config.lookback, table=config.table)
            report = run_day(factory, book, config, day, sender, clock=lambda: datetime.now(UTC), simulate=simulate)
        except (CycleError, DomainError, PersistenceError) as exc:
            fail(str(exc))
        finally:
            sender.close()
    if report.already_done:
        typer.echo(f"{day}: already run; nothing was done again")
    typer.echo(json.dumps({"date": day.isoformat(), **report.summary}, sort_keys=True))


@cycle_app.command("status")
def cycle_status(
    on: Annotated[str | None, typer.Option("--date", help="One date: its planned contacts by rule.")] = None,
) -> None:
    """The runs so far (date, strategy, mode, counts), or one date's planned contacts and why any were denied."""
    console = Console()
    with open_database() as engine, _factory(engine)() as uow:
        if on is None:
            table = Table(title="Cycle runs")
            for column in ("date", "strategy", "mode", "pack", "status", "planned", "allowed", "denied", "sent"):
                table.add_column(column)
            for run in uow.cycle.runs():
                s = run.summary
                table.add_row(
                    run.run_on.isoformat(), run.strategy, run.mode, run.pack, run.status.value,
                    *(str(s.get(k, "")) for k in ("planned", "allowed", "denied", "sent")),
                )  # fmt: skip
            console.print(table)
            return
        day = _date(on, "--date")
        planned = uow.cycle.planned(day)
        effects: dict[str, int] = {}
        rules: dict[str, int] = {}
        for record in planned:
            effects[record.effect] = effects.get(record.effect, 0) + 1
            for rule in record.rules:
                rules[rule] = rules.get(rule, 0) + 1
        typer.echo(json.dumps({"date": day.isoformat(), "planned": len(planned), **effects, "denied_by": rules}))


@outbox_app.command("dispatch")
def outbox_dispatch(
    channel: Annotated[str, typer.Option(help=CHANNEL_HELP)] = "log",
    channel_option: Annotated[list[str] | None, typer.Option("--channel-option", help="NAME=VALUE.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many messages.")] = 10_000,
    pack: Annotated[str | None, typer.Option(help="The rule pack the cycle ran with (default: FAIRDUN_PACK).")] = None,
) -> None:
    """Send what is due now: hand back claims of workers that died, expire messages too late for the instant the
    gate allowed them for, withhold those whose consent was withdrawn or whose recipient refused or opted out
    since they were planned, and send the rest (run it every minute from a scheduler)."""
    from fairdun.application.consent import LedgerFacts, withhold_revoked  # noqa: PLC0415

    try:
        loaded_pack = PackLoader().load(pack or load_settings().pack)
    except (KeyError, PolicyError, SettingsError) as exc:
        fail(str(exc.args[0]) if isinstance(exc, KeyError) else str(exc))
    sender = _channel(channel, channel_option or [], 7)
    now = datetime.now(UTC)
    with open_database() as engine:
        factory = _factory(engine)
        try:
            recovered = recover(factory, stale_before=now - STALE_CLAIM)
            expired = expire(factory, now=now, grace=EXPIRE_AFTER)
            withheld = withhold_revoked(factory, LedgerFacts(), loaded_pack, {}, now=now, limit=limit)
            report = dispatch(factory, sender, worker="cli", now=now, limit=limit, batch=200)
        finally:
            sender.close()
    counts = {
        "recovered": len(recovered),
        "expired": len(expired),
        "withheld": len(withheld),
        "sent": len(report.sent),
        "failed": len(report.failed),
        "retrying": len(report.retrying),
        "skipped": len(report.skipped),
    }
    typer.echo(json.dumps(counts, sort_keys=True))


@book_app.command("generate")
def book_generate(
    borrowers: Annotated[int, typer.Option(help="Fictional borrowers.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    start: Annotated[str, typer.Option(help="The book's date: payments before it are recorded.")] = "2026-09-01",
) -> None:
    """Load a fictional book (borrowers, designated contacts with consents, loans, past payments) into an empty
    database, to try the cycle on. Names, phone numbers and ID numbers are invented (docs/synthetic.md)."""
    if not 1 <= borrowers <= MAX_BORROWERS:
        fail(f"--borrowers: from 1 to {MAX_BORROWERS:,}, got {borrowers}")
    day = _date(start, "--start")
    with open_database() as engine:
        factory = _factory(engine)
        with factory() as uow:
            if uow.loans.all():
                fail("the database already holds loans: `book generate` loads into an empty one")
        portfolio = generate_portfolio(borrowers, seed, day)
        _, payments = load_book(factory, portfolio, seed)
    typer.echo(
        json.dumps(
            {"borrowers": borrowers, "loans": len(portfolio.loans), "contacts": len(portfolio.contacts),
             "payments": payments, "start": day.isoformat()}
        )
    )  # fmt: skip


@ledger_app.command("add")
def ledger_add() -> None:
    """Record loan events from JSON lines on stdin, all or none:
    {"loan", "kind": "payment", "id", "on", "amount"}, {"loan", "kind": "reversal", "payment_id", "reason"?} or
    {"loan", "kind": "pause", "start", "end"}. A payment dated days back is a backdated event: the next cycle
    restates the loan and records what it changed."""
    events = _read_lines(_loan_event)
    with open_database() as engine, _factory(engine)() as uow:
        now = datetime.now(UTC)
        try:
            for k, (loan_id, event) in enumerate(events, start=1):
                if uow.loans.get(loan_id) is None:
                    fail(f"event {k}: loan {loan_id!r} is not in the book")
                uow.loan_events.append(loan_id, event, recorded_at=now)
        except (ConflictError, ValueError) as exc:
            fail(str(exc))
        uow.commit()
    typer.echo(json.dumps({"recorded": len(events)}))


@case_app.command("add")
def case_add() -> None:
    """Record case events from JSON lines on stdin, all or none: {"loan", "kind": "promise", "on", "amount",
    "due"}, {"loan", "kind": "plan", "on", "installments": [{"due", "amount"}, ...]} (the total is their sum),
    {"loan", "kind": "dispute_opened", "on", "reason"?}, {"loan", "kind": "dispute_resolved", "on"} or
    {"loan", "kind": "recalled", "on"} (the case taken back from the agency it was placed with). A dispute holds
    the case: the cycle plans no collection contact until it is resolved."""
    events = _read_lines(_case_event)
    with open_database() as engine, _factory(engine)() as uow:
        now = datetime.now(UTC)
        for k, (loan_id, _) in enumerate(events, start=1):
            if uow.loans.get(loan_id) is None:
                fail(f"event {k}: loan {loan_id!r} is not in the book")
        try:
            uow.case_events.append_many(events, recorded_at=now)
        except (ConflictError, ValueError) as exc:
            fail(str(exc))
        uow.commit()
    typer.echo(json.dumps({"recorded": len(events)}))


def _read_lines(parse: Callable[[int, str], E]) -> list[E]:
    """Every non-blank line of stdin parsed (a bad one ends the command with its line number); at least one."""
    events = [parse(number, line) for number, line in enumerate(sys.stdin.read().splitlines(), start=1) if line.strip()]
    if not events:
        fail("stdin: no events")
    return events


def _case_event(number: int, line: str) -> tuple[str, CaseEvent]:
    where = f"line {number}"
    doc = _object(where, line)
    read = _Reader(where, doc)

    def plan() -> CaseEvent:
        raw = doc.get("installments")
        if not isinstance(raw, list) or not raw:
            fail(f"{where}.installments: must be a non-empty list of {{due, amount}}")
        parts = []
        for k, item in enumerate(raw):
            if not isinstance(item, dict):
                fail(f"{where}.installments[{k}]: must be an object with due and amount")
            inner = _Reader(f"{where}.installments[{k}]", item)
            parts.append(PlanInstallment(inner.day("due"), inner.amount("amount")))
        return PlanAgreed(read.day("on"), sum((p.amount for p in parts), Decimal(0)), tuple(parts))

    kinds: dict[str, Callable[[], CaseEvent]] = {
        "promise": lambda: PromiseMade(read.day("on"), read.amount("amount"), read.day("due")),
        "plan": plan,
        "dispute_opened": lambda: DisputeOpened(read.day("on"), str(doc.get("reason", ""))),
        "dispute_resolved": lambda: DisputeResolved(read.day("on")),
        "recalled": lambda: RecalledFromAgency(read.day("on")),
    }
    kind = doc.get("kind")
    if kind not in kinds:
        fail(f"{where}.kind: one of {', '.join(kinds)}, got {kind!r}")
    loan = read.text("loan")
    event = kinds[str(kind)]()
    try:
        # The replay checks each event's own fields (a promise due before it was made, plan dates out of order),
        # here inside a case opened for the purpose; whether the loan's own case is open then is the cycle's
        # business (an event outside any case is kept and passed over).
        if isinstance(event, PromiseMade | PlanAgreed):
            case_history([BucketChanged(event.on, DEFAULT_BUCKETS.names[1]), event], [], event.on)
    except DomainError as exc:
        fail(f"{where}: {exc}")
    return loan, event


def _object(where: str, line: str) -> dict[str, Any]:
    try:
        doc = json.loads(line)
    except json.JSONDecodeError as exc:
        fail(f"{where}: not JSON: {exc.msg}")
    if not isinstance(doc, dict):
        fail(f"{where}: must be a JSON object")
    return doc


class _Reader:
    """Typed fields of one JSON object, each error naming ``where.field``."""

    def __init__(self, where: str, doc: dict[str, Any]) -> None:
        self.where = where
        self.doc = doc

    def text(self, name: str) -> str:
        value = self.doc.get(name)
        if not isinstance(value, str) or not value.strip():
            fail(f"{self.where}.{name}: must be a non-empty string")
        return value

    def day(self, name: str) -> date:
        value = self.text(name)
        try:
            return date.fromisoformat(value)
        except ValueError:
            fail(f"{self.where}.{name}: not a date (YYYY-MM-DD): {value!r}")

    def amount(self, name: str) -> Decimal:
        return _amount(f"{self.where}.{name}", self.doc.get(name))


def _loan_event(number: int, line: str) -> tuple[str, LoanEvent]:
    where = f"line {number}"
    try:
        doc = json.loads(line)
    except json.JSONDecodeError as exc:
        fail(f"{where}: not JSON: {exc.msg}")
    if not isinstance(doc, dict):
        fail(f"{where}: must be a JSON object")

    def text(name: str) -> str:
        value = doc.get(name)
        if not isinstance(value, str) or not value.strip():
            fail(f"{where}.{name}: must be a non-empty string")
        return value

    def day(name: str) -> date:
        value = text(name)
        try:
            return date.fromisoformat(value)
        except ValueError:
            fail(f"{where}.{name}: not a date (YYYY-MM-DD): {value!r}")

    kinds: dict[str, Callable[[], LoanEvent]] = {
        "payment": lambda: PaymentReceived(text("id"), day("on"), _amount(f"{where}.amount", doc.get("amount"))),
        "reversal": lambda: PaymentReversed(text("payment_id"), str(doc.get("reason", ""))),
        "pause": lambda: PauseGranted(day("start"), day("end")),
    }
    kind = doc.get("kind")
    if kind not in kinds:
        fail(f"{where}.kind: one of {', '.join(kinds)}, got {kind!r}")
    loan = text("loan")
    try:
        return loan, kinds[str(kind)]()
    except (DomainError, ValueError) as exc:
        fail(f"{where}: {exc}")


def _amount(where: str, value: Any) -> Decimal:
    """``where`` names the field (``line 3.amount``)."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        fail(f"{where}: not a number: {value!r}")
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        fail(f"{where}: must be more than zero, in cents at most, got {value!r}")
    return amount


def _factory(engine: Engine) -> Callable[[], SqlAlchemyUnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(engine)
