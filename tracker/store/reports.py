"""Which reports were issued: the day each scope's last report was as of, and the day its changes ran from.

A report counts as issued when it is written to a file (``tracker report
--output``); one only printed to the terminal is a look, not a report. The
records live in one meta row as JSON, keyed by party ("" for the whole plan),
and only move forward: writing out an older report again does not make the
next one repeat changes already reported. The report's own ``since`` is kept
so that the same report written again (in another format, say) lists the same
changes rather than none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from tracker.store.db import upsert_insert
from tracker.store.tables import MetaRow, table_of

LAST_REPORTS = "last_reports"


@dataclass(frozen=True)
class IssuedReport:
    day: date  # the day it was as of
    since: date | None  # the first day its changes ran from (None in records written before it was kept)


def _read(session: Session, lock: bool = False) -> dict[str, dict[str, str]]:
    query = select(MetaRow).where(col(MetaRow.key) == LAST_REPORTS)
    row = session.exec(query.with_for_update() if lock else query).first()
    records = json.loads(row.value) if row and row.value else {}
    # The first version kept only the day, as a string.
    return {scope: record if isinstance(record, dict) else {"day": record} for scope, record in records.items()}


def last_report(session: Session, party: str | None) -> IssuedReport | None:
    """The last issued report for this scope (a party, or None for the whole plan)."""
    record = _read(session).get(party or "")
    if not record:
        return None
    since = record.get("since")
    return IssuedReport(day=date.fromisoformat(record["day"]), since=date.fromisoformat(since) if since else None)


def record_report(session: Session, party: str | None, day: date, since: date, now: datetime) -> None:
    """Remember that a report as of ``day``, with changes from ``since``, was issued, unless a later one was."""
    session.execute(upsert_insert(session)(table_of(MetaRow)).values(key=LAST_REPORTS, value="{}", updated_at=now)
                    .on_conflict_do_nothing(index_elements=["key"]))
    records = _read(session, lock=True)
    scope = party or ""
    if scope in records and date.fromisoformat(records[scope]["day"]) > day:
        return
    records[scope] = {"day": day.isoformat(), "since": since.isoformat()}
    row = session.get(MetaRow, LAST_REPORTS)
    assert row is not None  # inserted above
    row.value = json.dumps(records, sort_keys=True)
    row.updated_at = now
