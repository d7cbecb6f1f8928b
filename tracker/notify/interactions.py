"""Slack's interactions: an owner presses a button under an item, and its status changes.

Slack POSTs ``block_actions`` to ``/slack/interactions`` on the web process.
A request is applied only when:

- its signature is Slack's: HMAC-SHA256 of ``v0:{timestamp}:{body}`` with
  the app's signing secret, compared in constant time, and the timestamp is
  within five minutes of now (slack-sdk's ``SignatureVerifier``); else 401;
- the button's value names a live answer token (``tracker.store.answers``);
- the person who pressed it may answer for the message's party: their Slack
  account's e-mail (``users.info``) is among the party's ``members`` in the
  contacts file, or the coordinators';
- the item is still as the message told it.

The change is recorded with the actor "Name <e-mail> via Slack". Slack hears
200 at once; the message is then updated in place through the request's
``response_url`` ("✓ Markeret færdig af …"), or the person gets an ephemeral
reply saying why nothing changed. A delivery Slack retries is applied once.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from slack_sdk.signature import Clock, SignatureVerifier
from sqlalchemy.engine import Engine

from tracker.clock import plan_zone
from tracker.errors import AnswerError, TrackerError
from tracker.i18n import _, format_day, using_language
from tracker.notify.contacts import Contacts
from tracker.notify.message import SendError
from tracker.notify.slack import ANSWER_ACTIONS, answer_block_id, answered_context
from tracker.store import answers
from tracker.store.db import write_session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """What the web process answers Slack (always quickly), and what it posts to ``response_url`` after."""

    status: int
    follow_up: tuple[str, dict[str, Any]] | None = None  # (response_url, JSON body)


class _FixedClock(Clock):
    def __init__(self, now: Callable[[], datetime]):
        self._now = now

    def now(self) -> float:
        return self._now().timestamp()


class SlackInteractions:
    def __init__(self, engine: Engine, *, signing_secret: str, contacts: Contacts,
                 person: Callable[[str], tuple[str, str]], clock: Callable[[], datetime]):
        self.engine = engine
        self.contacts = contacts
        self.person = person  # Slack user id → (name, e-mail): SlackChannel.person
        self.clock = clock
        self._verifier = SignatureVerifier(signing_secret, clock=_FixedClock(clock))

    def handle(self, body: bytes, headers: Mapping[str, str]) -> Reply:
        try:
            valid = self._verifier.is_valid(body, headers.get("x-slack-request-timestamp"),
                                            headers.get("x-slack-signature"))
        except (ValueError, TypeError):  # a timestamp that is not a number
            valid = False
        if not valid:
            log.warning("refused a Slack interaction: the signature is not Slack's, or it is too old")
            return Reply(401)
        try:
            payload = json.loads(parse_qs(body.decode("utf-8"), strict_parsing=True)["payload"][0])
            if not isinstance(payload, dict):
                raise ValueError(payload)
        except (UnicodeDecodeError, ValueError, KeyError, IndexError):
            return Reply(400)
        if payload.get("type") != "block_actions":
            return Reply(200)  # nothing tracker asked for
        replies = [self._action(payload, action) for action in payload.get("actions") or []
                   if isinstance(action, dict) and action.get("action_id") in ANSWER_ACTIONS]
        follow_ups = [reply for reply in replies if reply is not None]
        return Reply(200, follow_ups[-1] if follow_ups else None)

    def _action(self, payload: dict[str, Any], action: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        response_url = str(payload.get("response_url") or "")
        if urlsplit(response_url).scheme not in ("https", "http"):
            response_url = ""
        user_id = str((payload.get("user") or {}).get("id") or "")
        token, _sep, index_text = str(action.get("value") or "").rpartition(":")
        status = ANSWER_ACTIONS[action["action_id"]]
        now = self.clock()
        language = "da"
        try:
            with write_session(self.engine) as session:
                answer = answers.open_answer(session, token, now)
                language = self.contacts.reach(answer.party).language
                with using_language(language):
                    try:
                        name, email = self.person(user_id)
                    except SendError as error:
                        raise AnswerError(_("Slack did not say who you are ({error}); nothing was changed.")
                                          .format(error=error)) from None
                    if not self.contacts.may_answer(email, answer.party):
                        log.warning("refused a Slack answer by %s for %s: not one of its members", email,
                                    answer.party)
                        raise AnswerError(_("You are not responsible for this deliverable, so nothing was "
                                            "changed. Ask the coordinators to add you to the party's members."))
                    if not index_text.isdigit():
                        raise AnswerError(_("This answer link is not valid."))
                    click = f"slack:{user_id}:{action.get('action_ts') or ''}:{action.get('value')}"
                    applied = answers.apply_status(session, answer, int(index_text), status,
                                                   actor=f"{name} <{email}> via Slack", click=click, now=now)
        except AnswerError as error:
            return (response_url, {"response_type": "ephemeral", "replace_original": False,
                                   "text": error.message}) if response_url else None
        except TrackerError as error:  # a transition that makes no sense, or the database
            log.warning("a Slack answer was not applied: %s", error.message)
            return (response_url, {"response_type": "ephemeral", "replace_original": False,
                                   "text": error.message}) if response_url else None
        log.info("answered from Slack: %s %s set to %s by %s", applied.item.deliverable_id,
                 applied.item.year or "", applied.status.value, email)
        if not response_url:
            return None
        with using_language(language):
            local = now.astimezone(plan_zone())
            said = _("✓ Marked {status} by {name}, {day} {time}").format(
                status=applied.status.label, name=name, day=format_day(local.date()),
                time=local.strftime("%H:%M"))
        blocks = [answered_context(said) if block.get("block_id") == answer_block_id(int(index_text)) else block
                  for block in (payload.get("message") or {}).get("blocks") or [] if isinstance(block, dict)]
        text = str((payload.get("message") or {}).get("text") or said)
        return response_url, {"replace_original": True, "text": text, "blocks": blocks}


def post_follow_up(url: str, body: dict[str, Any], timeout: float = 5) -> None:
    """POST the follow-up to Slack's response_url; a failure is logged (the change itself is already saved)."""
    request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - Slack's https URL
            response.read()
    except OSError as error:
        log.warning("could not update the Slack message after an answer: %s", error)
