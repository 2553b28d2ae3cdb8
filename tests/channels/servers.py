"""Real servers for the channel tests, on 127.0.0.1 and an ephemeral port, closed by their fixtures.

``Gateway`` is an HTTP server that checks each request's signature the way a receiver would and can be told to
fail its first requests. ``MailServer`` is aiosmtpd's threaded controller bound to port 0, with a handler that
keeps what it receives and refuses chosen recipients. ``Certificate`` holds a self-signed pair for TLS.
"""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from fairdun.adapters.channels import verify_signature
from fairdun.application.channels import SignatureError


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # so server_close() waits for every handler thread: nothing outlives the test


@dataclass
class Received:
    """One request as the gateway saw it, and whether its signature checked out."""

    headers: dict[str, str]
    body: bytes
    signature_error: str | None

    @property
    def document(self) -> Any:
        return json.loads(self.body)


@dataclass
class Gateway:
    """Answers ``fail_status`` to the first ``fail_first`` requests, then 202 with a JSON reference.

    ``hold`` makes the handler wait (at most a second) before answering, to provoke a client timeout.
    """

    secret: bytes
    fail_first: int = 0
    fail_status: int = 503
    requests: list[Received] = field(default_factory=list)
    hold: threading.Event | None = None
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/v1/messages"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = dict(self.headers.items())
                try:
                    verify_signature(gateway.secret, body, headers, now=datetime.now(UTC))
                    problem = None
                except SignatureError as exc:
                    problem = str(exc)
                gateway.requests.append(Received(headers, body, problem))
                if gateway.hold is not None:
                    gateway.hold.wait(1.0)
                if problem is not None:
                    self._answer(401, {"error": problem})
                elif len(gateway.requests) <= gateway.fail_first:
                    self._answer(gateway.fail_status, {"error": "try later"})
                else:
                    self._answer(202, {"id": f"gw-{len(gateway.requests)}"})

            def _answer(self, status: int, document: dict[str, str]) -> None:
                payload = json.dumps(document).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        return Handler

    def __enter__(self) -> Gateway:
        self.server = _Server(("127.0.0.1", 0), self.handler())
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01})
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self.server is not None
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


class MailHandler:
    """Keeps every accepted message; refuses recipients whose local part is ``nobody`` (550) or ``busy`` (450)."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd calls hooks by these names
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        local = address.partition("@")[0]
        if local == "nobody":
            return "550 5.1.1 <nobody>: mailbox unavailable"
        if local == "busy":
            return "450 4.2.1 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 2.0.0 Ok: queued"

    @property
    def messages(self) -> list[Message]:
        return [BytesParser(policy=default_policy).parsebytes(bytes(e.original_content or b"")) for e in self.envelopes]


def authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object) -> AuthResult:
    """Accepts exactly collector / s3cret."""
    good = isinstance(auth_data, LoginPassword) and auth_data == (b"collector", b"s3cret")
    return AuthResult(success=good, handled=False)  # handled=False: aiosmtpd itself answers 535 on failure


class MailServer(Controller):
    """aiosmtpd's controller on an ephemeral port: it binds port 0, then learns the port before its self-check."""

    def __init__(self, handler: MailHandler, **kwargs: Any) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=0, **kwargs)
        self.mail = handler

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Certificate:
    """A certificate and its key; contexts for a server presenting it and a client trusting it."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))
