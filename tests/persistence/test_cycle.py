"""The daily cycle on both databases: a day from the ledger to the channel, re-runs, a crash mid-send, a payment
learned late, holds, and the batched outbox under a crash.

The book is a small fictional one (:mod:`fairdun.application.synthetic`) stored with its past payments.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application.channels import DeliveryResult, FakeChannel, OutboundMessage
from fairdun.application.cycle import Book, CycleConfig, CycleError, DayReport, SimulatedChannel, run_day
from fairdun.application.outbox import dispatch, recover
from fairdun.application.planning import Mode
from fairdun.application.ports import ConflictError, OutboxStatus, RunStatus, UnitOfWork
from fairdun.application.simulation import load_book
from fairdun.application.synthetic import CHINA, generate_portfolio
from fairdun.config.packs import PackLoader
from fairdun.config.strategies import load_strategy
from fairdun.domain.cases import DisputeOpened
from fairdun.domain.contact import Channel, Outcome
from fairdun.domain.ledger import PaymentReceived
from fairdun.domain.money import quantize

START = date(2026, 9, 1)
BORROWERS = 120


class CrashError(Exception):
    """The worker dies here."""


def factory(engine: Engine) -> Callable[[], UnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(engine)


def morning(day: date) -> Callable[[], datetime]:
    return lambda: datetime.combine(day, time(6), CHINA)


@pytest.fixture
def booked(engine: Engine) -> Engine:
    load_book(factory(engine), generate_portfolio(BORROWERS, 11, START), 11)
    return engine


@pytest.fixture(scope="module")
def config() -> CycleConfig:
    return CycleConfig(load_strategy("default"), PackLoader().load("cn"))


def book(engine: Engine, on: date, config: CycleConfig) -> Book:
    with factory(engine)() as uow:
        return Book.load(uow, on=on, lookback=config.lookback)


def run(engine: Engine, config: CycleConfig, on: date, channel: FakeChannel | SimulatedChannel) -> DayReport:
    return run_day(factory(engine), book(engine, on, config), config, on, channel, clock=morning(on), simulate=True)


def history_keys(engine: Engine) -> Counter[str]:
    with factory(engine)() as uow:
        debts = [loan.id for loan in uow.loans.all()]
        records = uow.contacts.history(debts=debts)
    return Counter(r.id.split("#")[0] for r in records)


def test_a_day_plans_gates_queues_and_sends_and_a_second_run_sends_nothing(booked: Engine, config: CycleConfig) -> None:
    channel = FakeChannel(deduplicate=True)
    first = run(booked, config, START, channel)
    assert not first.already_done
    assert first.plan is not None
    assert first.summary["planned"] == first.plan.planned > 0
    assert first.summary["sent"] == len(channel.sent) == first.summary["allowed"]
    with factory(booked)() as uow:
        planned = uow.cycle.planned(START)
        stored = uow.cycle.get(START)
        entries = [uow.outbox.get(m.key) for m in channel.sent]
    assert len(planned) == first.plan.planned
    assert stored is not None
    assert stored.status is RunStatus.DONE
    assert all(e is not None and e.status is OutboxStatus.SENT for e in entries)
    # Every message was sent at the instant the gate allowed it for, and the history says so.
    assert all(m.not_before is not None and m.address_ref for m in channel.sent)
    assert set(history_keys(booked)) == {m.key for m in channel.sent}
    # The phone number goes to the channel; the history keeps the reference only.
    assert all(m.address.startswith("+86138") for m in channel.sent if m.channel is not Channel.EMAIL)

    again = run(booked, config, START, channel)
    assert again.already_done
    assert again.summary == first.summary
    assert len(channel.sent) == first.summary["sent"]


def test_a_crash_in_the_middle_of_sending_is_completed_by_running_the_day_again(
    booked: Engine, config: CycleConfig
) -> None:
    day = START + timedelta(days=3)
    for previous in (START, START + timedelta(days=1), START + timedelta(days=2)):
        run(booked, config, previous, SimulatedChannel(1))
    crashing = FakeChannel(deduplicate=True)
    sends = 0

    def die_on_the_fifth(message: OutboundMessage) -> None:
        nonlocal sends
        sends += 1
        if sends == 5:
            raise CrashError(message.key)

    crashing.on_send = die_on_the_fifth
    with pytest.raises(CrashError):
        run(booked, config, day, crashing)
    with factory(booked)() as uow:
        crashed = uow.cycle.get(day)
    assert crashed is not None
    assert crashed.status is RunStatus.RUNNING

    restarted = FakeChannel(deduplicate=True, results=list(crashing.results))
    report = run(booked, config, day, restarted)
    assert not report.already_done
    with factory(booked)() as uow:
        allowed = {p.key for p in uow.cycle.planned(day) if p.effect == "allow"}
        assert uow.cycle.get(day) is not None
    sent_today = {k: n for k, n in history_keys(booked).items() if k.startswith(f"c:{day:%Y%m%d}:")}
    assert set(sent_today) == allowed  # nothing lost
    assert set(sent_today.values()) == {1}  # nothing recorded twice
    delivered = Counter(r.key for r in restarted.results if r.attempts > 0)
    assert all(n == 1 for n in delivered.values())  # nothing transmitted twice


def test_a_payment_learned_two_days_late_restates_the_loan_and_counts_the_contacts_it_made_needless(
    booked: Engine, config: CycleConfig
) -> None:
    channel = SimulatedChannel(3)
    first = run(booked, config, START, channel)
    contacted = Counter(s.contact.debt for s in first.sent)
    assert contacted
    debt = sorted(contacted)[0]
    owed = first.overdue[debt]
    second = run(booked, config, START + timedelta(days=1), channel)
    contacted_next = sum(1 for s in second.sent if s.contact.debt == debt)
    # The debtor had paid everything on the first day; the lender learns of it two days later.
    penalty_margin = Decimal("50.00")
    with factory(booked)() as uow:
        uow.loan_events.append(
            debt,
            PaymentReceived("late-transfer", START, quantize(owed + penalty_margin)),
            recorded_at=datetime.combine(START + timedelta(days=2), time(5), CHINA),
        )
        uow.commit()
    third = run(booked, config, START + timedelta(days=2), channel)
    restated = [r for r in third.restatements if r.loan_id == debt]
    assert len(restated) == 1
    record = restated[0]
    assert record.since == START
    assert record.days >= 1
    assert record.contacts == contacted[debt] + contacted_next
    with factory(booked)() as uow:
        assert [r.loan_id for r in uow.cycle.restatements()] == [r.loan_id for r in third.restatements]
    # The loan is cured now, and the cycle plans nothing more for it.
    assert third.plan is not None
    assert debt not in {c.debt for c in (*third.plan.allowed, *third.plan.denied)}


def test_an_open_dispute_holds_the_case(booked: Engine, config: CycleConfig) -> None:
    first = run(booked, config, START, SimulatedChannel(5))
    assert first.plan is not None
    debt = sorted({c.debt for c in first.plan.allowed})[0]
    with factory(booked)() as uow:
        uow.case_events.append(debt, DisputeOpened(START, "never borrowed"), recorded_at=datetime.now(UTC))
        uow.commit()
    later = run(booked, config, START + timedelta(days=1), SimulatedChannel(5))
    assert later.plan is not None
    assert debt in dict(later.plan.held)
    assert "dispute" in dict(later.plan.held)[debt]
    assert debt not in {c.debt for c in (*later.plan.allowed, *later.plan.denied)}


def test_audit_only_mode_judges_everything_and_sends_nothing_through_the_outbox(booked: Engine) -> None:
    aggressive = CycleConfig(load_strategy("aggressive"), PackLoader().load("cn"), Mode.AUDIT_ONLY)
    with pytest.raises(CycleError, match="simulated channel"):
        run(booked, aggressive, START, FakeChannel())
    report = run(booked, aggressive, START, SimulatedChannel(9))
    assert report.plan is not None
    assert report.summary["denied"] > report.summary["allowed"] > 0
    assert len(report.sent) == report.plan.planned
    with factory(booked)() as uow:
        assert uow.outbox.pending(10) == ()
        rules = Counter(rule for p in uow.cycle.planned(START) for rule in p.rules)
    assert {"CN-TIME", "CN-CONV-DAY", "CN-DIAL-DAY", "CN-PARTY"} <= set(rules)
    assert sum(history_keys(booked).values()) == report.plan.planned


@pytest.mark.parametrize("crash_at", [3, 7])
def test_a_batched_dispatch_that_crashes_mid_batch_loses_nothing_and_sends_nothing_twice(
    engine: Engine, crash_at: int
) -> None:
    at = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
    keys = [f"batch-{n:02d}" for n in range(12)]
    with factory(engine)() as uow:
        uow.outbox.enqueue_many(
            [
                (OutboundMessage(k, Channel.SMS, "+8613800000001", "P1", "L1", "", created_at=at), "arm", "cn", at)
                for k in keys
            ]
        )
        uow.commit()
    channel = FakeChannel(deduplicate=True)
    calls = 0

    def crash(message: OutboundMessage) -> None:
        nonlocal calls
        calls += 1
        if calls == crash_at:
            raise CrashError(message.key)

    channel.on_send = crash
    with pytest.raises(CrashError):
        dispatch(factory(engine), channel, worker="w1", now=at, limit=100, batch=5)
    channel.on_send = None
    assert recover(factory(engine), stale_before=at + timedelta(seconds=1))
    report = dispatch(factory(engine), channel, worker="w2", now=at + timedelta(minutes=1), limit=100, batch=5)
    assert report.failed == report.retrying == ()
    with factory(engine)() as uow:
        statuses = {k: uow.outbox.get(k) for k in keys}
    assert all(e is not None and e.status is OutboxStatus.SENT for e in statuses.values())
    assert history_keys_for(engine, "L1") == dict.fromkeys(keys, 1)
    transmitted = Counter(r.key for r in channel.results if r.attempts > 0)
    assert transmitted == Counter(keys)


def history_keys_for(engine: Engine, debt: str) -> dict[str, int]:
    with factory(engine)() as uow:
        return dict(Counter(r.id.split("#")[0] for r in uow.contacts.history(debts=[debt])))


def test_finishing_a_batch_that_is_no_longer_this_workers_changes_nothing(engine: Engine) -> None:
    at = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
    with factory(engine)() as uow:
        uow.outbox.enqueue_many(
            [
                (OutboundMessage(k, Channel.SMS, "+8613800000002", "P2", "L2", "", created_at=at), "arm", "cn", at)
                for k in ("a", "b")
            ]
        )
        uow.commit()
    with factory(engine)() as uow:
        assert [e.key for e in uow.outbox.claim_many(["a", "b"], "w1", at)] == ["a", "b"]
        assert uow.outbox.claim_many(["a", "b"], "w2", at) == ()
        uow.commit()
    with factory(engine)() as uow, pytest.raises(ConflictError):
        uow.outbox.finish_many(
            "w2", [(k, DeliveryResult(k, Outcome.DELIVERED), OutboxStatus.SENT, None, at) for k in ("a", "b")]
        )
    with factory(engine)() as uow:
        assert all(uow.outbox.get(k).status is OutboxStatus.CLAIMED for k in ("a", "b"))  # type: ignore[union-attr]
