"""The signature scheme: HMAC-SHA256 over "<timestamp>." + the exact body bytes, with a replay window."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fairdun.adapters.channels import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookChannel,
    sign,
    signature_headers,
    verify_signature,
)
from fairdun.application.channels import SignatureError
from tests.channels.messages import SMS, T0

SECRET = b"fairdun-example-secret-0001"
BODY = b'{"idempotency_key":"k-0001","outcome":"delivered"}'
DOCS = Path(__file__).parents[2] / "docs" / "channels.md"


def test_the_signature_is_an_hmac_of_the_timestamp_a_dot_and_the_body() -> None:
    expected = hmac.new(SECRET, b"1714960800." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, 1714960800) == f"sha256={expected}"
    assert signature_headers(SECRET, BODY, T0) == {
        TIMESTAMP_HEADER: "1714960800",
        SIGNATURE_HEADER: f"sha256={expected}",
    }


def test_a_good_signature_verifies_whatever_the_header_case() -> None:
    headers = {k.lower(): v for k, v in signature_headers(SECRET, BODY, T0).items()}
    verify_signature(SECRET, BODY, headers, now=T0 + timedelta(seconds=300))


@pytest.mark.parametrize(
    ("secret", "body", "now", "problem"),
    [
        (SECRET, BODY + b" ", T0, "does not match"),
        (SECRET, BODY.replace(b"delivered", b"bounced"), T0, "does not match"),
        (b"another-secret-of-16+", BODY, T0, "does not match"),
        (SECRET, BODY, T0 + timedelta(seconds=301), "outside 300 s"),
        (SECRET, BODY, T0 - timedelta(seconds=301), "outside 300 s"),
    ],
    ids=["body-changed", "outcome-changed", "other-secret", "replayed-late", "from-the-future"],
)
def test_a_changed_body_another_secret_or_an_old_timestamp_fails(
    secret: bytes, body: bytes, now: datetime, problem: str
) -> None:
    with pytest.raises(SignatureError, match=problem):
        verify_signature(secret, body, signature_headers(SECRET, BODY, T0), now=now)


def test_a_timestamp_cannot_be_swapped_without_breaking_the_signature() -> None:
    headers = signature_headers(SECRET, BODY, T0)
    headers[TIMESTAMP_HEADER] = str(int(T0.timestamp()) + 60)  # a replayer refreshing the timestamp
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(SECRET, BODY, headers, now=T0 + timedelta(seconds=60))


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ({SIGNATURE_HEADER: "sha256=00"}, TIMESTAMP_HEADER),
        ({TIMESTAMP_HEADER: "1714960800"}, SIGNATURE_HEADER),
        ({TIMESTAMP_HEADER: "2024-05-06", SIGNATURE_HEADER: "sha256=00"}, TIMESTAMP_HEADER),
        ({TIMESTAMP_HEADER: "9" * 40, SIGNATURE_HEADER: "sha256=00"}, TIMESTAMP_HEADER),
        ({TIMESTAMP_HEADER: "1714960800", SIGNATURE_HEADER: "sha256=签名"}, SIGNATURE_HEADER),
    ],
)
def test_missing_or_malformed_headers_fail_naming_the_header(headers: dict[str, str], field: str) -> None:
    with pytest.raises(SignatureError) as caught:
        verify_signature(SECRET, BODY, headers, now=T0)
    assert caught.value.field == field


def test_the_worked_example_in_the_docs_is_right() -> None:
    """docs/channels.md shows a body, a secret, a timestamp and the signature; recompute them here."""
    text = DOCS.read_text(encoding="utf-8")
    channel = WebhookChannel("http://127.0.0.1/", SECRET)
    try:
        body = channel.body(replace(SMS, key="k-0001", body="请于今日还款。", template=None))
    finally:
        channel.close()
    timestamp = int(datetime(2024, 5, 6, 2, 0, tzinfo=UTC).timestamp())
    assert body.decode("utf-8") in text
    assert f"{TIMESTAMP_HEADER}: {timestamp}" in text
    assert f"{SIGNATURE_HEADER}: {sign(SECRET, body, timestamp)}" in text
    assert f"`{SECRET.decode()}`" in text
    assert f"{len(body)} bytes" in text
    assert re.search(r"openssl dgst -sha256 -hmac", text)
