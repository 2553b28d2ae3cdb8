"""The gate demonstration: an aggressive collector's week, every attempt gated, per built-in pack.

It shows what the gate is for. The collector plans what 爆通讯录-style shops do: a call every 20 minutes from
06:00 to midnight, hourly calls to the borrower's emergency contact, a threatening text, a text telling the
contact about the debt. Only what the gate allows is "sent" (enters the history the gate reads next);
everything else is counted by the rule that stopped it. All people, numbers and debts are fictional.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fairdun.domain.contact import (
    Attempt,
    Channel,
    ContactEvent,
    Direction,
    Outcome,
    Purpose,
    Recipient,
    Role,
)
from fairdun.policy import Decision, Effect, Facts, evaluate
from fairdun.policy.localtime import zone
from fairdun.policy.pack import Pack
from fairdun.policy.request import ContactRequest


@dataclass(frozen=True)
class Persona:
    """One market's fictional borrower and emergency contact, and the collector's messages."""

    tz: str
    debtor_address: str
    contact_address: str
    threat: str
    disclosure: str
    lawful: str


PERSONAS: dict[str, Persona] = {
    "cn": Persona(
        "Asia/Shanghai",
        "+8613800000001",
        "+8613800000002",
        "张伟，再不还钱就爆你通讯录，让你的亲戚朋友都知道你是老赖！",
        "王芳您好，您的朋友张伟欠我司5000元逾期未还，请转告他马上还款。",
        "张伟您好，您在示例消费金融的借款已逾期，请登录App还款或致电4000000000协商。",
    ),
    "us": Persona(
        "America/New_York",
        "+12025550101",
        "+12025550102",
        "Pay today or you will be arrested. We know where you live, deadbeat. Reply STOP to opt out.",
        "Hi Alex, your friend Sam owes us $5,000 and is past due. Reply STOP to opt out.",
        "Sam, this is Example Recovery, a debt collector. Please call 202-555-0100. Reply STOP to opt out.",
    ),
    "au": Persona(
        "Australia/Sydney",
        "+61491570156",
        "+61491570157",
        "Pay now or we will tell your employer and your family, you deadbeat.",
        "Hi Alex, Sam owes us $5,000 in overdue payments.",
        "Sam, please call Example Collections on 02 5550 1234 about your account.",
    ),
    "in": Persona(
        "Asia/Kolkata",
        "+919000000001",
        "+919000000002",
        "Pay today or we will post your photo on social media and call your boss.",
        "Hi Alex, your friend Sam owes us Rs 50,000 in overdue loan payments.",
        "Sam, please call Example Finance about your account.",
    ),
    "ru": Persona(
        "Europe/Moscow",
        "+79000000001",
        "+79000000002",
        "Pay today or you will go to jail, deadbeat.",
        "Hi Alex, Sam owes us 50,000 roubles in overdue payments.",
        "Sam, please call Example Bank about your account.",
    ),
}

_OUTCOMES = (Outcome.NO_ANSWER, Outcome.FAILED, Outcome.CONVERSATION, Outcome.VOICEMAIL)
_WEIGHTS = (40, 20, 25, 15)


@dataclass
class PackRun:
    pack: Pack
    planned: int = 0
    allowed: int = 0
    denied: int = 0
    indeterminate: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    examples: list[tuple[Attempt, Decision]] = field(default_factory=list)


def _plan(day: datetime, persona: Persona) -> list[tuple[datetime, Role, Channel, Purpose, str | None]]:
    """What the aggressive collector wants to do on one local day."""
    plan: list[tuple[datetime, Role, Channel, Purpose, str | None]] = []
    for minutes in range(6 * 60, 24 * 60, 20):
        plan.append((day + timedelta(minutes=minutes), Role.DEBTOR, Channel.CALL, Purpose.COLLECT, None))
    for hour in range(7, 24):
        plan.append((day + timedelta(hours=hour, minutes=5), Role.CONTACT, Channel.CALL, Purpose.COLLECT, None))
    plan.append((day + timedelta(hours=9, minutes=1), Role.DEBTOR, Channel.SMS, Purpose.COLLECT, persona.threat))
    plan.append((day + timedelta(hours=10, minutes=1), Role.DEBTOR, Channel.SMS, Purpose.COLLECT, persona.lawful))
    plan.append((day + timedelta(hours=11, minutes=1), Role.CONTACT, Channel.SMS, Purpose.COLLECT, persona.disclosure))
    plan.sort(key=lambda p: p[0])
    return plan


def run_pack(pack: Pack, seed: int, days: int = 7, start: tuple[int, int, int] = (2026, 11, 23)) -> PackRun:
    """Gate an aggressive week for the pack's market; only allowed attempts enter the history."""
    persona = PERSONAS.get(pack.name, PERSONAS["cn"])
    rng = random.Random(f"{seed}:{pack.name}")
    facts = Facts.known_clean()
    history: list[ContactEvent] = []
    result = PackRun(pack)
    tz = zone(persona.tz)
    for d in range(days):
        day = datetime(*start, tzinfo=tz) + timedelta(days=d)
        for at, role, channel, purpose, content in _plan(day, persona):
            party = "B1" if role is Role.DEBTOR else "P2"
            address = persona.debtor_address if role is Role.DEBTOR else persona.contact_address
            attempt = Attempt(at, "L1", "B1", channel, purpose, Recipient(party, role, address, persona.tz), content)
            decision = evaluate(ContactRequest(attempt, tuple(history), facts, pack))
            result.planned += 1
            if decision.effect is Effect.ALLOW:
                result.allowed += 1
                outcome = (
                    rng.choices(_OUTCOMES, _WEIGHTS)[0]
                    if channel in (Channel.CALL, Channel.AI_CALL)
                    else Outcome.DELIVERED
                )
                history.append(ContactEvent(at, "L1", party, address, channel, Direction.OUTBOUND, outcome))
                continue
            if decision.effect is Effect.DENY:
                result.denied += 1
            else:
                result.indeterminate += 1
            result.by_rule.update(decision.rules)
            if len(result.examples) < 6 and all(ex[1].rules != decision.rules for ex in result.examples):
                result.examples.append((attempt, decision))
    return result
