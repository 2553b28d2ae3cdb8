"""Complaints feed back at once, through real cycle days on both databases: a harassment complaint at 10:00 stops
the borrower's contacts still waiting that day, holds every later run until it is resolved, and leaves everyone
else's contacts alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine

from fairdun.application.channels import FakeChannel
from fairdun.application.complaints import (
    ComplainantRole,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintIntake,
    ComplaintStatus,
    advance_complaint,
    receive_complaint,
)
from fairdun.application.cycle import Book, CycleConfig, DayReport, run_day
from fairdun.application.outbox import dispatch
from fairdun.application.ports import OutboxStatus
from fairdun.application.synthetic import CHINA
from fairdun.config.packs import PackLoader
from fairdun.config.strategies import load_strategy

from .conftest import START, factory

DAY = START + timedelta(days=1)
CONFIG = CycleConfig(load_strategy("default"), PackLoader().load("cn"))


def at(day: date, hour: int) -> Callable[[], datetime]:
    return lambda: datetime.combine(day, time(hour), CHINA)


def run(engine: Engine, on: date, channel: FakeChannel, *, hour: int = 6) -> DayReport:
    """A production-like run: planned and queued at ``hour``, only what is due then sent."""
    with factory(engine)() as uow:
        book = Book.load(uow, on=on, lookback=CONFIG.lookback)
    return run_day(factory(engine), book, CONFIG, on, channel, clock=at(on, hour))


def complain(engine: Engine, loan: str, category: ComplaintCategory, when: datetime) -> tuple[int, tuple[str, ...]]:
    intake = ComplaintIntake(when, ComplaintChannel.PHONE, ComplainantRole.DEBTOR, loan, category)
    with factory(engine)() as uow:
        complaint, withdrawn = receive_complaint(uow, intake, by="agent-01", at=when)
        uow.commit()
    return complaint.id, withdrawn


def test_a_harassment_complaint_at_1000_stops_the_borrowers_later_contacts_that_day_and_the_next(
    booked: Engine,
) -> None:
    channel = FakeChannel()
    first = run(booked, DAY, channel)
    assert first.plan is not None
    with factory(booked)() as uow:
        waiting = uow.outbox.pending(100_000)
        loans = {loan.id: loan.borrower for loan in uow.loans.all()}
    assert not channel.sent  # nothing is due at 06:00
    borrower = loans[waiting[0].message.debt]
    theirs = {e.key for e in waiting if loans[e.message.debt] == borrower}
    others = {e.key for e in waiting} - theirs
    assert theirs
    assert others

    complaint_id, withdrawn = complain(booked, waiting[0].message.debt, ComplaintCategory.HARASSMENT, at(DAY, 10)())
    assert set(withdrawn) == theirs
    dispatch(factory(booked), channel, worker="w1", now=at(DAY, 21)(), limit=100_000)
    sent = {m.key for m in channel.sent}
    assert not sent & theirs
    assert sent == others
    with factory(booked)() as uow:
        assert {uow.outbox.get(k).status for k in theirs} == {OutboxStatus.FAILED}  # type: ignore[union-attr]

    their_loans = {loan for loan, b in loans.items() if b == borrower}
    following = run(booked, DAY + timedelta(days=1), channel)
    assert following.plan is not None
    planned = {c.debt for c in (*following.plan.allowed, *following.plan.denied)}
    assert not planned & their_loans
    assert their_loans & {debt for debt, _ in following.plan.held}
    assert planned  # the others are still collected

    with factory(booked)() as uow:
        advance_complaint(
            uow, complaint_id, ComplaintStatus.NOT_UPHELD, by="qa-02", at=at(DAY, 12)() + timedelta(days=1), note="n"
        )
        uow.commit()
    after = run(booked, DAY + timedelta(days=2), channel)
    assert after.plan is not None
    assert not their_loans & {debt for debt, _ in after.plan.held}


def test_a_fees_complaint_holds_nothing(booked: Engine) -> None:
    channel = FakeChannel()
    run(booked, DAY, channel)
    with factory(booked)() as uow:
        waiting = uow.outbox.pending(100_000)
    _, withdrawn = complain(booked, waiting[0].message.debt, ComplaintCategory.FEES_OR_AMOUNT, at(DAY, 10)())
    assert withdrawn == ()
    following = run(booked, DAY + timedelta(days=1), channel)
    assert following.plan is not None
    assert waiting[0].message.debt not in {debt for debt, _ in following.plan.held}
