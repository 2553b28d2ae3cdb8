"""HMAC-SHA256 signatures over a timestamp and the exact body bytes, for webhooks and their callbacks.

The signed material is ``f"{timestamp}."`` (ASCII) followed by the body bytes, unchanged; ``timestamp`` is whole
Unix seconds, sent in ``X-Fairdun-Timestamp``. The signature header is ``X-Fairdun-Signature: sha256=<hex>``.
Binding the timestamp into the signature stops an old request from being replayed outside the tolerance window;
inside it, receivers deduplicate by the ``Idempotency-Key`` header. The scheme follows the common
``t.body`` construction (as Stripe and Slack sign webhooks) so gateway vendors can verify it with stock code.
Worked example: docs/channels.md.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from fairdun.application.channels import SignatureError

SIGNATURE_HEADER = "X-Fairdun-Signature"
TIMESTAMP_HEADER = "X-Fairdun-Timestamp"
# draft-ietf-httpapi-idempotency-key-header: the request's identity, for the receiver to deduplicate.
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_TOLERANCE = timedelta(minutes=5)
_PREFIX = "sha256="


def signed_material(timestamp: int, body: bytes) -> bytes:
    """The exact bytes the HMAC covers: ``b"<timestamp>." + body``."""
    return f"{timestamp}.".encode("ascii") + body


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The ``X-Fairdun-Signature`` value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    return _PREFIX + hmac.new(secret, signed_material(timestamp, body), hashlib.sha256).hexdigest()


def signature_headers(secret: bytes, body: bytes, now: datetime) -> dict[str, str]:
    """The timestamp and signature headers for sending ``body`` at ``now``."""
    timestamp = int(now.timestamp())
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, body, timestamp)}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def verify_signature(
    secret: bytes,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> None:
    """Checks that ``body`` was signed with ``secret`` at a time within ``tolerance`` of ``now``.

    ``headers`` are looked up case-insensitively (pass ``dict(request.headers)``). Returns nothing when the
    signature is good; raises :class:`SignatureError` saying which check failed otherwise. The comparison is
    constant-time.
    """
    raw_timestamp = _header(headers, TIMESTAMP_HEADER)
    raw_signature = _header(headers, SIGNATURE_HEADER)
    if raw_timestamp is None:
        raise SignatureError(TIMESTAMP_HEADER, "missing")
    if raw_signature is None:
        raise SignatureError(SIGNATURE_HEADER, "missing")
    raw_timestamp = raw_timestamp.strip()
    if not raw_timestamp.isascii() or not raw_timestamp.isdigit() or len(raw_timestamp) > 12:
        raise SignatureError(TIMESTAMP_HEADER, "must be whole Unix seconds")
    timestamp = int(raw_timestamp)
    skew = abs(now - datetime.fromtimestamp(timestamp, UTC))
    if skew > tolerance:
        raise SignatureError(
            TIMESTAMP_HEADER, f"{int(skew.total_seconds())} s from now, outside {int(tolerance.total_seconds())} s"
        )
    expected = sign(secret, body, timestamp)
    if not hmac.compare_digest(expected.encode("ascii"), raw_signature.strip().encode("utf-8", "replace")):
        raise SignatureError(SIGNATURE_HEADER, "does not match the body and timestamp")
