"""The SMTP channel: e-mail through a real mail server (smtplib), plain, STARTTLS or implicit TLS, login optional.

Each message is composed deterministically from the outbound message: ``Message-ID`` is derived from the
idempotency key (:func:`message_id`), ``Date`` is the message's ``created_at``, so a resend is the same e-mail and
mail systems that collapse duplicates by Message-ID can do so. The key also travels in
``X-Fairdun-Idempotency-Key``, and ``Auto-Submitted: auto-generated`` (RFC 3834) keeps vacation responders quiet.

What the server answers becomes a result, never an exception: a recipient refused with 5xx is ``bounced``; any
4xx is ``failed`` and retryable; a lost connection is ``failed`` and retryable; a refused login, a server
without STARTTLS or a certificate that does not verify is ``failed`` and not retryable (configuration, not luck).
Bounces that arrive later as delivery status notifications (RFC 3464) are read by :meth:`SmtpChannel.parse_callback`.
"""

from __future__ import annotations

import base64
import binascii
import email.policy
import re
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage, Message
from email.parser import BytesParser, HeaderParser
from email.utils import format_datetime, parseaddr, parsedate_to_datetime
from typing import Literal

from fairdun.application.channels import CallbackError, DeliveryResult, MessageError, OutboundMessage
from fairdun.domain.contact import Channel as ContactChannel
from fairdun.domain.contact import Outcome

TlsMode = Literal["none", "starttls", "implicit"]
TLS_MODES: tuple[TlsMode, ...] = ("none", "starttls", "implicit")
DEFAULT_PORTS: dict[TlsMode, int] = {"none": 25, "starttls": 587, "implicit": 465}
KEY_HEADER = "X-Fairdun-Idempotency-Key"
_ADDRESS = re.compile(r"[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+")
_MESSAGE_ID = re.compile(r"<fd\.([a-z2-7]+)@[^>]+>", re.IGNORECASE)


def message_id(key: str, domain: str) -> str:
    """``<fd.<base32 of the key, lower case, unpadded>@domain>``: reversible, and valid whatever the key holds."""
    encoded = base64.b32encode(key.encode("ascii")).decode("ascii").rstrip("=").lower()
    return f"<fd.{encoded}@{domain}>"


def key_from_message_id(value: str) -> str | None:
    """The idempotency key a :func:`message_id` was made from; None for any other Message-ID."""
    found = _MESSAGE_ID.search(value)
    if found is None:
        return None
    encoded = found.group(1).upper()
    try:
        return base64.b32decode(encoded + "=" * (-len(encoded) % 8)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return None


def _text(reply: bytes | str) -> str:
    return (reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply).strip()


def _from_reply(key: str, code: int, reply: bytes | str, what: str, *, bounce: bool = False) -> DeliveryResult:
    """An SMTP reply code as a result: 4xx is transient (retryable); 5xx is permanent (a bounce, for recipients)."""
    error = f"{what}: {code} {_text(reply)}"
    if 400 <= code < 500:
        return DeliveryResult(key, Outcome.FAILED, error=error, retryable=True)
    return DeliveryResult(key, Outcome.BOUNCED if bounce else Outcome.FAILED, error=error)


class SmtpChannel:
    """Sends e-mail messages (``Channel.EMAIL``) through the server at ``host:port``; one connection per send.

    ``sender`` is the From header (``"催收中心 <notices@example.com>"`` or a bare address); the envelope sender is
    its address. ``ssl_context`` defaults to the system's trust store with hostname checking.
    """

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        sender: str,
        tls: TlsMode = "none",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        message_id_domain: str | None = None,
        helo_name: str | None = None,
    ) -> None:
        envelope = parseaddr(sender)[1]
        if not _ADDRESS.fullmatch(envelope):
            raise MessageError("smtp.sender", f"must be an e-mail address, got {sender!r}")
        if (username is None) != (password is None):
            raise MessageError("smtp.password", "username and password go together")
        self.host = host
        self.port = DEFAULT_PORTS[tls] if port is None else port
        self.sender = sender
        self.envelope_sender = envelope
        self.tls: TlsMode = tls
        self.domain = message_id_domain or envelope.rpartition("@")[2]
        self._username = username
        self._password = password
        self._timeout = timeout
        self._ssl_context = ssl_context
        self._helo_name = helo_name

    def compose(self, message: OutboundMessage) -> EmailMessage:
        """The e-mail for ``message``; ValueError if a header would be malformed (e.g. a line break in it)."""
        mail = EmailMessage(policy=email.policy.SMTP)
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail["Date"] = format_datetime(message.created_at)
        mail["Message-ID"] = message_id(message.key, self.domain)
        mail[KEY_HEADER] = message.key
        if message.template:
            mail["X-Fairdun-Template"] = message.template
        mail["Auto-Submitted"] = "auto-generated"
        # base64, not 8bit: a relay without 8BITMIME (RFC 6152) must not receive raw UTF-8 bytes
        mail.set_content(message.body, charset="utf-8", cte="base64")
        return mail

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "implicit":
            context = self._ssl_context or ssl.create_default_context()
            return smtplib.SMTP_SSL(
                self.host, self.port, local_hostname=self._helo_name, timeout=self._timeout, context=context
            )
        return smtplib.SMTP(self.host, self.port, local_hostname=self._helo_name, timeout=self._timeout)

    def send(self, message: OutboundMessage) -> DeliveryResult:
        key = message.key
        if message.channel is not ContactChannel.EMAIL:
            error = f"the smtp channel sends e-mail only, not {message.channel.value}"
            return DeliveryResult(key, Outcome.FAILED, attempts=0, error=error)
        if not _ADDRESS.fullmatch(message.address):
            return DeliveryResult(key, Outcome.FAILED, attempts=0, error=f"not an e-mail address: {message.address!r}")
        try:
            mail = self.compose(message)
        except ValueError as exc:
            return DeliveryResult(key, Outcome.FAILED, attempts=0, error=f"cannot compose the e-mail: {exc}")
        try:
            with self._connect() as smtp:
                if self.tls == "starttls":
                    smtp.starttls(context=self._ssl_context or ssl.create_default_context())
                if self._username is not None and self._password is not None:
                    smtp.login(self._username, self._password)
                smtp.send_message(mail, from_addr=self.envelope_sender, to_addrs=[message.address])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (550, b"refused"))
            return _from_reply(key, code, reply, "recipient refused", bounce=True)
        except smtplib.SMTPSenderRefused as exc:
            return _from_reply(key, exc.smtp_code, exc.smtp_error, "sender refused")
        except smtplib.SMTPDataError as exc:
            return _from_reply(key, exc.smtp_code, exc.smtp_error, "message refused")
        except smtplib.SMTPAuthenticationError as exc:
            return DeliveryResult(key, Outcome.FAILED, error=f"login refused: {exc.smtp_code} {_text(exc.smtp_error)}")
        except smtplib.SMTPNotSupportedError as exc:
            return DeliveryResult(key, Outcome.FAILED, error=f"server does not support it: {exc}")
        except smtplib.SMTPResponseException as exc:
            return _from_reply(key, exc.smtp_code, exc.smtp_error, "server refused")
        except ssl.SSLCertVerificationError as exc:
            return DeliveryResult(key, Outcome.FAILED, error=f"TLS certificate not trusted: {exc.verify_message}")
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timed out, disconnected
            return DeliveryResult(key, Outcome.FAILED, error=f"{type(exc).__name__}: {exc}", retryable=True)
        return DeliveryResult(key, Outcome.DELIVERED, provider_ref=str(mail["Message-ID"]))

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> DeliveryResult:
        """Reads a bounce: a delivery status notification (RFC 3464) for a message this channel sent.

        ``body`` is the whole notification e-mail; ``headers`` are not used. The original message is found by
        the Message-ID (or ``X-Fairdun-Idempotency-Key``) in its returned headers. ``Action: failed`` is
        ``bounced``; ``delivered``, ``relayed`` and ``expanded`` are ``delivered``; ``delayed`` is not final and
        raises :class:`CallbackError`, as does anything that is not a notification for one of our messages.
        """
        report = BytesParser(policy=email.policy.default).parsebytes(body)
        status_part = next((p for p in report.walk() if p.get_content_type() == "message/delivery-status"), None)
        if status_part is None:
            raise CallbackError("callback", "not a delivery status notification (no message/delivery-status part)")
        blocks = [b for b in status_part.get_payload() if isinstance(b, Message)]
        recipient = next((b for b in blocks[1:] if b.get("Action")), None)
        if recipient is None:
            raise CallbackError("callback.Action", "no per-recipient block with an Action field")
        key = _returned_key(report)
        if key is None:
            raise CallbackError("callback.Message-ID", "the returned headers name no message this channel sent")
        action = str(recipient["Action"]).strip().lower()
        if action == "delayed":
            raise CallbackError("callback.Action", "delayed is not a final outcome; nothing to record")
        if action == "failed":
            outcome = Outcome.BOUNCED
        elif action in ("delivered", "relayed", "expanded"):
            outcome = Outcome.DELIVERED
        else:
            raise CallbackError("callback.Action", f"unknown action {action!r}")
        detail = recipient.get("Diagnostic-Code") or recipient.get("Status")
        at = None
        when = recipient.get("Last-Attempt-Date") or blocks[0].get("Arrival-Date")
        if when:
            try:
                at = parsedate_to_datetime(str(when))
            except (TypeError, ValueError):
                at = None
            if at is not None and at.utcoffset() is None:
                at = None
        report_id = report.get("Message-ID")
        return DeliveryResult(
            key,
            outcome,
            attempts=0,
            provider_ref=None if report_id is None else str(report_id).strip(),
            error=None if outcome is Outcome.DELIVERED or not detail else " ".join(str(detail).split()),
            at=at,
        )

    def close(self) -> None:
        """Nothing to release: each send opens and closes its own connection."""


def _returned_key(report: Message) -> str | None:
    """The idempotency key of the message a notification reports on, from its returned headers."""
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(part.get_payload())
            returned: Message | None = HeaderParser().parsestr(text)
        elif kind == "message/rfc822":
            inner = part.get_payload()
            returned = inner[0] if isinstance(inner, list) and inner and isinstance(inner[0], Message) else None
        else:
            continue
        if returned is None:
            continue
        key = key_from_message_id(str(returned.get("Message-ID", "")))
        if key is None and returned.get(KEY_HEADER):
            key = str(returned[KEY_HEADER]).strip()
        if key:
            return key
    return None
