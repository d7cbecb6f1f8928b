"""E-mail over SMTP: a text and an HTML part, the occurrences attached as an .ics event.

``build_email`` is pure: it turns a ``Message`` into a MIME message whose
headers no register text can break (control characters are removed from every
header value before the ``email`` package encodes it, a recipient must be one
valid address) and whose ``Message-ID`` is derived from the outbox key, so a
resent row carries the same id and mail systems can drop the duplicate.

``EmailChannel.send`` speaks SMTP itself, command by command, so it knows
whether the end of the message data (the final ``.``) went out: a connection
lost before that means the server cannot have accepted the message (worth
retrying); lost after it, the server may have accepted it (unknown outcome).

``SMTP_URL`` selects the server::

    smtp+starttls://USER:PASSWORD@HOST[:587]   STARTTLS (the usual submission port)
    smtps://USER:PASSWORD@HOST[:465]           TLS from the first byte
    smtp://[USER:PASSWORD@]HOST[:25]           plain, e.g. a relay on localhost
    smtp://HOST?starttls=1                     STARTTLS on port 25

The user name and password are percent-decoded (``%40`` for ``@``). The
password is never shown: not in a message, not in a log, not in ``repr``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging
import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from tracker.clock import plan_zone, utc_now
from tracker.errors import TrackerError
from tracker.addresses import header_text, mailbox
from tracker.text import clean_text
from tracker.i18n import _, format_day, using_language
from tracker.notify.message import (
    Delivery,
    Item,
    Message,
    PermanentSendError,
    SendError,
    TransientSendError,
    UnknownOutcomeError,
    late_note,
)

log = logging.getLogger(__name__)

# Message-IDs are "<hash of the outbox key>@" this domain (the calendar's UID domain).
MESSAGE_ID_DOMAIN = "kraeftplan-v.tracker"
ICS_FILENAME = "kraeftplan.ics"

# CRLF line ends and lines folded at 78 characters; non-ASCII header text
# RFC 2047-encoded. Bodies are quoted-printable or base64, so the message is
# 7-bit clean and any server takes it (no 8BITMIME or SMTPUTF8 needed).
POLICY = policy.SMTP

SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("ssl", 465)}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")

# Every C0 and C1 control, DEL, the Unicode line and paragraph separators and
# lone surrogates: none of them belongs in a header (bodies: tracker.text).
def message_id(key: str) -> str:
    """The Message-ID of the message with outbox key ``key``: the same for every attempt to send it."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


def _bad_address(address: str, code: str) -> PermanentSendError:
    return PermanentSendError(
        _("“{address}” is not a single valid e-mail address.").format(address=header_text(address)[:200]), code)


def subject_line(message: Message) -> str:
    """The subject as sent: one line, marked when the message goes out late."""
    subject = header_text(message.subject)
    if message.late:
        with using_language(message.language):
            subject = _("[Late] {subject}").format(subject=subject)
    return subject


def text_part(message: Message) -> str:
    """The text/plain part: the message's text, opened by the late note when it goes out late."""
    text = clean_text(message.text)
    if message.answer_url:
        with using_language(message.language):
            text += "\n\n" + _answer_invitation() + "\n" + header_text(message.answer_url)
    return f"{late_note(message)}\n\n{text}" if message.late else text


def _answer_invitation() -> str:
    return _("Answer here, without logging in: mark it done, in progress or at risk, or add a note with a link to "
             "the evidence.")


def build_email(message: Message, sender: str, *, now: datetime | None = None) -> EmailMessage:
    """The MIME message for ``message`` from ``sender``, dated ``now`` (default: ``message.at``).

    multipart/alternative (text/plain, text/html), inside multipart/mixed with
    a text/calendar attachment when ``message.calendar`` is set.
    Raises ``PermanentSendError`` (``bad_address``, ``bad_sender``) when the
    recipient or the sender is not exactly one valid address.
    """
    to = mailbox(message.recipient)
    if to is None:
        raise _bad_address(message.recipient, "bad_address")
    from_ = mailbox(sender)
    if from_ is None:
        raise _bad_address(sender, "bad_sender")
    email = EmailMessage(policy=POLICY)
    email["From"] = from_
    email["To"] = to
    email["Subject"] = subject_line(message)
    email["Date"] = format_datetime((now or message.at).astimezone(plan_zone()))
    email["Message-ID"] = message_id(message.key)
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to it
    email["X-Auto-Response-Suppress"] = "All"  # the same, for Exchange
    email.set_content(text_part(message), subtype="plain", charset="utf-8", cte="quoted-printable")
    email.add_alternative(render_html(message), subtype="html", charset="utf-8", cte="quoted-printable")
    if message.calendar:
        email.add_attachment(message.calendar, maintype="text", subtype="calendar", filename=ICS_FILENAME,
                             params={"charset": "utf-8", "method": "PUBLISH"})
    for part in email.walk():
        if part is not email:
            del part["MIME-Version"]  # the email package repeats it in every part it creates
    email["Content-Language"] = message.language  # after the content: setting content clears Content-* headers
    return email


def _h(text: str) -> str:
    """Register text as HTML: escaped, control characters removed, line breaks kept."""
    return html.escape(clean_text(text), quote=True).replace("\n", "<br>\n")


def _link(url: str, inner: str) -> str:
    url = header_text(url)
    if not url.lower().startswith(("https://", "http://")):
        return inner
    return f'<a href="{html.escape(url, quote=True)}">{inner}</a>'


def _html_item(item: Item) -> str:
    title = header_text(item.title)  # the planner's title, the occurrence's year included
    details = [
        _("Responsible: {party}").format(party=item.owner),
        _("Deadline: “{text}”, read as {due}").format(text=item.deadline_text, due=format_day(item.due))
        if item.due is not None else _("Deadline: none agreed yet"),
        _("Status: {status}").format(status=item.status),
    ]
    if item.note:
        details.append(_("Latest note: {note}").format(note=item.note))
    source = _("Source, {section}: “{quote}”").format(section=item.source_section, quote=item.source_quote)
    return (
        "<li>\n"
        f"<p><strong>{_link(item.url, _h(title))}</strong><br>\n{_h(item.line)}</p>\n"
        f"<p>{'<br>'.join(_h(detail) for detail in details)}</p>\n"
        f'<p style="color:#555"><small>{_h(source)}</small></p>\n'
        "</li>\n"
    )


def render_html(message: Message) -> str:
    """The HTML part: the subject, the intro and one list entry per item, every piece of text escaped."""
    with using_language(message.language):
        late = f"<p><strong>{_h(late_note(message))}</strong></p>\n" if message.late else ""
        items = "".join(_html_item(item) for item in message.items)
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="{html.escape(message.language, quote=True)}">\n'
            '<head><meta charset="utf-8">'
            f"<title>{_h(header_text(message.subject))}</title></head>\n"
            '<body style="font-family:sans-serif;line-height:1.4">\n'
            f"<h1 style=\"font-size:1.2em\">{_h(header_text(message.subject))}</h1>\n"
            f"{late}"
            f"<p>{_h(message.intro)}</p>\n"
            f"{f'<ul>{chr(10)}{items}</ul>{chr(10)}' if items else ''}"
            f"{_html_answer(message)}"
            "</body>\n</html>\n"
        )


def _html_answer(message: Message) -> str:
    if not message.answer_url:
        return ""
    return f"<p>{_link(message.answer_url, '<strong>' + _h(_('Answer')) + '</strong>')}: " \
           f"{_h(_answer_invitation())}</p>\n"


def wire_bytes(email: EmailMessage) -> bytes:
    """The message as SMTP DATA carries it: CRLF line ends, dot-stuffed, ending in ``CRLF.CRLF``."""
    data = email.as_bytes(policy=POLICY)
    data = re.sub(rb"\r\n|\n|\r", b"\r\n", data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


# --- SMTP_URL -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # "plain", "starttls" or "ssl"
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def display_smtp_url(url: str) -> str:
    """``url`` with its password masked (and any unknown query hidden), for messages and logs."""
    try:
        parts = urlsplit(url.strip())
        known = parts.scheme.lower() in SCHEMES and parts.netloc
        if not known:  # "user:secret@host" without a scheme would read as scheme "user", path "secret@host"
            raise ValueError(url)
        userinfo, at, hostport = parts.netloc.rpartition("@")
        if at:
            user, colon, _password = userinfo.partition(":")
            netloc = f"{user}:***@{hostport}" if colon else f"{user}@{hostport}"
        else:
            netloc = hostport
        query = parts.query
        if query and any(key.lower() != "starttls" for key, _value in parse_qsl(query, keep_blank_values=True)):
            query = "…"
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:
        return url.strip().split(":", 1)[0][:20] + ":…"


def parse_smtp_url(url: str) -> SmtpSettings:
    """``SMTP_URL`` read, or a ``TrackerError`` that says what is wrong and shows an example."""

    def bad(reason: str) -> TrackerError:
        return TrackerError(_(
            "SMTP_URL {url} cannot be read: {reason}. Write it as smtp+starttls://USER:PASSWORD@HOST:587 "
            "(STARTTLS), smtps://USER:PASSWORD@HOST:465 (TLS) or smtp://HOST:25 (plain), with special "
            "characters in the user name and password percent-encoded (@ as %40)."
        ).format(url=display_smtp_url(url), reason=reason))

    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        parts = urlsplit("")
        port = -1
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise bad(_("the scheme must be smtp://, smtp+starttls:// or smtps://"))
    security, default_port = SCHEMES[scheme]
    if not parts.hostname:
        raise bad(_("it names no server"))
    if port is not None and not 0 < port < 65536:
        raise bad(_("the port must be a number from 1 to 65535"))
    if parts.path not in ("", "/") or parts.fragment:
        raise bad(_("it has a path or a fragment, which SMTP_URL does not use"))
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        value = value.strip().lower()
        if key.lower() != "starttls" or scheme != "smtp" or value not in _TRUE + _FALSE:
            raise bad(_("the only setting it takes is starttls=1 or starttls=0, after smtp://"))
        security = "starttls" if value in _TRUE else "plain"
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if (username is None) != (password is None):
        raise bad(_("a user name needs a password, and a password a user name"))
    return SmtpSettings(parts.hostname, port or default_port, security, username, password)


# --- sending ------------------------------------------------------------------------------------------------------


def _reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return header_text(f"{code} {text}")[:500]


class EmailChannel:
    """Sends each message in one SMTP session of its own; never retries by itself."""

    name = "email"

    def __init__(self, settings: SmtpSettings, sender: str, *, timeout: float = 30,
                 ssl_context: ssl.SSLContext | None = None, clock: Callable[[], datetime] = utc_now):
        if mailbox(sender) is None:
            raise TrackerError(_bad_address(sender, "bad_sender").message)
        self.settings = settings
        self.sender = sender
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.clock = clock

    @classmethod
    def from_url(cls, url: str, sender: str, *, timeout: float = 30, ssl_context: ssl.SSLContext | None = None,
                 clock: Callable[[], datetime] = utc_now) -> EmailChannel:
        return cls(parse_smtp_url(url), sender, timeout=timeout, ssl_context=ssl_context, clock=clock)

    @property
    def server(self) -> str:
        """The server as messages name it: host and port, never the credentials."""
        host = self.settings.host
        return f"[{host}]:{self.settings.port}" if ":" in host else f"{host}:{self.settings.port}"

    def __repr__(self) -> str:
        return f"EmailChannel({self.settings.security} {self.server}, user={self.settings.username!r}, " \
               f"sender={self.sender!r})"

    def send(self, message: Message) -> Delivery:
        email = build_email(message, self.sender, now=self.clock())
        sender, recipient = email["From"].addresses[0].addr_spec, email["To"].addresses[0].addr_spec
        data = wire_bytes(email)
        session = self._open()
        try:
            reply = self._transfer(session, sender, recipient, data)
        finally:
            _close(session)
        log.info("sent %s to %s as %s: %s", message.key, recipient, email["Message-ID"], reply)
        return Delivery(provider_id=str(email["Message-ID"]), detail={"reply": reply})

    def check(self) -> str:
        """Connect, greet, encrypt and log in as a send would, then leave without sending; or a SendError."""
        session = self._open()
        try:
            reply = session.noop()
        finally:
            _close(session)
        return _("{server} ({security}), answering {reply}").format(server=self.server, security=self.settings.security,
                                                                   reply=_reply(*reply))

    def _context(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()

    def _scrub(self, text: str) -> str:
        password = self.settings.password
        return text.replace(password, "***") if password else text

    def _unreachable(self, error: BaseException) -> TransientSendError:
        return TransientSendError(_("The SMTP server {server} cannot be reached: {error}").format(
            server=self.server, error=self._scrub(header_text(str(error)) or type(error).__name__)))

    def _refused(self, what: str, code: int, reply: bytes | str, address: str = "") -> SendError:
        """A 4xx reply is worth retrying; any other refusal is not."""
        text = self._scrub(_reply(code, reply))
        if what == "connection":
            message = _("The SMTP server {server} did not accept the connection: {reply}")
        elif what == "sender":
            message = _("The SMTP server {server} did not accept the sender {address}: {reply}")
        elif what == "recipient":
            message = _("The SMTP server {server} did not accept the recipient {address}: {reply}")
        else:
            message = _("The SMTP server {server} did not accept the message: {reply}")
        message = message.format(server=self.server, address=address, reply=text)
        if 400 <= code < 500:
            return TransientSendError(message)
        return PermanentSendError(message, f"smtp_{code}" if 500 <= code < 600 else "smtp_protocol",
                                  whole_channel=what in ("connection", "sender"))

    def _open(self) -> smtplib.SMTP:
        """A session that has greeted the server, is encrypted as SMTP_URL asks, and is logged in."""
        settings = self.settings
        try:
            if settings.security == "ssl":
                session: smtplib.SMTP = _TlsSession(settings.host, settings.port, timeout=self.timeout,
                                                    context=self._context())
            else:
                session = _Session(settings.host, settings.port, timeout=self.timeout)
        except ssl.SSLCertVerificationError as error:
            raise self._certificate(error) from error
        except smtplib.SMTPConnectError as error:
            raise self._refused("connection", error.smtp_code, error.smtp_error) from error
        except OSError as error:  # refused, DNS, timeout, TLS handshake, disconnected
            raise self._unreachable(error) from error
        try:
            self._prepare(session)
        except BaseException:
            _close(session)
            raise
        return session

    def _certificate(self, error: ssl.SSLCertVerificationError) -> PermanentSendError:
        return PermanentSendError(_("The TLS certificate of the SMTP server {server} cannot be verified: {error}")
                                  .format(server=self.server, error=error.verify_message or error), "tls_certificate",
                                  whole_channel=True)

    def _prepare(self, session: smtplib.SMTP) -> None:
        settings = self.settings
        try:
            session.ehlo_or_helo_if_needed()
            if settings.security == "starttls":
                if not session.has_extn("starttls"):
                    raise PermanentSendError(_(
                        "The SMTP server {server} does not offer STARTTLS, which SMTP_URL asks for; "
                        "nothing was sent unencrypted."
                    ).format(server=self.server), "starttls_unsupported", whole_channel=True)
                code, reply = session.starttls(context=self._context())
                if code != 220:
                    raise self._refused("connection", code, reply)
                session.ehlo()
        except ssl.SSLCertVerificationError as error:
            raise self._certificate(error) from error
        except smtplib.SMTPResponseException as error:
            raise self._refused("connection", error.smtp_code, error.smtp_error) from error
        except OSError as error:  # smtplib.SMTPServerDisconnected, timeouts, TLS errors
            raise self._unreachable(error) from error
        if settings.username is None:
            return
        try:
            session.login(settings.username, settings.password or "")
        except smtplib.SMTPAuthenticationError as error:
            refusal = self._scrub(_reply(error.smtp_code, error.smtp_error))
            if 400 <= error.smtp_code < 500:
                raise TransientSendError(_("The SMTP server {server} cannot log tracker in now: {reply}")
                                         .format(server=self.server, reply=refusal)) from None
            raise PermanentSendError(_(
                "The SMTP server {server} did not accept the user name and password in SMTP_URL: {reply}"
            ).format(server=self.server, reply=refusal), "smtp_auth", whole_channel=True) from None
        except smtplib.SMTPResponseException as error:
            raise self._refused("connection", error.smtp_code, error.smtp_error) from None
        except smtplib.SMTPServerDisconnected as error:
            raise self._unreachable(error) from None
        except smtplib.SMTPException as error:  # no AUTH, or no mechanism both sides know
            raise PermanentSendError(_(
                "The SMTP server {server} does not let tracker log in ({error}); check SMTP_URL: most servers "
                "take a password only over smtp+starttls:// or smtps://."
            ).format(server=self.server, error=self._scrub(str(error))), "smtp_auth_unsupported",
                whole_channel=True) from None
        except OSError as error:
            raise self._unreachable(error) from None

    def _transfer(self, session: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> str:
        """MAIL, RCPT, DATA; the server's final reply. The outcome is unknown once the final dot is out."""
        try:
            code, reply = session.mail(sender)
            if not 200 <= code < 300:
                raise self._refused("sender", code, reply, sender)
            code, reply = session.rcpt(recipient)
            if not 200 <= code < 300:
                raise self._refused("recipient", code, reply, recipient)
            session.putcmd("data")
            code, reply = session.getreply()
            if code != 354:
                raise self._refused("message", code, reply)
            session.send(data)  # raises SMTPServerDisconnected unless all of it, final dot included, went out
        except smtplib.SMTPServerDisconnected as error:  # timeouts included: smtplib closes and raises this
            raise TransientSendError(_(
                "The connection to the SMTP server {server} was lost before the message was handed over: {error}"
            ).format(server=self.server, error=header_text(str(error)))) from error
        try:
            code, reply = session.getreply()
        except smtplib.SMTPServerDisconnected as error:
            raise UnknownOutcomeError(_(
                "The connection to the SMTP server {server} was lost after the message was handed over, before "
                "the server confirmed it; it may have been delivered: {error}"
            ).format(server=self.server, error=header_text(str(error)))) from error
        if not 200 <= code < 300:
            raise self._refused("message", code, reply)
        return self._scrub(_reply(code, reply))


class _Utf8Auth(smtplib.SMTP):
    """AUTH with the user name and password in UTF-8 (RFC 4616), not ASCII only as smtplib has it.

    smtplib encodes credentials as ASCII and fails on a password like
    "blåbær"; PLAIN, LOGIN and CRAM-MD5 all carry UTF-8 octets fine.
    """

    def auth(self, mechanism: str, authobject: Callable[..., str | None], *,
             initial_response_ok: bool = True) -> tuple[int, bytes]:
        mechanism = mechanism.upper()
        initial = authobject() if initial_response_ok else None
        if initial is not None:
            code, reply = self.docmd("AUTH", f"{mechanism} {_b64(initial)}")
            challenges = 1
        else:
            code, reply = self.docmd("AUTH", mechanism)
            challenges = 0
        while code == 334:
            challenges += 1
            if challenges > 5:
                raise smtplib.SMTPException("The server's AUTH exchange does not end.")
            self._auth_challenge_count = challenges  # smtplib's auth_login reads it
            code, reply = self.docmd(_b64(authobject(base64.decodebytes(reply)) or ""))
        if code in (235, 503):  # 503: already authenticated
            return code, reply
        raise smtplib.SMTPAuthenticationError(code, reply)

    # smtplib calls an auth object first with None for an initial response, which CRAM-MD5 has none of: the stub's
    # "-> str" does not say so.
    def auth_cram_md5(self, challenge: bytes | None = None) -> str | None:  # type: ignore[override]
        if challenge is None:
            return None
        digest = hmac.HMAC(self.password.encode("utf-8"), challenge, "md5").hexdigest()
        return f"{self.user} {digest}"


class _Session(_Utf8Auth):
    pass


class _TlsSession(_Utf8Auth, smtplib.SMTP_SSL):
    pass


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _close(session: smtplib.SMTP) -> None:
    """QUIT politely when the connection is still up; close it in any case."""
    try:
        if session.sock is not None:
            session.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        session.close()
