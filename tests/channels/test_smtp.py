"""The SMTP channel against a real SMTP server (aiosmtpd) on 127.0.0.1, plain, STARTTLS and implicit TLS."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email.message import EmailMessage, Message
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime

import pytest

from fairdun.adapters.channels import SmtpChannel, key_from_message_id, message_id
from fairdun.application.channels import CallbackError, MessageError
from fairdun.domain.contact import Channel, Outcome
from tests.channels.messages import EMAIL, SMS, T0, email
from tests.channels.servers import Certificate, MailHandler, MailServer, authenticator

SENDER = "催收通知中心 <notices@lender.example.com>"


def channel_for(server: MailServer, **options: object) -> SmtpChannel:
    return SmtpChannel("127.0.0.1", server.port, sender=SENDER, timeout=5, helo_name="fairdun.test", **options)  # type: ignore[arg-type]


def test_an_email_arrives_with_its_headers_and_chinese_subject_and_body(mail_server: MailServer) -> None:
    result = channel_for(mail_server).send(EMAIL)
    expected_id = message_id(EMAIL.key, "lender.example.com")
    assert (result.outcome, result.attempts, result.provider_ref) == (Outcome.DELIVERED, 1, expected_id)
    (envelope,) = mail_server.mail.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == ("notices@lender.example.com", ["li.na@example.com"])
    (received,) = mail_server.mail.messages
    assert received["Subject"] == "还款提醒：您的借款已逾期"
    assert received["From"] == SENDER
    assert received["To"] == "li.na@example.com"
    assert received["Message-ID"].strip() == expected_id  # a long id is folded onto its own line
    assert received["X-Fairdun-Idempotency-Key"] == EMAIL.key
    assert received["X-Fairdun-Template"] == "email.reminder.d3"
    assert received["Auto-Submitted"] == "auto-generated"
    assert parsedate_to_datetime(received["Date"]) == T0
    assert isinstance(received, EmailMessage)
    body = received.get_body()
    assert body is not None
    assert body.get_content_charset() == "utf-8"
    assert body.get_content().replace("\r\n", "\n") == EMAIL.body
    raw = bytes(envelope.original_content or b"")
    assert raw.isascii()  # headers encoded (RFC 2047), body transfer-encoded: safe for any relay


def test_a_resend_is_the_same_email(mail_server: MailServer) -> None:
    channel = channel_for(mail_server)
    channel.send(EMAIL)
    channel.send(EMAIL)
    first, second = (bytes(e.original_content or b"") for e in mail_server.mail.envelopes)
    assert first == second


def test_a_refused_recipient_is_a_bounce_not_an_exception(mail_server: MailServer) -> None:
    result = channel_for(mail_server).send(email(address="nobody@example.com"))
    assert (result.outcome, result.retryable) == (Outcome.BOUNCED, False)
    assert result.error == "recipient refused: 550 5.1.1 <nobody>: mailbox unavailable"
    assert mail_server.mail.envelopes == []


def test_a_temporarily_refused_recipient_is_a_retryable_failure(mail_server: MailServer) -> None:
    result = channel_for(mail_server).send(email(address="busy@example.com"))
    assert (result.outcome, result.retryable) == (Outcome.FAILED, True)
    assert result.error == "recipient refused: 450 4.2.1 mailbox busy, try again later"


def test_a_server_that_is_not_there_is_a_retryable_failure() -> None:
    with socket.socket() as probe:  # an ephemeral port that nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = SmtpChannel("127.0.0.1", port, sender=SENDER, timeout=5).send(EMAIL)
    assert (result.outcome, result.retryable) == (Outcome.FAILED, True)
    assert result.error is not None
    assert result.error.startswith("ConnectionRefusedError")


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (SMS, "the smtp channel sends e-mail only, not sms"),
        (email(address="+86 170 0000 0002"), "not an e-mail address: '+86 170 0000 0002'"),
        (email(subject="Bcc: victim@example.com\r\nSubject: x"), "cannot compose the e-mail"),
    ],
    ids=["not-email", "not-an-address", "header-injection"],
)
def test_a_message_that_cannot_be_an_email_fails_without_connecting(
    mail_server: MailServer, message: object, error: str
) -> None:
    result = channel_for(mail_server).send(message)  # type: ignore[arg-type]
    assert (result.outcome, result.attempts, result.retryable) == (Outcome.FAILED, 0, False)
    assert result.error is not None
    assert result.error.startswith(error)
    assert mail_server.mail.envelopes == []


def test_starttls_is_refused_by_a_server_without_it(mail_server: MailServer) -> None:
    result = channel_for(mail_server, tls="starttls").send(EMAIL)
    assert (result.outcome, result.retryable) == (Outcome.FAILED, False)
    assert result.error == "server does not support it: STARTTLS extension not supported by server."


def test_login_is_refused_by_a_server_without_auth(mail_server: MailServer) -> None:
    result = channel_for(mail_server, username="collector", password="s3cret").send(EMAIL)
    assert (result.outcome, result.retryable) == (Outcome.FAILED, False)
    assert result.error == "server does not support it: SMTP AUTH extension not supported by server."


@pytest.fixture
def tls_server(certificate: Certificate) -> Iterator[MailServer]:
    """STARTTLS offered, AUTH only after it (aiosmtpd's default, and the safe one)."""
    server = MailServer(MailHandler(), tls_context=certificate.server_context(), authenticator=authenticator)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_starttls_then_login_delivers(tls_server: MailServer, certificate: Certificate) -> None:
    channel = channel_for(
        tls_server, tls="starttls", username="collector", password="s3cret", ssl_context=certificate.client_context()
    )
    assert channel.send(EMAIL).outcome is Outcome.DELIVERED
    assert len(tls_server.mail.envelopes) == 1


def test_a_wrong_password_is_a_final_failure(tls_server: MailServer, certificate: Certificate) -> None:
    channel = channel_for(
        tls_server, tls="starttls", username="collector", password="wrong", ssl_context=certificate.client_context()
    )
    result = channel.send(EMAIL)
    assert (result.outcome, result.retryable) == (Outcome.FAILED, False)
    assert result.error is not None
    assert result.error.startswith("login refused: 535")
    assert tls_server.mail.envelopes == []


def test_an_untrusted_certificate_is_a_final_failure(tls_server: MailServer) -> None:
    result = channel_for(tls_server, tls="starttls").send(EMAIL)  # the system trust store knows no test cert
    assert (result.outcome, result.retryable) == (Outcome.FAILED, False)
    assert result.error is not None
    assert result.error.startswith("TLS certificate not trusted")


def test_implicit_tls_delivers(certificate: Certificate) -> None:
    server = MailServer(MailHandler(), ssl_context=certificate.server_context())
    server.start()
    try:
        result = channel_for(server, tls="implicit", ssl_context=certificate.client_context()).send(EMAIL)
    finally:
        server.stop()
    assert result.outcome is Outcome.DELIVERED
    assert len(server.mail.envelopes) == 1


def test_the_message_id_carries_the_key_reversibly() -> None:
    for key in (EMAIL.key, "k", "a:b/c?d=e&f#g", "~" * 200):
        mid = message_id(key, "lender.example.com")
        assert mid.startswith("<fd.")
        assert mid.endswith("@lender.example.com>")
        assert key_from_message_id(mid) == key
        assert key_from_message_id(mid.upper().replace("@LENDER.EXAMPLE.COM", "@x")) == key  # case-folded by a relay
    assert key_from_message_id("<CAF=abc@mail.example.com>") is None
    assert key_from_message_id("<fd.1@example.com>") is None


def test_the_sender_and_credentials_are_checked_when_configured() -> None:
    with pytest.raises(MessageError, match=r"smtp\.sender: must be an e-mail address"):
        SmtpChannel("127.0.0.1", sender="notices")
    with pytest.raises(MessageError, match=r"smtp\.password"):
        SmtpChannel("127.0.0.1", sender="n@example.com", username="collector")
    assert [SmtpChannel("h", sender="n@example.com", tls=t).port for t in ("none", "starttls", "implicit")] == [
        25,
        587,
        465,
    ]


def dsn(action: str, *, returned: str = "headers", status: str = "5.1.1") -> bytes:
    """A delivery status notification (RFC 3464) for EMAIL, as a receiving MTA would send it back."""
    original = SmtpChannel("h", sender=SENDER).compose(EMAIL)
    report = EmailMessage()
    report["From"] = "MAILER-DAEMON@mx.example.com"
    report["To"] = "notices@lender.example.com"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Message-ID"] = "<20240506021503.ABC@mx.example.com>"
    report.set_content("This is the mail system at host mx.example.com.\n")
    report.make_mixed()
    status_part = EmailMessage()
    status_part.set_type("message/delivery-status")
    per_message = Message()
    per_message["Reporting-MTA"] = "dns; mx.example.com"
    per_message["Arrival-Date"] = "Mon, 6 May 2024 02:15:00 +0000"
    per_recipient = Message()
    per_recipient["Final-Recipient"] = "rfc822; li.na@example.com"
    per_recipient["Action"] = action
    per_recipient["Status"] = status
    per_recipient["Diagnostic-Code"] = "smtp; 550 5.1.1 <li.na@example.com>: Recipient address rejected"
    per_recipient["Last-Attempt-Date"] = "Mon, 6 May 2024 02:15:03 +0000"
    status_part.set_payload([per_message, per_recipient])
    report.attach(status_part)
    if returned == "headers":
        headers = EmailMessage()
        headers.set_type("text/rfc822-headers")
        headers.set_payload(original.as_bytes().partition(b"\r\n\r\n")[0].decode("ascii") + "\n")
        report.attach(headers)
    elif returned == "message":
        report.add_attachment(original)
    report.replace_header("Content-Type", 'multipart/report; report-type="delivery-status"')
    return report.as_bytes(policy=default_policy)


@pytest.mark.parametrize("returned", ["headers", "message"])
def test_a_bounce_notification_comes_back_as_a_bounced_result(returned: str) -> None:
    result = SmtpChannel("h", sender=SENDER).parse_callback(dsn("failed", returned=returned), {})
    assert (result.key, result.outcome, result.attempts) == (EMAIL.key, Outcome.BOUNCED, 0)
    assert result.error == "smtp; 550 5.1.1 <li.na@example.com>: Recipient address rejected"
    assert result.at is not None
    assert result.at.isoformat() == "2024-05-06T02:15:03+00:00"
    assert result.provider_ref == "<20240506021503.ABC@mx.example.com>"


def test_a_success_notification_is_a_delivery_and_a_delay_is_not_final() -> None:
    channel = SmtpChannel("h", sender=SENDER)
    delivered = channel.parse_callback(dsn("delivered", status="2.0.0"), {})
    assert (delivered.outcome, delivered.error) == (Outcome.DELIVERED, None)
    with pytest.raises(CallbackError, match="delayed is not a final outcome"):
        channel.parse_callback(dsn("delayed", status="4.4.1"), {})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"Subject: hello\r\n\r\nnot a report\r\n", "callback"),
        (dsn("failed", returned="none"), "callback.Message-ID"),
        (dsn("exploded"), "callback.Action"),
    ],
)
def test_a_notification_that_is_not_about_our_message_is_refused(body: bytes, field: str) -> None:
    with pytest.raises(CallbackError) as caught:
        SmtpChannel("h", sender=SENDER).parse_callback(body, {})
    assert caught.value.field == field


def test_only_email_messages_are_accepted_by_channel_kind() -> None:
    assert {c for c in Channel if c is Channel.EMAIL} == {EMAIL.channel}
