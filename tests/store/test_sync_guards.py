"""What stands between a damaged register and the plan: the removal guard, renames, and an honest summary.

On SQLite and PostgreSQL. A register cut off between two deliverables is
valid TOML; before issue 13 a sync of it archived everything missing without
a word, and renaming an id lost its status and history.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from tests.conftest import Tracker
from tracker.errors import SyncRefusedError
from tracker.model import Status
from tracker.register import default_register_path, parse_register
from tracker.store.db import open_engine, write_session
from tracker.store.migrate import upgrade
from tracker.store.operations import add_note, change_status
from tracker.store.sync import RESTORED, removal_limit, sync_register
from tracker.store.tables import CalendarEventRow, DeliverableRow, HistoryRow, MetaRow, OccurrenceRow, OutboxRow

NOW = datetime(2026, 2, 2, 9, 0, tzinfo=timezone.utc)
LATER = datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)
SHIPPED = default_register_path().read_text(encoding="utf-8")
ALL = len(re.findall(r"^\[\[deliverable\]\]$", SHIPPED, flags=re.MULTILINE))  # the shipped plan's deliverables


pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = open_engine(database_url)
    upgrade(engine)
    return engine


def sync(engine, text: str, now: datetime = NOW, **options):  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        return sync_register(session, parse_register(text.encode("utf-8")), now=now, **options)


def snapshot(engine) -> tuple:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return (sorted((row.id, row.archived_at is None) for row in session.exec(select(DeliverableRow))),
                session.exec(select(func.count()).select_from(HistoryRow)).one())


def cut_off(text: str, keep: int) -> str:
    """The register as a partial save leaves it: the first ``keep`` deliverables, then nothing."""
    starts = [match.start() for match in re.finditer(r"^\[\[deliverable\]\]$", text, flags=re.MULTILINE)]
    return text[: starts[keep]]


def test_the_removal_limit_is_three_or_a_tenth_of_the_plan() -> None:
    assert [removal_limit(active) for active in (0, 10, 39, 40, 53, 100, 1000)] == [3, 3, 3, 4, 5, 10, 100]


def test_a_half_saved_register_is_refused_and_changes_nothing(engine) -> None:
    sync(engine, SHIPPED)
    before = snapshot(engine)
    half = cut_off(SHIPPED, 30)
    parse_register(half.encode())  # valid TOML and a valid register: only the guard stands in the way
    with pytest.raises(SyncRefusedError) as refused:
        sync(engine, half, now=LATER)
    message = refused.value.message
    assert "--allow-removals" in message and f"of the plan's {ALL} deliverables" in message
    assert snapshot(engine) == before
    # Said so, the sync archives them.
    report = sync(engine, half, now=LATER, allow_removals=True)
    assert len(report.archived) == ALL - 30
    # A few at once are a register's ordinary life, not a cut-off.
    restored = sync(engine, SHIPPED, now=LATER)
    assert len(restored.restored) == ALL - 30
    few = cut_off(SHIPPED, ALL - removal_limit(ALL))
    assert len(sync(engine, few, now=LATER).archived) == removal_limit(ALL)


def test_the_cli_refuses_a_cut_off_register_with_exit_1_and_the_fix(database_url: str, tmp_path: Path) -> None:
    tracker = Tracker(database_url)
    tracker.ok("sync")
    half = tmp_path / "deliverables.toml"
    half.write_text(cut_off(SHIPPED, 30), encoding="utf-8")
    before = snapshot(open_engine(database_url))
    result = tracker.fails("sync", "--register", str(half))
    assert f"would archive {ALL - 30} of the plan's {ALL} deliverables" in result.output
    assert "tracker sync --allow-removals" in result.output
    assert snapshot(open_engine(database_url)) == before
    tracker.fails("run", "--once", "--register", str(half))  # the embedded default refuses it too
    assert snapshot(open_engine(database_url)) == before
    done = tracker.ok("sync", "--register", str(half), "--allow-removals")
    assert f"{ALL - 30} archived" in done.output


def test_a_restored_deliverable_is_noted_for_the_sweep_with_the_day_it_left(engine, small_register: Path) -> None:
    text = small_register.read_text(encoding="utf-8")
    sync(engine, text)
    without = text[: text.index('[[deliverable]]\nid = "evaluering"')]
    sync(engine, without, now=datetime(2026, 3, 1, 22, 30, tzinfo=timezone.utc))  # 23:30 in Copenhagen
    sync(engine, text, now=LATER)
    with Session(engine) as session:
        row = session.get(MetaRow, RESTORED)
        assert row is not None and json.loads(row.value) == {"evaluering": "2026-03-01"}


# -- the summary says what was written ---------------------------------------------------------------------------

def test_every_change_written_is_counted_in_the_summary(database_url: str, small_register: Path,
                                                       tmp_path: Path) -> None:
    tracker = Tracker(database_url, small_register)
    tracker.ok("sync")
    text = small_register.read_text(encoding="utf-8")
    changed = tmp_path / "changed.toml"
    # New words for the same days (a re-plan in the history, no due day moved), and a party renamed.
    changed.write_text(text.replace('deadline = "inden udgangen af 2028"',
                                    'deadline = "inden udgangen af 2028"\ninterpreted_as = "inden udgangen af 2028"\n'
                                    'reading = "Som skrevet."')
                       .replace('name = "Regionerne"', 'name = "De fem regioner"'), encoding="utf-8")
    engine = open_engine(database_url)
    history_before = snapshot(engine)[1]
    result = tracker.ok("sync", "--register", str(changed))
    written = snapshot(engine)[1] - history_before
    assert written > 0
    assert "nothing changed" not in result.output
    assert "1 updated" in result.output and "1 parties" in result.output
    assert f"{written} changes in the history" in result.output
    again = tracker.ok("sync", "--register", str(changed))
    assert "nothing changed" in again.output and snapshot(engine)[1] - history_before == written


# -- renames ---------------------------------------------------------------------------------------------------

def test_a_renamed_deliverable_keeps_its_status_history_replans_event_uid_and_outbox_keys(
        engine, small_register: Path) -> None:
    text = small_register.read_text(encoding="utf-8")
    sync(engine, text)
    with write_session(engine) as session:
        change_status(session, "evaluering", Status.AT_RISK, note="Data kommer sent.", actor="anna", now=NOW)
        add_note(session, "evaluering", "Aftalt med ministeriet.", actor="anna", now=NOW)
        session.add(CalendarEventRow(uid="evaluering@kraeftplan-v.tracker", fingerprint="f" * 64, sequence=3,
                                     changed_at=NOW))
        session.add(OutboxRow(key="evaluering/-/reminder/60d@2028-12-31/email/a@example.org", kind="reminder",
                              step="60d", deliverable_id="evaluering", day=date(2028, 11, 1), due_at=NOW,
                              channel="email", recipient="a@example.org", language="da", reason="r", state="sent",
                              attempts=1, late=False, created_at=NOW, updated_at=NOW))
    with Session(engine) as session:
        history_before = session.exec(select(func.count()).select_from(HistoryRow).where(
            HistoryRow.deliverable_id == "evaluering")).one()
    renamed = text.replace('id = "evaluering"', 'id = "evaluering-af-forsoeget"\nrenamed_from = "evaluering"')
    report = sync(engine, renamed, now=LATER)
    assert report.renamed == [("evaluering", "evaluering-af-forsoeget")]
    assert report.archived == [] and report.added == [] and not report.warnings
    with Session(engine) as session:
        assert session.get(DeliverableRow, "evaluering") is None
        row = session.get(DeliverableRow, "evaluering-af-forsoeget")
        assert row.former_ids == ["evaluering"] and row.calendar_id == "evaluering" and row.archived_at is None
        (occurrence,) = session.exec(select(OccurrenceRow).where(
            OccurrenceRow.deliverable_id == "evaluering-af-forsoeget"))
        assert occurrence.status == "at_risk" and occurrence.note == "Aftalt med ministeriet."
        history = list(session.exec(select(HistoryRow).where(
            HistoryRow.deliverable_id == "evaluering-af-forsoeget").order_by(HistoryRow.id)))
        assert len(history) == history_before + 1 and history[-1].action == "renamed"
        assert (history[-1].old_value, history[-1].new_value) == ("evaluering", "evaluering-af-forsoeget")
        assert session.exec(select(func.count()).select_from(HistoryRow).where(
            HistoryRow.deliverable_id == "evaluering")).one() == 0
        (outbox_row,) = session.exec(select(OutboxRow))
        assert outbox_row.key == "evaluering-af-forsoeget/-/reminder/60d@2028-12-31/email/a@example.org"
        assert outbox_row.deliverable_id == "evaluering-af-forsoeget"
    # The next sync has nothing to do, and the renamed_from line may stay in the register.
    assert not sync(engine, renamed, now=LATER).changed
    from tracker.errors import UnknownIdError
    from tracker.store.queries import get_deliverable
    with Session(engine) as session, pytest.raises(UnknownIdError, match="was renamed: it is evaluering-af-forsoeget"):
        get_deliverable(session, "evaluering")
    # The calendar keeps the old UID, so subscribers see the same event updated, not a new one.
    from tracker.calendar.events import uid_of
    from tracker.calendar.source import load_plan
    with Session(engine) as session:
        uids = {event.deliverable_id: uid_of(event) for event in load_plan(session, date(2026, 6, 1)).views}
    assert uids["evaluering-af-forsoeget"] == "evaluering@kraeftplan-v.tracker"


def test_the_history_moves_only_with_a_rename(engine, small_register: Path) -> None:
    """The database itself refuses to re-key history to a deliverable that does not list the old id."""
    from sqlalchemy import text as sql
    from sqlalchemy.exc import DBAPIError

    sync(engine, small_register.read_text(encoding="utf-8"))
    with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(sql("UPDATE history SET deliverable_id = 'regional-status' "
                               "WHERE deliverable_id = 'evaluering'"))
        connection.commit()
    with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(sql("UPDATE history SET note = 'rewritten' WHERE deliverable_id = 'evaluering'"))
        connection.commit()


def test_a_new_deliverable_may_not_take_an_id_a_renamed_one_had(engine, small_register: Path) -> None:
    text = small_register.read_text(encoding="utf-8")
    sync(engine, text)
    renamed = text.replace('id = "evaluering"', 'id = "evaluering-2"\nrenamed_from = "evaluering"')
    sync(engine, renamed, now=LATER)
    # Later the renamed_from line is gone (it did its work), and another deliverable takes the old id.
    reused = renamed.replace('\nrenamed_from = "evaluering"', "").replace('id = "regional-status"',
                                                                           'id = "evaluering"')
    with pytest.raises(SyncRefusedError, match="would reuse the id that evaluering-2 had"):
        sync(engine, reused, now=LATER)


def test_a_rename_without_renamed_from_is_warned_about(database_url: str, small_register: Path,
                                                      tmp_path: Path) -> None:
    tracker = Tracker(database_url, small_register)
    tracker.ok("sync")
    moved = tmp_path / "moved.toml"
    moved.write_text(small_register.read_text(encoding="utf-8").replace('id = "evaluering"',
                                                                          'id = "evaluering-ny"'), encoding="utf-8")
    result = tracker.ok("sync", "--register", str(moved))
    assert "evaluering left the register and evaluering-ny came in with nearly the same quote" in result.stderr
    assert 'renamed_from = "evaluering"' in result.stderr


def _state(engine, deliverable_id: str) -> tuple:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        row = session.get(DeliverableRow, deliverable_id)
        occurrences = list(session.exec(select(OccurrenceRow).where(OccurrenceRow.deliverable_id == deliverable_id)))
        history = session.exec(select(func.count()).select_from(HistoryRow).where(
            HistoryRow.deliverable_id == deliverable_id)).one()
        return (row.archived_at is None if row else None, row.former_ids if row else None,
                sorted(occurrence.status for occurrence in occurrences), history)


def test_renamed_from_added_after_the_new_id_was_synced_still_carries_the_state(engine, small_register: Path) -> None:
    """The id edited first (the clock syncs that), renamed_from a moment later, as the warning advises."""
    text = small_register.read_text(encoding="utf-8")
    sync(engine, text)
    with write_session(engine) as session:
        change_status(session, "evaluering", Status.AT_RISK, note="Data kommer sent.", actor="anna", now=NOW)
    edited = text.replace('id = "evaluering"', 'id = "evaluering-ny"')
    first = sync(engine, edited, now=LATER)
    assert first.added == ["evaluering-ny"] and first.archived == ["evaluering"] and first.warnings
    report = sync(engine, edited.replace('id = "evaluering-ny"', 'id = "evaluering-ny"\nrenamed_from = "evaluering"'),
                  now=LATER)
    assert report.renamed == [("evaluering", "evaluering-ny")] and report.unchanged == 2
    active, former, statuses, _history = _state(engine, "evaluering-ny")
    assert (active, former, statuses) == (True, ["evaluering"], ["at_risk"])
    assert _state(engine, "evaluering")[0] is None


def test_renamed_from_never_overwrites_a_deliverable_with_a_life_of_its_own(engine, small_register: Path) -> None:
    text = small_register.read_text(encoding="utf-8")
    sync(engine, text)
    with write_session(engine) as session:
        change_status(session, "senfoelgeklinikker", Status.IN_PROGRESS, note="I gang.", actor="anna", now=NOW)
    without_evaluation = text[: text.index('[[deliverable]]\nid = "evaluering"')]
    sync(engine, without_evaluation, now=LATER)  # evaluering archived, with its history
    onto = without_evaluation.replace('id = "senfoelgeklinikker"', 'id = "evaluering"\nrenamed_from = '
                                                                   '"senfoelgeklinikker"')
    onto = onto.replace('depends_on = ["senfoelgeklinikker"]', "")
    before = snapshot(engine)
    with pytest.raises(SyncRefusedError, match=r"already has another deliverable evaluering \(archived\), with a "
                                                "plan and history of its own"):
        sync(engine, onto, now=LATER)
    assert snapshot(engine) == before


def test_a_chain_of_renames_resolves_any_former_id_and_can_go_back(engine, small_register: Path) -> None:
    text = small_register.read_text(encoding="utf-8")
    sync(engine, text)
    with write_session(engine) as session:
        change_status(session, "evaluering", Status.AT_RISK, note="Sent.", actor="anna", now=NOW)
    b = text.replace('id = "evaluering"', 'id = "evaluering-b"\nrenamed_from = "evaluering"')
    sync(engine, b, now=LATER)
    # renamed_from may name the first id: it finds the deliverable under whatever id it has now.
    c = text.replace('id = "evaluering"', 'id = "evaluering-c"\nrenamed_from = "evaluering"')
    assert sync(engine, c, now=LATER).renamed == [("evaluering-b", "evaluering-c")]
    assert _state(engine, "evaluering-c")[:3] == (True, ["evaluering", "evaluering-b"], ["at_risk"])
    # And back to the first id: no reuse, the same deliverable.
    back = text.replace('id = "evaluering"', 'id = "evaluering"\nrenamed_from = "evaluering-c"')
    assert sync(engine, back, now=LATER).renamed == [("evaluering-c", "evaluering")]
    active, former, statuses, history = _state(engine, "evaluering")
    assert (active, statuses) == (True, ["at_risk"]) and former[0] == "evaluering"
    from tracker.calendar.events import uid_of
    from tracker.calendar.source import load_plan
    with Session(engine) as session:
        uids = {event.deliverable_id: uid_of(event) for event in load_plan(session, date(2026, 6, 1)).views}
    assert uids["evaluering"] == "evaluering@kraeftplan-v.tracker"


def test_renamed_from_onto_a_deliverable_someone_has_worked_on_is_refused(engine, small_register: Path) -> None:
    text = small_register.read_text(encoding="utf-8")
    sync(engine, text)
    with write_session(engine) as session:
        change_status(session, "evaluering", Status.AT_RISK, note="Sent.", actor="anna", now=NOW)
    start = text.index('[[deliverable]]\nid = "regional-status"')
    without_status = text[:start] + text[text.index("[[deliverable]]", start + 10):]
    sync(engine, without_status, now=LATER)
    claimed = without_status.replace('id = "evaluering"', 'id = "evaluering"\nrenamed_from = "regional-status"')
    with pytest.raises(SyncRefusedError, match="already has another deliverable evaluering, with a plan"):
        sync(engine, claimed, now=LATER)
