"""Message templates on SQLite and PostgreSQL: versions and their history stored and read back, nothing
overwritten; and the daily cycle, which queues only contacts whose step has an approved template."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import Engine

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application import templates as registry
from fairdun.application.channels import FakeChannel
from fairdun.application.cycle import Book, CycleConfig, run_day
from fairdun.application.planning import Mode
from fairdun.application.ports import ConflictError
from fairdun.application.simulation import load_book
from fairdun.application.synthetic import CHINA, generate_portfolio
from fairdun.config.packs import PackLoader, load_screener
from fairdun.config.strategies import load_strategy
from fairdun.domain.contact import Channel, Role
from fairdun.domain.templates import TemplateStatus, draft

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
START = date(2026, 9, 1)
SPEC = registry.TemplateSpec(
    "M2-EMAIL-STATEMENT", Channel.EMAIL, Role.DEBTOR, "cn", "zh-CN", "{lender_name}：对账单",
    "{name}您好：您的借款待还{overdue_amount}元，如需协商还款计划请致电{service_phone}。\n{lender_name}", "writer-wang",
)  # fmt: skip


def test_versions_and_every_transition_are_stored_and_read_back(uow: SqlAlchemyUnitOfWork) -> None:
    screener = load_screener()
    with uow:
        registry.add(uow, SPEC, at=T0)
        registry.submit(uow, SPEC.id, by="writer-wang", at=T0 + timedelta(minutes=5), screener=screener)
        registry.approve(uow, SPEC.id, by="officer-li", at=T0 + timedelta(hours=1))
        uow.commit()
    with uow:
        registry.add(uow, SPEC, at=T0 + timedelta(days=1))
        registry.submit(uow, SPEC.id, by="writer-wang", at=T0 + timedelta(days=1), screener=screener)
        registry.approve(uow, SPEC.id, by="officer-zhao", at=T0 + timedelta(days=2))
        uow.commit()
    with uow:
        first, second = uow.templates.versions(SPEC.id)
        approved = uow.templates.all(TemplateStatus.APPROVED)
    assert (first.status, second.status) == (TemplateStatus.RETIRED, TemplateStatus.APPROVED)
    assert approved == (second,)
    assert first.subject == SPEC.subject
    assert first.body == SPEC.body
    assert first.channel is Channel.EMAIL
    assert [(h.status.value, h.by, h.at) for h in first.history] == [
        ("draft", "writer-wang", T0),
        ("in_review", "writer-wang", T0 + timedelta(minutes=5)),
        ("approved", "officer-li", T0 + timedelta(hours=1)),
        ("retired", "officer-zhao", T0 + timedelta(days=2)),
    ]
    assert second.history[-1].by == "officer-zhao"


def test_a_version_is_never_stored_twice_and_an_uncommitted_approval_is_not_kept(uow: SqlAlchemyUnitOfWork) -> None:
    t = draft(
        SPEC.id, 1, channel=SPEC.channel, role=SPEC.role, pack="cn", language="zh-CN", subject=SPEC.subject,
        body=SPEC.body, author="writer-wang", at=T0,
    )  # fmt: skip
    with uow:
        uow.templates.add(t)
        uow.commit()
    with uow, pytest.raises(ConflictError):
        uow.templates.add(t)
    with uow:
        registry.submit(uow, SPEC.id, by="writer-wang", at=T0, screener=None)
        registry.approve(uow, SPEC.id, by="officer-li", at=T0)  # and no commit
    with uow:
        assert uow.templates.versions(SPEC.id)[0].status is TemplateStatus.DRAFT


def run(engine: Engine, on: date, channel: FakeChannel) -> dict[str, int]:
    config = CycleConfig(load_strategy("default"), PackLoader().load("cn"), mode=Mode.ENFORCE)
    factory = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
    with factory() as uow:
        book = Book.load(uow, on=on, lookback=config.lookback)
    morning = datetime.combine(on, time(6), CHINA)
    return dict(run_day(factory, book, config, on, channel, clock=lambda: morning, simulate=True).summary)


def test_the_cycle_queues_only_contacts_whose_template_is_approved(engine: Engine) -> None:
    factory = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
    load_book(factory, generate_portfolio(120, 11, START), 11)
    with factory() as uow:
        registry.retire(uow, "M1-SMS-REMINDER", by="officer-li", at=T0)
        uow.commit()
    channel = FakeChannel()
    summary = run(engine, START, channel)
    with factory() as uow:
        planned = uow.cycle.planned(START)
    allowed_sms = [p for p in planned if p.effect == "allow" and p.template == "M1-SMS-REMINDER"]
    assert summary["no_template"] == len(allowed_sms) > 0  # still recorded as allowed, but not sent
    assert summary["sent"] == summary["allowed"] - summary["no_template"] == len(channel.sent) > 0
    sent = Counter(m.template for m in channel.sent)
    assert not any(t.startswith("M1-SMS-REMINDER") for t in sent)
    assert all(t.endswith("@v1") for t in sent)  # the outbox names the approved version


def test_with_every_template_approved_the_cycle_sends_everything_allowed(engine: Engine) -> None:
    load_book(lambda: SqlAlchemyUnitOfWork(engine), generate_portfolio(120, 11, START), 11)
    channel = FakeChannel()
    summary = run(engine, START, channel)
    assert summary["no_template"] == 0
    assert summary["sent"] == summary["allowed"] == len(channel.sent) > 0
    assert {m.template for m in channel.sent} >= {"M1-SMS-REMINDER@v1"}
