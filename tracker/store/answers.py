"""Answers from the message itself: tokens that let a message's recipients change what it told them.

A token is random (192 bits), kept only as its SHA-256, bound to one
message, its recipient and party, and the items as the message told them
(id, year, due day, status), and it expires. An answer is applied only to an
item that is still as the message told it: one re-planned, closed or removed
since is refused with how it stands now, never changed blindly. Each click
is applied once, however often its delivery is retried.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from tracker.deadlines import Recurrence, parse_dated
from tracker.errors import AnswerError, DeadlineError
from tracker.feed_rules import hash_token
from tracker.i18n import _, format_due
from tracker.model import SNOOZED_NOTE, UNDONE_NOTE, HistoryAction, Status, answered_from_message
from tracker.store.db import upsert_insert
from tracker.store.history import HistoryWriter
from tracker.store.operations import add_note, change_status, confirm_status
from tracker.store.operations import snooze as pause
from tracker.store.tables import (AnswerRow, DeliverableRow, HistoryRow, InteractionRow, MemberStatusRow,
                                  OccurrenceRow, OutboxRow, ReplanRequestRow, table_of)

LIFETIME = timedelta(days=60)  # how long a message can be answered
UNDO_WINDOW = timedelta(minutes=10)  # how long a status set from a message can be taken back from it
_TOKEN_BYTES = 24  # 192 bits, in 32 URL-safe characters


@dataclass(frozen=True)
class AnsweredItem:
    """One occurrence as a message told it."""

    deliverable_id: str
    year: int | None
    due: date | None  # None: an undated commitment, as a status round asked about it
    status: Status
    request: int | None = None  # on a coordinators' message: the request for a new deadline it is about
    # A member's own part of a per-member occurrence ("i alle regioner"): what the member's answer changes, and the
    # status it is checked against is the member's.
    member: str | None = None

    def as_json(self) -> dict[str, Any]:
        told: dict[str, Any] = {"id": self.deliverable_id, "year": self.year,
                                "due": self.due.isoformat() if self.due else None, "status": self.status.value}
        if self.request is not None:
            told["request"] = self.request
        if self.member is not None:
            told["member"] = self.member
        return told

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnsweredItem:
        due = date.fromisoformat(data["due"]) if data.get("due") else None
        return cls(data["id"], data["year"], due, Status(data["status"]), data.get("request"), data.get("member"))


@dataclass(frozen=True)
class Applied:
    """What an answer did: ``changed`` False when this very click was applied before (a retried delivery)."""

    item: AnsweredItem
    status: Status
    changed: bool
    confirmed: bool = False  # the status it had, confirmed unchanged


def issue(session: Session, *, message_key: str, channel: str, recipient: str, party: str,
          items: list[AnsweredItem], now: datetime) -> str:
    """A new token for answering this message; earlier ones for the same message stop working (a retried send)."""
    for row in session.exec(select(AnswerRow).where(col(AnswerRow.message_key) == message_key,
                                                    col(AnswerRow.revoked_at).is_(None))):
        row.revoked_at = now
        session.add(row)
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    session.add(AnswerRow(token_hash=hash_token(token), message_key=message_key, channel=channel,
                          recipient=recipient, party=party, items=[item.as_json() for item in items],
                          created_at=now, expires_at=now + LIFETIME))
    return token


def open_answer(session: Session, token: str, now: datetime) -> AnswerRow:
    """The answer a token opens, or AnswerError: unknown (or malformed), revoked or expired."""
    if not isinstance(token, str) or not 20 <= len(token) <= 64 or not token.isascii():
        raise AnswerError(_("This answer link is not valid."))
    row = session.exec(select(AnswerRow).where(col(AnswerRow.token_hash) == hash_token(token))).first()
    if row is None:
        raise AnswerError(_("This answer link is not valid."))
    if row.revoked_at is not None:
        raise AnswerError(_("This message was sent again later: answer from the newest one."))
    if row.expires_at <= now:
        raise AnswerError(_("This message is too old to answer from (after {days} days). Write to the "
                            "coordinators instead.").format(days=LIFETIME.days))
    return row


def items_of(answer: AnswerRow) -> list[AnsweredItem]:
    return [AnsweredItem.from_json(item) for item in answer.items]


def asked_in_round(session: Session, answer: AnswerRow) -> set[tuple[str, int | None]]:
    """The items (id, year) the answer's message asked about for a status round: those to confirm or update."""
    rows = session.exec(select(OutboxRow.deliverable_id, OutboxRow.occurrence_year).where(
        col(OutboxRow.message_key) == answer.message_key, col(OutboxRow.kind) == "round"))
    return {(deliverable_id, year) for deliverable_id, year in rows if deliverable_id}


def _in_plan(session: Session, item: AnsweredItem) -> tuple[DeliverableRow, OccurrenceRow]:
    """The item's deliverable and occurrence, or AnswerError when the plan no longer has them."""
    deliverable = session.get(DeliverableRow, item.deliverable_id)
    occurrence = None if deliverable is None else session.exec(
        select(OccurrenceRow).where(col(OccurrenceRow.deliverable_id) == deliverable.id,
                                    col(OccurrenceRow.key) == ("" if item.year is None else str(item.year)))).first()
    if deliverable is None or occurrence is None or deliverable.archived_at or occurrence.archived_at:
        raise AnswerError(_("This was removed from the plan after the message was sent; nothing was changed."))
    return deliverable, occurrence


def occurrence_in_plan(session: Session, deliverable_id: str, year: int | None) -> OccurrenceRow:
    """The occurrence, or AnswerError when the plan no longer has it."""
    return _in_plan(session, AnsweredItem(deliverable_id, year, date.min, Status.NOT_STARTED))[1]


def current_status(session: Session, item: AnsweredItem, occurrence: OccurrenceRow) -> Status:
    """The status the item has now: its member's own, for a member's part."""
    if item.member is None:
        return Status(occurrence.status)
    row = session.exec(select(MemberStatusRow).where(col(MemberStatusRow.occurrence_id) == occurrence.id,
                                                     col(MemberStatusRow.member) == item.member)).first()
    if row is None:
        raise AnswerError(_("This was removed from the plan after the message was sent; nothing was changed."))
    return Status(row.status)


def _as_told(session: Session, item: AnsweredItem, *, status: bool = True) -> tuple[DeliverableRow, OccurrenceRow]:
    """The item's deliverable and occurrence, or AnswerError when it changed since the message told it: removed,
    re-planned, or (for a ``status`` answer) closed by someone else. A note may still follow a close: the
    evidence for the "done" just pressed."""
    deliverable, occurrence = _in_plan(session, item)
    current = current_status(session, item, occurrence)
    if occurrence.due != item.due or (status and current != item.status and current.is_closed):
        raise AnswerError(_("This was changed after the message was sent: it is now {status}, due {due}. Nothing "
                            "was changed; answer from a newer message or write to the coordinators.").format(
            status=current.label, due=occurrence.due.isoformat() if occurrence.due else format_due(None)))
    return deliverable, occurrence


def click_key(click: str) -> str:
    """What is kept of a click: its SHA-256, as a Slack press's id holds the button's value, and so the token."""
    return hashlib.sha256(click.encode("utf-8", "replace")).hexdigest()


def first_time(session: Session, click: str, now: datetime) -> bool:
    """Record ``click``; False when it was recorded before (a retried delivery, a form sent twice)."""
    insert = upsert_insert(session)
    return session.execute(insert(table_of(InteractionRow)).values(key=click_key(click), at=now)
                           .on_conflict_do_nothing(index_elements=["key"])
                           .returning(table_of(InteractionRow).c.key)).first() is not None


def check_deadline(answer: AnswerRow, index: int, deadline_text: str) -> None:
    """AnswerError, saying what to write, unless ``deadline_text`` is a deadline item ``index`` can take."""
    items = items_of(answer)
    if not 0 <= index < len(items):
        raise AnswerError(_("This answer link is not valid."))
    try:
        schedule = parse_dated(deadline_text)
    except DeadlineError as error:
        raise AnswerError(error.message) from None
    if items[index].year is not None and isinstance(schedule, Recurrence):
        raise AnswerError(_("One year's deadline is one day or period, not a recurrence: write e.g. 31/12/2027."))


def request_replan(session: Session, answer: AnswerRow, index: int, deadline_text: str, reason: str, *,
                   actor: str, click: str, now: datetime, requester_email: str | None = None,
                   via: str | None = None) -> ReplanRequestRow | None:
    """An owner's request for a new deadline for item ``index``: pending until the coordinators decide
    (``tracker requests``), who hear of it at the next sweep, as ``requester_email`` hears the outcome (by
    ``via``, "slack" or "email"). None when this very request was made before."""
    items = items_of(answer)
    if not 0 <= index < len(items):
        raise AnswerError(_("This answer link is not valid."))
    item = items[index]
    check_deadline(answer, index, deadline_text)
    if not reason.strip():
        raise AnswerError(_("Say why the deadline should move."))
    if not first_time(session, click, now):
        return None
    deliverable, occurrence = _as_told(session, item)
    # The occurrence locked (PostgreSQL; SQLite's write transactions are serial): two requests sent at once must
    # not both find none waiting.
    session.exec(select(OccurrenceRow).where(col(OccurrenceRow.id) == occurrence.id).with_for_update()).first()
    waiting = session.exec(select(ReplanRequestRow).where(
        col(ReplanRequestRow.deliverable_id) == deliverable.id, col(ReplanRequestRow.year) == item.year
        if item.year is not None else col(ReplanRequestRow.year).is_(None),
        col(ReplanRequestRow.state) == "pending")).first()
    if waiting is not None:
        raise AnswerError(_("A new deadline for this already waits for the coordinators (request {number}: "
                            "“{deadline}”). They decide on it first.").format(number=waiting.id,
                                                                           deadline=waiting.deadline_text))
    request = ReplanRequestRow(deliverable_id=deliverable.id, year=item.year, deadline_text=deadline_text.strip(),
                               reason=reason.strip(), requested_by=actor, requested_at=now, state="pending",
                               party=answer.party, requester_email=requester_email, requested_via=via)
    session.add(request)
    HistoryWriter(session, now, actor).record(HistoryAction.REPLAN_REQUESTED, deliverable.id, key=occurrence.key,
                                              field="deadline", new=request.deadline_text, note=request.reason)
    session.flush()
    return request


def apply_status(session: Session, answer: AnswerRow, index: int, status: Status, *, actor: str, click: str,
                 now: datetime) -> Applied:
    """Set item ``index`` of the answer's message to ``status``, once per ``click`` (the click's own id)."""
    return apply(session, answer, index, status=status, actor=actor, click=click, now=now)


def apply(session: Session, answer: AnswerRow, index: int, *, status: Status | None = None, note: str | None = None,
          evidence_url: str | None = None, actor: str, click: str, now: datetime) -> Applied:
    """Item ``index`` of the answer's message: its new ``status`` and/or a ``note`` (with an ``evidence_url``), once
    per ``click`` (the id of the press or the form submission)."""
    items = items_of(answer)
    if not 0 <= index < len(items):
        raise AnswerError(_("This answer link is not valid."))
    item = items[index]
    if not first_time(session, click, now):  # Slack delivered it again, or the form was sent twice
        return Applied(item, status or item.status, changed=False)
    deliverable, occurrence = _as_told(session, item, status=status is not None)
    current = current_status(session, item, occurrence)
    if status is not None and current != status:
        change_status(session, deliverable.id, status, note=note, actor=actor, now=now, year=item.year,
                      evidence_url=evidence_url, member=item.member)
    elif note:
        add_note(session, deliverable.id, note, actor=actor, now=now, year=item.year, evidence_url=evidence_url,
                 member=item.member)
    elif status is not None:  # the status it has, chosen again: it stands as it is (a status round's answer)
        confirm_status(session, deliverable.id, actor=actor, now=now, year=item.year, member=item.member)
        return Applied(item, current, changed=True, confirmed=True)
    else:
        return Applied(item, current, changed=False)
    return Applied(item, status or current, changed=True)


def confirm(session: Session, answer: AnswerRow, index: int, *, actor: str, click: str, now: datetime) -> Applied:
    """"Uændret": item ``index`` stands as the message told it, once per ``click``. AnswerError when someone
    changed its status since: the owner confirmed what they were told, which is no longer so."""
    items = items_of(answer)
    if not 0 <= index < len(items):
        raise AnswerError(_("This answer link is not valid."))
    item = items[index]
    if not first_time(session, click, now):
        return Applied(item, item.status, changed=False, confirmed=True)
    deliverable, occurrence = _as_told(session, item)
    current = current_status(session, item, occurrence)
    if current != item.status:
        raise AnswerError(_("This was changed after the message was sent: it is now {status}. Nothing was "
                            "confirmed; answer with the status as it stands.").format(status=current.label))
    confirm_status(session, deliverable.id, actor=actor, now=now, year=item.year, member=item.member)
    return Applied(item, item.status, changed=True, confirmed=True)


def undo(session: Session, answer: AnswerRow, index: int, *, actor: str, anyones: bool, click: str,
         now: datetime) -> Applied:
    """Put back the status item ``index`` had before ``actor`` changed it from a message, within
    ``UNDO_WINDOW``; ``anyones`` (a coordinator) may undo whoever's answer it was. AnswerError when the status
    has moved on since, or it is too late."""
    items = items_of(answer)
    if not 0 <= index < len(items):
        raise AnswerError(_("This answer link is not valid."))
    item = items[index]
    if not first_time(session, click, now):
        return Applied(item, item.status, changed=False)
    deliverable, occurrence = _in_plan(session, item)
    current = current_status(session, item, occurrence)
    # The member's own rows for a member's part; a coordinator's status for all members has none.
    last = session.exec(select(HistoryRow).where(
        col(HistoryRow.deliverable_id) == deliverable.id, col(HistoryRow.occurrence_key) == occurrence.key,
        col(HistoryRow.action) == HistoryAction.STATUS.value,
        col(HistoryRow.member) == item.member if item.member is not None else col(HistoryRow.member).is_(None))
        .order_by(col(HistoryRow.id).desc())).first()
    # Only an answer from a message (never a coordinator's change on the command line, never an undo: it is not
    # undone again), still the latest, and the one who gave it (or a coordinator).
    if last is None or last.new_value != current.value or last.old_value is None or last.note == UNDONE_NOTE or \
            not answered_from_message(last.actor) or current == item.status:
        raise AnswerError(_("There is nothing to undo here: the status has changed since the answer. It is now "
                            "{status}.").format(status=current.label))
    if not (anyones or last.actor == actor):
        raise AnswerError(_("Only the one who answered ({actor}) or a coordinator can undo it.").format(
            actor=last.actor))
    if now - last.at > UNDO_WINDOW:
        raise AnswerError(_("It is too late to undo this here (after {minutes} minutes): choose the right status "
                            "instead, or write to the coordinators.").format(
            minutes=int(UNDO_WINDOW.total_seconds() // 60)))
    before = Status(last.old_value)
    change_status(session, deliverable.id, before, note=UNDONE_NOTE, actor=actor, now=now, year=item.year, undo=True,
                  member=item.member)
    return Applied(item, before, changed=True)


def snooze(session: Session, answer: AnswerRow, index: int, days: int, *, actor: str, click: str,
           today: date, now: datetime) -> date | None:
    """Pause the owner's reminders and alerts about item ``index`` for ``days`` from ``today`` (the plan's day):
    the day they go again, or None when this very press was applied before."""
    items = items_of(answer)
    if not 0 <= index < len(items):
        raise AnswerError(_("This answer link is not valid."))
    if not first_time(session, click, now):
        return None
    item = items[index]
    deliverable, _occurrence = _as_told(session, item)
    until = today + timedelta(days=days)
    pause(session, deliverable.id, until, reason=SNOOZED_NOTE, actor=actor, now=now, year=item.year,
          member=item.member)
    return until
