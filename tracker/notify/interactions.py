"""Slack's interactions: owners answer under each item, coordinators decide requests for a new deadline.

Slack POSTs ``block_actions`` (a button pressed) and ``view_submission`` (a
modal sent) to ``/slack/interactions`` on the web process. A request is
applied only when:

- its signature is Slack's: HMAC-SHA256 of ``v0:{timestamp}:{body}`` with
  the app's signing secret, compared in constant time, and the timestamp is
  within five minutes of now (slack-sdk's ``SignatureVerifier``); else 401;
- the button's value names a live answer token (``tracker.store.answers``);
- the person who pressed it may answer for the message's party: their Slack
  account's e-mail (``users.info``) is among the party's ``members`` in the
  contacts file, or the coordinators'; a request is decided by the
  coordinators' members only;
- the item is still as the message told it.

What each button does:

- ``Færdig``, ``I gang``, ``I risiko``: the status, at once; the buttons
  make way for "✓ Markeret færdig af …" with ``Fortryd`` (for a few minutes)
  and ``Tilføj dokumentation``;
- ``Ny frist …``: a modal (``views.open`` with the press's ``trigger_id``)
  for a proposed deadline and a reason; sent, it is a pending request the
  coordinators decide (a deadline that does not parse is shown in the
  modal, ``response_action: errors``);
- ``Note …`` and ``Tilføj dokumentation``: a modal for a note and a link to
  the evidence;
- ``Godkend`` (Slack asks to confirm) and ``Afvis …`` (a modal for the
  reason), under a request, for the coordinators.

The change is recorded with the actor "Name <e-mail> via Slack". Slack hears
200 at once (a modal's errors in the body); modals are opened and the
message is updated in place through its ``response_url`` after, or the
person gets an ephemeral reply saying why nothing changed. A delivery Slack
retries is applied once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from slack_sdk.signature import Clock, SignatureVerifier
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tracker.clock import plan_zone
from tracker.errors import AnswerError, TrackerError
from tracker.i18n import _, current_language, format_day, format_due, using_language
from tracker.model import VIA_SLACK, Status
from tracker.notify.contacts import COORDINATORS, Contacts
from tracker.notify.message import SendError
from tracker.notify.slack import (ANSWER_ACTIONS, APPROVE_ACTION, CONFIRM_ACTION, EVIDENCE_ACTION, INPUT_LIMIT,
                                  NOTE_ACTION,
                                  REJECT_ACTION, REPLAN_ACTION, SNOOZE_ACTIONS, UNDO_ACTION, answer_actions,
                                  answer_block_id, answered_block_id, answered_blocks, answered_context, note_view,
                                  reject_view, replan_view)
from tracker.store import answers, requests
from tracker.store.db import read_session, write_session
from tracker.store.tables import AnswerRow, DeliverableRow, OccurrenceRow, PartyRow, ReplanRequestRow

log = logging.getLogger(__name__)

_PENDING_SECONDS = 30 * 60  # a response_url takes follow-ups for 30 minutes
_PENDING_LIMIT = 1000
_PERSON_SECONDS = 10 * 60  # how long who a Slack user is (name, e-mail) is taken as Slack last said


class SlackApi(Protocol):
    """What the interactions ask of Slack (``tracker.notify.slack.SlackChannel``)."""

    def person(self, user_id: str) -> tuple[str, str]: ...

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class Reply:
    """What the web process answers Slack at once (``body``: a modal's errors), and what it does after."""

    status: int
    body: dict[str, Any] | None = None
    after: tuple[Callable[[], None], ...] = field(default=())


class _FixedClock(Clock):
    def __init__(self, now: Callable[[], datetime]):
        self._now = now

    def now(self) -> float:
        return self._now().timestamp()


@dataclass(frozen=True)
class _Press:
    """One button press or modal, as far as tracker reads it."""

    user_id: str
    token: str
    number: int  # the item's index in the message, or the request's number
    response_url: str
    blocks: tuple[dict[str, Any], ...]  # the message as Slack holds it, to update in place
    text: str
    click: str  # the press's own id, so a retried delivery applies once
    message: tuple[str, str] = ("", "")  # (channel, ts): which message, to update it from its latest blocks


@dataclass
class _Asker:
    user_id: str
    name: str
    email: str
    language: str

    @property
    def actor(self) -> str:
        return f"{self.name} <{self.email}>{VIA_SLACK}"


# How a sent modal changes the message it was opened from: its blocks, updated.
_Update = Callable[[tuple[dict[str, Any], ...]], list[dict[str, Any]]]


@dataclass(frozen=True)
class _Opened:
    """A modal opened from a message: where to update that message once it is sent, and who opened it."""

    at: float  # time.monotonic()
    response_url: str
    blocks: tuple[dict[str, Any], ...]
    text: str
    message: tuple[str, str]
    asker: _Asker | None


class _Decided(Exception):
    """The request a press is about was decided already (on the command line, or by another coordinator)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


class _ModalError(Exception):
    """A modal field that cannot be taken as written: shown in place, under ``block``."""

    def __init__(self, block: str, message: str):
        super().__init__(message)
        self.block, self.message = block, message


class SlackInteractions:
    def __init__(self, engine: Engine, *, signing_secret: str, contacts: Contacts, slack: SlackApi,
                 clock: Callable[[], datetime], follow_up: Callable[[str, dict[str, Any]], None] | None = None):
        self.engine = engine
        self.contacts = contacts
        self.slack = slack
        self.clock = clock
        self.follow_up = follow_up or post_follow_up
        self._verifier = SignatureVerifier(signing_secret, clock=_FixedClock(clock))
        # Modals opened from a message, by a nonce in their private_metadata: where to update that message once
        # the modal is sent (Slack's view_submission carries no response_url). In memory: a web process that
        # restarted in between still applies the answer, only the message stays as it was.
        self._pending: dict[str, _Opened] = {}
        # The latest blocks this process sent for each message, by (channel, ts), and one lock per message.
        self._latest: dict[tuple[str, str], tuple[float, tuple[dict[str, Any], ...]]] = {}
        self._message_locks: dict[tuple[str, str], threading.Lock] = {}
        self._people: dict[str, tuple[float, tuple[str, str]]] = {}  # Slack user id → (when asked, (name, e-mail))
        self._lock = threading.Lock()

    # -- the request

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
        retried = bool(headers.get("x-slack-retry-num"))
        try:
            if payload.get("type") == "block_actions":
                return self._block_actions(payload, retried)
            if payload.get("type") == "view_submission":
                return self._view_submission(payload)
        except (TypeError, ValueError, AttributeError) as error:  # a payload not shaped as Slack's
            log.warning("a Slack interaction could not be read: %s", type(error).__name__)
            return Reply(400)
        return Reply(200)  # nothing tracker asked for (a modal closed, a shortcut)

    # -- block_actions: a button

    def _block_actions(self, payload: dict[str, Any], retried: bool) -> Reply:
        actions = [action for action in payload.get("actions") or []
                   if isinstance(action, dict) and action.get("action_id") in _HANDLERS]
        if not actions:
            return Reply(200)
        action = actions[0]  # a button press carries one action
        press = _press(payload, action)
        if press is None:
            return Reply(200, after=self._ephemeral(str(payload.get("response_url") or ""),
                                                    _("This answer link is not valid.")))
        action_id = action["action_id"]
        if retried and action_id in (REPLAN_ACTION, NOTE_ACTION, EVIDENCE_ACTION, REJECT_ACTION):
            return Reply(200)  # the first delivery opened the modal; its trigger is spent
        handler, trigger = _HANDLERS[action_id], str(payload.get("trigger_id") or "")

        def answer() -> None:
            # After Slack has its 200: asking Slack who pressed (users.info) must not eat into its three seconds.
            try:
                reply = handler(self, press, action_id, trigger)
            except Exception:  # a bug: the transaction rolled back, so nothing changed; say so
                log.exception("a Slack interaction (%s) failed", action_id)
                reply = Reply(200, after=self._ephemeral(press.response_url, _(
                    "Something went wrong, and nothing was changed. Try again, or write to the coordinators.")))
            for step in reply.after:
                step()

        return Reply(200, after=(answer,))

    def _status(self, press: _Press, action_id: str, _trigger: str) -> Reply:
        now = self.clock()
        try:
            with self._answering(press, now) as (session, answer, asker):
                if action_id == CONFIRM_ACTION:  # "Uændret": the status the message told, if it still stands
                    applied = answers.confirm(session, answer, press.number, actor=asker.actor, click=press.click,
                                              now=now)
                else:
                    applied = answers.apply_status(session, answer, press.number, ANSWER_ACTIONS[action_id],
                                                   actor=asker.actor, click=press.click, now=now)
        except TrackerError as error:
            return self._refused(press, error)
        log.info("answered from Slack: %s %s %s %s by %s", applied.item.deliverable_id, applied.item.year or "",
                 "confirmed" if applied.confirmed else "set to", applied.status.value, asker.email)
        with using_language(asker.language):
            if applied.confirmed:
                said = _("✓ Confirmed unchanged ({status}) by {name}, {when}").format(
                    status=applied.status.label, name=asker.name, when=_when(now))
            else:
                said = _("✓ Marked {status} by {name}, {when}").format(status=applied.status.label, name=asker.name,
                                                                       when=_when(now))
            new_blocks = answered_blocks(said, press.token, press.number, undo=not applied.confirmed)
        return self._update(press, asker.language, lambda blocks: replace_item(blocks, press.number, new_blocks,
                                                                               status=applied.status))

    def _snooze(self, press: _Press, action_id: str, _trigger: str) -> Reply:
        """``Udsæt 2 uger`` / ``4 uger``: no reminder or alert to the owner until then; the coordinators still hear."""
        now = self.clock()
        try:
            with self._answering(press, now) as (session, answer, asker):
                until = answers.snooze(session, answer, press.number, SNOOZE_ACTIONS[action_id], actor=asker.actor,
                                       click=press.click, today=now.astimezone(plan_zone()).date(), now=now)
        except TrackerError as error:
            return self._refused(press, error)
        if until is None:  # this very press, delivered again
            return Reply(200)
        log.info("snoozed from Slack until %s by %s", until.isoformat(), asker.email)
        with using_language(asker.language):
            said = answered_context(_("⏸ Paused until {day} by {name}, {when}: no reminders to the owner before then; "
                                      "the coordinators still follow it.").format(
                day=format_day(until), name=asker.name, when=_when(now)))
        return self._update(press, asker.language,
                            lambda blocks: _insert_before(blocks, answer_block_id(press.number), [said]))

    def _undo(self, press: _Press, _action_id: str, _trigger: str) -> Reply:
        now = self.clock()
        try:
            with self._answering(press, now) as (session, answer, asker):
                applied = answers.undo(session, answer, press.number, actor=asker.actor, click=press.click,
                                       anyones=self.contacts.may_answer(asker.email, COORDINATORS), now=now)
        except TrackerError as error:
            return self._refused(press, error)
        log.info("undone from Slack: %s %s back to %s by %s", applied.item.deliverable_id, applied.item.year or "",
                 applied.status.value, asker.email)
        with using_language(asker.language):
            said = answered_context(_("↩ Undone by {name}, {when}: {status} again").format(
                name=asker.name, when=_when(now), status=applied.status.label))
            said["block_id"] = answered_block_id(press.number)
            new_blocks = [said, answer_actions(press.token, press.number)]
        return self._update(press, asker.language, lambda blocks: replace_item(blocks, press.number, new_blocks,
                                                                               status=applied.status))

    def _open_modal(self, press: _Press, action_id: str, trigger: str) -> Reply:
        """``Ny frist …``, ``Note …``, ``Tilføj dokumentation`` and ``Afvis …``: the modal, opened after the 200."""
        try:
            asker = self._asker(press, deciding=action_id == REJECT_ACTION)
            metadata = json.dumps({"value": f"{press.token}:{press.number}", "nonce": self._remember(press, asker)})
            with read_session(self.engine) as session:
                answer = answers.open_answer(session, press.token, self.clock())
                with using_language(asker.language):
                    if action_id == REJECT_ACTION:
                        request = _request_of(session, answer, press.number, pending=True)
                        view = reject_view(metadata, _title(session, request.deliverable_id, request.year),
                                           request.deadline_text)
                    else:
                        item = _item_of(answer, press.number)
                        occurrence = _occurrence(session, item.deliverable_id, item.year)
                        title = _title(session, item.deliverable_id, item.year, item.member)
                        if action_id == REPLAN_ACTION:
                            deliverable = session.get(DeliverableRow, item.deliverable_id)
                            view = replan_view(metadata, title, format_due(occurrence.due),
                                               deliverable.deadline_text if deliverable is not None else "")
                        else:
                            view = note_view(metadata, title,
                                             answers.current_status(session, item, occurrence).label,
                                             evidence=action_id == EVIDENCE_ACTION)
                    could_not = _("Slack did not open the form ({error}); press the button again.")
        except TrackerError as error:
            return self._refused(press, error)
        except _Decided as decided:
            return self._update(press, asker.language, _decided_in(press.number, decided.text))

        def open_it() -> None:
            try:
                self.slack.open_view(trigger, view)
            except SendError as error:
                log.warning("could not open a Slack modal: %s", error)
                if press.response_url:
                    self.follow_up(press.response_url, _ephemeral_body(could_not.format(error=error)))

        return Reply(200, after=(open_it,))

    def _approve(self, press: _Press, _action_id: str, _trigger: str) -> Reply:
        now = self.clock()
        try:
            with self._answering(press, now, deciding=True) as (session, answer, asker):
                if not answers.first_time(session, press.click, now):
                    return Reply(200)
                request = _request_of(session, answer, press.number, pending=True)
                requests.approve(session, request.id or 0, actor=asker.actor, now=now)
                deadline = request.deadline_text
        except TrackerError as error:
            return self._refused(press, error)
        except _Decided as decided:
            return self._update(press, asker.language, _decided_in(press.number, decided.text))
        log.info("request %d approved from Slack by %s", press.number, asker.email)
        with using_language(asker.language):
            said = _("✓ Approved by {name}, {when}: re-planned to “{deadline}”").format(
                name=asker.name, when=_when(now), deadline=deadline)
        return self._update(press, asker.language, _decided_in(press.number, said))

    # -- view_submission: a modal sent

    def _view_submission(self, payload: dict[str, Any]) -> Reply:
        view = payload.get("view") or {}
        callback = str(view.get("callback_id") or "")
        if callback not in (REPLAN_ACTION, NOTE_ACTION, EVIDENCE_ACTION, REJECT_ACTION):
            return Reply(200)
        try:
            metadata = json.loads(str(view.get("private_metadata") or "{}"))
            token, _sep, number = str(metadata.get("value") or "").rpartition(":")
            nonce = str(metadata.get("nonce") or "")
        except (ValueError, AttributeError):
            token, number, nonce = "", "", ""
        values = _values(view)
        opened = self._recall(nonce)
        user_id = str((payload.get("user") or {}).get("id") or "")
        fingerprint = hashlib.sha256(json.dumps([callback, values], sort_keys=True).encode()).hexdigest()[:32]
        press = _Press(user_id=user_id, token=token, number=int(number) if number.isdigit() else -1,
                       response_url=opened.response_url, blocks=opened.blocks, text=opened.text,
                       click=f"slack-view:{view.get('id') or ''}:{fingerprint}", message=opened.message)
        first_field = {REPLAN_ACTION: "deadline", REJECT_ACTION: "reason"}.get(callback, "note")
        now = self.clock()
        # Who opened the modal is who sends it (Slack says so in the payload's user): known already, so the answer
        # comes within Slack's three seconds without asking it again.
        known = opened.asker if opened.asker is not None and opened.asker.user_id == user_id else None
        language = known.language if known is not None else "da"
        try:
            with self._answering(press, now, deciding=callback == REJECT_ACTION, known=known) as (
                    session, answer, asker):
                language = asker.language
                said = _SUBMISSIONS[callback](self, session, answer, asker, press, values, now)
        except _ModalError as error:
            return Reply(200, body={"response_action": "errors", "errors": {error.block: error.message}})
        except TrackerError as error:
            return Reply(200, body={"response_action": "errors", "errors": {first_field: error.message}})
        except _Decided as decided:  # nothing to fix in the modal: close it, and say so in the message
            return Reply(200, body={"response_action": "clear"},
                         after=self._update(press, language, _decided_in(press.number, decided.text)).after)
        with self._lock:  # sent: the modal is gone (a modal with errors stays open, and is sent again)
            self._pending.pop(nonce, None)
        if said is None:  # applied before (a retried delivery)
            return Reply(200)
        return self._update(press, language, said)

    def _submit_replan(self, session: Session, answer: AnswerRow, asker: _Asker, press: _Press,
                       values: dict[str, str], now: datetime) -> _Update | None:
        deadline, reason = values.get("deadline", "").strip(), values.get("reason", "").strip()
        try:
            answers.check_deadline(answer, press.number, deadline)
        except AnswerError as error:
            raise _ModalError("deadline", error.message) from None
        if not reason:
            raise _ModalError("reason", _("Say why the deadline should move."))
        request = answers.request_replan(session, answer, press.number, deadline, reason[:INPUT_LIMIT],
                                         actor=asker.actor, click=press.click, now=now, requester_email=asker.email,
                                         via="slack")
        if request is None:
            return None
        log.info("request %s for a new deadline from Slack by %s", request.id, asker.email)
        said = _("⏳ New deadline “{deadline}” requested by {name}, {when}: the coordinators decide (request "
                 "{number}).").format(deadline=deadline, name=asker.name, when=_when(now), number=request.id)
        return lambda blocks: _insert_before(blocks, answer_block_id(press.number), [answered_context(said)])

    def _submit_note(self, session: Session, answer: AnswerRow, asker: _Asker, press: _Press,
                     values: dict[str, str], now: datetime) -> _Update | None:
        note, evidence = values.get("note", "").strip(), values.get("evidence", "").strip() or None
        if not note:
            raise _ModalError("note", _("Write the note."))
        if evidence and (not evidence.lower().startswith(("https://", "http://")) or len(evidence) > 500):
            raise _ModalError("evidence", _("The link to the evidence must be a web address (https://…)."))
        applied = answers.apply(session, answer, press.number, note=note[:INPUT_LIMIT], evidence_url=evidence,
                                actor=asker.actor, click=press.click, now=now)
        if not applied.changed:
            return None
        log.info("note from Slack on %s %s by %s", applied.item.deliverable_id, applied.item.year or "", asker.email)
        said = _("📝 Note from {name}, {when}: {note}").format(name=asker.name, when=_when(now),
                                                             note=_shortened(note))
        if evidence:
            said += " · " + _("evidence: {url}").format(url=evidence)
        return lambda blocks: _insert_before(blocks, answer_block_id(press.number), [answered_context(said)])

    def _submit_evidence(self, session: Session, answer: AnswerRow, asker: _Asker, press: _Press,
                         values: dict[str, str], now: datetime) -> _Update | None:
        if not values.get("evidence", "").strip():  # Slack asks for it too: the field is not optional here
            raise _ModalError("evidence", _("Add the link to the evidence (https://…)."))
        return self._submit_note(session, answer, asker, press, values, now)

    def _submit_reject(self, session: Session, answer: AnswerRow, asker: _Asker, press: _Press,
                       values: dict[str, str], now: datetime) -> _Update | None:
        reason = values.get("reason", "").strip()
        if not reason:
            raise _ModalError("reason", _("Say why, for the one who asked."))
        if not answers.first_time(session, press.click, now):
            return None
        request = _request_of(session, answer, press.number, pending=True)
        requests.reject(session, request.id or 0, reason=reason[:INPUT_LIMIT], actor=asker.actor, now=now)
        log.info("request %d rejected from Slack by %s", press.number, asker.email)
        said = _("✗ Rejected by {name}, {when}: {reason}").format(name=asker.name, when=_when(now),
                                                                  reason=_shortened(reason))
        return _decided_in(press.number, said)

    # -- who is asking

    @contextmanager
    def _answering(self, press: _Press, now: datetime, *, deciding: bool = False,
                   known: _Asker | None = None) -> Iterator[tuple[Session, AnswerRow, _Asker]]:
        """The write transaction an answer is applied in, the answer its token opens, and who is answering (asked
        of Slack before the transaction begins, unless ``known``), in their language."""
        asker = self._asker(press, deciding=deciding, known=known)
        with write_session(self.engine) as session:
            answer = answers.open_answer(session, press.token, now)
            with using_language(asker.language):
                yield session, answer, asker

    def _asker(self, press: _Press, *, deciding: bool = False, known: _Asker | None = None) -> _Asker:
        """Who pressed, when they may answer the message the press's token opens; else AnswerError: an unknown,
        expired or revoked token, a person Slack cannot name, or one who may not answer for the message's party
        (``deciding``: only the coordinators, and only on their own messages).

        Outside any write transaction: ``users.info`` is a call to Slack, and SQLite's write lock must not wait
        on it (every other answer would queue behind it).
        """
        with read_session(self.engine) as session:
            party = answers.open_answer(session, press.token, self.clock()).party
        language = self.contacts.reach(party).language
        with using_language(language):
            if deciding != (party == COORDINATORS):
                raise AnswerError(_("This answer link is not valid."))
            try:
                name, email = (known.name, known.email) if known is not None else self._person(press.user_id)
            except SendError as error:
                raise AnswerError(_("Slack did not say who you are ({error}); nothing was changed.")
                                  .format(error=error)) from None
            if not self.contacts.may_answer(email, party):
                log.warning("refused a Slack answer by %s for %s: not one of its members", email, party)
                if deciding:
                    raise AnswerError(_("Only the coordinators decide requests for a new deadline, so nothing "
                                        "was changed."))
                raise AnswerError(_("You are not responsible for this deliverable, so nothing was changed. Ask the "
                                    "coordinators to add you to the party's members."))
        return _Asker(user_id=press.user_id, name=name, email=email, language=language)

    def _person(self, user_id: str) -> tuple[str, str]:
        """(name, e-mail) of a Slack user, asked of Slack once in ``_PERSON_SECONDS``: a modal is opened and then
        sent by the same person, and the sending must be answered within Slack's three seconds."""
        now = time.monotonic()
        with self._lock:
            known = self._people.get(user_id)
        if known is not None and now - known[0] < _PERSON_SECONDS:
            return known[1]
        person = self.slack.person(user_id)
        with self._lock:
            if len(self._people) >= _PENDING_LIMIT:
                self._people.clear()
            self._people[user_id] = (now, person)
        return person

    # -- replies

    def _refused(self, press: _Press, error: TrackerError) -> Reply:
        if not isinstance(error, AnswerError):  # a transition that makes no sense, a decided request, the database
            log.warning("a Slack answer was not applied: %s", error.message)
        return Reply(200, after=self._ephemeral(press.response_url, error.message))

    def _ephemeral(self, response_url: str, text: str) -> tuple[Callable[[], None], ...]:
        if not response_url:
            return ()
        return (lambda: self.follow_up(response_url, _ephemeral_body(text)),)

    def _update(self, press: _Press, language: str, change: _Update) -> Reply:
        """Update the message the press came from, in place (its ``response_url``), by ``change``.

        From the latest blocks this process sent for that message, not the copy in the request: a modal's copy is
        as old as the modal, and two presses a moment apart each carry the message as it was before the other.
        Only tracker changes its own messages, so its latest is the message; after a restart, Slack's copy is.
        """
        if not press.response_url:
            return Reply(200)

        def post() -> None:
            with self._lock:
                lock = self._message_locks.setdefault(press.message, threading.Lock())
            with lock, using_language(language):  # one update of one message at a time, in order
                with self._lock:
                    latest = self._latest.get(press.message)
                current = latest[1] if latest is not None and press.message != ("", "") else press.blocks
                try:
                    blocks = change(current)
                except (TypeError, KeyError, AttributeError, ValueError) as error:  # blocks not shaped as ours
                    log.warning("an answer was saved, but its Slack message could not be updated: %s",
                                type(error).__name__)
                    self.follow_up(press.response_url, _ephemeral_body(_(
                        "Your answer is saved, but the message could not be updated to show it.")))
                    return
                with self._lock:
                    if len(self._latest) >= _PENDING_LIMIT:
                        self._latest.pop(next(iter(self._latest)))
                    self._latest[press.message] = (time.monotonic(), tuple(blocks))
                self.follow_up(press.response_url, {"replace_original": True, "text": press.text, "blocks": blocks})

        return Reply(200, after=(post,))

    def _remember(self, press: _Press, asker: _Asker) -> str:
        nonce = secrets.token_urlsafe(12)
        now = time.monotonic()
        with self._lock:
            for key in [key for key, opened in self._pending.items() if now - opened.at > _PENDING_SECONDS]:
                del self._pending[key]
            while len(self._pending) >= _PENDING_LIMIT:
                del self._pending[next(iter(self._pending))]
            self._pending[nonce] = _Opened(now, press.response_url, press.blocks, press.text, press.message, asker)
        return nonce

    def _recall(self, nonce: str) -> _Opened:
        with self._lock:
            found = self._pending.get(nonce)
        if found is None or time.monotonic() - found.at > _PENDING_SECONDS:
            return _Opened(0.0, "", (), "", ("", ""), None)
        return found


_HANDLERS: dict[str, Callable[[SlackInteractions, _Press, str, str], Reply]] = {
    **{action_id: SlackInteractions._status for action_id in ANSWER_ACTIONS},
    CONFIRM_ACTION: SlackInteractions._status,
    UNDO_ACTION: SlackInteractions._undo,
    **{action_id: SlackInteractions._snooze for action_id in SNOOZE_ACTIONS},
    REPLAN_ACTION: SlackInteractions._open_modal,
    NOTE_ACTION: SlackInteractions._open_modal,
    EVIDENCE_ACTION: SlackInteractions._open_modal,
    REJECT_ACTION: SlackInteractions._open_modal,
    APPROVE_ACTION: SlackInteractions._approve,
}
_SUBMISSIONS: dict[str, Callable[[SlackInteractions, Session, AnswerRow, _Asker, _Press, dict[str, str], datetime],
                                  _Update | None]] = {
    REPLAN_ACTION: SlackInteractions._submit_replan,
    NOTE_ACTION: SlackInteractions._submit_note,
    EVIDENCE_ACTION: SlackInteractions._submit_evidence,
    REJECT_ACTION: SlackInteractions._submit_reject,
}


def _press(payload: dict[str, Any], action: dict[str, Any]) -> _Press | None:
    response_url = str(payload.get("response_url") or "")
    if urlsplit(response_url).scheme not in ("https", "http"):
        response_url = ""
    token, _sep, number = str(action.get("value") or "").rpartition(":")
    if not number.isdigit():
        return None
    message = payload.get("message") or {}
    blocks = tuple(block for block in message.get("blocks") or [] if isinstance(block, dict))
    user_id = str((payload.get("user") or {}).get("id") or "")
    container = payload.get("container") or {}
    where = (str(container.get("channel_id") or (payload.get("channel") or {}).get("id") or ""),
             str(container.get("message_ts") or message.get("ts") or ""))
    return _Press(user_id=user_id, token=token, number=int(number), response_url=response_url, blocks=blocks,
                  text=str(message.get("text") or ""), message=where if all(where) else ("", ""),
                  click=f"slack:{user_id}:{action.get('action_ts') or ''}:{action.get('action_id')}:"
                        f"{action.get('value')}")


def _values(view: dict[str, Any]) -> dict[str, str]:
    """A sent modal's fields by block id: ``view.state.values[block][action].value``."""
    values: dict[str, str] = {}
    for block, inputs in ((view.get("state") or {}).get("values") or {}).items():
        element = next(iter(inputs.values()), None) if isinstance(inputs, dict) else None
        value = element.get("value") if isinstance(element, dict) else None
        values[str(block)] = value if isinstance(value, str) else ""
    return values


def _when(now: datetime) -> str:
    """A moment as people read it in the plan's time zone: "23. juni 2026 10:12"."""
    local = now.astimezone(plan_zone())
    return f"{format_day(local.date())} {local.strftime('%H:%M')}"


def _shortened(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _ephemeral_body(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


def replace_item(blocks: tuple[dict[str, Any], ...], index: int, new_blocks: list[dict[str, Any]], *,
                 status: Status | None = None) -> list[dict[str, Any]]:
    """The message with item ``index``'s buttons (and any answer line above them) replaced by ``new_blocks``; with
    ``status``, the item's own "Status: …" line says it too, so the message does not contradict itself."""
    ids = {answer_block_id(index), answered_block_id(index)}
    result: list[dict[str, Any]] = []
    placed = False
    for block in blocks:
        if block.get("block_id") in ids:
            if not placed:
                if status is not None:
                    _restate(result, status)
                result.extend(new_blocks)
                placed = True
            continue
        result.append(block)
    return result


def _restate(blocks: list[dict[str, Any]], status: Status) -> None:
    """Rewrite the "Status: …" line of the last item section in ``blocks`` (the one the buttons were under)."""
    prefix = _("Status: {status}").format(status="")
    for index in range(len(blocks) - 1, -1, -1):
        block = blocks[index]
        if not isinstance(block, dict) or block.get("type") != "section":
            continue
        text = block.get("text")
        if isinstance(text, dict) and isinstance(text.get("text"), str):
            lines = [prefix + status.label if line.startswith(prefix) else line for line in text["text"].split("\n")]
            blocks[index] = {**block, "text": {**text, "text": "\n".join(lines)}}  # a copy: the latest stays as sent
        return


def _replace_block(blocks: tuple[dict[str, Any], ...], block_id: str,
                   new_blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for block in blocks:
        result.extend(new_blocks if block.get("block_id") == block_id else [block])
    return result


def _insert_before(blocks: tuple[dict[str, Any], ...], block_id: str,
                   new_blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The message with ``new_blocks`` above the block ``block_id`` (at the end when it has none)."""
    result: list[dict[str, Any]] = []
    placed = False
    for block in blocks:
        if not placed and block_id and block.get("block_id") == block_id:
            result.extend(new_blocks)
            placed = True
        result.append(block)
    return result if placed else result + new_blocks


def _item_of(answer: AnswerRow, index: int) -> answers.AnsweredItem:
    items = answers.items_of(answer)
    if not 0 <= index < len(items):
        raise AnswerError(_("This answer link is not valid."))
    return items[index]


def _occurrence(session: Session, deliverable_id: str, year: int | None) -> OccurrenceRow:
    return answers.occurrence_in_plan(session, deliverable_id, year)


def _request_of(session: Session, answer: AnswerRow, number: int, *, pending: bool = False) -> ReplanRequestRow:
    """Request ``number``, when the coordinators' message ``answer`` is about it (its token names the request);
    with ``pending``, _Decided when it was decided already."""
    request = session.get(ReplanRequestRow, number)
    told = answers.items_of(answer)
    if request is None or len(told) != 1 or told[0].request != number:
        raise AnswerError(_("This answer link is not valid."))
    if pending and request.state != requests.PENDING:
        when = _when(request.decided_at) if request.decided_at else ""
        raise _Decided((_("✓ Approved by {name}, {when}: re-planned to “{deadline}”") if request.state ==
                        requests.APPROVED else _("✗ Rejected by {name}, {when}: {reason}")).format(
            name=request.decided_by or "?", when=when, deadline=request.deadline_text,
            reason=_shortened(request.decision_reason or "")))
    return request


def _decided_in(number: int, said: str) -> _Update:
    """The coordinators' message with its Godkend / Afvis replaced by how request ``number`` was decided."""
    return lambda blocks: _replace_block(blocks, f"decide-{number}", [answered_context(said)])


def _title(session: Session, deliverable_id: str, year: int | None, member: str | None = None) -> str:
    deliverable = session.get(DeliverableRow, deliverable_id)
    if deliverable is None:
        return deliverable_id
    title = deliverable.title_en if current_language() == "en" else deliverable.title
    title = f"{title} ({year})" if year is not None else title
    party = session.get(PartyRow, member) if member else None
    if party is not None:  # a member's own part: the form says whose
        title = f"{title} – {party.name_en if current_language() == 'en' else party.name}"
    return title


def post_follow_up(url: str, body: dict[str, Any], timeout: float = 5) -> None:
    """POST the follow-up to Slack's response_url; a failure is logged (the change itself is already saved)."""
    request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - Slack's https URL
            response.read()
    except OSError as error:
        log.warning("could not update the Slack message after an answer: %s", error)
