"""The daily cycle and the outbox log every address they open: the cycle only the addresses it queues (actor
``system:cycle``, one row per message), the outbox each address it hands a channel (``system:dispatch``); the
audit-only strategy opens none (on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import Engine, text

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application.channels import FakeChannel
from fairdun.application.cycle import Book, CycleConfig, SimulatedChannel, run_day
from fairdun.application.personal_data import SYSTEM_DISPATCH, affected_by
from fairdun.application.planning import Mode
from fairdun.application.ports import AccessAction, AccessRecord, UnitOfWork
from fairdun.application.simulation import load_book
from fairdun.application.synthetic import CHINA, generate_portfolio
from fairdun.config.packs import PackLoader
from fairdun.config.strategies import load_strategy
from tests.access_log.people import DPO

START = date(2026, 9, 1)
BORROWERS = 60
EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def factory(engine: Engine) -> Callable[[], UnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(engine)


@pytest.fixture
def booked(engine: Engine) -> Engine:
    load_book(factory(engine), generate_portfolio(BORROWERS, 11, START), 11)
    return engine


def rows(engine: Engine, actor: str) -> tuple[AccessRecord, ...]:
    with SqlAlchemyUnitOfWork(engine) as uow:
        return uow.access_log.by_actor(actor, since=EVER[0], until=EVER[1])


def run(engine: Engine, config: CycleConfig, channel: FakeChannel | SimulatedChannel) -> Book:
    with factory(engine)() as uow:
        book = Book.load(uow, on=START, lookback=config.lookback)
    assert book.addresses == {}  # loading the book opens no address
    clock = lambda: datetime.combine(START, time(6), CHINA)  # noqa: E731
    run_day(factory(engine), book, config, START, channel, clock=clock, simulate=True)
    return book


def test_the_cycle_logs_each_address_it_queues_and_the_outbox_each_it_sends(booked: Engine) -> None:
    channel = FakeChannel(deduplicate=True)
    book = run(booked, CycleConfig(load_strategy("default"), PackLoader().load("cn")), channel)
    assert channel.sent, "the day sent nothing: the test would prove nothing"
    queued = rows(booked, "system:cycle")
    sent = rows(booked, SYSTEM_DISPATCH)
    # One row per message, naming its key, its party, its loan and the kind of address; never the address.
    by_key = {m.key: m for m in channel.sent}
    assert sorted(r.purpose.removeprefix("queue ") for r in queued) == sorted(by_key)
    assert Counter(r.purpose.split(" ")[1] for r in sent) == Counter(m.key for m in channel.sent)
    for r in (*queued, *sent):
        assert r.action is AccessAction.SYSTEM_READ
        message = by_key[r.purpose.split(" ")[1]]
        assert (r.party, r.loan) == (message.party, message.debt)
        assert r.fields == (("email",) if "@" in message.address else ("phone",))
        assert message.address not in f"{r.purpose} {r.detail}"
    # The book holds the day's addresses only, not the whole book's.
    with SqlAlchemyUnitOfWork(booked) as uow:
        everyone = uow.parties.contact_points(opened=False)
    assert set(book.addresses) == {m.address_ref for m in channel.sent}
    assert len(book.addresses) < len(everyone)


def test_an_incident_on_the_dispatcher_names_every_party_it_sent_to_with_the_borrower(booked: Engine) -> None:
    channel = FakeChannel(deduplicate=True)
    book = run(booked, CycleConfig(load_strategy("default"), PackLoader().load("cn")), channel)
    found = affected_by(
        SqlAlchemyUnitOfWork(booked),
        DPO,
        actor=SYSTEM_DISPATCH,
        since=EVER[0],
        until=EVER[1],
        at=EVER[1] - timedelta(days=1),
    )
    assert {a.party for a in found} == {m.party for m in channel.sent}
    assert all(a.borrower == book.parties[a.party].borrower for a in found)
    assert sum(a.reads for a in found) == len(channel.sent)


def test_the_audit_only_strategy_opens_no_address(booked: Engine) -> None:
    config = CycleConfig(load_strategy("aggressive"), PackLoader().load("cn"), mode=Mode.AUDIT_ONLY)
    book = run(booked, config, SimulatedChannel(seed=3))
    assert book.addresses == {}
    assert rows(booked, "system:cycle") == ()
    assert rows(booked, SYSTEM_DISPATCH) == ()


def test_the_access_log_holds_no_address_at_all(booked: Engine) -> None:
    channel = FakeChannel(deduplicate=True)
    run(booked, CycleConfig(load_strategy("default"), PackLoader().load("cn")), channel)
    with booked.connect() as connection:
        logged = " ".join(" ".join(str(v) for v in row) for row in connection.execute(text("SELECT * FROM access_log")))
    assert channel.sent
    with SqlAlchemyUnitOfWork(booked) as uow:
        addresses = [p.address for p in uow.parties.contact_points()]
    national = [a.removeprefix("+86") for a in addresses]
    assert not [a for a in (*addresses, *national) if a in logged]
