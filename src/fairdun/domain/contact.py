"""Contacts: who is reached, how, why, and what happened.

These are the words the contact gate and the rest of fairdun share. The string values are part of the public
interface (JSON requests, rule packs, audit logs), so they never change meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum


class Channel(StrEnum):
    CALL = "call"
    AI_CALL = "ai_call"
    SMS = "sms"
    EMAIL = "email"
    IM = "im"
    LETTER = "letter"
    VISIT = "visit"


class Purpose(StrEnum):
    COLLECT = "collect"
    LOCATE = "locate"
    NOTICE = "notice"


class Role(StrEnum):
    DEBTOR = "debtor"
    CO_BORROWER = "co_borrower"
    GUARANTOR = "guarantor"
    CONTACT = "contact"
    THIRD_PARTY = "third_party"
    ATTORNEY = "attorney"


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class Outcome(StrEnum):
    """What came of one attempt.

    ``failed`` never reached the address (busy, invalid, network); ``no_answer`` rang unanswered;
    ``conversation`` spoke with that recipient; ``delivered`` and ``bounced`` are for messages and letters.
    """

    FAILED = "failed"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    CONVERSATION = "conversation"
    DELIVERED = "delivered"
    BOUNCED = "bounced"


VOICE_CHANNELS = frozenset({Channel.CALL, Channel.AI_CALL})

_CHANNEL_INDEX = {c: i for i, c in enumerate(Channel)}
_DIRECTION_INDEX = {d: i for i, d in enumerate(Direction)}
_OUTCOME_INDEX = {o: i for i, o in enumerate(Outcome)}


def event_code(channel: Channel, direction: Direction, outcome: Outcome) -> int:
    """A small integer naming a (channel, direction, outcome) combination, so a cap can test one set."""
    return (_CHANNEL_INDEX[channel] << 4) | (_DIRECTION_INDEX[direction] << 3) | _OUTCOME_INDEX[outcome]


@dataclass(frozen=True, slots=True)
class Recipient:
    """The person an attempt reaches. ``tz`` is an IANA zone name; local times are the recipient's."""

    party: str
    role: Role
    address: str
    tz: str


@dataclass(frozen=True, slots=True)
class Attempt:
    """One contact someone wants to make. ``at`` is timezone-aware."""

    at: datetime
    debt: str
    debtor: str
    channel: Channel
    purpose: Purpose
    recipient: Recipient
    content: str | None = None


@dataclass(frozen=True, slots=True)
class ContactEvent:
    """One past contact (or attempt) in the history the gate reads. ``at`` is timezone-aware."""

    at: datetime
    debt: str
    party: str
    address: str
    channel: Channel
    direction: Direction
    outcome: Outcome
    ts: float = field(init=False, repr=False, compare=False)
    code: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", self.at.timestamp())
        object.__setattr__(self, "code", event_code(self.channel, self.direction, self.outcome))


@dataclass(frozen=True, slots=True)
class Consent:
    """A party's consent for one purpose, valid on [granted_at, withdrawn_at)."""

    party: str
    purpose: str
    granted_at: datetime
    withdrawn_at: datetime | None = None

    def valid_at(self, ts: float) -> bool:
        if self.granted_at.timestamp() > ts:
            return False
        return self.withdrawn_at is None or ts < self.withdrawn_at.timestamp()


@dataclass(frozen=True, slots=True)
class OptOut:
    """A party asked not to be contacted on a channel (at one address, or at any when ``address`` is None)."""

    party: str
    channel: Channel
    address: str | None = None


@dataclass(frozen=True, slots=True)
class AgreedWindow:
    """Hours the party agreed to be contacted, in their local time; ``end <= start`` wraps past midnight."""

    party: str
    start: time
    end: time
