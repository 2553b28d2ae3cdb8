"""build_channel: a channel from configuration, with errors that name the field; every option documented."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from fairdun.adapters.channels import (
    KINDS,
    ChannelConfigError,
    LogChannel,
    SmtpChannel,
    WebhookChannel,
    build_channel,
)
from fairdun.adapters.channels.factory import OPTIONS
from fairdun.domain.contact import Outcome
from tests.channels.messages import SMS, FakeClock

DOCS = Path(__file__).parents[2] / "docs" / "channels.md"
SECRET = "0123456789abcdef0123456789abcdef"
WEBHOOK = {"url": "https://sms-gateway.example.com/v1/messages", "secret": SECRET}
SMTP = {"host": "smtp.example.com", "sender": "notices@example.com"}


def test_each_kind_builds_its_adapter(tmp_path: Path) -> None:
    log = build_channel("log", {"path": str(tmp_path / "out.jsonl")})
    webhook = build_channel("webhook", WEBHOOK)
    smtp = build_channel("smtp", SMTP)
    try:
        assert isinstance(log, LogChannel)
        assert isinstance(webhook, WebhookChannel)
        assert isinstance(smtp, SmtpChannel)
        assert (webhook.retry.max_attempts, webhook.retry.base_delay, webhook.retry.max_delay) == (4, 0.5, 30.0)
        assert (smtp.port, smtp.tls, smtp.domain) == (25, "none", "example.com")
    finally:
        for channel in (log, webhook, smtp):
            channel.close()


def test_options_reach_the_adapter(clock: FakeClock) -> None:
    sleeps: list[float] = []
    answers = iter([httpx.Response(503), httpx.Response(503), httpx.Response(202)])
    options = {**WEBHOOK, "max_attempts": 2, "backoff_base": 2, "backoff_max": 3, "timeout": 1.5}
    channel = build_channel(
        "webhook", options, clock=clock, sleep=sleeps.append, transport=httpx.MockTransport(lambda r: next(answers))
    )
    try:
        result = channel.send(SMS)
    finally:
        channel.close()
    assert (result.outcome, result.attempts) == (Outcome.FAILED, 2)
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 2
    smtp = build_channel("smtp", {**SMTP, "tls": "starttls", "username": "u", "password": "p", "port": 2525})
    assert isinstance(smtp, SmtpChannel)
    assert (smtp.port, smtp.tls) == (2525, "starttls")
    assert isinstance(build_channel("smtp", {**SMTP, "tls": "implicit"}), SmtpChannel)


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("fax", {}, "channel.kind: must be one of log, smtp, webhook, got 'fax'"),
        ("log", {}, "log.path: is required"),
        ("log", {"path": ""}, "log.path: must be a non-empty string"),
        ("log", {"path": "a", "rotate": True}, "log.rotate: unknown option (expected one of path)"),
        ("webhook", {"secret": SECRET}, "webhook.url: is required"),
        ("webhook", {**WEBHOOK, "url": "ftp://gw.example.com/"}, "webhook.url: must be an http(s) URL"),
        ("webhook", {**WEBHOOK, "url": "gw.example.com/sms"}, "webhook.url: must be an http(s) URL"),
        ("webhook", {**WEBHOOK, "url": "https://"}, "webhook.url: must be an http(s) URL"),
        ("webhook", {**WEBHOOK, "url": "https://u:p@gw.example.com/"}, "webhook.url: must not carry credentials"),
        ("webhook", {"url": WEBHOOK["url"]}, "webhook.secret: is required"),
        ("webhook", {**WEBHOOK, "secret": "short"}, "webhook.secret: must be at least 16 bytes"),
        ("webhook", {**WEBHOOK, "secret": 1234567890123456789}, "webhook.secret: must be a non-empty string"),
        ("webhook", {**WEBHOOK, "max_attempts": 0}, "webhook.max_attempts: must be an integer from 1 to 10"),
        ("webhook", {**WEBHOOK, "max_attempts": 2.0}, "webhook.max_attempts: must be an integer from 1 to 10"),
        ("webhook", {**WEBHOOK, "max_attempts": True}, "webhook.max_attempts: must be an integer from 1 to 10"),
        ("webhook", {**WEBHOOK, "timeout": 0}, "webhook.timeout: must be a number from 0.001 to 300"),
        ("webhook", {**WEBHOOK, "timeout": "10s"}, "webhook.timeout: must be a number from 0.001 to 300"),
        ("webhook", {**WEBHOOK, "backoff_base": 5, "backoff_max": 1}, "webhook.backoff_max: must be a number from 5"),
        ("webhook", {**WEBHOOK, "retries": 3}, "webhook.retries: unknown option (expected one of url, secret"),
        ("smtp", {"sender": "n@example.com"}, "smtp.host: is required"),
        ("smtp", {"host": "smtp.example.com"}, "smtp.sender: is required"),
        ("smtp", {**SMTP, "sender": "notices"}, "smtp.sender: must be an e-mail address, got 'notices'"),
        ("smtp", {**SMTP, "port": 0}, "smtp.port: must be an integer from 1 to 65535"),
        ("smtp", {**SMTP, "port": "25"}, "smtp.port: must be an integer from 1 to 65535"),
        ("smtp", {**SMTP, "tls": "ssl"}, "smtp.tls: must be one of none, starttls, implicit"),
        ("smtp", {**SMTP, "tls": True}, "smtp.tls: must be one of none, starttls, implicit"),
        ("smtp", {**SMTP, "username": "u"}, "smtp.password: username and password go together"),
        ("smtp", {**SMTP, "password": "p"}, "smtp.username: username and password go together"),
        ("smtp", {**SMTP, "starttls": True}, "smtp.starttls: unknown option"),
    ],
)
def test_a_bad_option_is_refused_naming_the_field(kind: str, options: dict[str, object], message: str) -> None:
    with pytest.raises(ChannelConfigError) as caught:
        build_channel(kind, options)
    assert str(caught.value).startswith(message)
    assert caught.value.field == message.partition(":")[0]


def test_every_kind_and_option_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert [k for k in KINDS if f"`{k}`" not in text] == []
    assert [f"{k}.{o}" for k in KINDS for o in OPTIONS[k] if f"`{k}.{o}`" not in text] == []
