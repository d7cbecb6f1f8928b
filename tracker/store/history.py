"""Writing the append-only history: one row per change, attributed and timed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from tracker.model import HistoryAction
from tracker.store import revision
from tracker.store.tables import HistoryRow


class HistoryWriter:
    """Adds history rows, all with the same actor and instant, to a session's transaction.

    Every change to the plan goes through here, so the first row a writer
    records also marks the plan as changed (``tracker.store.revision``): that
    is how the web process knows to re-render its feeds.
    """

    def __init__(self, session: Session, now: datetime, actor: str):
        self.session = session
        self.now = now
        self.actor = actor
        self._marked = False
        self.count = 0  # rows recorded so far

    def record(self, action: HistoryAction, deliverable_id: str | None, *, key: str | None = None,
               field: str | None = None, old: Any = None, new: Any = None, note: str | None = None,
               evidence_url: str | None = None, member: str | None = None) -> None:
        if not self._marked:
            revision.bump(self.session, revision.PLAN, self.now)
            self._marked = True
        self.count += 1
        self.session.add(HistoryRow(
            at=self.now, actor=self.actor, action=action.value, deliverable_id=deliverable_id, occurrence_key=key,
            field=field, old_value=None if old is None else str(old), new_value=None if new is None else str(new),
            note=note, evidence_url=evidence_url, member=member,
        ))
