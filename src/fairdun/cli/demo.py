"""``fairdun demo``: the main job. A synthetic book, sixty days of the daily cycle twice (the compliant strategy,
and an aggressive one in audit-only mode), progress bars, a summary table and ``demo-report/index.html``.

The book is split by borrower into ``workers`` pieces per strategy (borrowers do not affect each other, and every
random draw is keyed by what it decides, so the pieces add up to exactly the whole; a test checks it), each piece
simulated in its own process with its own fresh SQLite database under ``<out>/db/``. Workers are forked from a
fork server that has imported fairdun once, so nothing of the parent's state leaks into them and they start at
once.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import shutil
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from queue import Empty
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fairdun.adapters.crypto import Keyring, KeyringError, MasterKey, generate_master_key, keyring_from_settings
from fairdun.adapters.report.html import write_report
from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork, make_engine, upgrade
from fairdun.application.cycle import CycleConfig
from fairdun.application.planning import Mode
from fairdun.application.report_data import ReportData, RunParameters, StrategyRun
from fairdun.application.simulation import Tally, World, merge, shard, strategy_run
from fairdun.application.synthetic import CHINA, MAX_BORROWERS, Portfolio, generate_portfolio
from fairdun.config.packs import PackLoader
from fairdun.config.settings import SettingsError, load_settings
from fairdun.config.strategies import load_strategy
from fairdun.domain.delinquency import DEFAULT_BUCKETS

MAX_DAYS = 366
START = date(2026, 9, 1)


class DemoError(ValueError):
    """A demo option out of range; the message names it."""


@dataclass(frozen=True, slots=True)
class Run:
    """One of the demo's two runs: its report name, strategy, mode and database file stem."""

    key: str
    title: str
    strategy: str
    mode: Mode


RUNS = (
    Run("compliant", "合规策略 / Compliant strategy (default)", "default", Mode.ENFORCE),
    Run("aggressive", "激进策略（仅审计）/ Aggressive strategy (audit only)", "aggressive", Mode.AUDIT_ONLY),
)


@dataclass(frozen=True, slots=True)
class Job:
    """One piece of one run: its part of the book (generated once, in the parent) and its database file."""

    run: Run
    part: int
    portfolio: Portfolio
    days: int
    seed: int
    pack: str
    database: Path
    master_key: MasterKey


def simulate(job: Job, progress: Callable[[int], None] | None = None) -> Tally:
    """One piece of one run, start to end, in a fresh database. Runs in a worker process (or in this one)."""
    if job.database.exists():
        job.database.unlink()
    url = f"sqlite:///{job.database}"
    upgrade(url)
    engine = make_engine(url, keyring=Keyring(job.master_key))
    try:
        config = CycleConfig(load_strategy(job.run.strategy), PackLoader().load(job.pack), job.run.mode)
        world = World(lambda: SqlAlchemyUnitOfWork(engine), job.portfolio, config, job.seed)
        world.run(job.days, progress)
        return world.finish()
    finally:
        engine.dispose()


@dataclass(frozen=True, slots=True)
class Piece:
    """What one job came to, and the CPU time it took (user + system) and the peak memory of its process."""

    tally: Tally
    cpu: float
    peak_mb: float


def measured(job: Job, progress: Callable[[int], None] | None = None) -> Piece:
    before = resource.getrusage(resource.RUSAGE_SELF)
    tally = simulate(job, progress)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Piece(tally, cpu, after.ru_maxrss / 1024)


def _worker(job: Job, queue: Any) -> Piece:
    return measured(job, lambda day: queue.put((job.run.key, job.part)))


def _master_key(database_dir: Path) -> tuple[MasterKey, str]:
    """The configured master key, or a random one for this demo (written beside its databases so they can be
    opened afterwards); and a sentence saying which."""
    try:
        settings = load_settings()
        if settings.master_key or settings.master_key_file:
            keyring = keyring_from_settings(settings.master_key, settings.master_key_file, settings.new_master_key)
            return keyring.master, f"Personal data sealed under the configured master key {keyring.master_id}."
    except (KeyringError, SettingsError) as exc:
        raise DemoError(str(exc)) from None
    path = database_dir / "demo.masterkey"
    text = generate_master_key()
    path.write_text(text + "\n", encoding="ascii")
    path.chmod(0o600)
    key = MasterKey.parse(text, str(path))
    return key, (
        f"FAIRDUN_MASTER_KEY is not set: personal data is sealed under a random demo master key {key.id}, kept in"
        f" {path} (FAIRDUN_MASTER_KEY_FILE={path} opens the databases)."
    )


def check_options(borrowers: int, days: int, workers: int) -> None:
    if not 1 <= borrowers <= MAX_BORROWERS:
        raise DemoError(f"--borrowers: from 1 to {MAX_BORROWERS:,}, got {borrowers}")
    if not 1 <= days <= MAX_DAYS:
        raise DemoError(f"--days: from 1 to {MAX_DAYS}, got {days}")
    if not 1 <= workers <= 64:
        raise DemoError(f"--workers: from 1 to 64, got {workers}")


def run(
    *,
    borrowers: int,
    days: int,
    seed: int,
    out: Path,
    workers: int | None,
    pack: str,
    console: Console,
    start: date = START,
) -> ReportData:
    """Runs the demo and writes ``out/index.html``; prints progress, a summary table and where the report is."""
    parts = workers if workers is not None else (os.cpu_count() or 1)
    check_options(borrowers, days, parts)
    PackLoader().load(pack)  # an unknown pack fails here, before any process starts
    database_dir = out / "db"
    if database_dir.exists():
        shutil.rmtree(database_dir)
    database_dir.mkdir(parents=True)
    master_key, key_note = _master_key(database_dir)
    book = generate_portfolio(borrowers, seed, start)
    pieces = [shard(book, part, parts) for part in range(1, parts + 1)]
    jobs = [
        Job(r, part, pieces[part - 1], days, seed, pack, database_dir / f"{r.key}-{part}.sqlite", master_key)
        for r in RUNS
        for part in range(1, parts + 1)
    ]
    console.print(
        f"[bold]fairdun demo[/bold]: {borrowers:,} fictional borrowers, {days} days from {start}, seed {seed}, "
        f"pack {pack}; the compliant strategy and an aggressive one (audit only: every contact judged, none sent), "
        f"the book in {parts} piece(s) per strategy, {parts} process(es)."
    )
    console.print(key_note)
    began = time.perf_counter()
    tallies: dict[str, list[Tally]] = {r.key: [] for r in RUNS}
    pieces_done: list[Piece] = []
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        tasks = {r.key: progress.add_task(r.title, total=days * parts) for r in RUNS}
        if parts == 1:
            for job in jobs:
                task = tasks[job.run.key]
                pieces_done.append(measured(job, _advance(progress, task)))
                tallies[job.run.key].append(pieces_done[-1].tally)
        else:
            # A fork server imports fairdun once; each worker is forked from it, clean of this process's state.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["fairdun.cli.demo"])
            with context.Manager() as manager, ProcessPoolExecutor(parts, mp_context=context) as pool:
                queue = manager.Queue()
                futures: list[tuple[Job, Future[Piece]]] = [(job, pool.submit(_worker, job, queue)) for job in jobs]
                while not all(f.done() for _, f in futures):
                    try:
                        key, _ = queue.get(timeout=0.2)
                        progress.advance(tasks[key])
                    except Empty:
                        pass
                for job, future in futures:
                    pieces_done.append(future.result())
                    tallies[job.run.key].append(pieces_done[-1].tally)
                while not queue.empty():
                    key, _ = queue.get()
                    progress.advance(tasks[key])
    loaded = PackLoader().load(pack)
    runs = tuple(
        strategy_run(r.title, merge(tallies[r.key]), loaded, audit_only=r.mode is Mode.AUDIT_ONLY) for r in RUNS
    )
    end = start + timedelta(days=days - 1)
    data = ReportData(
        title="fairdun 演示报告 / fairdun demo report",
        generated_at=datetime.combine(end, datetime.min.time(), CHINA) + timedelta(hours=23),
        parameters=RunParameters(borrowers, days, seed, loaded.label),
        runs=runs,
        buckets=DEFAULT_BUCKETS.names[1:],
    )
    path = write_report(data, out)
    _summary(console, runs)
    cpu = sum(p.cpu for p in pieces_done)
    peak = max(p.peak_mb for p in pieces_done)
    console.print(
        f"\nCPU: {cpu:.1f} s in {len(pieces_done)} pieces, {parts} process(es); peak memory of a process {peak:.0f} MB"
    )
    console.print(
        f"Report: {path}  ({time.perf_counter() - began:.1f} s)\nDatabases: {database_dir}/, one per strategy and "
        "piece: FAIRDUN_DATABASE_URL=sqlite:///<file> fairdun cycle status (with the master key named above)"
    )
    return data


def _advance(progress: Progress, task: Any) -> Callable[[int], None]:
    return lambda day: progress.advance(task)


def _summary(console: Console, runs: tuple[StrategyRun, ...]) -> None:
    table = Table(title="Summary / 汇总")
    table.add_column("")
    for r in runs:
        table.add_column(r.name, justify="right")
    labels = [row.label for row in runs[0].summary]
    for k, label in enumerate(labels):
        table.add_row(label, *(r.summary[k].value for r in runs))
    console.print(table)
