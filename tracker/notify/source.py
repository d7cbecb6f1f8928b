"""Reading what the planner needs from the database: the plan's read model and the week's news."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col, select

from tracker.model import NEWS, Change, OccurrenceView, news
from tracker.store.queries import load_plan
from tracker.store.tables import HistoryRow


def load_subjects(session: Session, today: date) -> list[OccurrenceView]:
    """Every occurrence, withdrawn ones too (their messages are called off), as of ``today``."""
    return load_plan(session, today, include_archived=True).views


def load_changes(session: Session, since: datetime) -> list[Change]:
    """The news (``tracker.model.news``) since ``since``, for the digest's "changed in the last week"."""
    rows = session.exec(select(HistoryRow).where(col(HistoryRow.at) >= since, col(HistoryRow.action).in_(NEWS))
                        .order_by(col(HistoryRow.at), col(HistoryRow.id)))
    return news(rows)
