"""Reading what the feeds show from the database, and keeping each event's revision there.

The I/O edge of ``tracker.calendar``: ``load_plan`` reads the plan's read
model, withdrawn occurrences included; ``reconcile`` makes the stored SEQUENCE and LAST-MODIFIED
follow content changes, once, whichever process notices first.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlalchemy import func
from sqlmodel import Session, col, select

from tracker.calendar.events import EventState, uid_of
from tracker.calendar.feeds import FeedDefinition, FeedSelection
from tracker.errors import StoreError
from tracker.model import HistoryAction, OccurrenceView
from tracker.store import queries
from tracker.store.db import read_session, write_session
from tracker.store.queries import Plan
from tracker.store.tables import CalendarEventRow, FeedRow, HistoryRow


def load_plan(session: Session, today: date, deliverable_ids: Collection[str] | None = None) -> Plan:
    """Every dated occurrence as of ``today`` (of ``deliverable_ids`` alone, if given), withdrawn ones included
    (they publish as cancelled). An undated commitment has no day to put an event on: it joins the feeds when a
    re-plan dates it."""
    plan = queries.load_plan(session, today, include_archived=True, deliverable_ids=deliverable_ids)
    return replace(plan, views=[view for view in plan.views if not view.undated])


@dataclass(frozen=True)
class Changes:
    """What the history says changed after the row the feeds last read: the deliverables, or everything."""

    last_id: int
    deliverable_ids: frozenset[str] = frozenset()
    everything: bool = False  # a change to no one deliverable (a party's name, a theme) or a rename


# Changes that reach beyond the rows of their deliverable: the plan is read again whole.
_WHOLE_PLAN = frozenset({HistoryAction.RENAMED.value})


def last_history_id(session: Session) -> int:
    return session.execute(select(func.max(HistoryRow.id))).scalar() or 0


def changes_since(session: Session, last_id: int) -> Changes:
    """The deliverables changed in the history after ``last_id``.

    Complete because history ids grow in commit order (``HistoryWriter``): no
    transaction commits a row below one already read.
    """
    newest, ids, everything = last_id, set(), False
    for row_id, deliverable_id, action in session.execute(
            select(HistoryRow.id, HistoryRow.deliverable_id, HistoryRow.action).where(col(HistoryRow.id) > last_id)):
        newest = max(newest, row_id)
        if deliverable_id is None or action in _WHOLE_PLAN:
            everything = True
        else:
            ids.add(deliverable_id)
    return Changes(last_id=newest, deliverable_ids=frozenset(ids), everything=everything)


def reconcile(engine: Engine, events: list[OccurrenceView], fingerprints: dict[str, str],
              now: datetime, *, only_these: bool = False) -> dict[str, tuple[str, EventState]]:
    """Each event's (fingerprint, state), with SEQUENCE raised where the content changed since last stored.

    Every stored state is read (plain columns, no lock; with ``only_these``,
    the states of ``events`` alone), so all processes
    serve the same revision; only changed events are then re-read and written
    inside a write transaction, so two processes noticing the same change
    raise the sequence once between them.
    """
    columns = (CalendarEventRow.uid, CalendarEventRow.fingerprint, CalendarEventRow.sequence,
               CalendarEventRow.changed_at)
    uids = [uid_of(event) for event in events]
    with read_session(engine) as session:
        if only_these:  # a refresh of a few deliverables: their events' states, not every event's
            rows = [row for chunk in range(0, len(uids), 500) for row in session.execute(
                select(*columns).where(col(CalendarEventRow.uid).in_(uids[chunk:chunk + 500])))]
        else:
            rows = list(session.execute(select(*columns)))
        known = {uid: (fingerprint, EventState(sequence, changed_at))
                 for uid, fingerprint, sequence, changed_at in rows}
    changed = [key for key in uids if known.get(key, ("",))[0] != fingerprints[key]]
    try:
        stored = _store_changes(engine, changed, fingerprints, now)
    except StoreError:
        # Another process inserted the same new event between our read and
        # our insert (PostgreSQL's unique key says so): its rows are there now.
        stored = _store_changes(engine, changed, fingerprints, now)
    return {**known, **stored}


def _store_changes(engine: Engine, uids: list[str], fingerprints: dict[str, str],
                   now: datetime) -> dict[str, tuple[str, EventState]]:
    """Raise the sequence of each of ``uids`` whose stored fingerprint differs; only their rows are read.

    The rows are read inside the write transaction, so a change another
    process stored meanwhile is seen and not counted twice.
    """
    with write_session(engine) as session:
        rows: dict[str, CalendarEventRow] = {}
        for chunk in range(0, len(uids), 500):  # keep IN lists within every database's limits
            batch = uids[chunk:chunk + 500]
            rows.update((row.uid, row) for row in session.exec(
                select(CalendarEventRow).where(col(CalendarEventRow.uid).in_(batch))))
        for uid in uids:
            fingerprint = fingerprints[uid]
            row = rows.get(uid)
            if row is None:
                row = CalendarEventRow(uid=uid, fingerprint=fingerprint, sequence=0, changed_at=now)
                session.add(row)
                rows[uid] = row
            elif row.fingerprint != fingerprint:
                row.fingerprint = fingerprint
                row.sequence += 1
                row.changed_at = now
        session.flush()
        return {row.uid: (row.fingerprint, EventState(row.sequence, row.changed_at)) for row in rows.values()}


def load_feeds(session: Session, include_revoked: bool = False) -> list[FeedRow]:
    statement = select(FeedRow).order_by(FeedRow.name)
    if not include_revoked:
        statement = statement.where(col(FeedRow.revoked_at).is_(None))
    return list(session.exec(statement))


def definition(row: FeedRow) -> FeedDefinition:
    return FeedDefinition(
        name=row.name,
        token_hash=row.token_hash,
        selection=FeedSelection(parties=frozenset(row.parties), themes=frozenset(row.themes),
                                overdue_only=row.overdue_only),
        language=row.language,
        alarm=row.alarm,
        created_at=row.created_at,
    )
