"""``build_channel(kind, options)``: a channel adapter from configuration, every option checked by name.

Errors name the field as ``<kind>.<option>`` (``webhook.url: must be an http(s) URL``), and an unknown option is
an error rather than silently ignored, so a typo in a configuration file cannot turn retries or TLS off.
The options of each kind are listed in docs/channels.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx

from fairdun.adapters.channels.log import LogChannel
from fairdun.adapters.channels.smtp import DEFAULT_PORTS, TLS_MODES, SmtpChannel
from fairdun.adapters.channels.webhook import RetryPolicy, WebhookChannel
from fairdun.application.channels import Channel, ChannelError, MessageError

KINDS = ("log", "smtp", "webhook")
MIN_SECRET_BYTES = 16
OPTIONS: dict[str, tuple[str, ...]] = {
    "log": ("path",),
    "webhook": ("url", "secret", "timeout", "max_attempts", "backoff_base", "backoff_max", "callback_tolerance"),
    "smtp": (
        "host",
        "port",
        "sender",
        "tls",
        "username",
        "password",
        "timeout",
        "message_id_domain",
        "helo_name",
    ),
}


class ChannelConfigError(ChannelError):
    """A channel's configuration is invalid; ``field`` is ``<kind>.<option>``."""


class _Options:
    """Reads typed options out of a mapping, remembering which were read so the rest can be reported."""

    def __init__(self, kind: str, options: Mapping[str, object]) -> None:
        self.kind = kind
        self.options = options
        unknown = sorted(str(name) for name in options if name not in OPTIONS[kind])
        if unknown:
            raise self.error(unknown[0], f"unknown option (expected one of {', '.join(OPTIONS[kind])})")

    def error(self, name: str, problem: str) -> ChannelConfigError:
        return ChannelConfigError(f"{self.kind}.{name}", problem)

    def text(self, name: str) -> str | None:
        value = self.options.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(name, "must be a non-empty string")
        return value

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise self.error(name, "is required")
        return value

    def number(self, name: str, default: float, *, low: float, high: float) -> float:
        value = self.options.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise self.error(name, f"must be a number from {low:g} to {high:g}")
        return float(value)

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        value = self.options.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(name, f"must be an integer from {low} to {high}")
        return value


def build_channel(
    kind: str,
    options: Mapping[str, object],
    *,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    transport: httpx.BaseTransport | None = None,
) -> Channel:
    """The channel adapter ``kind`` (``log``, ``webhook`` or ``smtp``) configured by ``options``.

    ``clock``, ``sleep`` and ``transport`` are passed to the adapters that use them (tests and bootstrap inject
    them). Raises :class:`ChannelConfigError` naming the first field that is wrong.
    """
    if kind not in KINDS:
        raise ChannelConfigError("channel.kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    read = _Options(kind, options)
    if kind == "log":
        return LogChannel(read.required("path"), clock=clock)
    if kind == "webhook":
        return _webhook(read, clock, sleep, transport)
    return _smtp(read)


def _webhook(
    read: _Options,
    clock: Callable[[], datetime] | None,
    sleep: Callable[[float], None],
    transport: httpx.BaseTransport | None,
) -> WebhookChannel:
    url = read.required("url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise read.error("url", "must be an http(s) URL")
    if parts.username or parts.password:
        raise read.error("url", "must not carry credentials; requests are authenticated by the signature")
    secret = read.required("secret")
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        raise read.error("secret", f"must be at least {MIN_SECRET_BYTES} bytes (e.g. secrets.token_hex(32))")
    base = read.number("backoff_base", 0.5, low=0, high=60)
    try:
        retry = RetryPolicy(
            max_attempts=read.integer("max_attempts", 4, low=1, high=10),
            base_delay=base,
            max_delay=read.number("backoff_max", max(30.0, base), low=base, high=3600),
        )
    except MessageError as exc:
        raise read.error("backoff_max", exc.problem) from None
    return WebhookChannel(
        url,
        secret.encode("utf-8"),
        timeout=read.number("timeout", 10.0, low=0.001, high=300),
        retry=retry,
        callback_tolerance=timedelta(seconds=read.number("callback_tolerance", 300, low=1, high=86400)),
        clock=clock,
        sleep=sleep,
        transport=transport,
    )


def _smtp(read: _Options) -> SmtpChannel:
    raw_tls = read.options.get("tls", "none")
    tls = next((mode for mode in TLS_MODES if mode == raw_tls), None)
    if tls is None:
        raise read.error("tls", f"must be one of {', '.join(TLS_MODES)}")
    username, password = read.text("username"), read.text("password")
    if (username is None) != (password is None):
        raise read.error("password" if password is None else "username", "username and password go together")
    try:
        return SmtpChannel(
            read.required("host"),
            read.integer("port", DEFAULT_PORTS[tls], low=1, high=65535),
            sender=read.required("sender"),
            tls=tls,
            username=username,
            password=password,
            timeout=read.number("timeout", 30.0, low=0.001, high=600),
            message_id_domain=read.text("message_id_domain"),
            helo_name=read.text("helo_name"),
        )
    except MessageError as exc:
        raise read.error(exc.field.rpartition(".")[2], exc.problem) from None
