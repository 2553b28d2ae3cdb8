"""Channel adapters: the outbound channel port (``fairdun.application.channels.Channel``) by technology.

``log`` writes JSON lines to a file (the default), ``webhook`` posts signed JSON to a gateway, ``smtp`` sends
e-mail. ``build_channel`` makes one from configuration. How each works, the signature scheme and the retry policy:
docs/channels.md.
"""

from fairdun.adapters.channels.factory import KINDS, ChannelConfigError, build_channel
from fairdun.adapters.channels.log import LogChannel
from fairdun.adapters.channels.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    signature_headers,
    verify_signature,
)
from fairdun.adapters.channels.smtp import SmtpChannel, key_from_message_id, message_id
from fairdun.adapters.channels.webhook import RetryPolicy, WebhookChannel

__all__ = [
    "IDEMPOTENCY_HEADER",
    "KINDS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "ChannelConfigError",
    "LogChannel",
    "RetryPolicy",
    "SmtpChannel",
    "WebhookChannel",
    "build_channel",
    "key_from_message_id",
    "message_id",
    "sign",
    "signature_headers",
    "verify_signature",
]
