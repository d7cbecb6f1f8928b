"""Writing the append-only history: one row per change, attributed and timed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from tracker.model import HistoryAction
from tracker.store import revision
from tracker.store.tables import HistoryRow, table_of

_HISTORY = table_of(HistoryRow)


class HistoryWriter:
    """Adds history rows, all with the same actor and instant, to a session's transaction.

    Every change to the plan goes through here, so the first row a writer
    records also marks the plan as changed (``tracker.store.revision``): that
    is how the web process knows to re-render its feeds.

    Rows are inserted with Core, not as ORM objects: a first sync records
    tens of thousands of them, and an ORM instance costs ten times the
    insert. Inside ``batched()`` they are inserted together when it ends.
    Because the marker's row is updated (and so locked) before the first row
    is inserted, concurrent writers insert their history one after the other:
    history ids grow in the order transactions commit, which is what lets a
    reader ask for "the history since id N" (``tracker.calendar.service``).
    """

    def __init__(self, session: Session, now: datetime, actor: str):
        self.session = session
        self.now = now
        self.actor = actor
        self._marked = False
        self.count = 0  # rows recorded so far
        self._batch: list[dict[str, Any]] | None = None

    def record(self, action: HistoryAction, deliverable_id: str | None, *, key: str | None = None,
               field: str | None = None, old: Any = None, new: Any = None, note: str | None = None,
               evidence_url: str | None = None, member: str | None = None) -> None:
        if not self._marked:
            revision.bump(self.session, revision.PLAN, self.now)
            self._marked = True
        self.count += 1
        values = dict(at=self.now, actor=self.actor, action=action.value, deliverable_id=deliverable_id,
                      occurrence_key=key, field=field, old_value=None if old is None else str(old),
                      new_value=None if new is None else str(new), note=note, evidence_url=evidence_url,
                      member=member)
        if self._batch is not None:
            self._batch.append(values)
        else:
            self.session.execute(insert(_HISTORY), [values])

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Record the rows of the block in one multi-row insert at its end (a first sync's thousands)."""
        outer, self._batch = self._batch, []
        try:
            yield
            if outer is not None:
                outer.extend(self._batch)  # the outer block inserts them
            elif self._batch:
                self.session.execute(insert(_HISTORY), self._batch)
        finally:
            self._batch = outer
