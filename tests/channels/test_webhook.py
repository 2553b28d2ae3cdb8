"""The webhook channel: signed POSTs, bounded retries with backoff, signed callbacks.

Most behaviour is shown against httpx.MockTransport, where each answer is spelled out; what crosses a real
socket (signature over the bytes on the wire, refused connections, timeouts) against a real local server.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from fairdun.adapters.channels import IDEMPOTENCY_HEADER, RetryPolicy, WebhookChannel, signature_headers
from fairdun.adapters.channels.webhook import retry_after_seconds
from fairdun.application.channels import DeliveryResult, SignatureError
from fairdun.domain.contact import Outcome
from tests.channels.messages import SMS, T0, FakeClock, sms
from tests.channels.servers import Gateway

SECRET = b"gateway-shared-secret-0001"
URL = "https://sms-gateway.example.com/v1/messages"
Answer = httpx.Response | Exception


class Script:
    """A MockTransport handler that gives the scripted answers in turn and keeps the requests."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def channel(clock: FakeClock, sleeps: list[float]) -> Iterator[Callable[..., WebhookChannel]]:
    """Makes channels on a fake clock whose sleep only advances the clock; draws are 1.0 (the jitter ceiling)."""
    made: list[WebhookChannel] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds)

    def make(script: Script, **options: object) -> WebhookChannel:
        options.setdefault("draw", lambda: 1.0)
        made.append(
            WebhookChannel(
                URL,
                SECRET,
                clock=clock,
                sleep=sleep,
                transport=httpx.MockTransport(script),
                **options,  # type: ignore[arg-type]
            )
        )
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_a_message_is_posted_as_signed_utf8_json_with_its_idempotency_key(
    channel: Callable[..., WebhookChannel],
) -> None:
    script = Script(httpx.Response(202, json={"id": "gw-77"}))
    result = channel(script).send(SMS)
    assert result == DeliveryResult(SMS.key, Outcome.DELIVERED, attempts=1, provider_ref="gw-77")
    (request,) = script.requests
    assert (request.method, str(request.url)) == ("POST", URL)
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.headers[IDEMPOTENCY_HEADER] == SMS.key
    assert "逾期" in request.content.decode("utf-8")  # UTF-8 on the wire, not \\u escapes
    assert json.loads(request.content) == SMS.to_document()
    expected = signature_headers(SECRET, request.content, T0)
    assert {k: request.headers[k] for k in expected} == expected


def test_a_gateway_may_answer_an_outcome_and_reference_synchronously(channel: Callable[..., WebhookChannel]) -> None:
    script = Script(httpx.Response(200, json={"outcome": "failed", "provider_ref": "gw-1"}))
    result = channel(script).send(SMS)
    assert (result.outcome, result.provider_ref, result.error) == (Outcome.FAILED, "gw-1", "gateway reported failed")
    plain = channel(Script(httpx.Response(204))).send(SMS)
    assert (plain.outcome, plain.provider_ref) == (Outcome.DELIVERED, None)


def test_5xx_is_retried_with_exponential_backoff_and_the_same_key(
    channel: Callable[..., WebhookChannel], sleeps: list[float]
) -> None:
    script = Script(httpx.Response(503), httpx.Response(502), httpx.Response(202))
    result = channel(script).send(SMS)
    assert (result.outcome, result.attempts, result.retryable) == (Outcome.DELIVERED, 3, False)
    assert sleeps == [0.5, 1.0]
    assert {r.headers[IDEMPOTENCY_HEADER] for r in script.requests} == {SMS.key}
    # each attempt is signed afresh, at its own time, over the same bytes
    times = [int(r.headers["X-Fairdun-Timestamp"]) - int(T0.timestamp()) for r in script.requests]
    assert times == [0, 0, 1]
    assert len({r.content for r in script.requests}) == 1


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("connection refused"), httpx.ReadTimeout("timed out"), httpx.RemoteProtocolError("reset")],
)
def test_connection_errors_and_timeouts_are_retried(channel: Callable[..., WebhookChannel], error: Exception) -> None:
    result = channel(Script(error, error, httpx.Response(202))).send(SMS)
    assert (result.outcome, result.attempts) == (Outcome.DELIVERED, 3)


def test_attempts_are_bounded_and_the_failure_is_retryable_later(
    channel: Callable[..., WebhookChannel], sleeps: list[float]
) -> None:
    script = Script(httpx.Response(500, text="upstream down"))
    result = channel(script).send(SMS)
    assert (result.outcome, result.attempts, result.retryable) == (Outcome.FAILED, 4, True)
    assert result.error == "gave up after 4 attempts; last: HTTP 500: upstream down"
    assert len(script.requests) == 4
    assert sleeps == [0.5, 1.0, 2.0]  # no sleep after the last attempt


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
def test_a_4xx_is_final_and_never_retried(
    channel: Callable[..., WebhookChannel], sleeps: list[float], status: int
) -> None:
    script = Script(httpx.Response(status, json={"error": "invalid number"}))
    result = channel(script).send(SMS)
    assert (result.outcome, result.attempts, result.retryable) == (Outcome.FAILED, 1, False)
    assert result.error == f'HTTP {status}: {{"error":"invalid number"}}'
    assert (len(script.requests), sleeps) == (1, [])


def test_a_redirect_is_not_followed(channel: Callable[..., WebhookChannel]) -> None:
    script = Script(httpx.Response(307, headers={"Location": "https://elsewhere.example.com/"}))
    result = channel(script).send(SMS)
    assert (result.outcome, result.attempts, result.retryable, result.error) == (Outcome.FAILED, 1, False, "HTTP 307")


def test_429_is_retried_after_the_servers_retry_after(
    channel: Callable[..., WebhookChannel], sleeps: list[float]
) -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(202))
    assert channel(script).send(SMS).attempts == 2
    assert sleeps == [7.0]


def test_an_error_that_retrying_cannot_fix_is_final(channel: Callable[..., WebhookChannel]) -> None:
    result = channel(Script(httpx.DecodingError("bad gzip"))).send(SMS)
    assert (result.outcome, result.attempts, result.retryable) == (Outcome.FAILED, 1, False)
    assert result.error == "DecodingError: bad gzip"


def test_the_backoff_is_full_jitter_under_a_cap() -> None:
    policy = RetryPolicy(max_attempts=8, base_delay=1.0, max_delay=5.0)
    assert [policy.delay(n, 1.0) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert [policy.delay(n, 0.25) for n in range(1, 4)] == [0.25, 0.5, 1.0]
    assert policy.delay(1, 0.0, retry_after=3.0) == 3.0
    assert policy.delay(1, 0.0, retry_after=3600.0) == 5.0  # a server cannot park us for an hour


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds("120", T0) == 120.0
    assert retry_after_seconds(format_datetime(T0 + timedelta(seconds=30), usegmt=True), T0) == 30.0
    assert retry_after_seconds(format_datetime(T0 - timedelta(seconds=30), usegmt=True), T0) == 0.0
    assert retry_after_seconds("soon", T0) is None
    assert retry_after_seconds(None, T0) is None


def test_a_signed_callback_comes_back_as_a_result(channel: Callable[..., WebhookChannel], clock: FakeClock) -> None:
    webhook = channel(Script(httpx.Response(202)))
    report = DeliveryResult(SMS.key, Outcome.BOUNCED, attempts=0, provider_ref="gw-77", error="absent subscriber")
    body = json.dumps(report.to_callback()).encode()
    headers = signature_headers(SECRET, body, clock.now - timedelta(seconds=20))
    assert webhook.parse_callback(body, headers) == report


def test_an_unsigned_tampered_or_stale_callback_is_refused(
    channel: Callable[..., WebhookChannel], clock: FakeClock
) -> None:
    webhook = channel(Script(httpx.Response(202)))
    body = b'{"idempotency_key": "k-1", "outcome": "delivered"}'
    with pytest.raises(SignatureError, match="missing"):
        webhook.parse_callback(body, {})
    with pytest.raises(SignatureError, match="does not match"):
        webhook.parse_callback(body.replace(b"delivered", b"bounced"), signature_headers(SECRET, body, clock.now))
    with pytest.raises(SignatureError, match="outside"):
        webhook.parse_callback(body, signature_headers(SECRET, body, clock.now - timedelta(minutes=6)))


def test_closing_twice_is_harmless() -> None:
    with WebhookChannel(URL, SECRET, transport=httpx.MockTransport(Script(httpx.Response(202)))) as webhook:
        pass
    webhook.close()


# A real server on 127.0.0.1: the bytes on the wire, refused connections and timeouts.


def test_a_real_gateway_verifies_every_attempt_and_fails_the_first_two() -> None:
    sleeps: list[float] = []
    with Gateway(SECRET, fail_first=2) as gateway, WebhookChannel(gateway.url, SECRET, sleep=sleeps.append) as hook:
        result = hook.send(sms(body="王芳您好：请于今日18:00前还款。"))
    assert (result.outcome, result.attempts, result.provider_ref) == (Outcome.DELIVERED, 3, "gw-3")
    assert [r.signature_error for r in gateway.requests] == [None, None, None]
    assert {r.headers[IDEMPOTENCY_HEADER] for r in gateway.requests} == {SMS.key}
    assert gateway.requests[-1].document["body"] == "王芳您好：请于今日18:00前还款。"
    assert len(sleeps) == 2
    assert all(0 <= s <= cap for s, cap in zip(sleeps, [0.5, 1.0], strict=True))


def test_a_real_gateway_refuses_a_wrong_secret_and_it_is_not_retried() -> None:
    with Gateway(SECRET) as gateway, WebhookChannel(gateway.url, b"not-the-shared-secret") as hook:
        result = hook.send(SMS)
    assert (result.outcome, result.attempts, result.retryable) == (Outcome.FAILED, 1, False)
    assert result.error is not None
    assert result.error.startswith("HTTP 401")
    assert gateway.requests[0].signature_error == "X-Fairdun-Signature: does not match the body and timestamp"


def test_a_gateway_answering_429_is_retried_until_it_accepts() -> None:
    with (
        Gateway(SECRET, fail_first=1, fail_status=429) as gateway,
        WebhookChannel(gateway.url, SECRET, sleep=lambda s: None) as hook,
    ):
        assert hook.send(SMS).attempts == 2


def test_a_refused_connection_is_retried_then_reported_as_retryable() -> None:
    with socket.socket() as probe:  # an ephemeral port that nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    retry = RetryPolicy(max_attempts=3)
    with WebhookChannel(f"http://127.0.0.1:{port}/", SECRET, retry=retry, sleep=sleeps.append) as hook:
        result = hook.send(SMS)
    assert (result.outcome, result.attempts, result.retryable) == (Outcome.FAILED, 3, True)
    assert result.error is not None
    assert "ConnectError" in result.error
    assert len(sleeps) == 2


def test_a_gateway_that_does_not_answer_in_time_is_a_timeout() -> None:
    retry = RetryPolicy(max_attempts=2)
    with (
        Gateway(SECRET, hold=threading.Event()) as gateway,
        WebhookChannel(gateway.url, SECRET, timeout=0.05, retry=retry, sleep=lambda s: None) as hook,
    ):
        result = hook.send(SMS)
    assert (result.outcome, result.attempts, result.retryable) == (Outcome.FAILED, 2, True)
    assert result.error is not None
    assert "ReadTimeout" in result.error
    assert len(gateway.requests) == 2


def test_the_real_clock_is_the_default() -> None:
    with Gateway(SECRET) as gateway, WebhookChannel(gateway.url, SECRET) as hook:
        hook.send(SMS)
    stamp = int(gateway.requests[0].headers["X-Fairdun-Timestamp"])
    assert abs(stamp - datetime.now(UTC).timestamp()) < 60
