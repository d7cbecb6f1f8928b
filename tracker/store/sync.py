"""Loading the register into the database without losing what happened since.

``sync_register`` makes the database match a validated register in one
transaction. It is idempotent (a second run changes nothing and writes no
history), keeps every status and note, treats a changed due day as a re-plan
(the baseline stays, so slippage shows), and archives what the register no
longer has instead of deleting it. Every change it makes is in the history,
attributed to ``actor``, and counted in its ``SyncReport``.

Two guards stand between a damaged register and the plan:

- **Mass removal.** A register cut off between two deliverables (a partial
  save, a bad merge) is valid TOML. A sync that would archive more than
  ``removal_limit`` deliverables at once is refused with
  ``SyncRefusedError`` unless the caller allows it (``tracker sync
  --allow-removals``); nothing is written.
- **Renames.** A deliverable with ``renamed_from = "old-id"`` takes over the
  old one's row: status, notes, re-plans, history, calendar UIDs and outbox
  keys. A deliverable that disappears while a new one with nearly the same
  quote appears is probably a rename without the word: the report warns.

A deliverable that comes back after being archived is noted in ``meta``
(``RESTORED``, with the day it left) so the sweep can plan the messages it
missed while away.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import Engine, insert, update
from sqlmodel import Session, col, select

from tracker import __version__
from tracker.clock import plan_zone
from tracker.deadlines import Deadline, Occurrence, Period, Precision, resolve_follows
from tracker.errors import SyncRefusedError
from tracker.i18n import N_, _
from tracker.model import FOLLOWED_NOTE, Deliverable, HistoryAction, Register, Status
from tracker.policy import PolicySet
from tracker.register import policy_digest
from tracker.store.history import HistoryWriter
from tracker.store.members import ensure_parts, members_of, parts_of
from tracker.store.queries import follows_of_row, follows_of_text
from tracker.store.tables import (DeliverableRow, HistoryRow, MetaRow, OccurrenceRow, OutboxRow, PartyRow, ThemeRow,
                                  table_of)

SYNC_ACTOR = "register"
# meta: deliverables back in the register since the sweep last looked, with the day each left (JSON).
RESTORED = "restored_deliverables"
# Quotes this alike (difflib's ratio) make a disappeared and a new deliverable look like one renamed.
_RENAME_LIKENESS = 0.85
_LISTED = 10  # ids named in a refusal; the rest are counted


def removal_limit(active: int) -> int:
    """How many deliverables one sync may archive without being told to: 3, or a tenth of the plan if more."""
    return max(3, active // 10)


@dataclass
class SyncReport:
    """What one sync changed, by kind of change."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    replanned: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old id, new id)
    parties: int = 0  # parties added, changed or archived
    themes: int = 0
    unchanged: int = 0
    history: int = 0  # rows written to the history: every change is one or more
    warnings: list[str] = field(default_factory=list)  # e.g. a likely rename without renamed_from

    @property
    def changed(self) -> bool:
        return self.history > 0


def occurrence_key(occurrence: Occurrence) -> str:
    return "" if occurrence.key is None else str(occurrence.key)


def sync_register(session: Session, register: Register, now: datetime, actor: str = SYNC_ACTOR, *,
                  allow_removals: bool = False) -> SyncReport:
    """Make the database match ``register``; the caller owns the transaction.

    Raises ``SyncRefusedError``, before writing anything, when the
    register would archive more than ``removal_limit`` deliverables and
    ``allow_removals`` is not set.
    """
    changes = HistoryWriter(session, now, actor)
    report = SyncReport()
    existing = {row.id: row for row in session.exec(select(DeliverableRow))}
    renames = _renames(session, register, existing)
    leaving = [deliverable_id for deliverable_id, row in existing.items()
               if row.archived_at is None and deliverable_id not in register.deliverables
               and deliverable_id not in renames]
    active = sum(1 for row in existing.values() if row.archived_at is None)
    if len(leaving) > removal_limit(active) and not allow_removals:
        raise SyncRefusedError(_refusal(leaving, active))
    _refuse_reused_ids(register, existing, renames)

    report.parties = _sync_parties(session, register, changes)
    report.themes = _sync_themes(session, register, changes)
    session.flush()
    for old_id, new_id in renames.items():
        existing[new_id] = _rename(session, existing.pop(old_id), new_id, changes)
        report.renamed.append((old_id, new_id))

    restored: dict[str, date] = {}
    added: list[Deliverable] = []
    for deliverable in register.deliverables.values():
        row = existing.get(deliverable.id)
        if row is None:
            added.append(deliverable)
            report.added.append(deliverable.id)
            continue
        if row.archived_at is not None:
            restored[deliverable.id] = row.archived_at.astimezone(plan_zone()).date()
        outcome = _update_deliverable(session, row, deliverable, changes)
        if outcome == "unchanged":
            if deliverable.id not in renames.values():  # a rename is a change, counted as one
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
            changes.record(HistoryAction.ARCHIVED, deliverable_id, note=N_("no longer in the register"))
            report.archived.append(deliverable_id)

    _add_deliverables(session, added, changes)

    # Each member's part of a per-member deliverable, from its occurrence's status as it stands (a deliverable that
    # just became per member, a member that joined, a database from before members).
    session.flush()
    for deliverable in register.deliverables.values():
        row = (existing.get(deliverable.id) or session.get(DeliverableRow, deliverable.id)) \
            if deliverable.per_member else None
        if row is not None:
            ensure_parts(session, row, [occurrence for occurrence in _occurrences(session, deliverable.id)
                                        if occurrence.archived_at is None])
    # Deadlines that follow another deliverable come from the plan's days of the one they follow, which a
    # coordinator may have re-planned or marked done since the register was written.
    followers = follower_index(session)
    for target in sorted({d.follows.target for d in register.deliverables.values() if d.follows is not None}):
        for moved in follow_moves(session, target, changes, followers=followers):
            if moved in report.added or moved in report.replanned:
                continue
            if moved in report.updated:
                report.updated.remove(moved)
            elif moved not in report.restored and moved not in {new for _old, new in report.renamed}:
                report.unchanged -= 1
            report.replanned.append(moved)
    report.warnings = _likely_renames(report, register, existing)
    if restored:
        _note_restored(session, restored, now)
    _set_meta(session, "register_digest", register.digest, now)
    _set_meta(session, POLICY, policy_digest(register.policy), now)
    session.flush()
    report.history = changes.count
    return report


def _renames(session: Session, register: Register, existing: dict[str, DeliverableRow]) -> dict[str, str]:
    """Current id → new id for each ``renamed_from`` still to carry out; SyncRefusedError where it cannot be.

    ``renamed_from`` may name any id the deliverable had (a → b → c: "a"
    finds c's row). The new id may already be in the database, created by a
    sync that saw the new id before the ``renamed_from`` line: while nothing
    has happened to it since (no status, note or re-plan), the old row takes
    its place. Any other deliverable under the new id is not overwritten.
    """
    former = {old: row.id for row in existing.values() for old in row.former_ids}
    renames: dict[str, str] = {}
    for deliverable in register.deliverables.values():
        named = deliverable.renamed_from
        if named is None:
            continue
        source = named if named in existing else former.get(named)
        if source is None or source == deliverable.id:
            continue  # never in this database, or renamed already
        if source in register.deliverables:
            raise SyncRefusedError(_(
                "{id} says renamed_from = \"{old}\", but that deliverable is {current} now, and the register still "
                "has {current}. Remove renamed_from from {id}, or {current} from the register.").format(
                id=deliverable.id, old=named, current=source))
        target = existing.get(deliverable.id)
        if target is not None and not _untouched(session, target):
            raise SyncRefusedError(_(
                "{id} says renamed_from = \"{old}\", but the database already has another deliverable {id}"
                "{archived}, with a plan and history of its own; renaming would overwrite it. Give the renamed "
                "deliverable another id.").format(
                id=deliverable.id, old=named,
                archived=_(" (archived)") if target.archived_at is not None else ""))
        renames[source] = deliverable.id
    return renames


def _untouched(session: Session, row: DeliverableRow) -> bool:
    """Nothing happened to this deliverable since a sync created it: in the plan, and no status, note or re-plan."""
    if row.archived_at is not None:
        return False
    return all(
        occurrence.note is None and occurrence.evidence_url is None and occurrence.due == occurrence.baseline_due
        and occurrence.status == row.register_status for occurrence in _occurrences(session, row.id))


def _refuse_reused_ids(register: Register, existing: dict[str, DeliverableRow], renames: dict[str, str]) -> None:
    """A new deliverable may not take an id another one had: its calendar events would share their UIDs.

    Renaming a deliverable back to an id it had itself is no reuse.
    """
    former = {old: row.id for row in existing.values() for old in row.former_ids}
    for deliverable_id in register.deliverables:
        owner = former.get(deliverable_id)
        if owner is not None and deliverable_id not in existing and renames.get(owner) != deliverable_id:
            raise SyncRefusedError(_(
                "The deliverable {id} would reuse the id that {other} had before it was renamed; calendars and "
                "messages know that id as {other}. Give the new deliverable another id.").format(
                id=deliverable_id, other=owner))


def _refusal(leaving: list[str], active: int) -> str:
    listed = ", ".join(sorted(leaving)[:_LISTED]) + (
        _(" and {count} more").format(count=len(leaving) - _LISTED) if len(leaving) > _LISTED else "")
    return _(
        "The register would archive {count} of the plan's {active} deliverables at once ({ids}); at most {limit} "
        "are archived without being asked. A register cut off or half saved looks like this: check that the file "
        "is whole, and nothing was changed. If they really are gone, run `tracker sync --allow-removals`.").format(
        count=len(leaving), active=active, ids=listed, limit=removal_limit(active))


def _rename(session: Session, old: DeliverableRow, new_id: str, changes: HistoryWriter) -> DeliverableRow:
    """The old deliverable's row under its new id, with its occurrences, history and outbox rows."""
    old_id = old.id
    fresh = session.get(DeliverableRow, new_id)
    if fresh is not None:  # created by an earlier sync under the new id, untouched since (see _renames)
        for occurrence in _occurrences(session, new_id):
            session.delete(occurrence)
        session.flush()
        session.delete(fresh)
        session.flush()
    values = {name: getattr(old, name) for name in DeliverableRow.model_fields}
    values.update(id=new_id, former_ids=[*old.former_ids, old_id])
    renamed = DeliverableRow(**values)
    session.add(renamed)
    session.flush()
    session.execute(update(OccurrenceRow).where(col(OccurrenceRow.deliverable_id) == old_id)
                    .values(deliverable_id=new_id))
    # The database allows exactly this change to the history (migration 0004), and only towards a deliverable
    # that lists the old id among its former ids.
    session.execute(update(HistoryRow).where(col(HistoryRow.deliverable_id) == old_id).values(deliverable_id=new_id))
    prefix, new_prefix = f"{old_id}/", f"{new_id}/"
    taken = set(session.exec(select(OutboxRow.key).where(col(OutboxRow.deliverable_id) == new_id)))
    for row in session.exec(select(OutboxRow).where(col(OutboxRow.deliverable_id) == old_id)):
        # Keys start with the deliverable's id: what was sent stays sent, and is not planned again.
        key = new_prefix + row.key.removeprefix(prefix)
        if key in taken:  # the same notice, already recorded under the new id
            session.delete(row)
            continue
        row.deliverable_id, row.key = new_id, key
        if row.replaces and row.replaces.startswith(prefix):
            row.replaces = new_prefix + row.replaces.removeprefix(prefix)
        session.add(row)
    session.flush()
    session.delete(old)
    session.flush()
    changes.record(HistoryAction.RENAMED, new_id, field="id", old=old_id, new=new_id,
                   note=N_("renamed_from in the register"))
    return renamed


def _likely_renames(report: SyncReport, register: Register, existing: dict[str, DeliverableRow]) -> list[str]:
    """A deliverable gone and a new one with nearly its quote, in one sync: a rename without renamed_from?"""
    warnings = []
    for gone in report.archived:
        quote = existing[gone].source_quote
        for added in report.added:
            other = register.deliverables[added].source.quote
            if quote == other or difflib.SequenceMatcher(None, quote, other).ratio() >= _RENAME_LIKENESS:
                warnings.append(_(
                    "{gone} left the register and {added} came in with nearly the same quote: renamed? Then add "
                    "renamed_from = \"{gone}\" to {added} and sync again, so it keeps its status and history."
                ).format(gone=gone, added=added))
    return warnings


def _note_restored(session: Session, restored: dict[str, date], now: datetime) -> None:
    """Add ``restored`` (id → the day it left) to what the sweep has yet to plan again, keeping the earliest day."""
    row = session.get(MetaRow, RESTORED)
    pending = json.loads(row.value) if row is not None and row.value else {}
    for deliverable_id, day in restored.items():
        known = pending.get(deliverable_id)
        pending[deliverable_id] = min(known, day.isoformat()) if known else day.isoformat()
    _set_meta(session, RESTORED, json.dumps(pending, sort_keys=True), now)


def _set_meta(session: Session, key: str, value: str, now: datetime) -> None:
    row = session.get(MetaRow, key)
    if row is None:
        session.add(MetaRow(key=key, value=value, updated_at=now))
    elif row.value != value:
        row.value = value
        row.updated_at = now


def _sync_simple(session: Session, table: Any, key_field: str, desired: dict[str, dict[str, Any]],
                 changes: HistoryWriter, label: str) -> int:
    """Parties and themes: plain upsert, archive what is gone, history for each change; how many changed."""
    rows = {getattr(row, key_field): row for row in session.exec(select(table))}
    changed: set[str] = set()
    for key, values in desired.items():
        row = rows.get(key)
        if row is None:
            session.add(table(**{key_field: key}, **values))
            changes.record(HistoryAction(f"{label}_added"), None, field=label, new=key)
            changed.add(key)
            continue
        if row.archived_at is not None:
            row.archived_at = None
            changes.record(HistoryAction(f"{label}_restored"), None, field=label, new=key)
            changed.add(key)
        for name, value in values.items():
            if getattr(row, name) != value:
                changes.record(HistoryAction(f"{label}_updated"), None, field=f"{label}.{key}.{name}",
                               old=getattr(row, name),
                               new=value)
                setattr(row, name, value)
                changed.add(key)
    for key, row in rows.items():
        if key not in desired and row.archived_at is None:
            row.archived_at = changes.now
            changes.record(HistoryAction(f"{label}_archived"), None, field=label, old=key)
            changed.add(key)
    return len(changed)


def _sync_parties(session: Session, register: Register, changes: HistoryWriter) -> int:
    desired = {key: {"name": p.name, "name_en": p.name_en, "kind": p.kind, "members": list(p.members)}
               for key, p in register.parties.items()}
    return _sync_simple(session, PartyRow, "key", desired, changes, "party")


def _sync_themes(session: Session, register: Register, changes: HistoryWriter) -> int:
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
    return _sync_simple(session, ThemeRow, "key", desired, changes, "theme")


def register_deadline_of(deliverable: Deliverable) -> str:
    """What identifies the register's deadline: its words and the reading used."""
    if deliverable.interpreted_as:
        return f"{deliverable.deadline_text} ⟶ {deliverable.interpreted_as}"
    return deliverable.deadline_text


def _descriptive_fields(deliverable: Deliverable) -> dict[str, Any]:
    return {
        "title": deliverable.title, "title_en": deliverable.title_en, "kind": deliverable.kind,
        "owner": deliverable.owner, "co_owners": list(deliverable.co_owners), "recipient": deliverable.recipient,
        "theme": deliverable.theme, "initiative": deliverable.initiative,
        "funding": "\n".join(dict.fromkeys(entry.source.quote for entry in deliverable.funding)) or None,
        "funded": [entry.as_json() for entry in deliverable.funding],
        "reading": deliverable.reading, "source_file": deliverable.source.file,
        "source_section": deliverable.source.section, "source_quote": deliverable.source.quote,
        "depends_on": list(deliverable.depends_on),
        "per_member": deliverable.per_member, "per_member_quote": deliverable.per_member_quote,
    }


def _add_deliverables(session: Session, deliverables: list[Deliverable], changes: HistoryWriter) -> None:
    """Insert new deliverables with their occurrences and history in a few multi-row inserts.

    A first sync adds the whole plan: one ORM object and one flush per row
    was most of its time, and none of these rows is touched again in the sync
    except through queries.
    """
    if not deliverables:
        return
    now = changes.now
    session.flush()  # the parties and themes they refer to
    with changes.batched():
        deliverable_rows, occurrence_rows = [], []
        for deliverable in deliverables:
            deliverable_rows.append(dict(
                id=deliverable.id, deadline_text=deliverable.deadline_text,
                interpreted_as=deliverable.interpreted_as, register_deadline=register_deadline_of(deliverable),
                register_status=deliverable.status.value, former_ids=[], created_at=now, updated_at=now,
                archived_at=None, **_descriptive_fields(deliverable)))
            changes.record(HistoryAction.CREATED, deliverable.id, new=deliverable.deadline_text)
            for occurrence in deliverable.occurrences():
                occurrence_rows.append(_occurrence_values(deliverable.id, occurrence, deliverable.status, changes))
        for chunk in range(0, len(deliverable_rows), _BULK):
            session.execute(insert(table_of(DeliverableRow)), deliverable_rows[chunk:chunk + _BULK])
        for chunk in range(0, len(occurrence_rows), _BULK):
            session.execute(insert(table_of(OccurrenceRow)), occurrence_rows[chunk:chunk + _BULK])


_BULK = 2000  # rows per multi-row insert: well within every database's limits on parameters


def _occurrence_values(deliverable_id: str, occurrence: Occurrence, status: Status,
                       changes: HistoryWriter) -> dict[str, Any]:
    """A new occurrence's columns, its history recorded."""
    window_start, due, precision = _days_of(occurrence)
    values = dict(
        deliverable_id=deliverable_id, key=occurrence_key(occurrence), year=occurrence.key,
        window_start=window_start, due=due, precision=precision,
        baseline_window_start=window_start, baseline_due=due, status=status.value,
        status_changed_at=changes.now if status is not Status.NOT_STARTED else None, updated_at=changes.now,
        note=None, evidence_url=None, archived_at=None, snoozed_until=None, snooze_reason=None, snoozed_by=None,
        confirmed_at=None,
    )
    key = occurrence_key(occurrence)
    changes.record(HistoryAction.OCCURRENCE_ADDED, deliverable_id, key=key, field="due",
                   new=due.isoformat() if due else None)
    if status is not Status.NOT_STARTED:
        changes.record(HistoryAction.STATUS, deliverable_id, key=key, field="status",
                       old=Status.NOT_STARTED.value, new=status.value, note=N_("as stated in the source"))
    return values


def _add_occurrence(session: Session, deliverable_id: str, occurrence: Occurrence, status: Status,
                    changes: HistoryWriter) -> OccurrenceRow:
    row = OccurrenceRow(**_occurrence_values(deliverable_id, occurrence, status, changes))
    session.add(row)
    return row


def _days_of(occurrence: Occurrence) -> tuple[date | None, date | None, str]:
    """An occurrence's window, due day and precision as the occurrence table keeps them: none for an undated one."""
    deadline = occurrence.deadline
    if deadline is None:
        return None, None, Precision.UNDATED.value
    return deadline.window_start, deadline.due, deadline.precision.value


def _occurrences(session: Session, deliverable_id: str) -> list[OccurrenceRow]:
    return list(session.exec(select(OccurrenceRow).where(col(OccurrenceRow.deliverable_id) == deliverable_id)))


def _update_deliverable(session: Session, row: DeliverableRow, deliverable: Deliverable, changes: HistoryWriter) -> str:
    outcome = "unchanged"
    if row.archived_at is not None:
        row.archived_at = None
        changes.record(HistoryAction.RESTORED, deliverable.id, note=N_("back in the register"))
        outcome = "restored"
    for name, value in _descriptive_fields(deliverable).items():
        if getattr(row, name) != value:
            old = getattr(row, name)
            if name == "funded":  # facts kept as JSON: the history keeps them as JSON text too
                old, value_text = json.dumps(old, ensure_ascii=False), json.dumps(value, ensure_ascii=False)
            else:
                value_text = value
            changes.record(HistoryAction.REGISTER_UPDATE, deliverable.id, field=name, old=old, new=value_text)
            setattr(row, name, value)
            outcome = "updated" if outcome == "unchanged" else outcome

    register_deadline = register_deadline_of(deliverable)
    deadline_changed = row.register_deadline != register_deadline
    if deadline_changed:
        # The register moved the deadline: that wins over an earlier re-plan by hand.
        changes.record(HistoryAction.REPLAN, deliverable.id, field="deadline", old=row.deadline_text,
                       new=deliverable.deadline_text, note=N_("the register's deadline changed"))
        row.deadline_text = deliverable.deadline_text
        row.interpreted_as = deliverable.interpreted_as
        row.register_deadline = register_deadline
        if apply_occurrences(session, deliverable.id, deliverable.occurrences(), changes):
            outcome = "replanned"
        elif outcome == "unchanged":
            outcome = "updated"  # new words, the same days: still a change, and in the history
    elif row.archived_at is None and outcome == "restored":
        for occurrence in _occurrences(session, deliverable.id):
            occurrence.archived_at = None

    if row.register_status != deliverable.status.value:
        # The source now states a different status (for example that it is done).
        for occurrence in _occurrences(session, deliverable.id):
            if occurrence.archived_at is None and occurrence.status != deliverable.status.value:
                changes.record(HistoryAction.STATUS, deliverable.id, key=occurrence.key, field="status",
                               old=occurrence.status,
                               new=deliverable.status.value, note=N_("as stated in the source"))
                occurrence.status = deliverable.status.value
                occurrence.status_changed_at = changes.now
                occurrence.updated_at = changes.now
                for part in parts_of(session, occurrence, members_of(session, row)).values():
                    part.status, part.status_changed_at = occurrence.status, changes.now  # the source says it for all
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
        row = rows.get(key)
        if row is None:
            _add_occurrence(session, deliverable_id, occurrence, Status.NOT_STARTED, changes)
            changed = True
            continue
        if row.archived_at is not None:
            row.archived_at = None
            changes.record(HistoryAction.OCCURRENCE_RESTORED, deliverable_id, key=key)
            changed = True
        window_start, due, precision = _days_of(occurrence)
        if (row.due, row.window_start, row.precision) != (due, window_start, precision):
            changes.record(HistoryAction.REPLAN, deliverable_id, key=key, field="due",
                           old=row.due.isoformat() if row.due else None, new=due.isoformat() if due else None,
                           note=note)
            if row.baseline_due is None:
                # An undated commitment dated for the first time: slippage counts from the first date it got.
                row.baseline_window_start, row.baseline_due = window_start, due
            row.due, row.window_start, row.precision = due, window_start, precision
            row.updated_at = changes.now
            changed = True
    if not archive_missing:
        return changed
    for key, row in rows.items():
        if key not in planned_keys and row.archived_at is None:
            row.archived_at = changes.now
            changes.record(HistoryAction.OCCURRENCE_ARCHIVED, deliverable_id, key=key, note=note)
            changed = True
    return changed


def sync_file(register_path: str | None, database_url: str | None, now: datetime, actor: str = SYNC_ACTOR, *,
              allow_removals: bool = False, need_register: bool = True
              ) -> tuple[Register | None, Engine, SyncReport]:
    """What `tracker sync` and `tracker run` do: validate the register file, migrate the database, sync.

    The register is read before the database is touched, so a bad one changes nothing. When the file's bytes
    are those last synced, by this version of tracker on this schema (``synced_mark``), the sync has nothing to
    do and returns at once: the register is then parsed only if ``need_register``, else None is returned for
    it. Returns the register, the engine and what the sync changed.
    """
    from tracker.register import parse_register, read_register_bytes
    from tracker.store.db import SCHEMA_REVISION, open_engine, write_session
    from tracker.store.migrate import upgrade

    path, raw = read_register_bytes(register_path)
    engine = open_engine(database_url)
    if _last_synced(engine) == synced_mark(hashlib.sha256(raw).hexdigest(), SCHEMA_REVISION):
        return (parse_register(raw, str(path)) if need_register else None), engine, SyncReport()
    register = parse_register(raw, str(path))
    upgrade(engine)
    with write_session(engine) as session:
        report = sync_register(session, register, now=now, actor=actor, allow_removals=allow_removals)
        mark_synced(session, register, now)
    return register, engine, report


def mark_synced(session: Session, register: Register, now: datetime) -> None:
    """Remember, in the sync's transaction, that the database holds this register file (``synced_mark``)."""
    from tracker.store.db import SCHEMA_REVISION

    _set_meta(session, SYNCED, synced_mark(register.digest, SCHEMA_REVISION), now)


# meta: what the last sync from a file synced (``synced_mark``), so an unchanged file is not synced again.
SYNCED = "register_synced"
# meta: the digest of the policy the last sync parsed (``tracker.register.policy_digest``).
POLICY = "register_policy"


def policy_of(register_path: str | None, engine: Engine) -> PolicySet:
    """The register's policy for a sweep (``tracker notify run``).

    A file as last synced has a plan in the database already: its policy
    tables alone are read, checked against the plan's parties and
    deliverables, and used when they say what the sync's parse of the whole
    file said (the digest in ``meta``). Anything else (a changed file, a
    database never synced from a file) parses the whole register, which also
    reports its problems.
    """
    from tracker.register import parse_policy_alone, parse_register, read_register_bytes
    from tracker.store.db import SCHEMA_REVISION, read_session

    path, raw = read_register_bytes(register_path)
    if _last_synced(engine) == synced_mark(hashlib.sha256(raw).hexdigest(), SCHEMA_REVISION):
        with read_session(engine) as session:
            digest = session.execute(select(MetaRow.value).where(col(MetaRow.key) == POLICY)).scalar()
            parties = set(session.execute(select(PartyRow.key)).scalars())
            deliverable_ids = set(session.execute(
                select(DeliverableRow.id).where(col(DeliverableRow.archived_at).is_(None))).scalars())
        policy = parse_policy_alone(raw, parties, deliverable_ids)
        if policy is not None and digest == policy_digest(policy):
            return policy
    return parse_register(raw, str(path)).policy


def synced_mark(digest: str, schema: str) -> str:
    """The file's SHA-256, the schema revision (``SCHEMA_REVISION``, which a test holds to the migrations' head)
    and tracker's version: a new version may read the same bytes differently, and a new schema may want columns
    filled from them."""
    return f"{digest} {schema} {__version__}"


def _last_synced(engine: Engine) -> str | None:
    """The mark of the last sync from a file; None for a database that has none, or is not at this version's
    schema (no tables yet, or migrated since)."""
    from tracker.store.db import SCHEMA_REVISION, current_revision, translate_errors

    if current_revision(engine) != SCHEMA_REVISION:
        return None
    with translate_errors(engine), engine.connect() as connection:
        return connection.execute(select(MetaRow.value).where(col(MetaRow.key) == SYNCED)).scalar()


def follower_index(session: Session) -> dict[str, list[str]]:
    """Each deliverable in the plan whose deadline another one follows ("før ID", "2 år efter ID") → those
    followers' ids, sorted: one read of three columns, for every target a sync or a re-plan looks up."""
    followers: dict[str, list[str]] = {}
    for deliverable_id, deadline_text, interpreted_as in session.execute(
            select(DeliverableRow.id, DeliverableRow.deadline_text, DeliverableRow.interpreted_as)
            .where(col(DeliverableRow.archived_at).is_(None))):
        follows = follows_of_text(interpreted_as or deadline_text)
        if follows is not None and follows.target != deliverable_id:
            followers.setdefault(follows.target, []).append(deliverable_id)
    return {target: sorted(ids) for target, ids in followers.items()}


def followed_deadline(session: Session, row: DeliverableRow, zone: tzinfo) -> Deadline | None:
    """The deadline ``row`` follows from as the plan has it now: from the first open occurrence of the one it
    follows (its day moved by re-plans, its done day once done); None when it is not such a deadline or the one
    it follows has left the plan."""
    follows = follows_of_row(row)
    if follows is None:
        return None
    target = session.exec(select(OccurrenceRow).where(
        col(OccurrenceRow.deliverable_id) == follows.target, col(OccurrenceRow.archived_at).is_(None))
        .order_by(col(OccurrenceRow.due).asc().nulls_last())).first()
    if target is None or target.due is None or target.window_start is None:
        return None  # the register refuses a deadline that follows an undated one; this guards older databases
    done_on = target.status_changed_at.astimezone(zone).date() \
        if target.status == Status.DONE.value and target.status_changed_at is not None else None
    deadline = Deadline(text=follows.target, window_start=target.window_start, due=target.due,
                        precision=Precision(target.precision),
                        period=Period(Precision.DAY, target.due.year, index=target.due.month, day=target.due.day))
    return resolve_follows(follows, deadline, done_on)


def follow_moves(session: Session, moved_id: str, changes: HistoryWriter, zone: tzinfo | None = None, *,
                 followers: dict[str, list[str]] | None = None) -> list[str]:
    """Move every deliverable whose deadline follows ``moved_id`` (re-planned, done, or changed by the register)
    to the days it gives now, and those that follow them in turn; the history says why. Returns the ids moved.

    ``followers`` is ``follower_index`` when the caller looks up many targets (a sync): read once, not per target.
    """
    zone = zone or plan_zone()
    if followers is None:
        followers = follower_index(session)
    moved: list[str] = []
    waiting, seen = [moved_id], {moved_id}
    while waiting:
        for follower_id in followers.get(waiting.pop(0), []):
            if follower_id in seen:
                continue  # a cycle the register refused, or a follower met twice: once is enough
            seen.add(follower_id)
            row = session.get(DeliverableRow, follower_id)
            deadline = followed_deadline(session, row, zone) if row is not None else None
            if row is None or deadline is None or all(Status(o.status).is_closed
                                                      for o in _occurrences(session, follower_id)):
                continue  # delivered work keeps the days it had
            session.flush()
            if apply_occurrences(session, follower_id, [Occurrence(key=None, deadline=deadline)], changes,
                                 note=FOLLOWED_NOTE):
                row.updated_at = changes.now
                moved.append(follower_id)
                waiting.append(follower_id)
    return moved
