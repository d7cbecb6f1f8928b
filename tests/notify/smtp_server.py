"""A real SMTP server on loopback (aiosmtpd), scriptable per test.

::

    with SmtpServer() as server:                      # plain SMTP on 127.0.0.1:<free port>
        server.script.rcpt_reply = "450 4.2.0 Greylisted"
        ...
        server.received                               # what it accepted: envelope and raw bytes

Scripts: a reply for MAIL, RCPT or DATA (any status line, 4xx or 5xx); drop the
connection at RCPT, or right after the whole message was received (the client
cannot know whether it was accepted); hang after the message (the client times
out); AUTH with one user name and password (over plain connections too, by
LOGIN or PLAIN or both), or a temporary AUTH failure; STARTTLS with a given TLS context (and required
before MAIL); implicit TLS (``implicit_tls=True``, like port 465).

``make_certificate`` writes a self-signed certificate for 127.0.0.1 and
localhost with the ``openssl`` command (``cryptography`` is not a dependency).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Self
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # exactly the octets after DATA, dot-stuffing undone
    tls: bool  # whether the session was encrypted (STARTTLS or implicit TLS)
    authenticated_as: str | None

    def parsed(self) -> EmailMessage:
        message = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class Script:
    """How the server answers; change it inside a test before the client connects."""

    mail_reply: str | None = None  # e.g. "451 4.3.0 Try again later"
    rcpt_reply: str | None = None  # e.g. "550 5.1.1 No such user"
    data_reply: str | None = None  # the reply after the whole message, e.g. "554 5.6.0 Rejected"
    drop_at_rcpt: bool = False  # close the connection instead of answering RCPT
    drop_after_data: bool = False  # receive the whole message, record it, close without a reply
    hang_after_data: bool = False  # receive the whole message, record it, never reply
    credentials: tuple[str, str] | None = None  # the (user name, password) AUTH takes: SmtpServer(credentials=...)
    auth_reply: str | None = None  # answer every AUTH with this, e.g. "454 4.7.0 Temporary failure"


@dataclass
class _Handler:
    script: Script
    received: list[Received] = field(default_factory=list)

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        if self.script.mail_reply:
            return self.script.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.script.drop_at_rcpt:
            server.transport.abort()
            return "250 OK"  # never written: the transport is gone
        if self.script.rcpt_reply:
            return self.script.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        record = Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content,
                          tls=_encrypted(server, session), authenticated_as=_login(session))
        if self.script.drop_after_data:
            self.received.append(record)
            server.transport.abort()
            return "250 OK"
        if self.script.hang_after_data:
            self.received.append(record)
            await asyncio.sleep(3600)  # cancelled when the server stops
        if self.script.data_reply:
            return self.script.data_reply
        self.received.append(record)
        return "250 2.0.0 OK queued as 4711"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if self.script.auth_reply:
            return AuthResult(success=False, handled=False, message=self.script.auth_reply)
        expected = self.script.credentials
        if expected is None or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        given = (auth_data.login.decode("utf-8"), auth_data.password.decode("utf-8"))
        return AuthResult(success=given == expected, handled=False, auth_data=auth_data)


def _encrypted(server: Any, session: Any) -> bool:
    """STARTTLS sets ``session.ssl``; an implicit-TLS transport carries its SSL object."""
    return session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None


def _login(session: Any) -> str | None:
    data = session.auth_data
    return data.login.decode("utf-8") if isinstance(data, LoginPassword) else None


class SmtpServer:
    """aiosmtpd in a thread of its own, listening on 127.0.0.1 on a free port."""

    def __init__(self, *, tls_context: ssl.SSLContext | None = None, implicit_tls: bool = False,
                 require_starttls: bool = False, credentials: tuple[str, str] | None = None,
                 auth_mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN")):
        self.script = Script(credentials=credentials)
        self.handler = _Handler(self.script)
        self.port = free_port()
        self.implicit_tls = implicit_tls
        self.controller = Controller(
            self.handler,
            hostname=HOST,
            port=self.port,
            ready_timeout=10,
            ssl_context=tls_context if implicit_tls else None,
            tls_context=None if implicit_tls else tls_context,
            require_starttls=require_starttls,
            authenticator=self.handler.authenticate,
            auth_required=credentials is not None,
            auth_require_tls=False,
            auth_exclude_mechanism=[m for m in ("LOGIN", "PLAIN") if m not in auth_mechanisms],
        )

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def url(self, scheme: str = "smtp", user: str | None = None, password: str | None = None,
            query: str = "") -> str:
        """An SMTP_URL for this server, with the credentials percent-encoded."""
        userinfo = ""
        if user is not None:
            userinfo = quote(user, safe="") + (f":{quote(password, safe='')}" if password is not None else "") + "@"
        return f"{scheme}://{userinfo}{HOST}:{self.port}{f'?{query}' if query else ''}"

    def start(self) -> Self:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Verifies the server against this certificate, host name (IP address) included."""
        return ssl.create_default_context(cafile=str(self.cert))


def make_certificate(directory: Path) -> Certificate | None:
    """A self-signed certificate for 127.0.0.1 and localhost, or None without ``openssl``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=60,
    )
    return Certificate(cert, key)
