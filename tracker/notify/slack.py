"""Slack: a ``Message`` as Block Kit through slack-sdk's ``WebClient``, every piece of register text escaped.

A recipient is a channel (``#name`` or an id: ``C…``, ``G…``, ``D…``) or a
person's e-mail address, reached by direct message (``users.lookupByEmail``,
then ``conversations.open``; the DM channel is cached for the life of the
channel object). The message goes out with ``chat.postMessage``:

- a header block (plain text: the subject, at most 150 characters), a
  section with the intro, and per item a section (title linked to the
  deliverable's page, why it is here, owner, deadline, status, note) and a
  context block with the source section and quote; at most 50 blocks, the
  last one listing what did not fit; sections at most 3,000 characters;
- ``text``, the plain-text fallback Slack shows in notifications, at most
  40,000 characters;
- ``unfurl_links``/``unfurl_media`` off, ``parse=none``, ``link_names`` off,
  and ``verbatim`` on every mrkdwn text, so Slack never turns register text
  into mentions or links by itself.

Register and coordinator text is escaped (``escape_mrkdwn``: ``&``, ``<``,
``>``), so a title can never mention ``@channel``, a user or smuggle a link.
Slack's formatting characters (``*``, ``_``, ``~``, `````) are left alone:
mrkdwn has no escape for them, only look-alike characters or zero-width
spaces that would change what people copy and search for, and the worst they
can do is bold or italicise part of a title.

How a send went, per the contract in ``tracker.notify.message``:

- Slack's ``ok: false`` for anything that will fail again as addressed
  (token, scope, channel, user, malformed message) → ``PermanentSendError``
  with Slack's code and the fix in the message;
- 429 / ``ratelimited``: waits ``Retry-After`` seconds and tries again, up to
  ``rate_limit_retries`` times (and only when the wait is at most
  ``max_wait``), then ``TransientSendError(retry_after=…)``;
- 5xx, ``service_unavailable`` and a connection that could not be opened →
  ``TransientSendError``: nothing was posted;
- a timeout or a connection dropped after ``chat.postMessage`` went out, an
  HTTP 504 from a gateway, and ``internal_error``/``fatal_error`` on
  ``chat.postMessage`` (Slack documents both with "it's possible some aspect
  of the operation succeeded") → ``UnknownOutcomeError``: it may have been
  posted. The look-up steps post nothing, so the same failures there are
  transient.

slack-sdk's own ``ConnectionErrorRetryHandler`` is not used: it would resend
a message that may already have arrived. The token is handed to the client
and never logged or put in an exception message.
"""

from __future__ import annotations

import email.utils
import http.client
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, cast
from urllib.error import URLError
from urllib.parse import urlsplit, urlunsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tracker.addresses import is_address
from tracker.text import clean_text
from tracker.errors import TrackerError
from tracker.i18n import _, format_day, ngettext, using_language
from tracker.model import Status
from tracker.notify.message import (
    Delivery,
    Item,
    Message,
    PermanentSendError,
    TransientSendError,
    UnknownOutcomeError,
    late_note,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://slack.com/api/"

HEADER_LIMIT = 150  # a header block's plain text
SECTION_LIMIT = 3000  # a section's (and a context element's) text
BLOCK_LIMIT = 50  # blocks in one message
TEXT_LIMIT = 40_000  # the top-level text (the fallback)
LABEL_LIMIT = 500  # a link's label (a title): keeps one long title from filling a section
URL_LIMIT = 2000  # longer URLs are shown without a link rather than cut
ELLIPSIS = "…"

# Slack's error codes, by what to do about them.
_TOKEN = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
          "not_allowed_token_type", "two_factor_setup_required"}
_SCOPE = {"missing_scope"}
_CHANNEL_NOT_FOUND = {"channel_not_found"}
_NOT_IN_CHANNEL = {"not_in_channel"}
_ARCHIVED = {"is_archived"}
_NO_USER = {"users_not_found", "user_not_found"}
_USER_DISABLED = {"user_disabled"}
_BOT = {"cannot_dm_bot"}
_MALFORMED = {"msg_too_long", "no_text", "invalid_blocks", "invalid_blocks_format", "too_many_attachments",
              "invalid_attachments", "invalid_arguments", "invalid_arg_name", "invalid_array_arg", "invalid_charset",
              "invalid_form_data", "invalid_post_type", "missing_post_type", "invalid_json", "json_not_object",
              "invalid_metadata_format", "invalid_metadata_schema", "metadata_too_large"}
_RESTRICTED = {"restricted_action", "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
               "restricted_action_non_threadable_channel", "ekm_access_denied", "team_access_not_granted",
               "no_permission", "access_denied", "enterprise_is_restricted", "method_not_supported_for_channel_type",
               "channel_type_not_supported"}
_TRANSIENT = {"service_unavailable", "request_timeout", "team_added_to_org", "message_limit_exceeded",
              "internal_error", "fatal_error"}
# Slack: "It's possible some aspect of the operation succeeded before the error was raised."
_MAY_HAVE_SUCCEEDED = {"internal_error", "fatal_error"}

_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{6,}")
_CHANNEL_NAME = re.compile(r"#[^\s#@<>|&,]{1,80}")
_SLACK_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f|<>\"`\\]")

_POST = "chat.postMessage"


# ---------------------------------------------------------------------------
# Escaping and fitting text


def escape_mrkdwn(text: str) -> str:
    """``text`` safe inside Slack mrkdwn: ``&``, ``<`` and ``>`` as ``&amp;``, ``&lt;`` and ``&gt;``.

    Slack reads every ``<…>`` as a mention, a channel, a date or a link and
    every ``&…;`` as an entity, so after this no part of ``text`` can be
    either; Slack shows the characters themselves.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _units(text: str) -> int:
    """Length as Slack may count it (UTF-16 code units): never less than Python's ``len``."""
    return len(text) + sum(1 for character in text if ord(character) > 0xFFFF)


def _plain(text: str, limit: int) -> str:
    """Plain ``text`` of at most ``limit`` units, cut with an ellipsis."""
    if _units(text) <= limit:
        return text
    kept, used = [], 0
    for character in text:
        used += _units(character)
        if used > limit - 1:
            break
        kept.append(character)
    return "".join(kept).rstrip() + ELLIPSIS


def _mrkdwn(parts: Iterable[tuple[str, bool]], limit: int) -> str:
    """mrkdwn from parts of (text, escape) of at most ``limit`` units.

    Register text (escape=True) is escaped and may be cut between two of its
    characters, never inside an entity; mrkdwn of our own (links, line
    breaks; escape=False) is kept whole or left out. A cut ends in "…".
    """
    pieces = [(escape_mrkdwn(text) if escape else text, text, escape) for text, escape in parts]
    whole = "".join(piece for piece, _text, _escape in pieces)
    if _units(whole) <= limit:
        return whole
    budget = limit - 1
    kept: list[str] = []
    used = 0
    for piece, text, escape in pieces:
        size = _units(piece)
        if used + size <= budget:
            kept.append(piece)
            used += size
            continue
        if escape:
            for character in text:
                escaped = escape_mrkdwn(character)
                size = _units(escaped)
                if used + size > budget:
                    break
                kept.append(escaped)
                used += size
        break
    return "".join(kept).rstrip() + ELLIPSIS


def _one_line(text: str) -> str:
    return " ".join(clean_text(text).split())


def _safe_url(url: str) -> str | None:
    """``url`` ready for ``<url|label>``, or None when it must not be a link.

    Only absolute http(s) URLs are linked. ``|``, ``<``, ``>``, quotes,
    spaces and control characters are percent-encoded (they cannot appear
    in a valid URL anyway), and ``&`` becomes ``&amp;`` as Slack expects.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or len(url) > URL_LIMIT:
        return None
    encoded = _URL_UNSAFE.sub(lambda match: "".join(f"%{byte:02X}" for byte in match.group().encode()), url)
    return encoded.replace("&", "&amp;")


def _link(url: str, label: str) -> str:
    """A mrkdwn link to ``url`` labelled with (escaped) ``label``; just the label when ``url`` is unsafe."""
    text = escape_mrkdwn(_plain(_one_line(label), LABEL_LIMIT)) or escape_mrkdwn(url[:LABEL_LIMIT])
    target = _safe_url(url)
    if target is None:
        return text
    # Slack ends the URL at the first "|"; a "|" in the label is shown as a look-alike so no reader of
    # the text can take it for a second separator.
    return f"<{target}|{text.replace('|', '｜')}>"


# ---------------------------------------------------------------------------
# Block Kit


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text, "verbatim": True}]}


def _item_section(item: Item) -> dict[str, Any]:
    lines = [
        clean_text(item.line),
        _("Responsible: {party}").format(party=clean_text(item.owner)),
        _("Deadline: “{text}”, read as {due}").format(text=clean_text(item.deadline_text), due=format_day(item.due))
        if item.due is not None else _("Deadline: none agreed yet"),
        _("Status: {status}").format(status=clean_text(item.status)),
    ]
    if item.note:
        lines.append(_("Latest note: {note}").format(note=clean_text(item.note)))
    title = "*" + _link(item.url, item.title) + "*"
    return _section(_mrkdwn([(title, False), ("\n" + "\n".join(line for line in lines if line), True)],
                            SECTION_LIMIT))


def _item_context(item: Item) -> dict[str, Any]:
    source = _("Source, {section}: “{quote}”").format(
        section=_one_line(item.source_section), quote=clean_text(item.source_quote))
    return _context(_mrkdwn([(source, True)], SECTION_LIMIT))


def _more(items: tuple[Item, ...]) -> list[dict[str, Any]]:
    """Sections listing ``items`` one line each (linked title, why it is here), under "And N more:"."""
    texts = [escape_mrkdwn(_("And {count} more:").format(count=len(items)))]
    for item in items:
        line = _mrkdwn([("• " + _link(item.url, item.title), False), (" — " + _one_line(item.line), True)],
                       SECTION_LIMIT)
        if _units(texts[-1]) + 1 + _units(line) <= SECTION_LIMIT:
            texts[-1] += "\n" + line
        else:
            texts.append(line)
    return [_section(text) for text in texts]


# The buttons under each item an owner is told about: action_id → the status it sets.
ANSWER_ACTIONS = {"status_done": Status.DONE, "status_in_progress": Status.IN_PROGRESS,
                  "status_at_risk": Status.AT_RISK}
CONFIRM_ACTION = "status_confirm"  # "Uændret", under a status round's item: the status as the message told it
REPLAN_ACTION = "replan_request"  # "Ny frist …": a modal, then a request to the coordinators
NOTE_ACTION = "add_note"  # "Note …": a modal, a note with an optional link to the evidence
EVIDENCE_ACTION = "add_evidence"  # "Tilføj dokumentation", after an answer: the note modal again
UNDO_ACTION = "undo_answer"  # "Fortryd", after an answer: the status the message told, back
APPROVE_ACTION, REJECT_ACTION = "request_approve", "request_reject"  # the coordinators' decision on a request
SNOOZE_ACTIONS = {"snooze_2w": 14, "snooze_4w": 28}  # "Udsæt 2 uger" / "4 uger" under an overdue item: days
MODAL_ACTIONS = {REPLAN_ACTION, NOTE_ACTION, EVIDENCE_ACTION, REJECT_ACTION}
ACTIONS = {*ANSWER_ACTIONS, *MODAL_ACTIONS, *SNOOZE_ACTIONS, UNDO_ACTION, APPROVE_ACTION, CONFIRM_ACTION}
MODAL_TITLE_LIMIT = 24  # a modal's title, submit and close labels
INPUT_LIMIT = 2000  # what a person may write in one field (a note, a reason)


def answer_block_id(index: int) -> str:
    return f"answer-{index}"


def answered_block_id(index: int) -> str:
    return f"answered-{index}"


def _button(action_id: str, label: str, value: str, style: str | None = None,
            confirm: dict[str, Any] | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id, "value": value,
                              "text": {"type": "plain_text", "text": _plain(label, 75), "emoji": True}}
    if style:
        button["style"] = style
    if confirm:
        button["confirm"] = confirm
    return button


def answer_actions(token: str, index: int, *, snooze: bool = False, confirm: bool = False) -> dict[str, Any]:
    """The buttons that answer item ``index``: each value names the message's answer token and the item; with
    ``snooze`` (an overdue item), "Udsæt 2 uger" and "Udsæt 4 uger" too; with ``confirm`` (a status round's
    item), "Uændret" first."""
    value = f"{token}:{index}"
    buttons = [_button(CONFIRM_ACTION, _("Unchanged"), value)] if confirm else []
    buttons += [_button(action_id, status.label.capitalize(), value, "primary" if status is Status.DONE else None)
                for action_id, status in ANSWER_ACTIONS.items()]
    buttons += [_button(REPLAN_ACTION, _("New deadline …"), value), _button(NOTE_ACTION, _("Note …"), value)]
    if snooze:
        buttons += [_button(action_id, ngettext("Snooze {count} week", "Snooze {count} weeks", days // 7).format(
            count=days // 7), value) for action_id, days in SNOOZE_ACTIONS.items()]
    return {"type": "actions", "block_id": answer_block_id(index), "elements": buttons}


def answered_blocks(text: str, token: str, index: int, *, undo: bool = True) -> list[dict[str, Any]]:
    """What replaces an item's buttons once its status is answered: "✓ Markeret færdig af …", with ``Fortryd``
    (for ``tracker.store.answers.UNDO_WINDOW``; not after a confirmation, which changed nothing) and ``Tilføj
    dokumentation``."""
    value = f"{token}:{index}"
    said = answered_context(text)
    said["block_id"] = answered_block_id(index)
    buttons = [_button(UNDO_ACTION, _("Undo"), value)] if undo else []
    return [said, {"type": "actions", "block_id": answer_block_id(index), "elements": [
        *buttons, _button(EVIDENCE_ACTION, _("Add evidence"), value)]}]


def answered_context(text: str) -> dict[str, Any]:
    """One line about an answer under its item: "✓ Markeret færdig af …", "📝 Note fra …"."""
    return _context(_mrkdwn([(text, True)], SECTION_LIMIT))


def decision_actions(token: str, request: int, deadline_text: str) -> dict[str, Any]:
    """``Godkend`` / ``Afvis`` under a request for a new deadline, for the coordinators; approving asks first."""
    value = f"{token}:{request}"
    confirm = {"title": {"type": "plain_text", "text": _plain(_("Approve the new deadline?"), 100)},
               "text": {"type": "plain_text", "text": _plain(_("The deliverable is re-planned to “{deadline}”; the "
                                                               "baseline stays.").format(deadline=deadline_text),
                                                             300)},
               "confirm": {"type": "plain_text", "text": _("Approve")},
               "deny": {"type": "plain_text", "text": _("Cancel")}}
    return {"type": "actions", "block_id": f"decide-{request}", "elements": [
        _button(APPROVE_ACTION, _("Approve"), value, "primary", confirm),
        _button(REJECT_ACTION, _("Reject …"), value, "danger")]}


def _input(block_id: str, label: str, *, multiline: bool = False, optional: bool = False, url: bool = False,
           hint: str | None = None, placeholder: str | None = None, initial: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "url_text_input" if url else "plain_text_input", "action_id": block_id}
    if not url:
        element["max_length"] = INPUT_LIMIT if multiline else 200
        element["multiline"] = multiline
    if placeholder:
        element["placeholder"] = {"type": "plain_text", "text": _plain(placeholder, 150)}
    if initial:
        element["initial_value"] = initial
    block: dict[str, Any] = {"type": "input", "block_id": block_id, "optional": optional, "element": element,
                             "label": {"type": "plain_text", "text": _plain(label, 2000)}}
    if hint:
        block["hint"] = {"type": "plain_text", "text": _plain(hint, 2000)}
    return block


def _modal(callback_id: str, title: str, submit: str, metadata: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "modal", "callback_id": callback_id, "private_metadata": metadata,
            "title": {"type": "plain_text", "text": _plain(title, MODAL_TITLE_LIMIT)},
            "submit": {"type": "plain_text", "text": _plain(submit, MODAL_TITLE_LIMIT)},
            "close": {"type": "plain_text", "text": _plain(_("Cancel"), MODAL_TITLE_LIMIT)},
            "blocks": blocks}


def _about(title: str, lines: Iterable[str]) -> dict[str, Any]:
    """A modal's opening section: the item's title and where it stands, escaped."""
    return _section(_mrkdwn([("*" + escape_mrkdwn(_plain(_one_line(title), LABEL_LIMIT)) + "*", False),
                             ("\n" + "\n".join(lines), True)], SECTION_LIMIT))


def replan_view(metadata: str, title: str, due: str, deadline_text: str) -> dict[str, Any]:
    """The modal behind ``Ny frist …``: a proposed deadline in any form the register takes, and why."""
    return _modal(REPLAN_ACTION, _("New deadline"), _("Send request"), metadata, [
        _about(title, [_("Deadline now: “{text}”, read as {due}").format(text=clean_text(deadline_text), due=due),
                       _("The coordinators decide; until then the deadline stays.")]),
        _input("deadline", _("Proposed deadline"), placeholder=_("e.g. 30/9/2027, “i tredje kvartal 2027”"),
               hint=_("A day (31/12/2027), a month, a quarter, a half year or “medio 2027”, as the plan writes "
                      "them.")),
        _input("reason", _("Why should it move?"), multiline=True),
    ])


def note_view(metadata: str, title: str, status: str, *, evidence: bool = False) -> dict[str, Any]:
    """The modal behind ``Note …`` and ``Tilføj dokumentation``: a note, with an optional link to the evidence."""
    return _modal(EVIDENCE_ACTION if evidence else NOTE_ACTION, _("Add evidence") if evidence else _("Note"),
                  _("Save"), metadata, [
        _about(title, [_("Status: {status}").format(status=status)]),
        _input("note", _("Note"), multiline=True,
               placeholder=_("What was delivered, or how it stands") if evidence else None),
        _input("evidence", _("Link to the evidence"), url=True, optional=not evidence,
               hint=_("A web address where the deliverable or the decision can be read (https://…).")),
    ])


def reject_view(metadata: str, title: str, deadline_text: str) -> dict[str, Any]:
    """The coordinators' modal behind ``Afvis …``: the reason the requester is told."""
    return _modal(REJECT_ACTION, _("Reject the request"), _("Reject"), metadata, [
        _about(title, [_("Requested deadline: “{text}”").format(text=clean_text(deadline_text))]),
        _input("reason", _("Why not? The requester is told."), multiline=True),
    ])


def _late_context(message: Message) -> dict[str, Any]:
    return _context(_mrkdwn([("⏰ " + late_note(message), True)], SECTION_LIMIT))


def blocks_for(message: Message) -> list[dict[str, Any]]:
    """The Block Kit blocks for ``message``, in its language, within Slack's limits."""
    with using_language(message.language):
        subject = _one_line(message.subject) or _("Cancer Plan V")
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": _plain(subject, HEADER_LIMIT), "emoji": True}}
        ]
        if message.late:
            blocks.append(_late_context(message))
        intro = clean_text(message.intro).strip()
        if intro:
            blocks.append(_section(_mrkdwn([(intro, True)], SECTION_LIMIT)))
        room = BLOCK_LIMIT - len(blocks)
        items = message.items
        if message.answer and message.decides is not None:
            room -= 1  # the coordinators' Godkend / Afvis
        per_item = 3 if message.answer and message.decides is None else 2  # section, context, the buttons
        more: list[dict[str, Any]] = []
        shown = len(items)
        if per_item * len(items) > room:
            # As many items in full as leave room for a one-line listing of all the others.
            for shown in range(min(len(items), (room - 1) // per_item), -1, -1):
                more = _more(items[shown:])
                if per_item * shown + len(more) <= room:
                    break
            else:  # even one line each is too much: list what fits, and say there is more
                more = more[:room]
                last = more[-1]["text"]
                if _units(last["text"]) + 2 > SECTION_LIMIT:
                    last["text"] = last["text"].rsplit("\n", 1)[0]
                last["text"] += "\n" + ELLIPSIS
        for index, item in enumerate(items[:shown]):
            blocks += [_item_section(item), _item_context(item)]
            if message.answer and message.decides is None:
                blocks.append(answer_actions(message.answer, index, snooze=item.kind == "overdue",
                                             confirm=item.kind == "round"))
        if message.answer and message.decides is not None and len(blocks) + len(more) < BLOCK_LIMIT:
            blocks.append(decision_actions(message.answer, message.decides, message.decides_deadline))
        return blocks + more


def fallback_for(message: Message) -> str:
    """The top-level ``text``: the message's plain text, escaped (Slack reads it as mrkdwn), at most 40,000."""
    text = clean_text(message.text).strip() or _one_line(message.subject) or message.key
    return _mrkdwn([(text, True)], TEXT_LIMIT)


# ---------------------------------------------------------------------------
# The channel


def _redacted(url: str) -> str:
    """``url`` without user information, query or fragment: safe to show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _retry_after(headers: Mapping[str, Any] | None, default: float | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date), else ``default``."""
    value: Any = None
    for name, candidate in (headers or {}).items():
        if name.lower() == "retry-after":
            value = candidate
            break
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value is None:
        return default
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _reason(error: BaseException) -> str:
    """What went wrong on the network, in a few words (never the request, so never the token)."""
    if isinstance(error, URLError) and isinstance(error.reason, BaseException):
        error = error.reason
    elif isinstance(error, URLError):
        return str(error.reason)
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class SlackChannel:
    """Sends messages to Slack channels and people; see the module docstring for what each outcome means."""

    name = "slack"

    def __init__(self, token: str, base_url: str | None = None, *, timeout: float = 10,
                 rate_limit_retries: int = 3, max_wait: float = 60):
        if not token or not token.strip():
            raise TrackerError(_("No Slack token is set. Put the app's bot token (xoxb-…) in SLACK_BOT_TOKEN."))
        base = (base_url or DEFAULT_BASE_URL).strip()
        try:
            parts = urlsplit(base)
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise TrackerError(_(
                "SLACK_API_URL={url!r} is not an http(s) address. Leave it unset to use Slack "
                "(https://slack.com/api/), or point it at a stand-in, e.g. http://127.0.0.1:8099/api/."
            ).format(url=_redacted(base) if parts is not None else "?"))
        if not base.endswith("/"):
            base += "/"  # urljoin would otherwise replace the last path segment ("api") with the method
        self.base_url = base
        self.timeout = timeout
        self.rate_limit_retries = rate_limit_retries
        self.max_wait = max_wait
        # No retry handlers at all: the connection-error one would resend a message that may have arrived,
        # and rate limits are waited out below, where the wait can be bounded and reported.
        self._client = WebClient(token=token.strip(), base_url=base, timeout=timeout,  # type: ignore[arg-type]
                                 retry_handlers=[])
        self._dm_channels: dict[str, str] = {}  # e-mail address (lower case) → DM channel id

    def __repr__(self) -> str:
        return f"SlackChannel(base_url={_redacted(self.base_url)!r})"

    def person(self, user_id: str) -> tuple[str, str]:
        """(name, e-mail) of the Slack user ``user_id`` (``users.info``, scope ``users:read.email``); a SendError
        when Slack does not say."""
        answer = self._call("users.info", user_id, user=user_id)
        user = answer.get("user") or {}
        if user.get("deleted") or user.get("is_bot"):  # a deactivated account or an app answers for nobody
            raise PermanentSendError(_("the Slack account {user} is deactivated or a bot").format(user=user_id),
                                     "user_disabled")
        profile = user.get("profile") or {}
        email = str(profile.get("email") or "")
        name = str(profile.get("real_name") or user.get("real_name") or user.get("name") or email)
        return name, email

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        """Open a modal for the person whose press carried ``trigger_id`` (``views.open``, within three seconds
        of the press); a SendError when Slack does not."""
        self._call("views.open", "views.open", trigger_id=trigger_id, view=view)

    def check(self) -> str:
        """Ask Slack who the token is (``auth.test``): the workspace and the bot, or a SendError saying why not."""
        answer = self._call("auth.test", "auth.test")
        return _("the workspace {team}, as {user}").format(team=answer.get("team") or "?",
                                                          user=answer.get("user") or "?")

    # -- sending

    def send(self, message: Message) -> Delivery:
        channel = self._conversation(message.recipient)
        response = self._call(
            _POST,
            message.recipient,
            channel=channel,
            text=fallback_for(message),
            blocks=blocks_for(message),
            unfurl_links=False,
            unfurl_media=False,
            parse="none",
            link_names=False,
        )
        posted_in = str(response.get("channel") or channel)
        ts = response.get("ts")
        log.info("Posted %s to Slack %s (%s) as %s", message.key, message.recipient, posted_in, ts)
        return Delivery(provider_id=str(ts) if ts is not None else None, detail={"channel": posted_in})

    def _conversation(self, recipient: str) -> str:
        """The channel to post to: the channel itself, or the DM channel with the person behind an address."""
        recipient = recipient.strip()
        if _CHANNEL_ID.fullmatch(recipient) or _CHANNEL_NAME.fullmatch(recipient):
            return recipient
        if not is_address(recipient, smtp=False):
            raise PermanentSendError(_(
                "{recipient!r} is not a Slack recipient: write #channel-name, a channel id (C…, G… or D…) or a "
                "person's e-mail address."
            ).format(recipient=recipient), "invalid_recipient")
        cache_key = recipient.lower()
        cached = self._dm_channels.get(cache_key)
        if cached is not None:
            return cached
        found = self._call("users.lookupByEmail", recipient, email=recipient)
        user = found.get("user") or {}
        if not user.get("id"):
            raise self._refusal("users.lookupByEmail", recipient, "users_not_found", {})
        if user.get("deleted"):
            raise self._refusal("users.lookupByEmail", recipient, "user_disabled", {})
        opened = self._call("conversations.open", recipient, users=user["id"])
        channel_id = str((opened.get("channel") or {}).get("id") or "")
        if not channel_id:
            raise self._refusal("conversations.open", recipient, "channel_not_found", {})
        self._dm_channels[cache_key] = channel_id
        return channel_id

    def _call(self, method: str, recipient: str, **arguments: Any) -> Any:
        """One Web API call, rate limits waited out; every failure as one of the SendErrors."""
        function = cast(Callable[..., Any], {
            "auth.test": self._client.auth_test,
            _POST: self._client.chat_postMessage,
            "users.lookupByEmail": self._client.users_lookupByEmail,
            "conversations.open": self._client.conversations_open,
            "users.info": self._client.users_info,
            "views.open": self._client.views_open,
        }[method])
        attempt = 0
        while True:
            try:
                return function(**arguments)
            except SlackApiError as error:
                response = error.response
                status = int(response.status_code or 0)
                data = response.data if isinstance(response.data, dict) else {}
                code = str(data.get("error") or "")
                if status == 429 or code == "ratelimited":
                    wait = _retry_after(response.headers, 1.0) or 0.0
                    if attempt < self.rate_limit_retries and wait <= self.max_wait:
                        attempt += 1
                        log.warning("Slack is rate limiting %s; waiting %.1f s (retry %d of %d)",
                                    method, wait, attempt, self.rate_limit_retries)
                        time.sleep(wait)
                        continue
                    raise TransientSendError(_("Slack is rate limiting {method}; try again in {seconds} s.").format(
                        method=method, seconds=f"{wait:g}"), retry_after=wait) from None
                # from None: the SlackApiError holds the request, and the request holds the token
                raise self._api_error(method, recipient, status, code, data, response.headers) from None
            except URLError as error:
                # urllib raises URLError while connecting or writing the request: it never reached Slack whole.
                raise TransientSendError(_(
                    "Cannot reach Slack at {url} ({reason}); nothing was sent. Check the network and SLACK_API_URL."
                ).format(url=_redacted(self.base_url), reason=_reason(error))) from error
            except (OSError, http.client.HTTPException) as error:
                # The request went out and the answer did not come back (timeout, connection closed or reset).
                if isinstance(error, TimeoutError):
                    reason = _("no answer within {seconds} s").format(seconds=f"{self.timeout:g}")
                else:
                    reason = _reason(error)
                raise self._no_answer(method, recipient, reason) from error

    def _no_answer(self, method: str, recipient: str, reason: str) -> TransientSendError | UnknownOutcomeError:
        if method == _POST:
            return UnknownOutcomeError(_(
                "The answer from Slack to the message for {recipient} was lost ({reason}); it may have been "
                "posted. Check {recipient} before sending it again."
            ).format(recipient=recipient, reason=reason))
        return TransientSendError(_(
            "Slack did not answer {method} for {recipient} ({reason}); nothing was posted, and it is safe to try "
            "again."
        ).format(method=method, recipient=recipient, reason=reason))

    def _api_error(self, method: str, recipient: str, status: int, code: str, data: Mapping[str, Any],
                   headers: Mapping[str, Any] | None) -> Exception:
        if not _SLACK_CODE.fullmatch(code):
            # Not Slack's JSON (slack-sdk puts its own words in "error"): a gateway's page, or a wrong URL.
            if status == 504:
                return self._no_answer(method, recipient, f"HTTP {status}")
            if status >= 500 or status in (408, 425):
                return TransientSendError(_(
                    "Slack could not handle {method} for {recipient} just now ({reason}); nothing was posted. It "
                    "is worth trying again later."
                ).format(method=method, recipient=recipient, reason=f"HTTP {status}"),
                    retry_after=_retry_after(headers, None))
            return PermanentSendError(_(
                "The address {url} answered {method} with HTTP {status}, which is not a Slack API response. Check "
                "SLACK_API_URL."
            ).format(url=_redacted(self.base_url), method=method, status=status), f"http_{status}")
        if code in _MAY_HAVE_SUCCEEDED and method == _POST:
            return self._no_answer(method, recipient, code)
        if code in _TRANSIENT or status >= 500:
            return TransientSendError(_(
                "Slack could not handle {method} for {recipient} just now ({reason}); nothing was posted. It is "
                "worth trying again later."
            ).format(method=method, recipient=recipient, reason=code), retry_after=_retry_after(headers, None))
        return self._refusal(method, recipient, code, data)

    def _refusal(self, method: str, recipient: str, code: str, data: Mapping[str, Any]) -> PermanentSendError:
        if code in _TOKEN:
            text = _("Slack did not accept the bot token ({code}). Check SLACK_BOT_TOKEN: it must be the app's "
                     "current bot token (xoxb-…), and the app must still be installed in the workspace.")
        elif code in _SCOPE:
            text = _("The Slack app lacks the permission {scope} ({code}). Add the scope under OAuth & "
                     "Permissions and reinstall the app.")
        elif code in _CHANNEL_NOT_FOUND:
            text = _("Slack has no channel {recipient} that the bot can see ({code}). Check the name in the "
                     "contacts file; a private channel must invite the bot first.")
        elif code in _NOT_IN_CHANNEL:
            text = _("The bot is not a member of {recipient} ({code}). Invite it to the channel (/invite and the "
                     "app's name) and the message can be sent.")
        elif code in _ARCHIVED:
            text = _("The channel {recipient} is archived ({code}). Unarchive it, or point the contacts file at "
                     "another channel.")
        elif code in _NO_USER:
            text = _("No Slack user has the e-mail address {recipient} ({code}). Correct the address in the "
                     "contacts file, or reach the party through a channel.")
        elif code in _USER_DISABLED:
            text = _("The Slack user with the e-mail address {recipient} is deactivated ({code}). Update the "
                     "contacts file.")
        elif code in _BOT:
            text = _("{recipient} is a bot, and Slack does not let apps send direct messages to bots ({code}). "
                     "Use a person's address or a channel.")
        elif code in _MALFORMED:
            text = _("Slack rejected the message to {recipient} as malformed ({code}{detail}). This is a bug in "
                     "tracker; please report it with this message.")
        elif code in _RESTRICTED:
            text = _("The workspace does not allow the bot to post to {recipient} ({code}). Ask a Slack "
                     "administrator to allow it, or use another channel.")
        else:
            text = _("Slack refused {method} for {recipient} with the error {code}. See "
                     "https://docs.slack.dev/reference/methods/{method} for what it means.")
        details = [str(entry) for entry in data.get("errors") or ()]
        details += [str(entry) for entry in (data.get("response_metadata") or {}).get("messages") or ()]
        detail = ": " + "; ".join(dict.fromkeys(details)) if details else ""
        scope = str(data.get("needed") or "?")
        return PermanentSendError(text.format(recipient=recipient, code=code, method=method, scope=scope,
                                              detail=_plain(detail, 500)), code,
                                  whole_channel=code in _TOKEN or code in _SCOPE)
