"""`tracker sync` on SQLite and PostgreSQL: idempotent, atomic, keeps status and history."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from tests.conftest import Tracker
from tracker.register import load_register, parse_register
from tracker.store.db import open_engine, write_session
from tracker.store.migrate import upgrade
from tracker.store.operations import change_status
from tracker.model import Status
from tracker.store.sync import sync_register
from tracker.store.tables import DeliverableRow, HistoryRow, OccurrenceRow

NOW = datetime(2026, 2, 2, 9, 0, tzinfo=timezone.utc)
LATER = datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)


def _snapshot(engine) -> dict:  # type: ignore[no-untyped-def]
    """Everything sync may touch, for before/after comparisons."""
    with Session(engine) as session:
        return {
            "deliverables": sorted((d.id, d.deadline_text, d.archived_at is None, d.title)
                                   for d in session.exec(select(DeliverableRow))),
            "occurrences": sorted((o.deliverable_id, o.key, o.due, o.baseline_due, o.status, o.archived_at is None)
                                  for o in session.exec(select(OccurrenceRow))),
            "history": session.exec(select(func.count()).select_from(HistoryRow)).one(),
        }


def _sync(engine, register, now=NOW):  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        return sync_register(session, register, now=now)


@pytest.fixture
def engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = open_engine(database_url)
    upgrade(engine)
    return engine


def test_sync_loads_everything_and_a_second_run_changes_nothing(engine, small_register: Path) -> None:
    register = load_register(small_register)
    first = _sync(engine, register)
    assert sorted(first.added) == ["evaluering", "regional-status", "senfoelgeklinikker"]
    before = _snapshot(engine)
    assert len(before["occurrences"]) == 1 + 3 + 1
    second = _sync(engine, register, now=LATER)
    assert not second.changed and second.unchanged == 3
    assert _snapshot(engine) == before


def test_sync_keeps_status_and_treats_a_moved_deadline_as_a_replan(engine, small_register: Path) -> None:
    _sync(engine, load_register(small_register))
    with write_session(engine) as session:
        change_status(session, "senfoelgeklinikker", Status.IN_PROGRESS, note="started", actor="anna", now=NOW)
    moved = small_register.read_text(encoding="utf-8").replace(
        'deadline = "senest i første halvår af 2026"', 'deadline = "senest i første halvår af 2026"\n'
        'interpreted_as = "andet halvår 2026"\nreading = "moved by the task force"')
    report = _sync(engine, parse_register(moved.encode()), now=LATER)
    assert report.replanned == ["senfoelgeklinikker"]
    with Session(engine) as session:
        occurrence = session.exec(select(OccurrenceRow).where(OccurrenceRow.deliverable_id == "senfoelgeklinikker")).one()
        assert (occurrence.due, occurrence.baseline_due) == (date(2026, 12, 31), date(2026, 6, 30))
        assert occurrence.status == "in_progress"
        actions = [h.action for h in session.exec(select(HistoryRow).where(
            HistoryRow.deliverable_id == "senfoelgeklinikker").order_by(HistoryRow.id))]
        assert actions[-2:] == ["replan", "replan"]  # the deliverable's deadline, then the occurrence's due day


def test_removed_deliverables_are_archived_and_come_back_with_their_status(engine, small_register: Path) -> None:
    text = small_register.read_text(encoding="utf-8")
    _sync(engine, parse_register(text.encode()))
    with write_session(engine) as session:
        change_status(session, "evaluering", Status.AT_RISK, note="late data", actor="anna", now=NOW)
    without = text[: text.index('[[deliverable]]\nid = "evaluering"')]
    report = _sync(engine, parse_register(without.encode()), now=LATER)
    assert report.archived == ["evaluering"]
    with Session(engine) as session:
        row = session.get(DeliverableRow, "evaluering")
        assert row is not None and row.archived_at is not None
    report = _sync(engine, parse_register(text.encode()), now=LATER)
    assert report.restored == ["evaluering"]
    with Session(engine) as session:
        occurrence = session.exec(select(OccurrenceRow).where(OccurrenceRow.deliverable_id == "evaluering")).one()
        assert occurrence.status == "at_risk" and occurrence.archived_at is None


def test_a_longer_recurrence_adds_occurrences_and_a_shorter_one_archives_them(engine, small_register: Path) -> None:
    text = small_register.read_text(encoding="utf-8")
    _sync(engine, parse_register(text.encode()))
    shorter = text.replace("til og med 2028 skriftlig", "til og med 2027 skriftlig").replace(
        "kvartal 2026 og til og med 2028\"", "kvartal 2026 og til og med 2027\"")
    _sync(engine, parse_register(shorter.encode()), now=LATER)
    with Session(engine) as session:
        rows = session.exec(select(OccurrenceRow).where(OccurrenceRow.deliverable_id == "regional-status")
                            .order_by(OccurrenceRow.key)).all()
        assert [(r.key, r.archived_at is not None) for r in rows] == [("2026", False), ("2027", False),
                                                                        ("2028", True)]


def test_the_source_stating_done_marks_existing_occurrences_done(engine, small_register: Path) -> None:
    text = small_register.read_text(encoding="utf-8")
    _sync(engine, parse_register(text.encode()))
    done = text.replace('depends_on = ["senfoelgeklinikker"]', 'depends_on = ["senfoelgeklinikker"]\nstatus = "done"')
    report = _sync(engine, parse_register(done.encode()), now=LATER)
    assert report.updated == ["evaluering"]
    with Session(engine) as session:
        occurrence = session.exec(select(OccurrenceRow).where(OccurrenceRow.deliverable_id == "evaluering")).one()
        assert occurrence.status == "done"


def test_the_shipped_register_syncs_on_both_databases(engine) -> None:
    register = load_register()
    report = _sync(engine, register)
    assert len(report.added) == len(register.deliverables)
    assert not _sync(engine, register).changed


def test_a_broken_register_changes_nothing_through_the_cli(database_url: str, small_register: Path,
                                                          tmp_path: Path) -> None:
    tracker = Tracker(database_url, small_register)
    tracker.ok("sync")
    before = _snapshot(open_engine(database_url))
    broken = tmp_path / "broken.toml"
    broken.write_text(small_register.read_text(encoding="utf-8").replace(
        'title = "Evaluering af forsøgsordningen"', 'title = "Ny titel"').replace(
        'owner = "regionerne"\nrecipient = "ism"', 'owner = "nobody"\nrecipient = "ism"'), encoding="utf-8")
    result = tracker.fails("sync", "--register", str(broken))
    assert "unknown party 'nobody'" in result.output
    assert _snapshot(open_engine(database_url)) == before
