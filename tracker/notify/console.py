"""The console: the embedded default when neither Slack nor SMTP is configured.

Prints exactly what would be sent, one block per message::

    2026-06-23 09:00+02:00 · reminder to ole@example.dk by e-mail · key …
    Subject: Frist om 7 dage: Senfølgeklinikker
    Sendt for sent: … (only when the message goes out late, in its language)
    <the message's text>
    ────────────────────────────────────────────────────────────────────────

The first line holds the facts every channel shares (when, kind, to whom, the
outbox key) and the channel the message would take once it is configured.
Control characters other than TAB and LF are removed, so register text can
never drive the terminal (no escape sequences).
"""

from __future__ import annotations

import re
import sys
from typing import TextIO

from tracker.i18n import _
from tracker.notify.message import Delivery, Message, TransientSendError, late_note
from tracker.text import clean_text

SEPARATOR = "─" * 72
CHANNEL_NAMES = {"slack": "Slack", "teams": "Teams", "email": "e-mail"}

_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def _line(value: str) -> str:
    return clean_text(_LINE_BREAKS.sub(" ", value)).strip()


def render(message: Message) -> str:
    """The block the console prints for ``message``, ending in a newline."""
    header = _("{when} · {kind} to {recipient} by {channel} · key {key}").format(
        when=message.at.isoformat(sep=" ", timespec="minutes"),
        kind=_line(message.kind),
        recipient=_line(message.recipient),
        channel=CHANNEL_NAMES.get(message.channel, _line(message.channel)),
        key=_line(message.key),
    )
    lines = [header, _("Subject: {subject}").format(subject=_line(message.subject))]
    if message.late:
        lines.append(late_note(message))
    lines += [clean_text(message.text).rstrip("\n"), SEPARATOR]
    return "\n".join(lines) + "\n"


class ConsoleChannel:
    """Writes each message to ``stream`` (standard output, as it is at the time of sending, by default)."""

    name = "console"

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream

    def send(self, message: Message) -> Delivery:
        stream = self.stream if self.stream is not None else sys.stdout
        try:
            stream.write(render(message))
            stream.flush()
        except OSError as error:  # a closed pipe, a full disk
            raise TransientSendError(_("Cannot write the message to the console: {error}").format(error=error)) \
                from error
        return Delivery(provider_id=None)
