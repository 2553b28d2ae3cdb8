"""The log channel: one JSON line per message, appended to a file. The default channel, and the demo's.

The file is the channel's memory. Every send takes an exclusive lock on it (``flock``), reads whatever lines
were added since it last looked (by this process or another), and writes only when the key is new; so a key is
never written twice, across restarts and between processes sharing the file. A line torn by a crash (no final
newline) is treated as not written: it is terminated and skipped, and the message is written again whole.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import IO

from fairdun.application.channels import DeliveryResult, OutboundMessage, parse_callback_json
from fairdun.domain.contact import Outcome

if sys.platform != "win32":
    import fcntl


def _lock(file: IO[bytes]) -> None:
    if sys.platform != "win32":
        fcntl.flock(file.fileno(), fcntl.LOCK_EX)  # released when the file is closed


class LogChannel:
    """Appends each new message to ``path`` as a JSON line; a key already in the file is answered from it.

    Each line is the message's document (``OutboundMessage.to_document``) plus ``logged_at`` and ``ref``
    (``log:<line number>``), which is also the result's ``provider_ref``.
    """

    def __init__(self, path: str | os.PathLike[str], *, clock: Callable[[], datetime] | None = None) -> None:
        self.path = Path(path)
        self._clock = clock or partial(datetime.now, UTC)
        self._refs: dict[str, str] = {}
        self._offset = 0  # bytes of the file already read into _refs, always at a line boundary
        self._lines = 0

    def send(self, message: OutboundMessage) -> DeliveryResult:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a+b") as file:
                _lock(file)
                torn = self._catch_up(file)
                if message.key in self._refs:
                    return DeliveryResult(
                        message.key, Outcome.DELIVERED, attempts=0, provider_ref=self._refs[message.key]
                    )
                ref = f"log:{self._lines + 1 + (1 if torn else 0)}"
                record = {**message.to_document(), "logged_at": self._clock().isoformat(), "ref": ref}
                line = json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"
                file.write((b"\n" if torn else b"") + line)
                file.flush()
                os.fsync(file.fileno())
                self._offset = file.tell()
                self._lines += 1 + (1 if torn else 0)
                self._refs[message.key] = ref
        except OSError as exc:  # a full disk or a lost mount: the message was not logged, and may be later
            return DeliveryResult(message.key, Outcome.FAILED, error=f"{type(exc).__name__}: {exc}", retryable=True)
        return DeliveryResult(message.key, Outcome.DELIVERED, provider_ref=ref)

    def _catch_up(self, file: IO[bytes]) -> bool:
        """Reads complete lines past ``_offset``; true when the file ends in a torn (unterminated) line."""
        file.seek(self._offset)
        data = file.read()
        end = data.rfind(b"\n") + 1
        for raw in data[:end].splitlines():
            self._lines += 1
            try:
                record = json.loads(raw)
            except ValueError:  # a torn line a crash left behind, since terminated: it was never a send
                continue
            key = record.get("idempotency_key") if isinstance(record, dict) else None
            if isinstance(key, str):
                self._refs.setdefault(key, str(record.get("ref", f"log:{self._lines}")))
        self._offset += end
        return end < len(data)

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> DeliveryResult:
        """Reads the unsigned callback JSON (``DeliveryResult.from_callback``): the log channel runs locally, for
        development and the demo, where a simulated report needs no authenticity check."""
        return parse_callback_json(body)

    def close(self) -> None:
        """Nothing to release: the file is opened and closed by each send."""
