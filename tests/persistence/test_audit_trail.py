"""The audit trail of the cycle, on both databases: every day's configuration, the gate's decisions and every
attempt are vouched for by a chained audit entry written in the same transaction, and `verify_records` finds a
decision or an attempt changed, deleted or slipped in afterwards — which the hash chain alone cannot see."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import Engine, delete, func, select, update
from typer.testing import CliRunner

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.adapters.sqlalchemy.audit_log import verify_log
from fairdun.adapters.sqlalchemy.models import AuditLogRow, ContactEventRow, PlannedContactRow
from fairdun.application.audit_trail import (
    CONFIG_CHANGED,
    CONTACTS,
    CYCLE_STARTED,
    DECISIONS,
    pack_fingerprint,
    verify_records,
)
from fairdun.application.channels import FakeChannel
from fairdun.application.cycle import Book, CycleConfig, SimulatedChannel, run_day
from fairdun.application.planning import Mode
from fairdun.application.ports import UnitOfWork
from fairdun.application.simulation import load_book
from fairdun.application.synthetic import CHINA, generate_portfolio
from fairdun.cli.main import app
from fairdun.config.packs import PackLoader
from fairdun.config.strategies import load_strategy

START = date(2026, 9, 1)


def factory(engine: Engine) -> Callable[[], UnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(engine)


def run(engine: Engine, config: CycleConfig, on: date, channel: FakeChannel | SimulatedChannel) -> None:
    with factory(engine)() as uow:
        book = Book.load(uow, on=on, lookback=config.lookback)
    clock = lambda: datetime.combine(on, time(6), CHINA)  # noqa: E731
    run_day(factory(engine), book, config, on, channel, clock=clock, simulate=True)


@pytest.fixture
def two_days(engine: Engine) -> Engine:
    load_book(factory(engine), generate_portfolio(80, 5, START), 5)
    config = CycleConfig(load_strategy("default"), PackLoader().load("cn"))
    channel = FakeChannel(deduplicate=True)
    run(engine, config, START, channel)
    run(engine, config, START + timedelta(days=1), channel)
    return engine


def actions(engine: Engine) -> Counter[str]:
    with engine.connect() as connection:
        return Counter(connection.scalars(select(AuditLogRow.action)))


def check(engine: Engine) -> tuple[bool, tuple[str, ...]]:
    with factory(engine)() as uow:
        found = verify_records(uow)
    return found.ok, found.problems


def test_every_decision_and_attempt_is_vouched_for_and_the_records_match(two_days: Engine) -> None:
    counted = actions(two_days)
    assert counted[CYCLE_STARTED] == 2
    assert counted[DECISIONS] == 2
    assert counted[CONTACTS] >= 2
    with two_days.connect() as connection:
        unvouched = connection.scalar(select(func.count()).where(PlannedContactRow.audit_seq.is_(None)))
        planned = connection.scalar(select(func.count()).select_from(PlannedContactRow))
        attempts = connection.scalar(select(func.count()).select_from(ContactEventRow))
        cycle_attempts = connection.scalar(select(func.count()).where(ContactEventRow.audit_seq.is_not(None)))
    assert unvouched == 0
    assert planned is not None
    assert planned > 0
    assert attempts is not None
    assert cycle_attempts is not None
    assert cycle_attempts > 0
    with factory(two_days)() as uow:
        found = verify_records(uow)
    assert found.ok, found.problems
    assert found.rows == planned + cycle_attempts
    assert verify_log(two_days).ok


def test_a_decision_changed_afterwards_is_found(two_days: Engine) -> None:
    with two_days.begin() as connection:
        key = connection.scalar(select(PlannedContactRow.key).where(PlannedContactRow.effect == "allow").limit(1))
        assert key is not None
        connection.execute(update(PlannedContactRow).where(PlannedContactRow.key == key).values(effect="deny"))
    assert verify_log(two_days).ok  # the chain alone cannot see it
    ok, problems = check(two_days)
    assert not ok
    assert any("decisions were changed" in p for p in problems)


def test_an_attempt_deleted_or_slipped_in_afterwards_is_found(two_days: Engine) -> None:
    with two_days.begin() as connection:
        row = connection.execute(select(ContactEventRow).where(ContactEventRow.audit_seq.is_not(None)).limit(1)).one()
        connection.execute(delete(ContactEventRow).where(ContactEventRow.id == row.id))
    ok, problems = check(two_days)
    assert not ok
    assert any("attempts" in p and "are stored" in p for p in problems)
    with two_days.begin() as connection:
        values = dict(row._mapping)
        connection.execute(ContactEventRow.__table__.insert().values(values))
        forged = values | {"id": values["id"] + "x", "occurred_at": values["occurred_at"] + timedelta(minutes=1)}
        connection.execute(ContactEventRow.__table__.insert().values(forged))
    ok, problems = check(two_days)
    assert not ok
    assert any("vouches for" in p for p in problems)


def test_a_changed_pack_is_recorded_as_a_configuration_change(engine: Engine) -> None:
    load_book(factory(engine), generate_portfolio(30, 6, START), 6)
    loader = PackLoader()
    strategy = load_strategy("default")
    channel = FakeChannel(deduplicate=True)
    run(engine, CycleConfig(strategy, loader.load("cn")), START, channel)
    run(engine, CycleConfig(strategy, loader.load("cn")), START + timedelta(days=1), channel)
    stricter = loader.load("examples/packs/cn-ningxia.toml")
    run(engine, CycleConfig(strategy, stricter), START + timedelta(days=2), channel)
    with engine.connect() as connection:
        rows = connection.execute(
            select(AuditLogRow.action, AuditLogRow.subject, AuditLogRow.detail)
            .where(AuditLogRow.action.in_([CYCLE_STARTED, CONFIG_CHANGED]))
            .order_by(AuditLogRow.seq)
        ).all()
    assert [r.action for r in rows] == [CYCLE_STARTED, CYCLE_STARTED, CONFIG_CHANGED]
    assert rows[2].subject == f"run:{START + timedelta(days=2)}"
    assert pack_fingerprint(stricter) in rows[2].detail
    assert pack_fingerprint(loader.load("cn")) in rows[2].detail  # what it was


def test_an_audit_only_day_vouches_for_its_simulated_attempts(engine: Engine) -> None:
    load_book(factory(engine), generate_portfolio(40, 7, START), 7)
    config = CycleConfig(load_strategy("aggressive"), PackLoader().load("cn"), mode=Mode.AUDIT_ONLY)
    run(engine, config, START, SimulatedChannel(seed=7))
    counted = actions(engine)
    assert counted[DECISIONS] == 1
    assert counted[CONTACTS] == 1
    assert check(engine) == (True, ())


def test_audit_verify_records_exits_1_naming_the_changed_batch(
    two_days: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIRDUN_DATABASE_URL", two_days.url.render_as_string(hide_password=False))
    runner = CliRunner()
    clean = runner.invoke(app, ["audit", "verify", "--records"])
    assert clean.exit_code == 0, clean.output
    assert '"ok": true' in clean.stdout
    with two_days.begin() as connection:
        key = connection.scalar(select(PlannedContactRow.key).limit(1))
        connection.execute(update(PlannedContactRow).where(PlannedContactRow.key == key).values(rules="CN-NONE"))
    broken = runner.invoke(app, ["audit", "verify", "--records"])
    assert broken.exit_code == 1
    assert "records do not match the audit log" in broken.stderr
    assert "decisions were changed" in broken.stderr
    assert datetime.now(UTC).year >= 2026  # the chain's own check still passes: only the records changed
    assert verify_log(two_days).ok
