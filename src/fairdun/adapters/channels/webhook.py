"""The webhook channel: a signed JSON POST to a gateway (SMS, voice, IM), with bounded retries.

Retry policy (docs/channels.md): connection errors, timeouts, 429 and 5xx are retried, up to ``max_attempts``
transmissions in all, waiting a "full jitter" exponential backoff between them (a uniform draw from
``[0, min(max_delay, base_delay * 2 ** (n - 1))]``, after Brooker, "Exponential Backoff and Jitter", AWS
Architecture Blog, 2015), or the server's ``Retry-After`` when that is longer (still capped at ``max_delay``).
Other 4xx and 3xx are final: sending the same request again would get the same answer. Retrying is safe because
every attempt carries the same ``Idempotency-Key``; each attempt is signed afresh with its own timestamp.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import partial

import httpx

from fairdun.adapters.channels.signing import DEFAULT_TOLERANCE, IDEMPOTENCY_HEADER, signature_headers, verify_signature
from fairdun.application.channels import DeliveryResult, MessageError, OutboundMessage, parse_callback_json
from fairdun.domain.contact import Outcome

USER_AGENT = "fairdun-webhook/1"
_SNIPPET = 200


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry. ``max_attempts`` counts every transmission, the first included."""

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise MessageError("retry.max_attempts", "must be at least 1")
        if self.base_delay < 0 or self.max_delay < self.base_delay:
            raise MessageError("retry.max_delay", "must be at least base_delay, and base_delay not negative")

    def delay(self, attempt: int, draw: float, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based); ``draw`` is uniform on [0, 1)."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        wait = draw * ceiling
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(wait, self.max_delay)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A ``Retry-After`` header (delta-seconds or an HTTP-date, RFC 9110 §10.2.3) as seconds from ``now``."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.utcoffset() is None:
        return None
    return max(0.0, (when - now).total_seconds())


def _accepted(message: OutboundMessage, response: httpx.Response, attempts: int) -> DeliveryResult:
    """A 2xx: the gateway took the message. Its JSON may name a reference and a synchronous outcome."""
    outcome, ref = Outcome.DELIVERED, None
    try:
        document = response.json()
    except (ValueError, UnicodeDecodeError):
        document = None
    if isinstance(document, dict):
        found = document.get("provider_ref", document.get("id"))
        ref = found if isinstance(found, str) else None
        named = document.get("outcome")
        if isinstance(named, str) and named in Outcome.__members__.values():
            outcome = Outcome(named)
    error = None if outcome is Outcome.DELIVERED else f"gateway reported {outcome.value}"
    return DeliveryResult(message.key, outcome, attempts=attempts, provider_ref=ref, error=error)


class WebhookChannel:
    """Posts each message as signed JSON to ``url``; reads the gateway's signed delivery callbacks.

    The clock, the sleep and the random draw are injected so tests neither wait nor guess. ``transport`` replaces
    httpx's network transport (``httpx.MockTransport`` in tests). Environment proxy settings are not used: the
    gateway's address is configuration, not ambient state.
    """

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        callback_tolerance: timedelta = DEFAULT_TOLERANCE,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        draw: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not secret:
            raise MessageError("webhook.secret", "must not be empty")
        self.url = url
        self.retry = retry or RetryPolicy()
        self._secret = secret
        self._tolerance = callback_tolerance
        self._clock = clock or partial(datetime.now, UTC)
        self._sleep = sleep
        self._draw = draw
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )

    def body(self, message: OutboundMessage) -> bytes:
        """The exact bytes posted (and signed): compact UTF-8 JSON with sorted keys."""
        document = message.to_document()
        return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def send(self, message: OutboundMessage) -> DeliveryResult:
        body = self.body(message)
        last_error = ""
        for attempt in range(1, self.retry.max_attempts + 1):
            now = self._clock()
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                IDEMPOTENCY_HEADER: message.key,
                **signature_headers(self._secret, body, now),
            }
            retry_after = None
            try:
                response = self._client.post(self.url, content=body, headers=headers)
            except httpx.TransportError as exc:  # connect, read, write, pool, protocol errors and timeouts
                last_error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            except httpx.RequestError as exc:  # e.g. an undecodable response: retrying would not change it
                return DeliveryResult(
                    message.key, Outcome.FAILED, attempts=attempt, error=f"{type(exc).__name__}: {exc}"
                )
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return _accepted(message, response, attempt)
                text = response.text[:_SNIPPET].strip()
                last_error = f"HTTP {status}: {text}" if text else f"HTTP {status}"
                if status != 429 and status < 500:
                    return DeliveryResult(message.key, Outcome.FAILED, attempts=attempt, error=last_error)
                retry_after = retry_after_seconds(response.headers.get("Retry-After"), now)
            if attempt < self.retry.max_attempts:
                self._sleep(self.retry.delay(attempt, self._draw(), retry_after))
        return DeliveryResult(
            message.key,
            Outcome.FAILED,
            attempts=self.retry.max_attempts,
            error=f"gave up after {self.retry.max_attempts} attempts; last: {last_error}",
            retryable=True,
        )

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> DeliveryResult:
        """A gateway's delivery report, signed like our requests (same secret, same headers), as a result."""
        verify_signature(self._secret, body, headers, now=self._clock(), tolerance=self._tolerance)
        return parse_callback_json(body)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> WebhookChannel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
