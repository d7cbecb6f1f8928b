"""The record of the last issued report, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

from tests.conftest import Tracker
from tracker.store.db import open_engine, read_session, write_session
from tracker.store.reports import LAST_REPORTS, IssuedReport, last_report, record_report
from tracker.store.tables import MetaRow

NOW = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)


def test_each_scope_keeps_its_latest_report(database_url: str, small_register) -> None:
    Tracker(database_url, small_register).ok("db", "upgrade")
    engine = open_engine(database_url)
    try:
        with read_session(engine) as session:
            assert last_report(session, None) is None
        for party, day, since in ((None, date(2026, 7, 15), date(2025, 7, 15)),
                                  ("regionerne", date(2026, 3, 1), date(2025, 3, 1)),
                                  (None, date(2026, 1, 1), date(2025, 1, 1)),
                                  ("regionerne", date(2026, 9, 1), date(2026, 3, 2)),
                                  ("regionerne", date(2026, 9, 1), date(2026, 3, 2))):
            with write_session(engine) as session:
                record_report(session, party, day, since, NOW)
        with read_session(engine) as session:
            # The older one did not move the record back.
            assert last_report(session, None) == IssuedReport(date(2026, 7, 15), date(2025, 7, 15))
            assert last_report(session, "regionerne") == IssuedReport(date(2026, 9, 1), date(2026, 3, 2))
            assert last_report(session, "sst") is None
    finally:
        engine.dispose()


def test_a_record_from_before_since_was_kept_still_reads(database_url: str, small_register) -> None:
    Tracker(database_url, small_register).ok("db", "upgrade")
    engine = open_engine(database_url)
    try:
        with write_session(engine) as session:
            session.add(MetaRow(key=LAST_REPORTS, value=json.dumps({"": "2026-07-15"}), updated_at=NOW))
        with read_session(engine) as session:
            assert last_report(session, None) == IssuedReport(date(2026, 7, 15), None)
        with write_session(engine) as session:
            record_report(session, "sst", date(2026, 8, 1), date(2025, 8, 1), NOW)
        with read_session(engine) as session:
            assert last_report(session, None) == IssuedReport(date(2026, 7, 15), None)
            assert last_report(session, "sst") == IssuedReport(date(2026, 8, 1), date(2025, 8, 1))
    finally:
        engine.dispose()
