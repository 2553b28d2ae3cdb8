"""The outbound channel port: send one message, learn what became of it.

A channel adapter (``fairdun.adapters.channels``: log file, signed webhook, SMTP) implements :class:`Channel`. The
contract every implementation keeps:

- ``send`` never raises for a delivery problem. A refused address, a 4xx, a dead network: each comes back as a
  :class:`DeliveryResult` whose ``outcome`` says what happened and whose ``retryable`` says whether sending the
  same message again later may succeed. Exceptions are for programming errors only.
- The idempotency key is the message's identity. Sending the same key twice must not reach the recipient twice
  wherever the technology allows it (the log channel remembers keys across restarts; the webhook channel sends the
  key in an ``Idempotency-Key`` header for the gateway to deduplicate; the SMTP channel derives the Message-ID
  from it). ``attempts == 0`` on a result means nothing was transmitted this time.
- Results that arrive later (a gateway's delivery report, a bounce) come back through ``parse_callback``, as a
  :class:`DeliveryResult` for the same key. A later result for a key supersedes an earlier one.

The JSON shape of a callback (``CALLBACK_FIELDS``) is defined here, once, so every adapter and the fake read the
same thing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from fairdun.domain.contact import Channel as ContactChannel
from fairdun.domain.contact import ContactEvent, Direction, Outcome

# Visible ASCII only: the key travels in HTTP headers and (encoded) in a Message-ID.
_KEY = re.compile(r"[!-~]{1,200}")
CALLBACK_FIELDS = ("idempotency_key", "outcome", "provider_ref", "error", "at", "retryable")


class ChannelError(Exception):
    """Base of the channel errors. ``field`` is a dotted path to what is wrong (``message.key``, ``webhook.url``)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem


class MessageError(ChannelError):
    """An :class:`OutboundMessage` or :class:`DeliveryResult` was built with an invalid value."""


class CallbackError(ChannelError):
    """A callback payload is not authentic or not understood; nothing of it should be recorded."""


class SignatureError(CallbackError):
    """A signed payload's signature or timestamp does not check out."""


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message to send. ``key`` identifies it across retries and restarts; ``created_at`` is timezone-aware."""

    key: str
    channel: ContactChannel
    address: str
    party: str
    debt: str
    body: str
    created_at: datetime
    subject: str = ""
    template: str | None = None
    address_ref: str | None = None
    """The opaque reference of ``address`` that the contact history keeps instead of the address itself."""
    not_before: datetime | None = None
    """When the gate allowed it for: the outbox does not send it earlier."""

    def __post_init__(self) -> None:
        if not _KEY.fullmatch(self.key):
            raise MessageError("message.key", "must be 1 to 200 visible ASCII characters (no spaces)")
        if not isinstance(self.channel, ContactChannel):
            raise MessageError("message.channel", f"must be a Channel, got {self.channel!r}")
        if not self.address.strip():
            raise MessageError("message.address", "must not be empty")
        if self.created_at.utcoffset() is None:
            raise MessageError("message.created_at", "must be timezone-aware")
        if self.not_before is not None and self.not_before.utcoffset() is None:
            raise MessageError("message.not_before", "must be timezone-aware")

    def to_document(self) -> dict[str, object]:
        """The JSON object the log and webhook channels write: stable field names, ISO 8601 instants."""
        return {
            "idempotency_key": self.key,
            "channel": self.channel.value,
            "to": self.address,
            "party": self.party,
            "debt": self.debt,
            "subject": self.subject,
            "body": self.body,
            "template": self.template,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What became of one message.

    ``attempts`` counts transmissions made by this call (0: nothing sent, e.g. the key was already sent).
    ``retryable`` is true when the failure was transient (network, 5xx, 429, SMTP 4xx) and a later send may
    succeed. ``at`` is when the provider says the outcome happened, when it says (callbacks usually do).
    """

    key: str
    outcome: Outcome
    attempts: int = 1
    provider_ref: str | None = None
    error: str | None = None
    retryable: bool = False
    at: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.outcome, Outcome):
            raise MessageError("result.outcome", f"must be an Outcome, got {self.outcome!r}")
        if self.attempts < 0:
            raise MessageError("result.attempts", "must not be negative")
        if self.at is not None and self.at.utcoffset() is None:
            raise MessageError("result.at", "must be timezone-aware")

    @classmethod
    def from_callback(cls, document: object) -> DeliveryResult:
        """Reads a callback object: ``{"idempotency_key", "outcome", "provider_ref"?, "error"?, "at"?}``.

        Raises :class:`CallbackError` naming the field when the document is not one.
        """
        if not isinstance(document, Mapping):
            raise CallbackError("callback", "must be a JSON object")
        unknown = sorted(str(k) for k in document if k not in CALLBACK_FIELDS)
        if unknown:
            raise CallbackError(f"callback.{unknown[0]}", f"unknown field (expected {', '.join(CALLBACK_FIELDS)})")
        key = document.get("idempotency_key")
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise CallbackError("callback.idempotency_key", "must be 1 to 200 visible ASCII characters")
        outcome = document.get("outcome")
        if not isinstance(outcome, str) or outcome not in Outcome.__members__.values():
            raise CallbackError("callback.outcome", f"must be one of {', '.join(o.value for o in Outcome)}")
        texts: dict[str, str | None] = {}
        for name in ("provider_ref", "error"):
            value = document.get(name)
            if value is not None and not isinstance(value, str):
                raise CallbackError(f"callback.{name}", "must be a string or null")
            texts[name] = value
        retryable = document.get("retryable", False)
        if not isinstance(retryable, bool):
            raise CallbackError("callback.retryable", "must be true or false")
        at = None
        if document.get("at") is not None:
            raw = document["at"]
            try:
                at = datetime.fromisoformat(raw) if isinstance(raw, str) else None
            except ValueError:
                at = None
            if at is None or at.utcoffset() is None:
                raise CallbackError("callback.at", "must be an ISO 8601 instant with a UTC offset")
        return cls(
            key=key,
            outcome=Outcome(outcome),
            attempts=0,
            provider_ref=texts["provider_ref"],
            error=texts["error"],
            retryable=retryable,
            at=at,
        )

    def to_callback(self) -> dict[str, object]:
        """The callback object for this result (what a gateway would post back)."""
        return {
            "idempotency_key": self.key,
            "outcome": self.outcome.value,
            "provider_ref": self.provider_ref,
            "error": self.error,
            "retryable": self.retryable,
            "at": None if self.at is None else self.at.isoformat(),
        }


def parse_callback_json(body: bytes) -> DeliveryResult:
    """A callback body (UTF-8 JSON) as a result; :class:`CallbackError` if it is not valid JSON or not a callback."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CallbackError("callback", f"not UTF-8 JSON ({exc})") from None
    return DeliveryResult.from_callback(document)


def contact_event(message: OutboundMessage, result: DeliveryResult, at: datetime) -> ContactEvent:
    """The history entry the gate reads for a sent message; the provider's ``result.at`` wins over ``at``, and the
    message's ``address_ref`` (when it has one) stands for its address."""
    return ContactEvent(
        at=result.at or at,
        debt=message.debt,
        party=message.party,
        address=message.address_ref or message.address,
        channel=message.channel,
        direction=Direction.OUTBOUND,
        outcome=result.outcome,
    )


class Channel(Protocol):
    """The outbound channel port: one message out, one result back; later results through ``parse_callback``."""

    def send(self, message: OutboundMessage) -> DeliveryResult:
        """Sends ``message`` (or recognises its key as already sent) and says what happened. Never raises for a
        delivery failure; see the module docstring for the contract."""
        ...

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> DeliveryResult:
        """Reads a delivery report that arrived later (HTTP callback, bounce message) for a message this channel
        sent. Raises :class:`CallbackError` when the payload is not authentic or not understood."""
        ...

    def close(self) -> None:
        """Releases connections and files. Calling it twice is harmless."""
        ...


@dataclass
class FakeChannel:
    """A behavioural fake of :class:`Channel` for tests: records what was sent, answers as configured.

    - ``sent`` holds every message passed to ``send``, duplicates included, so a test can see a double send.
    - ``outcomes`` maps an address to the outcome its messages get; anything else gets ``default``.
    - ``transient_failures``: the first that many sends fail with ``retryable=True`` (a flaky gateway).
    - ``deduplicate``: when set, a key already delivered is answered with ``attempts=0`` as real gateways do.
    - ``parse_callback`` reads the callback JSON of :meth:`DeliveryResult.from_callback`, unsigned.
    """

    default: Outcome = Outcome.DELIVERED
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    transient_failures: int = 0
    deduplicate: bool = False
    sent: list[OutboundMessage] = field(default_factory=list)
    results: list[DeliveryResult] = field(default_factory=list)
    closed: bool = False
    on_send: Callable[[OutboundMessage], None] | None = None
    """Called before answering, e.g. to raise and simulate a crash mid-send."""

    def send(self, message: OutboundMessage) -> DeliveryResult:
        if self.closed:
            raise RuntimeError("FakeChannel used after close()")
        self.sent.append(message)
        if self.on_send is not None:
            self.on_send(message)
        earlier = next((r for r in self.results if r.key == message.key and r.attempts and not r.retryable), None)
        if self.deduplicate and earlier is not None:
            result = DeliveryResult(message.key, earlier.outcome, attempts=0, provider_ref=earlier.provider_ref)
        elif self.transient_failures > 0:
            self.transient_failures -= 1
            result = DeliveryResult(message.key, Outcome.FAILED, error="fake: transient failure", retryable=True)
        else:
            outcome = self.outcomes.get(message.address, self.default)
            error = None if outcome is Outcome.DELIVERED else f"fake: {outcome.value}"
            result = DeliveryResult(message.key, outcome, provider_ref=f"fake-{len(self.sent)}", error=error)
        self.results.append(result)
        return result

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> DeliveryResult:
        return parse_callback_json(body)

    def close(self) -> None:
        self.closed = True

    @property
    def keys(self) -> list[str]:
        """The idempotency keys sent, in order, duplicates included."""
        return [m.key for m in self.sent]
