"""Loading the register into the database without losing what happened since.

``sync_register`` makes the database match a validated register in one
transaction. It is idempotent (a second run changes nothing and writes no
history), keeps every status and note, treats a changed due day as a re-plan
(the baseline stays, so slippage shows), and archives what the register no
longer has instead of deleting it. Every change it makes is in the history,
attributed to ``actor``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from tracker.deadlines import Occurrence
from tracker.model import Deliverable, Register, Status
from tracker.store.history import HistoryWriter
from tracker.store.tables import DeliverableRow, MetaRow, OccurrenceRow, PartyRow, ThemeRow

SYNC_ACTOR = "register"


@dataclass
class SyncReport:
    """What one sync changed, by kind of change."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    replanned: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.replanned or self.archived or self.restored)


def occurrence_key(occurrence: Occurrence) -> str:
    return "" if occurrence.key is None else str(occurrence.key)


def sync_register(session: Session, register: Register, now: datetime, actor: str = SYNC_ACTOR) -> SyncReport:
    """Make the database match ``register``; the caller owns the transaction."""
    changes = HistoryWriter(session, now, actor)
    report = SyncReport()
    _sync_parties(session, register, changes)
    _sync_themes(session, register, changes)
    session.flush()

    existing = {row.id: row for row in session.exec(select(DeliverableRow))}
    for deliverable in register.deliverables.values():
        row = existing.get(deliverable.id)
        if row is None:
            _add_deliverable(session, deliverable, changes)
            report.added.append(deliverable.id)
            continue
        outcome = _update_deliverable(session, row, deliverable, changes)
        if outcome == "unchanged":
            report.unchanged += 1
        else:
            getattr(report, outcome).append(deliverable.id)
    for deliverable_id, row in existing.items():
        if deliverable_id not in register.deliverables and row.archived_at is None:
            row.archived_at = now
            row.updated_at = now
            for occurrence in _occurrences(session, deliverable_id):
                if occurrence.archived_at is None:
                    occurrence.archived_at = now
            changes.record("archived", deliverable_id, note="no longer in the register")
            report.archived.append(deliverable_id)

    _set_meta(session, "register_digest", register.digest, now)
    session.flush()
    return report


def _set_meta(session: Session, key: str, value: str, now: datetime) -> None:
    row = session.get(MetaRow, key)
    if row is None:
        session.add(MetaRow(key=key, value=value, updated_at=now))
    elif row.value != value:
        row.value = value
        row.updated_at = now


def _sync_simple(session: Session, table: type, key_field: str, desired: dict[str, dict[str, Any]],
                 changes: HistoryWriter, label: str) -> None:
    """Parties and themes: plain upsert, archive what is gone, history for each change."""
    rows = {getattr(row, key_field): row for row in session.exec(select(table))}
    for key, values in desired.items():
        row = rows.get(key)
        if row is None:
            session.add(table(**{key_field: key}, **values))
            changes.record(f"{label}_added", None, field=label, new=key)
            continue
        if row.archived_at is not None:
            row.archived_at = None
            changes.record(f"{label}_restored", None, field=label, new=key)
        for name, value in values.items():
            if getattr(row, name) != value:
                changes.record(f"{label}_updated", None, field=f"{label}.{key}.{name}", old=getattr(row, name),
                               new=value)
                setattr(row, name, value)
    for key, row in rows.items():
        if key not in desired and row.archived_at is None:
            row.archived_at = changes.now
            changes.record(f"{label}_archived", None, field=label, old=key)


def _sync_parties(session: Session, register: Register, changes: HistoryWriter) -> None:
    desired = {key: {"name": p.name, "name_en": p.name_en, "kind": p.kind} for key, p in register.parties.items()}
    _sync_simple(session, PartyRow, "key", desired, changes, "party")


def _sync_themes(session: Session, register: Register, changes: HistoryWriter) -> None:
    desired = {
        key: {
            "number": t.number, "title": t.title, "title_en": t.title_en, "topic": t.topic, "topic_en": t.topic_en,
            "chapter": t.chapter,
            "initiatives": [{"letter": i.letter, "horizon": i.horizon, "text": i.text, "text_en": i.text_en}
                            for i in t.initiatives],
            "source_file": t.source.file, "source_section": t.source.section, "source_quote": t.source.quote,
        }
        for key, t in register.themes.items()
    }
    _sync_simple(session, ThemeRow, "key", desired, changes, "theme")


def register_deadline_of(deliverable: Deliverable) -> str:
    """What identifies the register's deadline: its words and the reading used."""
    if deliverable.interpreted_as:
        return f"{deliverable.deadline_text} ⟶ {deliverable.interpreted_as}"
    return deliverable.deadline_text


def _descriptive_fields(deliverable: Deliverable) -> dict[str, Any]:
    return {
        "title": deliverable.title, "title_en": deliverable.title_en, "kind": deliverable.kind,
        "owner": deliverable.owner, "co_owners": list(deliverable.co_owners), "recipient": deliverable.recipient,
        "theme": deliverable.theme, "initiative": deliverable.initiative, "funding": deliverable.funding,
        "reading": deliverable.reading, "source_file": deliverable.source.file,
        "source_section": deliverable.source.section, "source_quote": deliverable.source.quote,
        "depends_on": list(deliverable.depends_on),
    }


def _add_deliverable(session: Session, deliverable: Deliverable, changes: HistoryWriter) -> None:
    now = changes.now
    session.add(DeliverableRow(
        id=deliverable.id, deadline_text=deliverable.deadline_text, interpreted_as=deliverable.interpreted_as,
        register_deadline=register_deadline_of(deliverable), register_status=deliverable.status.value,
        created_at=now, updated_at=now, **_descriptive_fields(deliverable),
    ))
    changes.record("created", deliverable.id, new=deliverable.deadline_text)
    session.flush()
    for occurrence in deliverable.occurrences():
        _add_occurrence(session, deliverable.id, occurrence, deliverable.status, changes)


def _add_occurrence(session: Session, deliverable_id: str, occurrence: Occurrence, status: Status,
                    changes: HistoryWriter) -> OccurrenceRow:
    deadline = occurrence.deadline
    row = OccurrenceRow(
        deliverable_id=deliverable_id, key=occurrence_key(occurrence), year=occurrence.key,
        window_start=deadline.window_start, due=deadline.due, precision=deadline.precision.value,
        baseline_window_start=deadline.window_start, baseline_due=deadline.due, status=status.value,
        status_changed_at=changes.now if status is not Status.NOT_STARTED else None, updated_at=changes.now,
    )
    session.add(row)
    changes.record("occurrence_added", deliverable_id, key=row.key, field="due", new=deadline.due.isoformat())
    if status is not Status.NOT_STARTED:
        changes.record("status", deliverable_id, key=row.key, field="status", old=Status.NOT_STARTED.value,
                       new=status.value, note="as stated in the source")
    return row


def _occurrences(session: Session, deliverable_id: str) -> list[OccurrenceRow]:
    return list(session.exec(select(OccurrenceRow).where(OccurrenceRow.deliverable_id == deliverable_id)))


def _update_deliverable(session: Session, row: DeliverableRow, deliverable: Deliverable, changes: HistoryWriter) -> str:
    outcome = "unchanged"
    if row.archived_at is not None:
        row.archived_at = None
        changes.record("restored", deliverable.id, note="back in the register")
        outcome = "restored"
    for name, value in _descriptive_fields(deliverable).items():
        if getattr(row, name) != value:
            changes.record("register_update", deliverable.id, field=name, old=getattr(row, name), new=value)
            setattr(row, name, value)
            outcome = "updated" if outcome == "unchanged" else outcome

    register_deadline = register_deadline_of(deliverable)
    deadline_changed = row.register_deadline != register_deadline
    if deadline_changed:
        # The register moved the deadline: that wins over an earlier re-plan by hand.
        changes.record("replan", deliverable.id, field="deadline", old=row.deadline_text,
                       new=deliverable.deadline_text, note="the register's deadline changed")
        row.deadline_text = deliverable.deadline_text
        row.interpreted_as = deliverable.interpreted_as
        row.register_deadline = register_deadline
        if apply_occurrences(session, deliverable.id, deliverable.occurrences(), changes):
            outcome = "replanned"
    elif row.archived_at is None and outcome == "restored":
        for occurrence in _occurrences(session, deliverable.id):
            occurrence.archived_at = None

    if row.register_status != deliverable.status.value:
        # The source now states a different status (for example that it is done).
        for occurrence in _occurrences(session, deliverable.id):
            if occurrence.archived_at is None and occurrence.status != deliverable.status.value:
                changes.record("status", deliverable.id, key=occurrence.key, field="status", old=occurrence.status,
                               new=deliverable.status.value, note="as stated in the source")
                occurrence.status = deliverable.status.value
                occurrence.status_changed_at = changes.now
                occurrence.updated_at = changes.now
        row.register_status = deliverable.status.value
        outcome = "updated" if outcome == "unchanged" else outcome

    if outcome != "unchanged" or deadline_changed:
        row.updated_at = changes.now
    return outcome


def apply_occurrences(session: Session, deliverable_id: str, planned: list[Occurrence], changes: HistoryWriter,
                      note: str | None = None, archive_missing: bool = True) -> bool:
    """Move existing occurrences to ``planned`` due days, add new ones, archive dropped ones.

    The baseline of an existing occurrence never changes: it is what slippage
    is measured against. With ``archive_missing=False`` (re-planning one year
    of a series) occurrences not in ``planned`` are left as they are. Returns
    True when any occurrence changed.
    """
    rows = {row.key: row for row in _occurrences(session, deliverable_id)}
    changed = False
    planned_keys = set()
    for occurrence in planned:
        key = occurrence_key(occurrence)
        planned_keys.add(key)
        deadline = occurrence.deadline
        row = rows.get(key)
        if row is None:
            _add_occurrence(session, deliverable_id, occurrence, Status.NOT_STARTED, changes)
            changed = True
            continue
        if row.archived_at is not None:
            row.archived_at = None
            changes.record("occurrence_restored", deliverable_id, key=key)
            changed = True
        if (row.due, row.window_start, row.precision) != (deadline.due, deadline.window_start,
                                                           deadline.precision.value):
            changes.record("replan", deliverable_id, key=key, field="due", old=row.due.isoformat(),
                           new=deadline.due.isoformat(), note=note)
            row.due = deadline.due
            row.window_start = deadline.window_start
            row.precision = deadline.precision.value
            row.updated_at = changes.now
            changed = True
    if not archive_missing:
        return changed
    for key, row in rows.items():
        if key not in planned_keys and row.archived_at is None:
            row.archived_at = changes.now
            changes.record("occurrence_archived", deliverable_id, key=key, note=note)
            changed = True
    return changed
