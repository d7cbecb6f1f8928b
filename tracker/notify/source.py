"""Reading what the planner needs from the database: occurrences, party names, recent changes."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from tracker.model import Status
from tracker.notify.planner import Change, Subject
from tracker.store.tables import DeliverableRow, HistoryRow, OccurrenceRow, PartyRow

# History actions that change what an occurrence means for the people on it.
# A first sync's "created" rows are not news; a status the register states is
# not a coordinator's change either.
_CHANGES = ("status", "replan", "note", "archived", "restored")


def load_subjects(session: Session) -> list[Subject]:
    rows = session.exec(select(DeliverableRow, OccurrenceRow).join(
        OccurrenceRow, col(OccurrenceRow.deliverable_id) == DeliverableRow.id))
    subjects = []
    for deliverable, occurrence in rows:
        touched = [moment for moment in (occurrence.status_changed_at, _noted_at(occurrence)) if moment]
        subjects.append(Subject(
            deliverable_id=deliverable.id, year=occurrence.year, title=deliverable.title,
            title_en=deliverable.title_en, owner=deliverable.owner, co_owners=tuple(deliverable.co_owners),
            due=occurrence.due, status=Status(occurrence.status), deadline_text=deliverable.deadline_text,
            note=occurrence.note, source_section=deliverable.source_section,
            source_quote=deliverable.source_quote, updated_at=max(touched) if touched else None,
            withdrawn=deliverable.archived_at is not None or occurrence.archived_at is not None,
        ))
    return subjects


def _noted_at(occurrence: OccurrenceRow) -> datetime | None:
    # A note is a sign of life too; updated_at moves with notes and status changes
    # (re-plans move it as well, which is an update by a coordinator).
    return occurrence.updated_at if occurrence.note else None


def load_party_names(session: Session) -> dict[str, tuple[str, str]]:
    return {row.key: (row.name, row.name_en) for row in session.exec(select(PartyRow))}


def load_changes(session: Session, since: datetime) -> list[Change]:
    rows = session.exec(select(HistoryRow).where(col(HistoryRow.at) >= since, col(HistoryRow.action).in_(_CHANGES)))
    return [Change(at=row.at, deliverable_id=row.deliverable_id or "",
                   year=int(row.occurrence_key) if row.occurrence_key else None, action=row.action)
            for row in rows if row.deliverable_id and not (row.actor == "register" and row.action == "status")]
