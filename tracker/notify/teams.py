"""Microsoft Teams: a ``Message`` as Adaptive Cards, posted to a channel's Workflows webhook over httpx.

A recipient is a webhook's handle (``teams:`` and ten hex digits,
``tracker.notify.webhooks``); the channel holds the addresses by handle, as
the contacts file gives them, and no address ever leaves it: not in a log
line, an exception or ``repr``. The webhook is the flow Teams' Workflows app
makes from "Post to a channel when a webhook request is received"; it takes
``{"type": "message", "attachments": [{"contentType":
"application/vnd.microsoft.card.adaptive", "content": CARD}]}`` and answers
202 Accepted.

The card (Adaptive Cards 1.4, full width):

- a header TextBlock with the subject, a line when the message is late, the
  intro;
- per item a Container: the title linked to the deliverable's page, why it is
  here, a FactSet (responsible, deadline in the source's words and as a day,
  status, latest note), the source in small subtle text, and, when the
  message has an answer page, an ``Action.OpenUrl`` "Svar" to the page at
  that item (``#item-N``): a webhook cannot carry a button press back, so the
  page is where an owner answers;
- the whole payload at most ``PAYLOAD_LIMIT`` bytes (Teams takes about 28 KB):
  a longer bundle goes as several cards in order ("(1/3)" in the header), an
  item is never split between two, and an item too large for a card of its own
  has its source quote and note shortened until it fits.

Escaping. TextBlocks and FactSet values are rendered as Teams' Markdown
subset (``**bold**``, ``_italic_``, ``- lists``, ``1. lists``, ``[links](…)``)
and Teams also resolves HTML entities and ``<at>`` mentions. Register and
user text is made inert by ``escape_card_markdown``: each Markdown character
(``\\ * _ [ ] ( ) ~ ` # + - ! . > |``) is backslash-escaped, ``<``, ``>`` and
``&`` become their entities, and control characters go (``clean_text``). So a
title can never become a link, bold text, a list, a heading or a mention.
Only absolute http(s) URLs are linked, with spaces, brackets, quotes and
parentheses percent-encoded; anything else is shown as text.

How a send went, per ``tracker.notify.message``:

- 2xx: posted;
- 429: waits ``Retry-After`` (up to ``max_wait``, ``rate_limit_retries``
  times), then ``TransientSendError(retry_after=…)``;
- 500, 502, 503 and a connection that never opened: ``TransientSendError``,
  nothing was posted; a 504 from a gateway, a timeout or a connection dropped
  after the request went out: ``UnknownOutcomeError``, it may have been;
- 400, 401, 403, 404, 410, 413 and the other 4xx: ``PermanentSendError``
  (``http_404`` …) with what to do. Each webhook is its own credential, so
  none of these is about the whole channel.

When a later card of a split bundle fails, the error carries the items the
earlier cards delivered (``SendError.delivered``): the sweep records those as
sent, and retries or falls back the rest alone.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from tracker.i18n import _, format_day, using_language
from tracker.notify.message import (Delivery, Item, Message, PermanentSendError, SendError, TransientSendError,
                                    UnknownOutcomeError, late_note)
from tracker.notify.slack import _reason, _retry_after
from tracker.notify.webhooks import masked_webhook
from tracker.text import clean_text

log = logging.getLogger(__name__)


class _MaskedAddresses(logging.Filter):
    """httpx logs every request's full URL at INFO ("HTTP Request: POST https://…&sig=…"), and a webhook's URL is
    its credential: in what httpx logs, every URL is shown by its host and handle only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(masked_webhook(str(arg)) if isinstance(arg, httpx.URL) else arg
                                for arg in record.args)
        return True


if not any(isinstance(existing, _MaskedAddresses) for existing in logging.getLogger("httpx").filters):
    logging.getLogger("httpx").addFilter(_MaskedAddresses())

PAYLOAD_LIMIT = 27_000  # bytes of JSON per post: Teams takes about 28 KB, and the margin is for its own envelope
CARD_VERSION = "1.4"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
ELLIPSIS = "…"
QUOTE_FLOOR = 200  # a shortened source quote keeps at least this much, when even that does not fit, the note goes

_MARKDOWN = re.compile(r"([\\*_\[\]()~`#+\-!.>|])")
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f<>\"'`\\()\[\]{}|^]")


# ---------------------------------------------------------------------------
# Escaping


def escape_card_markdown(text: str) -> str:
    """``text`` inert in a TextBlock or a FactSet value: shown as written, never formatted, linked or mentioned."""
    text = clean_text(text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", text)


def _one_line(text: str) -> str:
    return " ".join(clean_text(text).split())


def safe_url(url: str) -> str | None:
    """``url`` ready for a Markdown link or an ``Action.OpenUrl``, or None when it must not be one."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or len(url) > 2000:
        return None
    return _URL_UNSAFE.sub(lambda match: "".join(f"%{byte:02X}" for byte in match.group().encode()), url)


def _link(url: str, label: str) -> str:
    text = escape_card_markdown(_one_line(label)) or escape_card_markdown(url)
    target = safe_url(url)
    return f"[{text}]({target})" if target else text


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + ELLIPSIS


# ---------------------------------------------------------------------------
# The card


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _item(item: Item, index: int, answer_url: str | None, quote_limit: int | None = None,
          note_limit: int | None = None) -> dict[str, Any]:
    note = item.note if note_limit is None or item.note is None else _shorten(item.note, note_limit)
    quote = item.source_quote if quote_limit is None else _shorten(item.source_quote, quote_limit)
    facts = [{"title": _("Responsible"), "value": escape_card_markdown(item.owner)},
             {"title": _("Due"), "value": escape_card_markdown(
                 _("“{text}”, read as {due}").format(text=item.deadline_text, due=format_day(item.due))
                 if item.due is not None else _("none agreed yet"))},
             {"title": _("Status"), "value": escape_card_markdown(item.status)}]
    if note:
        facts.append({"title": _("Latest note"), "value": escape_card_markdown(note)})
    body: list[dict[str, Any]] = [
        _text(_link(item.url, item.title), weight="Bolder", size="Medium"),
        _text(escape_card_markdown(item.line)),
        {"type": "FactSet", "facts": facts},
        _text(escape_card_markdown(_("Source, {section}: “{quote}”").format(section=_one_line(item.source_section),
                                                                           quote=quote)),
              size="Small", isSubtle=True),
    ]
    target = safe_url(f"{answer_url}#item-{index}") if answer_url else None
    if target:
        body.append({"type": "ActionSet", "actions": [{"type": "Action.OpenUrl", "title": _("Answer"),
                                                        "url": target}]})
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": body}


def _payload(head: list[dict[str, Any]], items: list[dict[str, Any]], answer_url: str | None) -> dict[str, Any]:
    card: dict[str, Any] = {"$schema": SCHEMA, "type": "AdaptiveCard", "version": CARD_VERSION,
                            "msteams": {"width": "Full"}, "body": [*head, *items]}
    target = safe_url(answer_url) if answer_url else None
    if target:
        card["actions"] = [{"type": "Action.OpenUrl", "title": _("Answer on the page"), "url": target}]
    return {"type": "message", "attachments": [{"contentType": ADAPTIVE, "contentUrl": None, "content": card}]}


def size(payload: Mapping[str, Any]) -> int:
    """Bytes of ``payload`` as posted."""
    return len(json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def _head(message: Message, part: int, parts: int) -> list[dict[str, Any]]:
    subject = _one_line(message.subject) or _("Cancer Plan V")
    if parts > 1:
        subject = _("{subject} ({part}/{parts})").format(subject=subject, part=part, parts=parts)
    head = [_text(escape_card_markdown(subject), size="Large", weight="Bolder", style="heading")]
    if message.late:
        head.append(_text(escape_card_markdown("⏰ " + late_note(message)), color="Attention"))
    intro = clean_text(message.intro).strip()
    if intro and part == 1:
        head.append(_text(escape_card_markdown(intro)))
    return head


def _fitting(message: Message, index: int, item: Item) -> dict[str, Any]:
    """Item ``index`` as a container that fits a card of its own, its quote and then its note shortened if
    need be."""
    container = _item(item, index, message.answer_url)
    quote, note = len(item.source_quote), len(item.note or "")
    while size(_payload(_head(message, 2, 2), [container], message.answer_url)) > PAYLOAD_LIMIT:
        if quote > QUOTE_FLOOR:
            quote = max(QUOTE_FLOOR, quote // 2)
        elif note > 0:
            note //= 2
        else:  # a title or a line past every limit: the quote goes too
            quote = 0
            container = _item(item, index, message.answer_url, 0, 0)
            break
        container = _item(item, index, message.answer_url, quote, note)
    return container


def parts_of(message: Message) -> list[tuple[dict[str, Any], tuple[int, ...]]]:
    """The payloads for ``message``, in order, each with the indices of the items it carries."""
    with using_language(message.language):
        containers = [_fitting(message, index, item) for index, item in enumerate(message.items)]
        groups: list[list[int]] = [[]]
        for index in range(len(containers)):
            trial = groups[-1] + [index]
            # Sized with the longest header a part may have: the first's, numbered.
            if groups[-1] and size(_payload(_head(message, 1, 99), [containers[i] for i in trial],
                                            message.answer_url)) > PAYLOAD_LIMIT:
                groups.append([index])
            else:
                groups[-1] = trial
        return [(_payload(_head(message, number, len(groups)), [containers[i] for i in group], message.answer_url),
                 tuple(group)) for number, group in enumerate(groups, 1)]


def card_for(message: Message) -> list[dict[str, Any]]:
    """The payloads Teams gets for ``message``, one per card."""
    return [payload for payload, _items in parts_of(message)]


# ---------------------------------------------------------------------------
# The channel


class TeamsChannel:
    """Posts messages to Teams channels' Workflows webhooks; see the module docstring for each outcome."""

    name = "teams"

    def __init__(self, webhooks: Mapping[str, str], *, timeout: float = 10, rate_limit_retries: int = 3,
                 max_wait: float = 60, transport: httpx.BaseTransport | None = None):
        self._webhooks = dict(webhooks)
        self.timeout = timeout
        self.rate_limit_retries = rate_limit_retries
        self.max_wait = max_wait
        self._client = httpx.Client(timeout=timeout, follow_redirects=False, transport=transport)

    def __repr__(self) -> str:
        return f"TeamsChannel({len(self._webhooks)} webhooks)"

    def send(self, message: Message) -> Delivery:
        url = self._webhooks.get(message.recipient)
        if url is None:
            raise PermanentSendError(_(
                "No Teams webhook has the handle {handle} in the contacts file now; check the party's teams = […] "
                "and restart tracker after changing it (`tracker config check` lists the handles)."
            ).format(handle=message.recipient), "unknown_webhook")
        parts = parts_of(message)
        delivered: list[int] = []
        for number, (payload, items) in enumerate(parts, 1):
            try:
                self._post(url, message.recipient, payload, number, len(parts))
            except SendError as error:
                error.delivered = tuple(delivered)
                raise
            delivered += items
        log.info("Posted %s to Teams %s in %d card(s)", message.key, message.recipient, len(parts))
        return Delivery(provider_id=None, detail={"parts": str(len(parts))})

    def _post(self, url: str, handle: str, payload: dict[str, Any], part: int, parts: int) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        attempt = 0
        while True:
            try:
                response = self._client.post(url, content=body, headers={"Content-Type": "application/json"})
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
                raise TransientSendError(_(
                    "Cannot reach the Teams webhook {handle} ({reason}); nothing was posted."
                ).format(handle=handle, reason=_reason(_without_url(error)))) from None
            except (httpx.TimeoutException, httpx.TransportError) as error:
                raise UnknownOutcomeError(_(
                    "The answer from the Teams webhook {handle} to card {part} of {parts} was lost ({reason}); it "
                    "may have been posted. Check the channel before sending it again."
                ).format(handle=handle, part=part, parts=parts, reason=_reason(_without_url(error)))) from None
            status = response.status_code
            if 200 <= status < 300:
                return
            if status == 429:
                wait = _retry_after(response.headers, 1.0) or 0.0
                if attempt < self.rate_limit_retries and wait <= self.max_wait:
                    attempt += 1
                    log.warning("Teams is rate limiting %s; waiting %.1f s (retry %d of %d)", handle, wait, attempt,
                                self.rate_limit_retries)
                    time.sleep(wait)
                    continue
                raise TransientSendError(_("Teams is rate limiting the webhook {handle}; try again in {seconds} s.")
                                         .format(handle=handle, seconds=f"{wait:g}"), retry_after=wait)
            raise self._refusal(handle, status, _said(response), response.headers)

    def _refusal(self, handle: str, status: int, said: str, headers: Mapping[str, str]) -> SendError:
        reason = f"HTTP {status}" + (f": {said}" if said else "")
        if status == 504:
            return UnknownOutcomeError(_(
                "A gateway gave up waiting for the Teams webhook {handle} ({reason}); the card may have been "
                "posted. Check the channel before sending it again.").format(handle=handle, reason=reason))
        if status >= 500 or status in (408, 425):
            return TransientSendError(_(
                "The Teams webhook {handle} could not take the card just now ({reason}); nothing was posted. It is "
                "worth trying again later.").format(handle=handle, reason=reason),
                retry_after=_retry_after(headers, None))
        if status in (404, 410):
            text = _("The Teams webhook {handle} is gone ({reason}): its flow was deleted or turned off. Create "
                     "the flow again in Teams' Workflows app and put its address in the contacts file.")
        elif status in (401, 403):
            text = _("The Teams webhook {handle} refused the card ({reason}): its signature is wrong or no longer "
                     "valid. Copy the flow's address again from Teams' Workflows app into the contacts file.")
        elif status == 413:
            text = _("The Teams webhook {handle} found the card too large ({reason}). This is a bug in tracker; "
                     "please report it with this message.")
        elif status == 400:
            text = _("The Teams webhook {handle} rejected the card ({reason}). Check that its flow is Workflows' "
                     "“Post to a channel when a webhook request is received”; otherwise this is a bug in tracker.")
        else:
            text = _("The Teams webhook {handle} refused the card ({reason}).")
        return PermanentSendError(text.format(handle=handle, reason=reason), f"http_{status}")


def _said(response: httpx.Response) -> str:
    """What the webhook said about its refusal, cleaned and clipped (never an address of ours: it has none)."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            text = str(error.get("message") or error.get("code") or "")
        else:
            text = str(error or data.get("message") or "")
    else:
        text = response.text
    return _shorten(_one_line(text), 300)


def _without_url(error: Exception) -> Exception:
    """httpx names the request's URL in some errors' text: the same error with only its type and a masked host."""
    text = str(error)
    try:
        url = str(error.request.url)  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):
        return error
    return type(error)(text.replace(url, masked_webhook(url))) if url in text else error
