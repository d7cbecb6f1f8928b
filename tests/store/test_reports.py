"""The mark of the last issued report, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timezone

from tests.conftest import Tracker
from tracker.store.db import open_engine, read_session, write_session
from tracker.store.reports import last_report_day, record_report

NOW = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)


def test_each_scope_keeps_its_latest_day(database_url: str, small_register) -> None:
    Tracker(database_url, small_register).ok("db", "upgrade")
    engine = open_engine(database_url)
    try:
        with read_session(engine) as session:
            assert last_report_day(session, None) is None
        for party, day in ((None, date(2026, 7, 15)), ("regionerne", date(2026, 3, 1)), (None, date(2026, 1, 1)),
                           ("regionerne", date(2026, 9, 1))):
            with write_session(engine) as session:
                record_report(session, party, day, NOW)
        with read_session(engine) as session:
            assert last_report_day(session, None) == date(2026, 7, 15)  # the older one did not move it back
            assert last_report_day(session, "regionerne") == date(2026, 9, 1)
            assert last_report_day(session, "sst") is None
    finally:
        engine.dispose()
