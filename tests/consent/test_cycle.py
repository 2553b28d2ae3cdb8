"""The gate reads the ledger through the daily cycle, on both databases: a withdrawal or a refusal recorded after
the day was planned stops that day's later messages at dispatch (naming the gate's rule), and the next day's plan
denies the contact outright (CN-CONSENT, CN-PARTY).

The book is a small fictional one (:mod:`fairdun.application.synthetic`); every borrower's calls of the last two
weeks went unanswered, so the cn pack lets the strategy below ask their designated contacts to relay a message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.adapters.sqlalchemy.audit_log import verify_log
from fairdun.application import consent as ledger
from fairdun.application.channels import FakeChannel, OutboundMessage
from fairdun.application.cycle import Book, CycleConfig, DayReport, contact_key, run_day
from fairdun.application.ports import ContactRecord, OutboxStatus, UnitOfWork
from fairdun.application.simulation import load_book
from fairdun.application.synthetic import CHINA, generate_portfolio
from fairdun.application.templates import TemplateSpec, register_approved
from fairdun.config.packs import PackLoader
from fairdun.config.strategies import load_strategy
from fairdun.domain.contact import Channel, ContactEvent, Direction, Outcome, Role

START = date(2026, 9, 1)
TEN = datetime.combine(START, time(10), CHINA)
STRATEGY = """
[strategy]
name = "relay-test"
version = "1.0.0"
title = "Test: reminders to the debtor, relay requests to designated contacts"

[treatments.current]
steps = []

[treatments.relay]
repeat_every_days = 1
window = "08:00-18:00"
steps = [
  { day = 1, channel = "sms", template = "M1-SMS-REMINDER" },
  { day = 1, channel = "sms", template = "T-RELAY-SMS", count = 4, role = "contact", purpose = "locate" },
]

[[segments]]
buckets = ["C"]
treatment = "current"

[[segments]]
buckets = ["M1", "M2", "M3", "M4", "M5", "M6", "M6+"]
treatment = "relay"
"""
RELAY = TemplateSpec(
    "T-RELAY-SMS", Channel.SMS, Role.CONTACT, "cn", "zh-CN", None,
    "【{lender_name}】您好，我们是{lender_name}客服，想请您转告您的亲友回电{service_phone}，谢谢。回复TD退订",
    "author-1",
)  # fmt: skip


def factory(engine: Engine) -> Callable[[], UnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(engine)


@pytest.fixture
def booked(engine: Engine) -> Engine:
    load_book(factory(engine), generate_portfolio(60, 7, START), 7)
    with factory(engine)() as uow:
        register_approved(uow, [RELAY], approver="approver-1", at=datetime.combine(START, time(6), CHINA))
        calls = []
        for loan in uow.loans.all():
            for n in range(6):  # six unanswered calls in the fortnight before: the debtor is unreachable
                at = datetime.combine(START - timedelta(days=2 + n), time(11), CHINA)
                event = ContactEvent(at, loan.id, loan.borrower, f"{loan.borrower}/phone", Channel.CALL,
                                     Direction.OUTBOUND, Outcome.NO_ANSWER)  # fmt: skip
                calls.append(ContactRecord(f"seed:{loan.id}:{n}", event))
        uow.contacts.add_many(calls)
        uow.commit()
    return engine


@pytest.fixture
def config(tmp_path: Path) -> CycleConfig:
    path = tmp_path / "relay.toml"
    path.write_text(STRATEGY, encoding="utf-8")
    return CycleConfig(load_strategy(path), PackLoader().load("cn"))


def run(engine: Engine, config: CycleConfig, on: date, channel: FakeChannel) -> DayReport:
    with factory(engine)() as uow:
        book = Book.load(uow, on=on, lookback=config.lookback)
    clock = lambda: datetime.combine(on, time(6), CHINA)  # noqa: E731 - planned before the day's first message
    return run_day(factory(engine), book, config, on, channel, clock=clock, simulate=True)


def outbox(engine: Engine, keys: list[str]) -> dict[str, tuple[OutboxStatus, str | None]]:
    with factory(engine)() as uow:
        entries = {k: uow.outbox.get(k) for k in keys}
    return {k: (e.status, e.error) for k, e in entries.items() if e is not None}


def test_a_withdrawal_and_a_refusal_at_ten_stop_the_messages_planned_after_ten(
    booked: Engine, config: CycleConfig
) -> None:
    changed: list[str] = []

    def at_first_relay(message: OutboundMessage) -> None:
        """While the day's first relay request goes out, one contact withdraws and another refuses, at 10:00."""
        if changed or not (message.template or "").startswith(RELAY.id):
            return
        with factory(booked)() as uow:
            planned = uow.cycle.planned(START)
            relays = sorted({p.party for p in planned if p.effect == "allow" and p.template == RELAY.id})
            withdrawing, refusing = relays[0], relays[1]
            ledger.withdraw_consent(
                uow, party=withdrawing, purpose="contact_relay", channel="portal", evidence="portal request P-1",
                actor="portal", at=TEN,
            )  # fmt: skip
            ledger.refuse_contact(
                uow, party=refusing, channel=ledger.RefusalChannel.COLLECTOR, evidence="call R-2",
                actor="collector-1", at=TEN,
            )  # fmt: skip
            uow.commit()
        changed.extend([withdrawing, refusing])

    channel = FakeChannel(on_send=at_first_relay)
    report = run(booked, config, START, channel)
    assert report.plan is not None
    withdrawing, _refusing = changed
    planned = [c for c in report.plan.allowed if c.attempt.recipient.party in changed]
    before = [c for c in planned if c.attempt.at < TEN]
    after = [c for c in planned if c.attempt.at >= TEN]
    assert before
    assert after
    sent = {m.key for m in channel.sent}
    states = outbox(booked, [m.key for m in channel.sent] + [contact_key(c) for c in after])
    for contact in before:
        assert contact_key(contact) in sent
    for contact in after:
        key = contact_key(contact)
        assert key not in sent
        status, error = states[key]
        assert status is OutboxStatus.FAILED
        assert error is not None
        assert error.startswith("withheld at dispatch: ")
        rule = "CN-CONSENT" if contact.attempt.recipient.party == withdrawing else "CN-PARTY"
        assert rule in error
    assert any(withdrawing in (s[1] or "") and "withdrawn at" in (s[1] or "") for s in states.values())
    # Other contacts' messages went out as planned.
    others = [c for c in report.plan.allowed if c.attempt.recipient.role is Role.CONTACT and c not in planned]
    assert others
    assert all(contact_key(c) in sent for c in others)
    assert verify_log(booked).ok


def test_the_next_days_plan_denies_a_withdrawn_or_refused_contact(booked: Engine, config: CycleConfig) -> None:
    first = run(booked, config, START, FakeChannel())
    assert first.plan is not None
    relays = sorted({c.attempt.recipient.party for c in first.plan.allowed if c.step.template == RELAY.id})
    withdrawing, refusing = relays[:2]
    evening = datetime.combine(START, time(20), CHINA)
    with factory(booked)() as uow:
        ledger.withdraw_consent(
            uow, party=withdrawing, purpose="contact_relay", channel="app", evidence="app settings A-1",
            actor="system:app", at=evening,
        )  # fmt: skip
        ledger.refuse_contact(
            uow, party=refusing, channel=ledger.RefusalChannel.PORTAL, evidence="portal request P-2",
            actor="portal", at=evening,
        )  # fmt: skip
        uow.commit()
    report = run(booked, config, START + timedelta(days=1), FakeChannel())
    assert report.plan is not None
    denied: dict[str, set[str]] = {}
    for c in report.plan.denied:
        denied.setdefault(c.attempt.recipient.party, set()).update(c.decision.rules)
    allowed = {c.attempt.recipient.party for c in report.plan.allowed}
    assert withdrawing not in allowed
    assert "CN-CONSENT" in denied[withdrawing]
    assert refusing not in allowed
    assert "CN-PARTY" in denied[refusing]
    assert set(relays[2:]) & allowed  # the others are still asked
