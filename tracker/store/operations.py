"""What coordinators change: status, re-plans and notes, each with its history row.

Each function works inside the caller's transaction and either makes its whole
change or raises before writing anything.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from tracker.deadlines import Occurrence, Recurrence, occurrences_of, parse_dated
from tracker.errors import OccurrenceError, TrackerError
from tracker.i18n import _
from tracker.model import HistoryAction, Status, check_transition
from tracker.store.history import HistoryWriter
from tracker.store.members import check_everyone, ensure_parts, members_of, part, parts_of, require_member, roll_up
from tracker.store.queries import get_deliverable
from tracker.store.sync import apply_occurrences, follow_moves
from tracker.store.tables import DeliverableRow, MemberStatusRow, OccurrenceRow


def _open_occurrences(session: Session, deliverable_id: str) -> list[OccurrenceRow]:
    return list(session.exec(
        select(OccurrenceRow)
        .where(col(OccurrenceRow.deliverable_id) == deliverable_id, col(OccurrenceRow.archived_at).is_(None))
        .order_by(col(OccurrenceRow.due).asc().nulls_last())
    ))


def pick_occurrence(session: Session, deliverable: DeliverableRow, year: int | None) -> OccurrenceRow:
    """The occurrence a command is about: the only one, or the one of ``year``."""
    rows = _open_occurrences(session, deliverable.id)
    years = [row.year for row in rows if row.year is not None]
    if year is None:
        if len(rows) == 1:
            return rows[0]
        raise OccurrenceError(_(
            "{id} recurs every year ({years}). Name the one you mean with --occurrence YEAR."
        ).format(id=deliverable.id, years=", ".join(str(y) for y in years)))
    for row in rows:
        if row.year == year:
            return row
    if not years:
        raise OccurrenceError(_("{id} does not recur; leave out --occurrence.").format(id=deliverable.id))
    raise OccurrenceError(_("{id} has no occurrence in {year}. Its occurrences are: {years}.").format(
        id=deliverable.id, year=year, years=", ".join(str(y) for y in years)))


def change_status(session: Session, deliverable_id: str, status: Status, *, note: str | None, actor: str, now: datetime,
                  year: int | None = None, evidence_url: str | None = None, undo: bool = False,
                  member: str | None = None) -> OccurrenceRow:
    """Set an occurrence's status, refusing transitions that make no sense.

    ``undo`` puts back the status a mistaken answer replaced, whatever it was (a press of "done" by mistake
    undone to "not started"): a correction, not a step of the work, so the transition rules do not apply.

    A per-member deliverable's ``member`` sets that member's own part, and the occurrence's status becomes the
    roll-up; without ``member``, every member's part becomes ``status`` (a coordinator closing it for all).
    """
    deliverable = get_deliverable(session, deliverable_id)
    occurrence = pick_occurrence(session, deliverable, year)
    members = members_of(session, deliverable) if member is None else require_member(session, deliverable, member)
    history = HistoryWriter(session, now, actor)
    was_done = occurrence.status == Status.DONE.value
    if members:
        if member is not None:
            row = part(session, occurrence, member)
            if not undo:
                check_transition(Status(row.status), status)
            changing = [row]
            history.record(HistoryAction.STATUS, deliverable.id, key=occurrence.key, field="status", old=row.status,
                           new=status.value, note=note, evidence_url=evidence_url, member=member)
        else:
            changing = check_everyone(parts_of(session, occurrence, members), status, _label(deliverable, occurrence))
            history.record(HistoryAction.STATUS, deliverable.id, key=occurrence.key, field="status",
                           old=occurrence.status, new=status.value, note=note, evidence_url=evidence_url)
        for row in changing:
            row.status, row.status_changed_at = status.value, now
            if note is not None and not undo:
                row.note, row.noted_at = note, now
            if evidence_url:
                row.evidence_url = evidence_url
            session.add(row)
        session.flush()
        roll_up(session, occurrence, members, now)
    else:
        if not undo:
            check_transition(Status(occurrence.status), status)
        history.record(HistoryAction.STATUS, deliverable.id, key=occurrence.key, field="status",
                       old=occurrence.status, new=status.value, note=note, evidence_url=evidence_url)
        occurrence.status = status.value
        occurrence.status_changed_at = now
    if note is not None and not undo and member is None:  # a press of a status button says nothing new
        occurrence.note = note
    if evidence_url and member is None:
        occurrence.evidence_url = evidence_url
    occurrence.updated_at = now
    deliverable.updated_at = now
    # "2 år efter ID er færdig" counts from the day it was done.
    if was_done != (occurrence.status == Status.DONE.value):
        follow_moves(session, deliverable.id, history)
    return occurrence


def _label(deliverable: DeliverableRow, occurrence: OccurrenceRow) -> str:
    return f"{deliverable.id} ({occurrence.year})" if occurrence.year else deliverable.id


def confirm_status(session: Session, deliverable_id: str, *, actor: str, now: datetime,
                   year: int | None = None, member: str | None = None) -> OccurrenceRow:
    """Record that the occurrence's status (or ``member``'s part of it) is as it is (a status round's "Uændret", or
    the same status pressed again): a sign of life that answers a round and the "is it done?" question, without a
    change."""
    deliverable = get_deliverable(session, deliverable_id)
    occurrence = pick_occurrence(session, deliverable, year)
    if member is not None:
        require_member(session, deliverable, member)
        row = part(session, occurrence, member)
        HistoryWriter(session, now, actor).record(HistoryAction.CONFIRMED, deliverable.id, key=occurrence.key,
                                                  field="status", old=row.status, new=row.status, member=member)
        row.confirmed_at = now
        session.add(row)
        return occurrence
    HistoryWriter(session, now, actor).record(HistoryAction.CONFIRMED, deliverable.id, key=occurrence.key,
                                              field="status", old=occurrence.status, new=occurrence.status)
    occurrence.confirmed_at = now
    occurrence.updated_at = now
    return occurrence


def replan(session: Session, deliverable_id: str, deadline_text: str, *, reason: str, actor: str, now: datetime,
           year: int | None = None) -> DeliverableRow:
    """Move a deliverable (or one occurrence of a recurring one) to a new deadline.

    The baseline stays where it was, so the slippage shows. A new recurrence
    may add occurrences (not started) and archive ones it no longer has.
    """
    schedule = parse_dated(deadline_text)
    deliverable = get_deliverable(session, deliverable_id)
    history = HistoryWriter(session, now, actor)
    if year is not None:
        if isinstance(schedule, Recurrence):
            raise OccurrenceError(_(
                "One occurrence gets one deadline, not the recurrence {text!r}. Leave out --occurrence to "
                "re-plan the whole series."
            ).format(text=deadline_text))
        occurrence = pick_occurrence(session, deliverable, year)
        apply_occurrences(session, deliverable.id, [Occurrence(key=occurrence.year, deadline=schedule)], history,
                          note=reason, archive_missing=False)
    else:
        history.record(HistoryAction.REPLAN, deliverable.id, field="deadline", old=deliverable.deadline_text,
                       new=deadline_text,
                       note=reason)
        deliverable.deadline_text = deadline_text
        deliverable.interpreted_as = None
        apply_occurrences(session, deliverable.id, occurrences_of(schedule), history, note=reason)
    session.flush()
    ensure_parts(session, deliverable, _open_occurrences(session, deliverable.id))  # a new year: a part for each
    deliverable.updated_at = now
    follow_moves(session, deliverable.id, history)  # what is dated by this deliverable moves with it
    return deliverable


def replan_concerns(session: Session, deliverable_id: str, deadline_text: str, today: date,
                    year: int | None = None) -> list[str]:
    """What looks like a slip of the keyboard in a re-plan: a due day more than a year in the past, or one year's
    occurrence of a recurring deliverable moved before the window it had (the 2027 status due in 2026). A one-off
    deadline may well move earlier. Empty when the re-plan looks meant; the command asks before going on."""
    schedule = parse_dated(deadline_text)
    deliverable = get_deliverable(session, deliverable_id)
    planned = [Occurrence(key=year, deadline=schedule)] if year is not None and not isinstance(schedule, Recurrence) \
        else occurrences_of(schedule)
    current = {row.year: row for row in _open_occurrences(session, deliverable.id)}
    concerns = []
    if year is None and len(current) > 1 and not isinstance(schedule, Recurrence):
        # The whole deadline becomes one: every year's occurrence is archived, their slippage with them. Meant
        # when the agreement changed; a slip when one year was to move (status refuses without --occurrence too).
        concerns.append(_("{id} recurs ({count} occurrences): this replaces all of them with the one deadline "
                          "{deadline!r}, and archives them. To move one year, give --occurrence YEAR.").format(
            id=deliverable.id, count=len(current), deadline=deadline_text))
    for occurrence in planned:
        if occurrence.deadline is None:
            continue  # parse_dated gives no undated occurrence; the type allows one
        due = occurrence.deadline.due
        label = f"{deliverable.id} ({occurrence.key})" if occurrence.key else deliverable.id
        if due < today - timedelta(days=365):
            concerns.append(_("{label} would be due {due}, more than a year ago.").format(
                label=label, due=due.isoformat()))
        row = current.get(occurrence.key) if occurrence.key is not None else None
        if row is not None and row.window_start is not None and due < row.window_start:
            concerns.append(_("{label} would be due {due}, before its window opens ({start}).").format(
                label=label, due=due.isoformat(), start=row.window_start.isoformat()))
    return concerns


def add_note(session: Session, deliverable_id: str, note: str, *, actor: str, now: datetime,
             year: int | None = None, evidence_url: str | None = None, member: str | None = None) -> OccurrenceRow:
    """Attach a note to an occurrence, or to ``member``'s part of it (the latest note shows in lists and feeds)."""
    deliverable = get_deliverable(session, deliverable_id)
    occurrence = pick_occurrence(session, deliverable, year)
    if member is not None:
        require_member(session, deliverable, member)
        row = part(session, occurrence, member)
        HistoryWriter(session, now, actor).record(HistoryAction.NOTE, deliverable.id, key=occurrence.key, note=note,
                                                  evidence_url=evidence_url, member=member)
        row.note, row.noted_at = note, now
        if evidence_url:
            row.evidence_url = evidence_url
        session.add(row)
        return occurrence
    HistoryWriter(session, now, actor).record(HistoryAction.NOTE, deliverable.id, key=occurrence.key, note=note,
                                              evidence_url=evidence_url)
    occurrence.note = note
    if evidence_url:
        occurrence.evidence_url = evidence_url
    occurrence.updated_at = now
    return occurrence


def snooze(session: Session, deliverable_id: str, until: date | None, *, reason: str | None, actor: str,
           now: datetime, year: int | None = None, member: str | None = None) -> OccurrenceRow | MemberStatusRow:
    """Pause the owner's reminders and alerts about an occurrence (or ``member``'s about its own part) until
    ``until`` (the first day they go again), with the reason, or resume them (``until`` None). Escalations and the
    digest are not paused."""
    deliverable = get_deliverable(session, deliverable_id)
    occurrence = pick_occurrence(session, deliverable, year)
    label = _label(deliverable, occurrence)
    paused: OccurrenceRow | MemberStatusRow = occurrence
    if member is not None:
        require_member(session, deliverable, member)
        paused = part(session, occurrence, member)
        label = f"{label}, {member}"
    if until is None and paused.snoozed_until is None:
        raise TrackerError(_("{label} is not paused: there is nothing to resume.").format(label=label))
    if until is not None and Status(paused.status).is_closed:
        raise TrackerError(_("{label} is {status}: nobody is reminded of it, so there is nothing to pause.").format(
            label=label, status=Status(paused.status).label))
    HistoryWriter(session, now, actor).record(
        HistoryAction.SNOOZED, deliverable.id, key=occurrence.key, field="snoozed_until",
        old=paused.snoozed_until.isoformat() if paused.snoozed_until else None,
        new=until.isoformat() if until else None, note=reason, member=member)
    paused.snoozed_until = until
    paused.snooze_reason = reason if until else None
    paused.snoozed_by = actor if until else None
    session.add(paused)
    # Not updated_at: a pause says nothing of how the work stands, so "is it done?" is still asked.
    return paused
