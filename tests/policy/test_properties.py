"""Hypothesis properties of the gate.

1. A month of greedy attempts that sends only what the gate allows never breaks a cap or a window, as judged by
   an independent brute-force checker written here from the issue's wording (not from the pack files).
2. For time and cap denials, the gate allows at ``next_allowed_at`` and not one second before.
3. A withdrawn consent never yields allow.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from fairdun.config.packs import PackLoader
from fairdun.domain.contact import (
    Attempt,
    Channel,
    Consent,
    ContactEvent,
    Direction,
    Outcome,
    Purpose,
    Recipient,
    Role,
)
from fairdun.policy import Effect, Facts, evaluate
from fairdun.policy.request import ContactRequest

LOADER = PackLoader()
ZONES = (
    "Asia/Shanghai",
    "America/New_York",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Europe/Moscow",
    "Asia/Kolkata",
)
VOICE = (Channel.CALL, Channel.AI_CALL)
MESSAGES = (Channel.SMS, Channel.EMAIL, Channel.IM)
ADDRESSES = ("+8613800000001", "+8613800000009")

# --- the independent checker -----------------------------------------------------------------------------------

# Allowed local hours per pack, (weekday windows, weekend windows) in minutes after midnight, from the issue.
WINDOWS = {
    "cn": ((480, 1320), (480, 1320)),
    "us": ((480, 1260), (480, 1260)),
    "au": ((450, 1260), (540, 1260)),
    "in": ((480, 1140), (480, 1140)),
    "ru": ((480, 1320), (540, 1200)),
}


@dataclass(frozen=True)
class Sent:
    local: datetime
    channel: Channel
    address: str
    outcome: Outcome


def _in_window(pack: str, local: datetime) -> bool:
    weekday, weekend = WINDOWS[pack]
    start, end = weekend if local.isoweekday() >= 6 else weekday
    minute = local.hour * 60 + local.minute + local.second / 60
    return start <= minute < end


def _count(prior: list[Sent], day: date, days: int, predicate: object) -> int:
    first = day - timedelta(days=days - 1)
    return sum(1 for s in prior if first <= s.local.date() <= day and predicate(s))  # type: ignore[operator]


def violations(pack: str, sent: list[Sent]) -> list[str]:
    """Every way the sent sequence breaks the issue's windows and caps (one debtor, one debt)."""
    found = []
    for i, s in enumerate(sent):
        prior, day = sent[:i], s.local.date()
        if s.channel is not Channel.LETTER and not _in_window(pack, s.local):
            found.append(f"{s.local} outside hours")
        conv = lambda p: p.channel in VOICE and p.outcome is Outcome.CONVERSATION  # noqa: E731
        if pack == "cn" and s.channel in VOICE:
            if _count(prior, day, 1, conv) >= 3:
                found.append(f"{s.local} 4th conversation")
            same_number = [p for p in prior if p.address == s.address]
            if _count(same_number, day, 1, lambda p: p.channel in VOICE) >= 6:
                found.append(f"{s.local} 7th dial")
        if pack == "us" and s.channel in VOICE:
            placed = lambda p: p.channel in VOICE and p.outcome is not Outcome.FAILED  # noqa: E731
            if _count(prior, day, 7, placed) >= 7:
                found.append(f"{s.local} 8th call in 7 days")
            if _count(prior, day, 7, conv) >= 1:
                found.append(f"{s.local} call within 7 days of a conversation")
        if pack == "au":
            contact = lambda p: p.outcome in (Outcome.CONVERSATION, Outcome.VOICEMAIL, Outcome.DELIVERED)  # noqa: E731
            if _count(prior, day, 7, contact) >= 3 or _count(prior, day, 30, contact) >= 10:
                found.append(f"{s.local} contact over the weekly or monthly cap")
        if pack == "ru" and s.channel in VOICE:
            for days, cap in ((1, 1), (7, 2), (30, 8)):
                if _count(prior, day, days, conv) >= cap:
                    found.append(f"{s.local} conversation cap {cap}/{days}d")
        if pack == "ru" and s.channel in MESSAGES:
            delivered = lambda p: p.channel in MESSAGES and p.outcome is Outcome.DELIVERED  # noqa: E731
            for days, cap in ((1, 2), (7, 4), (30, 16)):
                if _count(prior, day, days, delivered) >= cap:
                    found.append(f"{s.local} message cap {cap}/{days}d")
    return found


def test_the_checker_catches_a_night_call_and_a_fourth_conversation() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    night = Sent(datetime(2026, 11, 23, 23, 0, tzinfo=tz), Channel.CALL, ADDRESSES[0], Outcome.NO_ANSWER)
    convs = [
        Sent(datetime(2026, 11, 23, 9 + h, 0, tzinfo=tz), Channel.CALL, ADDRESSES[0], Outcome.CONVERSATION)
        for h in range(4)
    ]
    assert violations("cn", [night]) == [f"{night.local} outside hours"]
    assert violations("cn", convs) == [f"{convs[3].local} 4th conversation"]


# --- property 1 ------------------------------------------------------------------------------------------------


def _simulate(pack_name: str, tz_key: str, seed: int, step_minutes: int, days: int) -> tuple[list[Sent], int]:
    pack = LOADER.load(pack_name)
    rng = random.Random(seed)
    tz = ZoneInfo(tz_key)
    facts = Facts.known_clean()
    history: list[ContactEvent] = []
    sent: list[Sent] = []
    start = datetime(2026, 10, 28, tzinfo=tz)  # crosses the 2026-11-01 US daylight-saving change
    at = start
    end = start + timedelta(days=days)
    denials = 0
    while at < end:
        channel = rng.choice((Channel.CALL, Channel.CALL, Channel.AI_CALL, Channel.SMS, Channel.EMAIL, Channel.LETTER))
        address = rng.choice(ADDRESSES)
        content = "Reply STOP to opt out. 回复TD退订" if channel in MESSAGES else None
        attempt = Attempt(
            at, "L1", "B1", channel, Purpose.COLLECT, Recipient("B1", Role.DEBTOR, address, tz_key), content
        )
        decision = evaluate(ContactRequest(attempt, tuple(history), facts, pack))
        if decision.effect is Effect.ALLOW:
            if channel in VOICE:
                outcome = rng.choice((Outcome.CONVERSATION, Outcome.NO_ANSWER, Outcome.FAILED, Outcome.VOICEMAIL))
            else:
                outcome = rng.choice((Outcome.DELIVERED, Outcome.DELIVERED, Outcome.BOUNCED))
            history.append(ContactEvent(at, "L1", "B1", address, channel, Direction.OUTBOUND, outcome))
            sent.append(Sent(at.astimezone(tz), channel, address, outcome))
        else:
            denials += 1
        at = (at.astimezone(ZoneInfo("UTC")) + timedelta(minutes=step_minutes + rng.randint(0, 9))).astimezone(tz)
    return sent, denials


@settings(max_examples=12)
@given(
    pack=st.sampled_from(("cn", "us", "au", "in", "ru")),
    tz=st.sampled_from(ZONES),
    seed=st.integers(0, 2**32 - 1),
    step=st.integers(10, 45),
)
def test_a_greedy_month_that_sends_only_what_the_gate_allows_breaks_no_cap_or_window(
    pack: str, tz: str, seed: int, step: int
) -> None:
    sent, denials = _simulate(pack, tz, seed, step, days=31)
    assert sent, "the gate allowed nothing in a month"
    assert denials, "a greedy month must hit a window or a cap"
    assert violations(pack, sent) == []


# --- property 2 ------------------------------------------------------------------------------------------------

_outcomes = st.sampled_from(list(Outcome))
_channels = st.sampled_from((Channel.CALL, Channel.AI_CALL, Channel.SMS, Channel.EMAIL, Channel.IM))


@st.composite
def gated_requests(draw: st.DrawFn) -> ContactRequest:
    pack = LOADER.load(draw(st.sampled_from(("cn", "us", "au", "in", "ru"))))
    tz_key = draw(st.sampled_from(ZONES))
    tz = ZoneInfo(tz_key)
    base = datetime(2026, 11, 20, tzinfo=tz)
    at = base + timedelta(seconds=draw(st.integers(0, 6 * 86_400)))
    n = draw(st.integers(0, 40))
    history = []
    for _ in range(n):
        when = at - timedelta(seconds=draw(st.integers(1, 35 * 86_400)))
        history.append(
            ContactEvent(
                when,
                draw(st.sampled_from(("L1", "L2"))),
                "B1",
                draw(st.sampled_from(ADDRESSES)),
                draw(_channels),
                draw(st.sampled_from(list(Direction))),
                draw(_outcomes),
            )
        )
    channel = draw(st.sampled_from((Channel.CALL, Channel.AI_CALL, Channel.SMS, Channel.EMAIL)))
    content = "Reply STOP to opt out." if channel in (Channel.SMS, Channel.EMAIL) else None
    attempt = Attempt(
        at, "L1", "B1", channel, Purpose.COLLECT, Recipient("B1", Role.DEBTOR, ADDRESSES[0], tz_key), content
    )
    return ContactRequest(attempt, tuple(history), Facts.known_clean(), pack)


def _moved(request: ContactRequest, at: datetime) -> ContactRequest:
    a = request.attempt
    moved = Attempt(at, a.debt, a.debtor, a.channel, a.purpose, a.recipient, a.content)
    return ContactRequest(moved, request.history, request.facts, request.pack)


@settings(max_examples=400)
@given(request=gated_requests())
def test_a_time_or_cap_denial_is_allowed_at_next_allowed_at_and_not_one_second_before(
    request: ContactRequest,
) -> None:
    decision = evaluate(request)
    if decision.effect is not Effect.DENY:
        assert decision.next_allowed_at is None
        return
    nxt = decision.next_allowed_at
    assert nxt is not None, f"time and cap denials can always wait: {decision.reasons}"
    assert nxt > request.attempt.at
    assert evaluate(_moved(request, nxt)).effect is Effect.ALLOW
    before = nxt - timedelta(seconds=1)
    if before >= request.attempt.at:
        assert evaluate(_moved(request, before)).effect is not Effect.ALLOW


# --- property 3 ------------------------------------------------------------------------------------------------


@settings(max_examples=300)
@given(
    data=st.data(),
    offsets=st.lists(st.tuples(st.integers(-90 * 86_400, 0), st.integers(0, 90 * 86_400)), min_size=0, max_size=4),
    at_seconds=st.integers(0, 7 * 86_400),
)
def test_a_withdrawn_consent_never_yields_allow(
    data: st.DataObject, offsets: list[tuple[int, int]], at_seconds: int
) -> None:
    channel = data.draw(st.sampled_from(list(Channel)))
    purpose = data.draw(st.sampled_from(list(Purpose)))
    tz = ZoneInfo("Asia/Shanghai")
    at = datetime(2026, 11, 20, tzinfo=tz) + timedelta(seconds=at_seconds)
    consents = []
    for grant_offset, length in offsets:
        granted = at + timedelta(seconds=grant_offset)
        withdrawn = min(granted + timedelta(seconds=length), at)  # withdrawn at or before the attempt
        consents.append(Consent("P2", "contact_relay", granted, withdrawn))
    facts = Facts(
        debtor_unreachable=data.draw(st.booleans()),
        refused_parties=frozenset(),
        opt_outs=(),
        consents=tuple(consents),
        agreed_windows=(),
        guarantor_liable=False,
        represented_by_attorney=False,
        cease_requested=False,
        time_barred=False,
    )
    attempt = Attempt(
        at, "L1", "B1", channel, purpose, Recipient("P2", Role.CONTACT, "+8613800000002", "Asia/Shanghai")
    )
    decision = evaluate(ContactRequest(attempt, (), facts, LOADER.load("cn")))
    assert decision.effect is not Effect.ALLOW
