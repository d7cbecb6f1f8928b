"""Reading what the feeds show from the database, and keeping each event's revision there.

The I/O edge of ``tracker.calendar``: ``load_plan`` turns rows into
``EventContent``; ``reconcile`` makes the stored SEQUENCE and LAST-MODIFIED
follow content changes, once, whichever process notices first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

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
        OccurrenceRow, OccurrenceRow.deliverable_id == DeliverableRow.id))
    events = []
    for deliverable, occurrence in rows:
        status = Status(occurrence.status)
        owner_name, owner_name_en = parties.get(deliverable.owner, (deliverable.owner, deliverable.owner))
        co_owners = list(deliverable.co_owners)
        events.append(EventContent(
            uid=event_uid(deliverable.id, occurrence.year),
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
            overdue=is_overdue(occurrence.due, status, today),
            withdrawn=deliverable.archived_at is not None or occurrence.archived_at is not None,
            note=occurrence.note,
            source_section=deliverable.source_section,
            source_quote=deliverable.source_quote,
        ))
    return Plan(events=events, names=PlanNames(parties=parties, themes=themes))


def _states(rows: Iterable[CalendarEventRow]) -> dict[str, tuple[str, EventState]]:
    return {row.uid: (row.fingerprint, EventState(row.sequence, row.changed_at)) for row in rows}


def reconcile(engine: Engine, events: list[EventContent], fingerprints: dict[str, str], now: datetime,
              known: dict[str, tuple[str, EventState]] | None = None) -> dict[str, tuple[str, EventState]]:
    """Each event's (fingerprint, state), with SEQUENCE raised where the content changed since last stored.

    ``known`` is what the caller last read; when it already matches every
    fingerprint, nothing is read or written. Otherwise the rows are re-read
    inside a write transaction, so two processes noticing the same change
    raise the sequence once between them.
    """
    if known is not None and all(known.get(e.uid, ("",))[0] == fingerprints[e.uid] for e in events):
        return known
    if known is None:
        with read_session(engine) as session:
            known = _states(session.exec(select(CalendarEventRow)))
        if all(known.get(e.uid, ("",))[0] == fingerprints[e.uid] for e in events):
            return known
    try:
        return _store_changes(engine, events, fingerprints, now)
    except StoreError:
        # Another process inserted the same new event between our read and
        # our insert (PostgreSQL's unique key says so): its rows are there now.
        return _store_changes(engine, events, fingerprints, now)


def _store_changes(engine: Engine, events: list[EventContent], fingerprints: dict[str, str],
                   now: datetime) -> dict[str, tuple[str, EventState]]:
    with write_session(engine) as session:
        rows = {row.uid: row for row in session.exec(select(CalendarEventRow))}
        for event in events:
            fingerprint = fingerprints[event.uid]
            row = rows.get(event.uid)
            if row is None:
                row = CalendarEventRow(uid=event.uid, fingerprint=fingerprint, sequence=0, changed_at=now)
                session.add(row)
                rows[event.uid] = row
            elif row.fingerprint != fingerprint:
                row.fingerprint = fingerprint
                row.sequence += 1
                row.changed_at = now
        session.flush()
        return _states(rows.values())


def load_feeds(session: Session, include_revoked: bool = False) -> list[FeedRow]:
    statement = select(FeedRow).order_by(FeedRow.name)
    if not include_revoked:
        statement = statement.where(FeedRow.revoked_at.is_(None))
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
