"""The dispatch re-check on its own, on both databases, as ``fairdun outbox dispatch`` would call it (a fresh
``LedgerFacts``, no book): queued messages to a contact whose consent was withdrawn, or who refused, fail unsent at
or after that instant with the gate's rule named; those before it, and everyone else's, stay pending; an unchanged
ledger touches nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import Engine

from fairdun.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from fairdun.adapters.sqlalchemy.audit_log import verify_log
from fairdun.application import consent as ledger
from fairdun.application.channels import OutboundMessage
from fairdun.application.ports import OutboxStatus, UnitOfWork
from fairdun.config.packs import PackLoader
from fairdun.domain.contact import Channel

from .data import CHINA, FRIEND, FRIEND_PHONE, GIVEN, SISTER, SISTER_PHONE, store_people

DAY = datetime(2026, 9, 1, 6, 0, tzinfo=CHINA)
TIMES = (9, 11, 15)


@pytest.fixture
def queued(engine: Engine) -> Callable[[], UnitOfWork]:
    def factory() -> UnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    with factory() as uow:
        store_people(uow)
        for party in (SISTER, FRIEND):
            ledger.grant_consent(uow, party=party, purpose="contact_relay", notice="v1", channel="app",
                                 evidence="app A-1", actor="system:app", at=GIVEN)  # fmt: skip
        messages = []
        for party, phone in ((SISTER, SISTER_PHONE), (FRIEND, FRIEND_PHONE)):
            for hour in TIMES:
                at = DAY.replace(hour=hour)
                message = OutboundMessage(
                    f"k:{party}:{hour}", Channel.SMS, phone, party, "L-1", "", DAY,
                    template="T-RELAY-SMS@v1", address_ref=f"{party}/phone", not_before=at,
                )  # fmt: skip
                messages.append((message, "champion", "cn@test", DAY))
        uow.outbox.enqueue_many(messages)
        uow.commit()
    return factory


def statuses(factory: Callable[[], UnitOfWork]) -> dict[str, tuple[OutboxStatus, str | None]]:
    with factory() as uow:
        entries = [uow.outbox.get(f"k:{p}:{h}") for p in (SISTER, FRIEND) for h in TIMES]
    return {e.key: (e.status, e.error) for e in entries if e is not None}


def test_messages_after_a_withdrawal_or_refusal_are_withheld_and_the_rest_wait(
    queued: Callable[[], UnitOfWork], engine: Engine
) -> None:
    pack = PackLoader().load("cn")
    facts = ledger.LedgerFacts()
    assert ledger.withhold_revoked(queued, facts, pack, {}, now=DAY, limit=100) == ()  # nothing withdrawn yet
    assert ledger.withhold_revoked(queued, facts, pack, {}, now=DAY, limit=100) == ()  # unchanged ledger: nothing to do
    assert {s for s, _ in statuses(queued).values()} == {OutboxStatus.PENDING}
    ten = DAY.replace(hour=10)
    with queued() as uow:
        ledger.withdraw_consent(uow, party=SISTER, purpose="contact_relay", channel="portal", evidence="P-1",
                                actor="portal", at=ten)  # fmt: skip
        ledger.refuse_contact(
            uow, party=FRIEND, channel=ledger.RefusalChannel.INBOUND_KEYWORD, evidence="inbound sms, keyword TD",
            actor="system:inbound", at=ten,
        )  # fmt: skip
        uow.commit()
    withheld = ledger.withhold_revoked(queued, facts, pack, {}, now=DAY.replace(hour=9), limit=100)
    assert {(w.key, w.rule) for w in withheld} == {
        (f"k:{SISTER}:11", "CN-CONSENT"),
        (f"k:{SISTER}:15", "CN-CONSENT"),
        # A refusal is permanent and not a point in time: nothing still waiting goes to that person, the 09:00
        # message included (CN-PARTY comes before CN-CONSENT in the pack).
        (f"k:{FRIEND}:9", "CN-PARTY"),
        (f"k:{FRIEND}:11", "CN-PARTY"),
        (f"k:{FRIEND}:15", "CN-PARTY"),
    }
    now = statuses(queued)
    assert now[f"k:{SISTER}:9"] == (OutboxStatus.PENDING, None)
    status, error = now[f"k:{SISTER}:11"]
    assert status is OutboxStatus.FAILED
    assert error == (
        f"withheld at dispatch: CN-CONSENT: contact_relay consent of {SISTER} withdrawn at 2026-09-01T02:00:00+00:00"
        " after the contact was planned"
    )
    assert verify_log(engine).ok
