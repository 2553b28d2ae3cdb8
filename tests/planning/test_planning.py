"""The daily plan-and-gate step: what a strategy plans for a day, and what the gate lets through."""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairdun.application.planning import (
    CaseDay,
    DayPlan,
    Mode,
    Reachable,
    assumed_outcome,
    plan_day,
)
from fairdun.config.packs import PackLoader
from fairdun.config.strategies import load_strategy
from fairdun.domain.contact import (
    VOICE_CHANNELS,
    Channel,
    Consent,
    ContactEvent,
    Direction,
    Outcome,
    Role,
)
from fairdun.policy import Effect, Facts, Pack
from fairdun.policy.localtime import zone
from fairdun.policy.strategy import Strategy, build_strategy

ON = date(2026, 11, 23)
TZ = "Asia/Shanghai"
DEBTOR = Reachable("B1", Role.DEBTOR, "+8613800000001", TZ, frozenset({Channel.CALL, Channel.AI_CALL, Channel.SMS}))
DEBTOR_MAIL = Reachable("B1", Role.DEBTOR, "b1@example.com", TZ, frozenset({Channel.EMAIL}))
DEBTOR_POST = Reachable("B1", Role.DEBTOR, "1 Example Road, Shanghai", TZ, frozenset({Channel.LETTER, Channel.VISIT}))
CONTACT = Reachable("P2", Role.CONTACT, "+8613800000002", TZ, frozenset({Channel.CALL, Channel.SMS}))
EVERYONE = (DEBTOR, DEBTOR_MAIL, DEBTOR_POST, CONTACT)


@pytest.fixture(scope="module")
def cn() -> Pack:
    return PackLoader().load("cn")


@pytest.fixture(scope="module")
def default() -> Strategy:
    return load_strategy("default")


@pytest.fixture(scope="module")
def aggressive() -> Strategy:
    return load_strategy("aggressive")


def case(
    debt: str = "L1",
    *,
    bucket: str = "M2",
    day: int = 2,
    amount: str = "500",
    tier: str = "medium",
    history: tuple[ContactEvent, ...] = (),
    facts: Facts | None = None,
    hold: str | None = None,
    debtor: str = "B1",
) -> CaseDay:
    recipients = EVERYONE if debtor == "B1" else tuple(replace(r, party=debtor) for r in EVERYONE[:3])
    return CaseDay(
        debt,
        debtor,
        bucket,
        day,
        Decimal(amount),
        tier,
        recipients,
        history,
        facts or Facts.known_clean(),
        hold,
    )


def local(hour: int, minute: int = 0, on: date = ON) -> datetime:
    return datetime(on.year, on.month, on.day, hour, minute, tzinfo=zone(TZ))


def calls_earlier_today(n: int, outcome: Outcome = Outcome.NO_ANSWER) -> tuple[ContactEvent, ...]:
    return tuple(
        ContactEvent(local(0, 1) + timedelta(minutes=k), "L1", "B1", DEBTOR.address, Channel.CALL,
                     Direction.OUTBOUND, outcome)
        for k in range(n)
    )  # fmt: skip


def denials(plan: DayPlan) -> Counter[str]:
    return Counter(rule for c in plan.denied for rule in c.reasons)


def test_a_compliant_strategys_day_is_all_allowed_for_a_clean_debtor(cn: Pack, default: Strategy) -> None:
    # One debtor per loan: the same debtor's loans share the daily caps (see test_the_days_plan_never_exceeds_a_cap).
    buckets = ("M1", "M2", "M4", "M6+")
    cases = [case(f"L{b}{d}", bucket=b, day=d, debtor=f"B{b}{d}") for b in buckets for d in range(1, 8)]
    plan = plan_day(cases, default, cn, ON)
    assert plan.planned > 10
    assert plan.denied == ()
    assert plan.to_send == plan.allowed
    for contact in plan.allowed:
        assert contact.attempt.at.date() == ON
        assert contact.attempt.at.tzinfo is not None
        assert contact.replan_at is None


def test_each_attempt_starts_at_its_slot_of_the_preferred_window(cn: Pack, default: Strategy) -> None:
    # m2-m3, cadence day 2: two calls spread over 09:00-18:00, at 09:00 and 13:30.
    plan = plan_day([case(day=2)], default, cn, ON)
    assert [(c.attempt.channel, c.attempt.at) for c in plan.allowed] == [
        (Channel.CALL, local(9)),
        (Channel.CALL, local(13, 30)),
    ]
    assert [c.step.attempt for c in plan.allowed] == [1, 2]


def test_the_aggressive_strategys_night_calls_and_ten_calls_a_day_are_denied_with_replan_at(
    cn: Pack, aggressive: Strategy
) -> None:
    plan = plan_day([case(bucket="M1", day=1)], aggressive, cn, ON)
    by_rule = denials(plan)
    assert by_rule["CN-TIME"] >= 3
    assert by_rule["CN-CONV-DAY"] >= 6
    night = [c for c in plan.denied if c.reasons == ("CN-TIME",)]
    assert night
    assert all(c.replan_at is not None and c.replan_at > c.attempt.at for c in night)
    # Three conversations assumed: the fourth call of the day waits for tomorrow's 08:00.
    capped = [c for c in plan.denied if "CN-CONV-DAY" in c.reasons]
    assert all(c.replan_at == local(8, on=ON + timedelta(days=1)) for c in capped)
    voice_allowed = [c for c in plan.allowed if c.attempt.channel in VOICE_CHANNELS]
    assert len(voice_allowed) == 3


def test_a_number_already_dialled_six_times_today_is_denied_by_the_dial_cap(cn: Pack, aggressive: Strategy) -> None:
    plan = plan_day([case(bucket="M1", day=1, history=calls_earlier_today(6))], aggressive, cn, ON)
    dialled = [c for c in plan.denied if c.attempt.recipient.party == "B1" and c.attempt.channel in VOICE_CHANNELS]
    assert len(dialled) == 10  # 7 + 2 + 1 calls: none allowed
    assert all("CN-DIAL-DAY" in c.reasons for c in dialled)
    assert all(c.replan_at is not None and c.replan_at.date() == ON + timedelta(days=1) for c in dialled)


def test_in_audit_only_mode_nothing_denied_is_dropped(cn: Pack, aggressive: Strategy) -> None:
    enforced = plan_day([case(bucket="M1", day=1)], aggressive, cn, ON)
    audited = plan_day([case(bucket="M1", day=1)], aggressive, cn, ON, Mode.AUDIT_ONLY)
    assert audited.planned == enforced.planned == 12
    assert len(audited.to_send) == audited.planned
    times = [c.attempt.at for c in audited.to_send]
    assert times == sorted(times)
    # Every call is assumed made, so the seventh call to the number breaks the dial cap too.
    assert {"CN-TIME", "CN-CONV-DAY", "CN-DIAL-DAY", "CN-PARTY", "CN-CONSENT"} <= set(denials(audited))
    assert len(audited.allowed) <= len(enforced.allowed)


def test_a_contact_is_denied_by_party_and_consent_when_the_facts_say_so(cn: Pack, aggressive: Strategy) -> None:
    plan = plan_day([case(bucket="M1", day=1)], aggressive, cn, ON)
    to_contact = [c for c in plan.denied if c.attempt.recipient.role is Role.CONTACT]
    assert len(to_contact) == 2
    for contact in to_contact:
        assert contact.reasons == ("CN-PARTY", "CN-CONSENT")
        assert contact.replan_at is None  # waiting cannot make a collection call to a contact lawful


def test_a_consenting_contact_is_still_not_called_to_collect(cn: Pack, aggressive: Strategy) -> None:
    consent = Consent("P2", "contact_relay", local(0) - timedelta(days=30))
    facts = replace(Facts.known_clean(), consents=(consent,), debtor_unreachable=True)
    plan = plan_day([case(bucket="M1", day=1, facts=facts)], aggressive, cn, ON)
    to_contact = [c for c in plan.denied if c.attempt.recipient.role is Role.CONTACT]
    assert [c.reasons for c in to_contact] == [("CN-PARTY",), ("CN-PARTY",)]


def test_unknown_facts_fail_closed_and_are_counted_apart(cn: Pack, aggressive: Strategy) -> None:
    # A call at 06:00 is lawful only inside a window the debtor agreed to: unknown agreed windows decide nothing.
    plan = plan_day([case(bucket="M1", day=1, facts=Facts())], aggressive, cn, ON)
    unknown = [c for c in plan.denied if c.decision.effect is Effect.INDETERMINATE]
    assert unknown
    assert all(c.replan_at is None for c in unknown)
    assert local(6) in {c.attempt.at for c in unknown}
    assert plan.arms["champion"].indeterminate == len(unknown)
    assert all(c.attempt.at.hour >= 8 for c in plan.allowed)


def test_a_case_on_hold_plans_nothing(cn: Pack, aggressive: Strategy) -> None:
    plan = plan_day([case(bucket="M1", day=1, hold="dispute hold: open since 2026-11-20")], aggressive, cn, ON)
    assert plan.planned == 0
    assert plan.held == (("L1", "dispute hold: open since 2026-11-20"),)
    assert plan.arms == {}


def test_every_contact_records_its_arm(cn: Pack, default: Strategy) -> None:
    cases = [case(f"L{i}", bucket="M1", day=1, tier="high") for i in range(200)]
    plan = plan_day(cases, default, cn, ON)
    for contact in plan.allowed:
        assert contact.arm == default.treatment_for("M1", Decimal(500), "high", contact.debt).arm
        assert contact.treatment == ("m1-standard" if contact.arm == "champion" else "m1-ai-first")
    assert set(plan.arms) == {"champion", "challenger"}
    assert sum(s.cases for s in plan.arms.values()) == 200
    assert sum(s.planned for s in plan.arms.values()) == plan.planned


def test_a_step_with_no_recipient_is_reported_unaddressed(cn: Pack, default: Strategy) -> None:
    bare = replace(case(day=4), recipients=(DEBTOR,))  # m2-m3 day 4 is an e-mail; no e-mail address known
    plan = plan_day([bare], default, cn, ON)
    assert plan.planned == 0
    assert [u.step.channel for u in plan.unaddressed] == [Channel.EMAIL]
    assert plan.arms["champion"].unaddressed == 1


def independent_caps_hold(plan: DayPlan, cases: list[CaseDay]) -> None:
    """Count conversations per party and dials per number on the day without the gate: what the history already
    holds, and what the plan adds (each voice contact assumed a conversation). The plan adds nothing past a cap."""
    caps = (("conversations", 3), ("dials", 6))
    before: dict[str, Counter[str]] = {"conversations": Counter(), "dials": Counter()}
    seen: set[int] = set()
    for c in cases:
        for e in c.history:
            if id(e) in seen or e.at.astimezone(zone(TZ)).date() != ON or e.channel not in VOICE_CHANNELS:
                continue
            seen.add(id(e))
            if e.direction is Direction.OUTBOUND:
                before["dials"][e.address] += 1
                before["conversations"][e.party] += e.outcome is Outcome.CONVERSATION
    added: dict[str, Counter[str]] = {"conversations": Counter(), "dials": Counter()}
    for contact in plan.to_send:
        if contact.attempt.channel in VOICE_CHANNELS:
            assert assumed_outcome(contact.attempt.channel) is Outcome.CONVERSATION
            added["dials"][contact.attempt.recipient.address] += 1
            added["conversations"][contact.attempt.recipient.party] += 1
    for name, cap in caps:
        for key, n in added[name].items():
            assert n <= max(0, cap - before[name][key]), (name, key)


@given(
    earlier=st.lists(st.sampled_from([Outcome.NO_ANSWER, Outcome.CONVERSATION, Outcome.FAILED]), max_size=8),
    loans=st.integers(min_value=1, max_value=3),
    day=st.integers(min_value=1, max_value=7),
)
def test_the_days_plan_never_exceeds_a_cap(earlier: list[Outcome], loans: int, day: int) -> None:
    cn, aggressive = PackLoader().load("cn"), load_strategy("aggressive")
    history = tuple(
        ContactEvent(local(0, 1) + timedelta(minutes=k), "L0", "B1", DEBTOR.address, Channel.CALL,
                     Direction.OUTBOUND, o)
        for k, o in enumerate(earlier)
    )  # fmt: skip
    # Several loans of the same debtor on the same day share the debtor's caps.
    cases = [case(f"L{i}", bucket="M1", day=day, history=history) for i in range(loans)]
    plan = plan_day(cases, aggressive, cn, ON)
    independent_caps_hold(plan, cases)


def test_the_same_inputs_give_the_same_plan(cn: Pack, default: Strategy, aggressive: Strategy) -> None:
    cases = [case(f"L{i}", bucket=b, day=d) for i, (b, d) in enumerate((("M1", 1), ("M2", 2), ("M1", 5)))]
    for strategy in (default, aggressive):
        for mode in Mode:
            assert plan_day(cases, strategy, cn, ON, mode) == plan_day(list(cases), strategy, cn, ON, mode)


EARLY_BIRD = """
[strategy]
name = "early-bird"
version = "1"
title = "Calls at seven"
description = "One call at 07:00, before the cn window opens."
[treatments.current]
steps = []
[treatments.early]
repeat_every_days = 1
steps = [{ day = 1, channel = "call", template = "EARLY", window = "07:00-07:30" }]
[[segments]]
buckets = ["C"]
treatment = "current"
[[segments]]
buckets = ["M1", "M2", "M3", "M4", "M5", "M6", "M6+"]
treatment = "early"
"""


def test_a_denial_that_waiting_cures_the_same_day_is_replanned_at_next_allowed_at(cn: Pack) -> None:
    early = build_strategy(tomllib.loads(EARLY_BIRD), "early-bird.toml")
    without = plan_day([case(bucket="M1", day=1)], early, cn, ON)
    assert [c.reasons for c in without.denied] == [("CN-TIME",)]
    assert without.allowed == ()
    plan = plan_day([case(bucket="M1", day=1)], early, cn, ON, replan=True)
    assert [c.reasons for c in plan.denied] == [("CN-TIME",)]
    assert [(c.attempt.at, c.replanned) for c in plan.allowed] == [(local(8), True)]
    assert plan.arms[next(iter(plan.arms))].replanned == 1
    # Audit-only mode judges what the strategy planned and re-plans nothing.
    audited = plan_day([case(bucket="M1", day=1)], early, cn, ON, Mode.AUDIT_ONLY, replan=True)
    assert audited.allowed == ()
    assert [c.replan_at for c in audited.denied] == [None]


def test_a_denial_until_another_day_is_not_replanned_today(cn: Pack, aggressive: Strategy) -> None:
    plan = plan_day([case(bucket="M1", day=1)], aggressive, cn, ON, replan=True)
    assert all(c.attempt.at.astimezone(zone(TZ)).date() == ON for c in plan.allowed)
    capped = [c for c in plan.denied if "CN-CONV-DAY" in c.reasons]
    assert capped
    assert not any(c.replanned for c in plan.allowed if c.attempt.channel in VOICE_CHANNELS and c.attempt.at.hour >= 22)
