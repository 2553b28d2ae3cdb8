"""The port's values, the callback format every adapter reads, and the behavioural fake."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from fairdun.application.channels import (
    CallbackError,
    DeliveryResult,
    FakeChannel,
    MessageError,
    OutboundMessage,
    contact_event,
    parse_callback_json,
)
from fairdun.domain.contact import Direction, Outcome
from tests.channels.messages import SMS, T0, sms


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"key": ""}, "message.key"),
        ({"key": "has space"}, "message.key"),
        ({"key": "x" * 201}, "message.key"),
        ({"key": "键"}, "message.key"),
        ({"channel": "sms"}, "message.channel"),
        ({"address": "  "}, "message.address"),
        ({"created_at": datetime(2024, 5, 6, 10, 0)}, "message.created_at"),  # noqa: DTZ001 - the point of the test
    ],
)
def test_an_invalid_message_is_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(MessageError) as caught:
        replace(SMS, **changes)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_a_message_document_has_stable_field_names_and_iso_instants() -> None:
    assert SMS.to_document() == {
        "idempotency_key": "cycle:2024-05-06:D-0001:sms:1",
        "channel": "sms",
        "to": "+86 170 0000 0001",
        "party": "P-0001",
        "debt": "D-0001",
        "subject": "",
        "body": "张伟您好：您的借款已逾期3天，请尽快还款。",
        "template": "sms.reminder.d3",
        "created_at": "2024-05-06T02:00:00+00:00",
    }


def test_a_result_round_trips_through_its_callback_document() -> None:
    result = DeliveryResult(
        "k-1", Outcome.BOUNCED, attempts=0, provider_ref="gw-9", error="number not in service", at=T0
    )
    body = json.dumps(result.to_callback()).encode()
    assert parse_callback_json(body) == result


def test_a_minimal_callback_needs_only_the_key_and_the_outcome() -> None:
    result = parse_callback_json(b'{"idempotency_key": "k-1", "outcome": "delivered"}')
    assert result == DeliveryResult("k-1", Outcome.DELIVERED, attempts=0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "callback"),
        (b"\xff\xfe", "callback"),
        (b"[]", "callback"),
        (b'{"outcome": "delivered"}', "callback.idempotency_key"),
        (b'{"idempotency_key": "k", "outcome": "read"}', "callback.outcome"),
        (b'{"idempotency_key": "k", "outcome": ["delivered"]}', "callback.outcome"),
        (b'{"idempotency_key": "k", "outcome": "failed", "error": 5}', "callback.error"),
        (b'{"idempotency_key": "k", "outcome": "failed", "retryable": "yes"}', "callback.retryable"),
        (b'{"idempotency_key": "k", "outcome": "delivered", "at": "2024-05-06T10:00:00"}', "callback.at"),
        (b'{"idempotency_key": "k", "outcome": "delivered", "at": "yesterday"}', "callback.at"),
        (b'{"idempotency_key": "k", "outcome": "delivered", "status": "ok"}', "callback.status"),
    ],
)
def test_a_malformed_callback_is_refused_naming_the_field(body: bytes, field: str) -> None:
    with pytest.raises(CallbackError) as caught:
        parse_callback_json(body)
    assert caught.value.field == field


def test_a_result_rejects_negative_attempts_and_naive_instants() -> None:
    with pytest.raises(MessageError, match=r"result\.attempts"):
        DeliveryResult("k", Outcome.FAILED, attempts=-1)
    with pytest.raises(MessageError, match=r"result\.at"):
        DeliveryResult("k", Outcome.FAILED, at=datetime(2024, 5, 6))  # noqa: DTZ001 - the point of the test


def test_the_contact_event_of_a_result_prefers_the_providers_time() -> None:
    later = T0 + timedelta(minutes=3)
    event = contact_event(SMS, DeliveryResult(SMS.key, Outcome.DELIVERED, at=later), at=T0)
    assert (event.at, event.debt, event.party, event.address) == (later, "D-0001", "P-0001", SMS.address)
    assert (event.channel, event.direction, event.outcome) == (SMS.channel, Direction.OUTBOUND, Outcome.DELIVERED)
    assert contact_event(SMS, DeliveryResult(SMS.key, Outcome.FAILED), at=T0).at == T0


def test_the_fake_records_every_send_including_duplicates() -> None:
    fake = FakeChannel()
    first = fake.send(sms("k-1"))
    fake.send(sms("k-1"))
    assert fake.keys == ["k-1", "k-1"]
    assert first.outcome is Outcome.DELIVERED
    assert first.attempts == 1


def test_the_fake_answers_configured_outcomes_by_address() -> None:
    fake = FakeChannel(outcomes={"+86 170 0000 0009": Outcome.BOUNCED})
    assert fake.send(sms("k-1", address="+86 170 0000 0009")).outcome is Outcome.BOUNCED
    assert fake.send(sms("k-2")).outcome is Outcome.DELIVERED
    assert FakeChannel(default=Outcome.FAILED).send(sms()).error == "fake: failed"


def test_the_fake_can_fail_transiently_then_recover() -> None:
    fake = FakeChannel(transient_failures=2)
    outcomes = [(r.outcome, r.retryable) for r in (fake.send(sms()) for _ in range(3))]
    assert outcomes == [(Outcome.FAILED, True), (Outcome.FAILED, True), (Outcome.DELIVERED, False)]


def test_a_deduplicating_fake_answers_a_sent_key_without_sending() -> None:
    fake = FakeChannel(deduplicate=True, transient_failures=1)
    assert fake.send(sms()).retryable
    assert fake.send(sms()).attempts == 1  # a transient failure is not a send to remember
    again = fake.send(sms())
    assert (again.outcome, again.attempts) == (Outcome.DELIVERED, 0)


def test_the_fake_can_simulate_a_crash_mid_send() -> None:
    def crash(message: OutboundMessage) -> None:
        raise ConnectionResetError(message.key)

    fake = FakeChannel(on_send=crash)
    with pytest.raises(ConnectionResetError):
        fake.send(sms())
    assert fake.keys == [SMS.key]
    assert fake.results == []


def test_the_fake_reads_callbacks_and_refuses_use_after_close() -> None:
    fake = FakeChannel()
    report = DeliveryResult(SMS.key, Outcome.BOUNCED, attempts=0, error="absent subscriber")
    assert fake.parse_callback(json.dumps(report.to_callback()).encode(), {}) == report
    fake.close()
    with pytest.raises(RuntimeError):
        fake.send(sms())
