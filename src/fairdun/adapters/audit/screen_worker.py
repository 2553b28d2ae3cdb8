"""A worker process of ``screening``: screens the messages it is sent with the content checks it is sent first.

Run as ``python -m fairdun.adapters.audit.screen_worker``: the checks come first on standard input, then chunks of
(texts, roles), each answered on standard output with a byte per (text, check), 1 where the finding holds. The
stream ends when standard input closes. Pickle carries both ways, between this package and itself only.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Sequence
from typing import BinaryIO

from fairdun.adapters.audit.compile import ContentCheck, content_findings


def flags(checks: Sequence[ContentCheck], texts: Sequence[str], roles: Sequence[str]) -> bytes:
    """A byte per (text, check), text by text: 1 where the check's finding holds (``compile.content_findings``)."""
    out = bytearray()
    for text, role in zip(texts, roles, strict=True):
        out.extend(content_findings(checks, text, role))
    return bytes(out)


def serve(source: BinaryIO, sink: BinaryIO) -> None:
    checks: Sequence[ContentCheck] = pickle.load(source)
    while True:
        try:
            texts, roles = pickle.load(source)
        except EOFError:
            return
        pickle.dump(flags(checks, texts, roles), sink, protocol=pickle.HIGHEST_PROTOCOL)
        sink.flush()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
