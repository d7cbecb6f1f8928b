"""Requests for a new deadline, as messages: to the coordinators when one is made and every week it waits for them,
to the one who asked when it is decided.

An owner's request (``tracker.store.answers.request_replan``) and the
coordinators' decision (``tracker.store.requests``) are written by the web
process and the command line; the sweep turns each into outbox rows here, so
these messages are retried, fall back to e-mail and are reported when they
fail, as every other message is. A request is marked announced (reminded, its
decision told) in the same transaction as its rows are queued: once, however
many clocks sweep.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, tzinfo

from sqlmodel import Session, col, select

from tracker.i18n import _, format_due, using_language
from tracker.model import Status
from tracker.notify import outbox
from tracker.notify.contacts import COORDINATORS, Contacts
from tracker.notify.planner import Notice, routes_for
from tracker.store.requests import APPROVED, PENDING
from tracker.store.tables import DeliverableRow, OccurrenceRow, ReplanRequestRow

REMIND_EVERY = timedelta(days=7)  # the coordinators hear again of a request they have not decided


def queue(session: Session, contacts: Contacts, channels: tuple[str, ...], now: datetime, zone: tzinfo, *,
          buttons: bool = False, remind_at: datetime | None = None) -> int:
    """Queue the messages about requests made or decided since the last sweep; how many rows were queued.
    ``buttons``: the coordinators' Slack messages carry Godkend / Afvis (``tracker.notify.sweep``).
    ``remind_at``: when the weekly reminders go (the plan's send time on a working day), now by default."""
    rows: list[dict] = []
    for request in session.exec(select(ReplanRequestRow).where(col(ReplanRequestRow.announced_at).is_(None))
                                .order_by(col(ReplanRequestRow.id))):
        if request.state == PENDING:  # one decided before any sweep saw it needs no announcing
            rows += _rows(session, request, "request", f"request-{request.id}",
                          routes_for(contacts.coordinators, channels, "coordinators"), COORDINATORS, now, zone,
                          buttons)
        request.announced_at = now
        session.add(request)
    for request in session.exec(select(ReplanRequestRow).where(col(ReplanRequestRow.state) == PENDING,
                                                               col(ReplanRequestRow.announced_at).is_not(None))
                                .order_by(col(ReplanRequestRow.id))):
        last = request.reminded_at or request.announced_at
        if last is None or now - last < REMIND_EVERY:
            continue
        occurrence = session.exec(select(OccurrenceRow).where(
            col(OccurrenceRow.deliverable_id) == request.deliverable_id,
            col(OccurrenceRow.key) == ("" if request.year is None else str(request.year)))).first()
        request.reminded_at = now
        session.add(request)
        if occurrence is None or occurrence.archived_at is not None or Status(occurrence.status).is_closed:
            continue  # closed or gone since: nothing waits on the decision
        weeks = max(1, (now - (request.announced_at or now)).days // 7)
        rows += _rows(session, request, "request", f"reminder{weeks}-{request.id}",
                      routes_for(contacts.coordinators, channels, "coordinators"), COORDINATORS, now, zone,
                      buttons, waiting_days=(now - request.requested_at).days, due_at=remind_at)
    for request in session.exec(select(ReplanRequestRow).where(col(ReplanRequestRow.state) != PENDING,
                                                               col(ReplanRequestRow.told_at).is_(None))
                                .order_by(col(ReplanRequestRow.id))):
        rows += _rows(session, request, "decision", f"{request.state}-{request.id}",
                      _requester_routes(request, contacts, channels), request.party or COORDINATORS, now, zone,
                      buttons)
        request.told_at = now
        session.add(request)
    return outbox.insert_new(session, rows) if rows else 0


def _requester_routes(request: ReplanRequestRow, contacts: Contacts,
                      channels: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Where the one who asked hears the outcome: by the channel they asked through, at their own address; else
    their party's routes."""
    language = contacts.reach(request.party).language if request.party else contacts.coordinators.language
    address = request.requester_email
    if address:
        if not channels:
            return [("console", address, language)]
        if request.requested_via in channels:
            return [(str(request.requested_via), address, language)]
        if "email" in channels:
            return [("email", address, language)]
    if request.party:
        return routes_for(contacts.reach(request.party), channels, None)
    return []  # nobody known to tell (a request from before tracker recorded who asked)


def _rows(session: Session, request: ReplanRequestRow, kind: str, step: str, routes: list[tuple[str, str, str]],
          party: str, now: datetime, zone: tzinfo, buttons: bool, waiting_days: int | None = None,
          due_at: datetime | None = None) -> list[dict]:
    rows = []
    for channel, recipient, language in routes:
        with using_language(language):
            detail = _text(session, request, kind, language, buttons=buttons and channel == "slack")
            if waiting_days is not None:
                detail = _("Still waiting for a decision, {days} days after it was asked for:").format(
                    days=waiting_days) + "\n" + detail
        notice = Notice(key=f"{request.deliverable_id}/{request.year or '-'}/{kind}/{step}/{channel}/{recipient}",
                        kind=kind, step=step, day=now.astimezone(zone).date(), subject=None, channel=channel,
                        recipient=recipient, language=language,
                        reason="coordinators" if kind == "request" else "requester", detail=detail, party=party)
        when = max(due_at or now, now)
        rows.append(outbox.row_values(replace(notice, day=when.astimezone(zone).date()), when, now,
                                      deliverable_id=request.deliverable_id, occurrence_year=request.year))
    return rows


def _text(session: Session, request: ReplanRequestRow, kind: str, language: str, *, buttons: bool) -> str:
    deliverable = session.get(DeliverableRow, request.deliverable_id)
    title = request.deliverable_id if deliverable is None else (
        deliverable.title_en if language == "en" else deliverable.title)
    if request.year is not None:
        title = f"{title} ({request.year})"
    occurrence = session.exec(select(OccurrenceRow).where(
        col(OccurrenceRow.deliverable_id) == request.deliverable_id,
        col(OccurrenceRow.key) == ("" if request.year is None else str(request.year)))).first()
    due = format_due(occurrence.due) if occurrence is not None else "?"
    if kind == "request":
        return "\n".join([
            _("{who} asks for a new deadline for “{title}”: “{deadline}” instead of {due}.").format(
                who=request.requested_by, title=title, deadline=request.deadline_text, due=due),
            _("Reason: {reason}").format(reason=request.reason),
            "",
            (_("Approve or reject it with the buttons below, or with `tracker requests approve {number}` or "
               "`tracker requests reject {number} --reason …`.") if buttons else
             _("Approve it with `tracker requests approve {number}`, or reject it with `tracker requests reject "
               "{number} --reason …`.")).format(number=request.id),
        ])
    if request.state == APPROVED:
        return _("Your request for a new deadline for “{title}” was approved by {who}: it is now due “{deadline}” "
                 "({due}).").format(title=title, who=request.decided_by, deadline=request.deadline_text, due=due)
    return "\n".join([
        _("Your request for a new deadline for “{title}” (“{deadline}”) was rejected by {who}. The deadline stays "
          "{due}.").format(title=title, deadline=request.deadline_text, who=request.decided_by, due=due),
        _("Reason: {reason}").format(reason=request.decision_reason or ""),
    ])
