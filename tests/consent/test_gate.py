"""What the gate makes of the ledger, through ``LedgerFacts`` (the cycle's reading of it), on both databases: a
withdrawn consent and a refusal deny a designated contact under cn; a debtor's SMS opt-out denies SMS, and only
SMS, under a pack with an ``opt_out`` rule (us)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.application import consent as ledger
from fairdun.application.ports import UnitOfWork
from fairdun.config.packs import PackLoader
from fairdun.domain.contact import Attempt, Channel, Purpose, Recipient, Role
from fairdun.policy import Effect, Facts, evaluate
from fairdun.policy.request import ContactRequest

from .data import CHINA, DEBTOR, DEBTOR_PHONE, FRIEND, GIVEN, SISTER, store_people

NOON = datetime(2026, 9, 1, 12, 0, tzinfo=CHINA)


@pytest.fixture
def people(engine: Engine) -> Callable[[], UnitOfWork]:
    def factory() -> UnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    with factory() as uow:
        store_people(uow)
        for party in (SISTER, FRIEND):
            ledger.grant_consent(uow, party=party, purpose="contact_relay", notice="v1", channel="app",
                                 evidence="app A-1", actor="system:app", at=GIVEN)  # fmt: skip
        uow.commit()
    return factory


def decide(factory: Callable[[], UnitOfWork], pack: str, party: str, role: Role, channel: Channel) -> list[str]:
    with factory() as uow:
        consents, refused, opt_outs = ledger.LedgerFacts.load(uow).facts([DEBTOR, SISTER, FRIEND])
    facts = replace(
        Facts.known_clean(), consents=consents, refused_parties=refused, opt_outs=opt_outs, debtor_unreachable=True
    )
    purpose = Purpose.LOCATE if role is Role.CONTACT else Purpose.COLLECT
    attempt = Attempt(NOON, "L-1", DEBTOR, channel, purpose, Recipient(party, role, f"{party}/phone", "Asia/Shanghai"))
    decision = evaluate(ContactRequest(attempt, (), facts), PackLoader().load(pack))
    return [] if decision.effect is Effect.ALLOW else list(decision.rules)


def test_a_withdrawn_consent_and_a_refusal_deny_the_contact(people: Callable[[], UnitOfWork]) -> None:
    assert decide(people, "cn", SISTER, Role.CONTACT, Channel.SMS) == []
    assert decide(people, "cn", FRIEND, Role.CONTACT, Channel.SMS) == []
    with people() as uow:
        ledger.withdraw_consent(uow, party=SISTER, purpose="contact_relay", channel="portal", evidence="P-1",
                                actor="portal", at=NOON - timedelta(hours=1))  # fmt: skip
        ledger.refuse_contact(uow, party=FRIEND, channel=ledger.RefusalChannel.COLLECTOR, evidence="R-1",
                              actor="collector-1", at=NOON - timedelta(hours=1))  # fmt: skip
        uow.commit()
    assert decide(people, "cn", SISTER, Role.CONTACT, Channel.SMS) == ["CN-CONSENT"]
    assert "CN-PARTY" in decide(people, "cn", FRIEND, Role.CONTACT, Channel.SMS)


def test_a_debtors_stop_is_an_sms_opt_out_the_us_pack_honours(people: Callable[[], UnitOfWork]) -> None:
    assert "US-OPT-OUT" not in decide(people, "us", DEBTOR, Role.DEBTOR, Channel.SMS)
    with people() as uow:
        ledger.inbound_sms(uow, sender=DEBTOR_PHONE, text="STOP", at=NOON - timedelta(hours=2), actor="sms")
        uow.commit()
    assert "US-OPT-OUT" in decide(people, "us", DEBTOR, Role.DEBTOR, Channel.SMS)
    assert "US-OPT-OUT" not in decide(people, "us", DEBTOR, Role.DEBTOR, Channel.CALL)
