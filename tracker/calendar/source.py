"""Reading what the feeds show from the database, and keeping each event's revision there.

The I/O edge of ``tracker.calendar``: ``load_plan`` turns rows into
``EventContent``; ``reconcile`` makes the stored SEQUENCE and LAST-MODIFIED
follow content changes, once, whichever process notices first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tracker.calendar.events import EventContent, EventState, event_uid
from tracker.calendar.feeds import FeedDefinition, FeedSelection, PlanNames
from tracker.errors import StoreError
from tracker.model import Status, is_overdue
from tracker.store.db import read_session, write_session
from tracker.store.tables import CalendarEventRow, DeliverableRow, FeedRow, OccurrenceRow, PartyRow, ThemeRow


@dataclass(frozen=True)
class Plan:
    events: list[EventContent]
    names: PlanNames


def load_plan(session: Session, today: date) -> Plan:
    """Every occurrence as an event as of ``today``, withdrawn ones included (they publish as cancelled)."""
    parties = {row.key: (row.name, row.name_en) for row in session.exec(select(PartyRow))}
    themes = {row.key: (row.number, row.topic, row.topic_en) for row in session.exec(select(ThemeRow))}
    rows = session.exec(select(DeliverableRow, OccurrenceRow).join(
        OccurrenceRow, col(OccurrenceRow.deliverable_id) == DeliverableRow.id))
    events = []
    for deliverable, occurrence in rows:
        status = Status(occurrence.status)
        withdrawn = deliverable.archived_at is not None or occurrence.archived_at is not None
        owner_name, owner_name_en = parties.get(deliverable.owner, (deliverable.owner, deliverable.owner))
        co_owners = list(deliverable.co_owners)
        events.append(EventContent(
            uid=event_uid(deliverable.calendar_id, occurrence.year),
            deliverable_id=deliverable.id,
            year=occurrence.year,
            title=deliverable.title,
            title_en=deliverable.title_en,
            owner=deliverable.owner,
            owner_name=owner_name,
            owner_name_en=owner_name_en,
            co_owner_names=tuple(parties.get(key, (key, key))[0] for key in co_owners),
            co_owner_names_en=tuple(parties.get(key, (key, key))[1] for key in co_owners),
            parties=frozenset([deliverable.owner, *co_owners]),
            theme=deliverable.theme,
            deadline_text=deliverable.deadline_text,
            window_start=occurrence.window_start,
            due=occurrence.due,
            status=status,
            # Withdrawn work is nobody's to deliver any more: never overdue.
            overdue=not withdrawn and is_overdue(occurrence.due, status, today),
            withdrawn=withdrawn,
            note=occurrence.note,
            source_section=deliverable.source_section,
            source_quote=deliverable.source_quote,
        ))
    return Plan(events=events, names=PlanNames(parties=parties, themes=themes))


def reconcile(engine: Engine, events: list[EventContent], fingerprints: dict[str, str],
              now: datetime) -> dict[str, tuple[str, EventState]]:
    """Each event's (fingerprint, state), with SEQUENCE raised where the content changed since last stored.

    Every stored state is read (plain columns, no lock), so all processes
    serve the same revision; only changed events are then re-read and written
    inside a write transaction, so two processes noticing the same change
    raise the sequence once between them.
    """
    columns = (CalendarEventRow.uid, CalendarEventRow.fingerprint, CalendarEventRow.sequence,
               CalendarEventRow.changed_at)
    with read_session(engine) as session:
        known = {uid: (fingerprint, EventState(sequence, changed_at))
                 for uid, fingerprint, sequence, changed_at in session.exec(select(*columns))}
    changed = [event.uid for event in events if known.get(event.uid, ("",))[0] != fingerprints[event.uid]]
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
