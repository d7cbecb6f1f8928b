"""One message to one recipient, and the interface every channel implements.

A message is plain data, already in its recipient's language: the planner
decides who hears what and when; a channel only turns a ``Message`` into its
own format (Block Kit, MIME, console text), escaping every piece of register
text for that format, and reports how the send went by returning or raising:

- returns a ``Delivery``: the provider accepted the message;
- ``TransientSendError``: not sent, worth retrying (with ``retry_after``
  seconds when the provider said so);
- ``PermanentSendError``: not sent and never will be as addressed (``code``
  names the provider's reason, e.g. ``channel_not_found``);
- ``UnknownOutcomeError``: the provider may have received it (the connection
  dropped after the request went out); recorded, never silently resent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from tracker.errors import TrackerError
from tracker.i18n import N_


@dataclass(frozen=True)
class Item:
    """One occurrence a message is about."""

    deliverable_id: str
    occurrence: int | None  # the year of a recurring deliverable's occurrence
    title: str  # in the message's language, with the occurrence's year already in it: "Titel (2027)"
    owner: str  # the responsible party's name, in the message's language
    due: date | None  # None: an undated commitment (a status round asks about it)
    deadline_text: str  # the deadline in the source's words
    status: str  # the status label, in the message's language
    note: str | None
    source_section: str
    source_quote: str
    url: str  # the deliverable's page
    line: str  # one sentence saying why this item is here, e.g. "due in 7 days (30. juni 2026)"
    status_value: str = ""  # the status's key (Status), as the message tells it: what an answer is checked against
    kind: str = ""  # why it is in the message: "reminder", "overdue", … (an overdue alert's item can be snoozed)
    member: str | None = None  # a member's own part of a per-member occurrence: what an answer changes


@dataclass(frozen=True)
class Message:
    key: str  # the outbox key: stable for the same message, unique per recipient and channel
    kind: str  # "reminder", "overdue", "escalation", "confirm" or "digest"
    channel: str  # "slack", "teams", "email" or "console"
    # A Slack channel ("#name" or an id), a person's e-mail for a Slack DM, a Teams webhook's handle
    # ("teams:…", tracker.notify.webhooks: never its address), or an e-mail address
    recipient: str
    language: str  # "da" or "en"
    at: datetime  # when it is due to be sent (aware)
    subject: str  # one line: the e-mail subject and the Slack header
    intro: str  # the opening sentence
    items: tuple[Item, ...]
    # The whole message as plain text: the Slack fallback, the e-mail text
    # part, the console. Each channel escapes it for its own format.
    text: str
    calendar: bytes | None = None  # the items as an iCalendar object, attached to e-mails
    # Sent after its time (after downtime). Channels mark it; subject, intro
    # and text never mention it, so nothing says it twice.
    late: bool = False
    # The token its recipient answers it with (Slack's buttons): set by the sweep for what an owner is told about.
    answer: str | None = None
    answer_url: str | None = None  # the page an e-mail's recipient answers it on (the token is in it)
    # A coordinators' message about a request for a new deadline: its number, and the deadline asked for
    # (Slack's Godkend / Afvis).
    decides: int | None = None
    decides_deadline: str = ""


def late_note(message: Message) -> str:
    """The sentence every channel opens a late message with, in the message's language."""
    from tracker.i18n import _, format_day, using_language

    with using_language(message.language):
        return _("Sent late: this message was due {day} at {time}.").format(
            day=format_day(message.at.date()), time=message.at.strftime("%H:%M"))


# What each kind of notice is, in words: `notify preview` and `simulate` list them for people.
_KIND_WORDS = {"reminder": N_("reminder"), "overdue": N_("overdue"), "escalation": N_("escalation"),
               "confirm": N_("confirm"), "round": N_("status round"), "digest": N_("digest"),
               "problem": N_("problem")}
# Why a recipient gets a notice, as the planner and the sweep record it (in English, in the outbox and in
# `--json`), and in words for people.
_REASON_WORDS = (
    (re.compile(r"responsible party (?P<party>\S+)"), N_("responsible party {party}")),
    (re.compile(r"co-owner (?P<party>\S+)"), N_("co-owner {party}")),
    (re.compile(r"coordinators, for (?P<party>\S+) \(no contact\)"), N_("coordinators, for {party} (no contact)")),
    (re.compile(r"e-mail instead of Slack (?P<recipient>\S+)"), N_("e-mail instead of Slack {recipient}")),
    (re.compile(r"e-mail instead of Teams (?P<recipient>\S+)"), N_("e-mail instead of Teams {recipient}")),
    (re.compile(r"coordinators"), N_("coordinators")),
    (re.compile(r"task ?force"), N_("task force")),
)


def kind_words(kind: str) -> str:
    from tracker.i18n import _

    return _(_KIND_WORDS[kind]) if kind in _KIND_WORDS else kind


def reason_words(reason: str) -> str:
    """A notice's recorded reason in the current language (as recorded, where it is none of the known forms)."""
    from tracker.i18n import _

    for pattern, words in _REASON_WORDS:
        match = pattern.fullmatch(reason)
        if match:
            return _(words).format(**match.groupdict())
    return reason


def notice_record(at: datetime, message: Message, *, key: str, kind: str, step: str, deliverable_id: str | None,
                  occurrence: int | None, recipient: str, language: str, reason: str) -> dict:
    """One notice in the message that carries it, as `notify preview --json` and `simulate --json` print it.

    An interface others read: the two commands must print the same objects.
    """
    return {
        "at": at.isoformat(), "key": key, "kind": kind, "step": step, "id": deliverable_id, "occurrence": occurrence,
        "channel": message.channel, "recipient": recipient, "language": language, "reason": reason,
        "message": message.key, "subject": message.subject, "text": message.text,
    }


@dataclass(frozen=True)
class Delivery:
    """What the provider told us about an accepted message."""

    provider_id: str | None = None  # Slack's ts, the SMTP Message-ID
    detail: dict[str, str] = field(default_factory=dict)


class SendError(TrackerError):
    """A message was not (known to be) delivered; subclasses say what to do next.

    ``delivered``: the indices of the message's items that did arrive before the failure, where a channel sends
    one message in parts (Teams: a card per part of a long bundle). The sweep records those as sent and
    handles the failure for the rest alone, so a retry or a fallback never repeats them.
    """

    delivered: tuple[int, ...] = ()


class TransientSendError(SendError):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """Never deliverable as addressed. ``whole_channel``: nothing gets through this channel at all (a refused
    token or password, a missing permission), so what reports the failure must go another way."""

    def __init__(self, message: str, code: str, *, whole_channel: bool = False):
        super().__init__(message)
        self.code = code
        self.whole_channel = whole_channel


class UnknownOutcomeError(SendError):
    """The request went out and no answer came back: it may have been delivered.

    ``provider_id`` is what to look for in the provider's logs (an e-mail's
    Message-ID), when it is known before the answer.
    """

    def __init__(self, message: str, provider_id: str | None = None):
        super().__init__(message)
        self.provider_id = provider_id


class CalendarAttacher(Protocol):
    """Makes the iCalendar object an e-mail attaches for its items (``tracker.calendar.attachments`` is one)."""

    def for_claim(self, session: Any, today: date,
                  now: datetime) -> Callable[[Iterable[tuple[str, int | None]], str], bytes | None]:
        """For one claim, reading what it needs once in ``session``: the attachment for a message's
        occurrences (deliverable id, year) in a language, or None."""
        ...


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> Delivery:
        """Deliver ``message`` once, or raise one of the SendErrors above.

        Never resends a message that may have arrived; may wait out a
        provider's rate limit (Slack's Retry-After) before its one send.
        """
        ...
