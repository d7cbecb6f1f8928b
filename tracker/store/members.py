"""Each member's own part of a per-member occurrence ("i alle regioner"), and the roll-up.

A per-member deliverable's occurrence has one ``MemberStatusRow`` for each
member of its owner (the five regions of ``regionerne``). A member's status,
note and evidence are its own, with history rows that name it; the
occurrence's own status is written with every change as the roll-up of
theirs (``tracker.model.rolled_up``), so everything that reads a status (the
planner, the feeds, the report, what follows the deliverable) reads the
plan's status, and the members' where it shows them.

The rows are made by the register's sync, each from its occurrence's status
as it stands: the status a database had before its deliverable became per
member becomes every member's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from tracker.errors import TrackerError, TransitionError, UnknownIdError
from tracker.i18n import _
from tracker.model import ALLOWED_TRANSITIONS, Status, check_transition, rolled_up
from tracker.store.tables import DeliverableRow, MemberStatusRow, OccurrenceRow, PartyRow
from tracker.text import suggestions


def members_of(session: Session, deliverable: DeliverableRow) -> list[str]:
    """The members a per-member deliverable's occurrences have parts for: its owner's, in the register's order;
    [] for any other deliverable."""
    if not deliverable.per_member:
        return []
    owner = session.get(PartyRow, deliverable.owner)
    return list(owner.members) if owner is not None else []


def parts_of(session: Session, occurrence: OccurrenceRow, members: list[str]) -> dict[str, MemberStatusRow]:
    """The occurrence's member rows, of its deliverable's current members."""
    rows = session.exec(select(MemberStatusRow).where(col(MemberStatusRow.occurrence_id) == occurrence.id))
    return {row.member: row for row in rows if row.member in members}


def ensure_parts(session: Session, deliverable: DeliverableRow, occurrences: Iterable[OccurrenceRow]) -> int:
    """A member row for every member and occurrence that has none, with the occurrence's status as it stands;
    how many were made. The roll-up is written again, since a member may have left or joined."""
    members = members_of(session, deliverable)
    if not members:
        return 0
    made = 0
    for occurrence in occurrences:
        parts = parts_of(session, occurrence, members)
        for member in members:
            if member not in parts:
                session.add(MemberStatusRow(occurrence_id=_id(session, occurrence), member=member,
                                            status=occurrence.status, status_changed_at=occurrence.status_changed_at))
                made += 1
        if made:
            session.flush()
        roll_up(session, occurrence, members, occurrence.updated_at)
    return made


def roll_up(session: Session, occurrence: OccurrenceRow, members: list[str], now: datetime) -> Status:
    """Write the occurrence's status as the roll-up of its members' (its status changed at ``now`` if it moved)."""
    status = rolled_up(Status(row.status) for row in parts_of(session, occurrence, members).values())
    if occurrence.status != status.value:
        occurrence.status = status.value
        occurrence.status_changed_at = now
    return status


def require_member(session: Session, deliverable: DeliverableRow, member: str) -> list[str]:
    """The deliverable's members, or TrackerError when it has none or ``member`` is not one of them."""
    members = members_of(session, deliverable)
    if not members:
        raise TrackerError(_("{id} has one status for {owner}, not one per member: leave out --member.").format(
            id=deliverable.id, owner=deliverable.owner))
    if member not in members:
        close = suggestions(member, members)
        hint = _("Did you mean: {keys}?").format(keys=", ".join(close)) if close else \
            _("Its members are: {keys}.").format(keys=", ".join(members))
        raise UnknownIdError(_("{member!r} is not a member of {owner}.").format(member=member, owner=deliverable.owner)
                             + " " + hint, close)
    return members


def part(session: Session, occurrence: OccurrenceRow, member: str) -> MemberStatusRow:
    row = session.exec(select(MemberStatusRow).where(col(MemberStatusRow.occurrence_id) == occurrence.id,
                                                     col(MemberStatusRow.member) == member)).first()
    if row is None:  # made by every sync; a database synced by an older version may lack it
        row = MemberStatusRow(occurrence_id=_id(session, occurrence), member=member, status=occurrence.status,
                              status_changed_at=occurrence.status_changed_at)
        session.add(row)
    return row


def _id(session: Session, occurrence: OccurrenceRow) -> int:
    if occurrence.id is None:  # added in this transaction: the database gives it its id
        session.flush()
    assert occurrence.id is not None
    return occurrence.id


def check_everyone(parts: dict[str, MemberStatusRow], status: Status, label: str) -> list[MemberStatusRow]:
    """The member rows a coordinator's status for the whole occurrence changes (those not at ``status``), or
    TransitionError naming the members whose status cannot become it."""
    changing = [row for row in parts.values() if row.status != status.value]
    if not changing:
        check_transition(status, status)  # "already done": the same words as for one status
    refused = [row.member for row in changing if status not in ALLOWED_TRANSITIONS[Status(row.status)]]
    if refused:
        raise TransitionError(_("{label}: the status of {members} cannot become {status} (see `tracker show`). Set "
                                "the members one by one with --member.").format(
            label=label, members=", ".join(refused), status=status.label))
    return changing
