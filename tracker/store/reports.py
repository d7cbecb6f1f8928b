"""Which reports were issued: the day each scope's last report was as of, so the next lists what changed since.

A report counts as issued when it is written to a file (``tracker report
--output``); one only printed to the terminal is a look, not a report. The
days live in one meta row as JSON, keyed by party ("" for the whole plan),
and only move forward: writing out an older report again does not make the
next one repeat changes already reported.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlmodel import Session, select

from tracker.store.db import upsert_insert
from tracker.store.tables import MetaRow

LAST_REPORTS = "last_reports"


def _read(session: Session, lock: bool = False) -> dict[str, str]:
    query = select(MetaRow).where(MetaRow.key == LAST_REPORTS)
    row = session.exec(query.with_for_update() if lock else query).first()
    return json.loads(row.value) if row and row.value else {}


def last_report_day(session: Session, party: str | None) -> date | None:
    """The as-of day of the last issued report for this scope (a party, or None for the whole plan)."""
    day = _read(session).get(party or "")
    return date.fromisoformat(day) if day else None


def record_report(session: Session, party: str | None, day: date, now: datetime) -> None:
    """Remember that a report as of ``day`` was issued for this scope, unless a later one was."""
    session.execute(upsert_insert(session)(MetaRow.__table__).values(key=LAST_REPORTS, value="{}", updated_at=now)
                    .on_conflict_do_nothing(index_elements=["key"]))
    days = _read(session, lock=True)
    scope = party or ""
    if scope in days and date.fromisoformat(days[scope]) >= day:
        return
    days[scope] = day.isoformat()
    row = session.get(MetaRow, LAST_REPORTS)
    assert row is not None  # inserted above
    row.value = json.dumps(days, sort_keys=True)
    row.updated_at = now
