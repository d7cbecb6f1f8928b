"""Owners' requests for a new deadline: the coordinators approve (a re-plan) or reject them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from tracker.errors import TrackerError, UnknownIdError
from tracker.i18n import _
from tracker.model import HistoryAction
from tracker.store.history import HistoryWriter
from tracker.store.operations import replan
from tracker.store.tables import OccurrenceRow, ReplanRequestRow

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


def list_requests(session: Session, include_decided: bool = False) -> list[ReplanRequestRow]:
    """The pending requests, oldest first (every one with ``include_decided``)."""
    statement = select(ReplanRequestRow).order_by(col(ReplanRequestRow.id))
    if not include_decided:
        statement = statement.where(col(ReplanRequestRow.state) == PENDING)
    return list(session.exec(statement))


def request_as_json(row: ReplanRequestRow) -> dict[str, Any]:
    return {"id": row.id, "deliverable": row.deliverable_id, "occurrence": row.year, "deadline": row.deadline_text,
            "reason": row.reason, "requested_by": row.requested_by, "requested_at": row.requested_at.isoformat(),
            "state": row.state, "decided_by": row.decided_by,
            "decided_at": row.decided_at.isoformat() if row.decided_at else None,
            "decision_reason": row.decision_reason}


def _pending(session: Session, number: int) -> ReplanRequestRow:
    # Locked (FOR UPDATE on PostgreSQL; SQLite's write transactions are serial anyway): a Godkend in Slack and a
    # `requests reject` at the same moment must not both see it pending.
    row = session.exec(select(ReplanRequestRow).where(col(ReplanRequestRow.id) == number).with_for_update()).first()
    if row is None:
        raise UnknownIdError(_("There is no request number {number}. `tracker requests` lists them.").format(
            number=number))
    if row.state != PENDING:
        raise TrackerError(_("Request {number} was {state} by {who} already.").format(
            number=number, state=_("approved") if row.state == APPROVED else _("rejected"), who=row.decided_by))
    return row


def approve(session: Session, number: int, *, actor: str, now: datetime) -> ReplanRequestRow:
    """Re-plan as asked, the requester and the reason in the history (the baseline stays)."""
    row = _pending(session, number)
    replan(session, row.deliverable_id, row.deadline_text, reason=f"{row.reason} ({row.requested_by})", actor=actor,
           now=now, year=row.year)
    row.state, row.decided_by, row.decided_at = APPROVED, actor, now
    session.add(row)
    return row


def reject(session: Session, number: int, *, reason: str, actor: str, now: datetime) -> ReplanRequestRow:
    row = _pending(session, number)
    occurrence = session.exec(select(OccurrenceRow).where(
        col(OccurrenceRow.deliverable_id) == row.deliverable_id,
        col(OccurrenceRow.key) == ("" if row.year is None else str(row.year)))).first()
    HistoryWriter(session, now, actor).record(HistoryAction.REPLAN_REJECTED, row.deliverable_id,
                                              key=occurrence.key if occurrence else None, field="deadline",
                                              new=row.deadline_text, note=reason)
    row.state, row.decided_by, row.decided_at, row.decision_reason = REJECTED, actor, now, reason
    session.add(row)
    return row
