"""The coordinators' CLI, driven as people type it, against a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import create_engine, text

from tests.conftest import Tracker

LIST_JSON_FIELDS = {"id", "title", "title_en", "owner", "deadline_text", "window_start", "due", "precision",
                    "occurrence", "status", "overdue", "baseline_due", "theme", "source"}


def _rows(tracker: Tracker, *args: str) -> list[dict]:
    return json.loads(tracker.ok("list", "--json", *args).output)


def _database_state(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as connection:
        occurrences = connection.execute(text(
            "SELECT deliverable_id, key, status, due, baseline_due, note FROM occurrence ORDER BY 1, 2")).all()
        history = connection.execute(text("SELECT count(*) FROM history")).scalar()
        deliverables = connection.execute(text("SELECT id, deadline_text FROM deliverable ORDER BY 1")).all()
    engine.dispose()
    return [occurrences, history, deliverables]


# --------------------------------------------------------------------------- validate


def test_validate_passes_on_the_shipped_register(tracker: Tracker) -> None:
    result = Tracker(tracker.database_url).ok("validate")
    assert "is valid" in result.output and "deliverables" in result.output


def test_validate_reports_every_problem_and_exits_1(tracker: Tracker, small_register: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(small_register.read_text(encoding="utf-8")
                      .replace('theme = "anbefaling-7"\ndepends_on', 'theme = "anbefaling-77"\ndepends_on')
                      .replace('kind = "report"', 'kind = "rapport"', 1), encoding="utf-8")
    result = tracker.fails("validate", str(broken))
    assert "2 problems in the register" in result.output
    assert "unknown theme 'anbefaling-77'. Did you mean 'anbefaling-7'?" in result.output
    assert "'rapport' is not one of" in result.output


def test_messages_are_danish_by_default(tracker: Tracker, small_register: Path) -> None:
    danish = Tracker(tracker.database_url, small_register, lang="da")
    # --lang da is what the default resolves to; TRACKER_LANG unset means Danish.
    assert "er gyldigt" in danish.ok("validate").output
    from tracker.cli import cli

    result = danish.runner.invoke(cli, ["validate", str(small_register)])
    assert "Registret" in result.output and "er gyldigt" in result.output


# --------------------------------------------------------------------------- list


def test_list_json_has_the_documented_fields(synced: Tracker) -> None:
    rows = _rows(synced, "--today", "2026-05-01")
    assert len(rows) == 5
    assert all(LIST_JSON_FIELDS <= row.keys() for row in rows)
    first = rows[0]
    assert first["source"].keys() >= {"file", "section", "quote"}
    clinics = next(r for r in rows if r["id"] == "senfoelgeklinikker")
    assert clinics == clinics | {"due": "2026-06-30", "window_start": "2026-01-01", "precision": "half",
                                 "occurrence": None, "status": "not_started", "overdue": False,
                                 "baseline_due": "2026-06-30", "owner": "regionerne",
                                 "deadline_text": "senest i første halvår af 2026"}
    assert [r["occurrence"] for r in rows if r["id"] == "regional-status"] == [2026, 2027, 2028]


def test_overdue_is_judged_in_copenhagen_as_of_today(synced: Tracker) -> None:
    assert [r["id"] for r in _rows(synced, "--overdue", "--today", "2026-06-30")] == ["regional-status"]
    assert [r["id"] for r in _rows(synced, "--overdue", "--today", "2026-07-01")] == ["regional-status",
                                                                                     "senfoelgeklinikker"]
    # 30 June 2026 21:59 UTC is 23:59 in Copenhagen (summer time): not yet overdue ...
    with freeze_time("2026-06-30 21:59:00"):
        assert "senfoelgeklinikker" not in [r["id"] for r in _rows(synced, "--overdue")]
    # ... two minutes later it is 1 July in Copenhagen, though still 30 June in UTC.
    with freeze_time("2026-06-30 22:01:00"):
        assert "senfoelgeklinikker" in [r["id"] for r in _rows(synced, "--overdue")]


def test_new_year_in_copenhagen_comes_an_hour_before_utc(synced: Tracker) -> None:
    with freeze_time("2026-12-31 22:59:00"):  # 23:59 in Copenhagen (winter time)
        assert _rows(synced, "--due-after", "2026-12-30", "--overdue") == []
    with freeze_time("2026-12-31 23:01:00"):  # 00:01 on 1 January 2027 in Copenhagen
        rows = _rows(synced, "--overdue")
        assert ("regional-status", 2026) in [(r["id"], r["occurrence"]) for r in rows]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--owner", "regionerne"), {"senfoelgeklinikker", "regional-status", "evaluering"}),
        (("--owner", "sst"), set()),
        (("--theme", "anbefaling-7"), {"senfoelgeklinikker", "regional-status", "evaluering"}),
        (("--upcoming", "90", "--today", "2026-04-15"), {"senfoelgeklinikker"}),
        (("--upcoming", "0", "--today", "2026-06-30"), {"senfoelgeklinikker"}),
        (("--due-before", "2026-06-30"), {"regional-status"}),
        (("--due-after", "2027-12-31"), {"regional-status", "evaluering"}),
        (("--status", "not_started", "--due-before", "2027-01-01"), {"regional-status", "senfoelgeklinikker"}),
        (("--status", "done"), set()),
    ],
)
def test_list_filters(synced: Tracker, args: tuple[str, ...], expected: set[str]) -> None:
    assert {row["id"] for row in _rows(synced, *args)} == expected


def test_list_as_csv_and_as_a_table(synced: Tracker) -> None:
    reader = csv.DictReader(io.StringIO(synced.ok("list", "--csv").output))
    records = list(reader)
    assert len(records) == 5 and {"id", "due", "overdue", "source_quote"} <= set(reader.fieldnames or [])
    table = synced.ok("list", "--today", "2026-07-02").output
    assert "senfoelgeklinikker" in table and "OVERDUE 2 d" in table
    assert synced("list", "--json", "--csv").exit_code == 2


def test_list_before_any_sync_says_what_to_do(tracker: Tracker) -> None:
    result = tracker.fails("list")
    assert "Run `tracker sync`" in result.output


# --------------------------------------------------------------------------- show


def test_show_has_every_field_occurrences_history_and_quote(synced: Tracker) -> None:
    output = synced.ok("show", "evaluering").output
    for expected in ("Evaluering af forsøgsordningen", "Recipient:", "ism", "inden udgangen af 2028",
                     "2028-01-01 → 2028-12-31", "History:", "added from the register", "Regionerne laver en evaluering",
                     "Depends on:", "senfoelgeklinikker"):
        assert expected in output
    detail = json.loads(synced.ok("show", "regional-status", "--json").output)
    assert [o["occurrence"] for o in detail["occurrences"]] == [2026, 2027, 2028]
    assert detail["source"]["section"] == "Implementering og opfølgning"


def test_an_unknown_id_gets_the_closest_ids(synced: Tracker) -> None:
    before = _database_state(synced.database_url)
    result = synced.fails("show", "senfolgeklinikker")
    assert "No deliverable has the id 'senfolgeklinikker'" in result.output
    assert "Did you mean: senfoelgeklinikker" in result.output
    danish = Tracker(synced.database_url, lang="da").fails("status", "evalering", "done", "--note", "x")
    assert "Ingen leverance har id'et 'evalering'. Mente du: evaluering?" in danish.output
    assert _database_state(synced.database_url) == before


# --------------------------------------------------------------------------- status, replan, note


def test_status_change_is_recorded_with_who_when_why_and_evidence(synced: Tracker) -> None:
    synced.ok("status", "senfoelgeklinikker", "in_progress", "--note", "Region Nord mangler", "--by", "Anna",
              "--evidence", "https://example.org/status.pdf")
    detail = json.loads(synced.ok("show", "senfoelgeklinikker", "--json").output)
    assert detail["occurrences"][0]["status"] == "in_progress"
    assert detail["occurrences"][0]["note"] == "Region Nord mangler"
    change = detail["history"][-1]
    assert change | {"actor": "Anna", "action": "status", "old": "not_started", "new": "in_progress",
                     "evidence": "https://example.org/status.pdf"} == change
    assert change["at"].endswith("+00:00")


def test_by_defaults_to_the_user_running_the_command(synced: Tracker) -> None:
    import getpass

    synced.ok("note", "evaluering", "Data forsinket")
    history = json.loads(synced.ok("show", "evaluering", "--json").output)["history"]
    assert history[-1]["actor"] == getpass.getuser() and history[-1]["note"] == "Data forsinket"


@pytest.mark.parametrize(
    ("steps", "refused", "reason"),
    [
        ((), "not_started", "already not started"),
        (("in_progress",), "not_started", "cannot become not started again"),
        (("done",), "at_risk", "From done it can become: in progress"),
        (("cancelled",), "done", "From cancelled it can become: in progress, not started"),
    ],
)
def test_transitions_that_make_no_sense_are_refused_and_nothing_is_written(
        synced: Tracker, steps: tuple[str, ...], refused: str, reason: str) -> None:
    for step in steps:
        synced.ok("status", "evaluering", step, "--note", "step")
    before = _database_state(synced.database_url)
    result = synced.fails("status", "evaluering", refused, "--note", "no")
    assert reason in result.output
    assert _database_state(synced.database_url) == before


def test_done_can_be_reopened_and_cancelled_reinstated(synced: Tracker) -> None:
    synced.ok("status", "evaluering", "done", "--note", "afleveret")
    synced.ok("status", "evaluering", "in_progress", "--note", "genåbnet: mangler bilag")
    synced.ok("status", "senfoelgeklinikker", "cancelled", "--note", "droppet")
    synced.ok("status", "senfoelgeklinikker", "not_started", "--note", "genindsat")


def test_recurring_deliverables_need_an_occurrence(synced: Tracker) -> None:
    before = _database_state(synced.database_url)
    result = synced.fails("status", "regional-status", "done", "--note", "x")
    assert "recurs every year (2026, 2027, 2028)" in result.output and "--occurrence" in result.output
    result = synced.fails("status", "regional-status", "done", "--note", "x", "--occurrence", "2031")
    assert "no occurrence in 2031" in result.output
    assert _database_state(synced.database_url) == before
    synced.ok("status", "regional-status", "done", "--occurrence", "2026", "--note", "modtaget")
    statuses = {(r["occurrence"], r["status"]) for r in _rows(synced) if r["id"] == "regional-status"}
    assert statuses == {(2026, "done"), (2027, "not_started"), (2028, "not_started")}
    result = synced.fails("note", "evaluering", "x", "--occurrence", "2026")
    assert "does not recur" in result.output


def test_evidence_must_be_a_url(synced: Tracker) -> None:
    result = synced("status", "evaluering", "done", "--note", "x", "--evidence", "report.pdf")
    assert result.exit_code == 2 and "http(s)" in result.output


def test_replan_keeps_the_baseline_and_shows_the_slippage(synced: Tracker) -> None:
    synced.ok("replan", "senfoelgeklinikker", "andet halvår 2026", "--reason", "Region Nord forsinket")
    (row,) = [r for r in _rows(synced) if r["id"] == "senfoelgeklinikker"]
    assert (row["due"], row["baseline_due"], row["slippage_days"]) == ("2026-12-31", "2026-06-30", 184)
    assert row["deadline_text"] == "andet halvår 2026"
    assert "+184d" in synced.ok("list", "--today", "2026-06-01").output
    # The register has not changed, so a re-sync keeps the coordinator's re-plan.
    synced.ok("sync")
    (row,) = [r for r in _rows(synced) if r["id"] == "senfoelgeklinikker"]
    assert row["due"] == "2026-12-31"


def test_replan_one_occurrence_of_a_recurring_deliverable(synced: Tracker) -> None:
    synced.ok("replan", "regional-status", "30. april 2027", "--occurrence", "2027", "--reason", "påske")
    dues = {r["occurrence"]: (r["due"], r["baseline_due"]) for r in _rows(synced) if r["id"] == "regional-status"}
    assert dues == {2026: ("2026-03-31", "2026-03-31"), 2027: ("2027-04-30", "2027-03-31"),
                    2028: ("2028-03-31", "2028-03-31")}
    result = synced.fails("replan", "regional-status", "årligt fra 2027 til og med 2029", "--occurrence", "2027",
                          "--reason", "x")
    assert "Leave out --occurrence" in result.output


def test_replan_refuses_an_unreadable_deadline_before_touching_the_database(synced: Tracker) -> None:
    before = _database_state(synced.database_url)
    result = synced.fails("replan", "evaluering", "snart", "--reason", "x")
    assert "cannot read the deadline 'snart'" in result.output
    assert _database_state(synced.database_url) == before


# --------------------------------------------------------------------------- the database misbehaving


def test_a_database_locked_by_the_service_is_reported_and_nothing_is_written(synced: Tracker) -> None:
    before = _database_state(synced.database_url)
    path = synced.database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # what the running service does while it writes
    try:
        result = synced.fails("status", "evaluering", "done", "--note", "x",
                              env={"TRACKER_LOCK_TIMEOUT": "0.2"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "locked by another process" in result.output and "Nothing was changed" in result.output
    assert _database_state(synced.database_url) == before


def test_an_unreadable_database_path_is_reported(tracker: Tracker, tmp_path: Path) -> None:
    missing = Tracker(f"sqlite:///{tmp_path / 'no-such-folder' / 'tracker.db'}", tracker.register)
    result = missing.fails("sync")
    assert "Cannot open the database file" in result.output and "DATABASE_URL" in result.output
    assert not (tmp_path / "no-such-folder").exists()


def test_a_database_that_is_not_sqlite_at_all(tracker: Tracker, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    result = Tracker(f"sqlite:///{junk}", tracker.register).fails("list")
    assert "junk.db" in result.output


# --------------------------------------------------------------------------- run


def test_run_validates_syncs_and_shows_overdue_and_upcoming(tracker: Tracker) -> None:
    output = tracker.ok("run", "--today", "2026-04-15").output
    assert "3 added" in output
    overdue, upcoming = output.split("Due in the next 90 days")
    assert "regional-status (2026)" in overdue and "senfoelgeklinikker" in upcoming
    assert "nothing changed" in tracker.ok("run", "--today", "2026-04-15").output


def test_run_on_the_embedded_default_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_HOME", str(tmp_path / "home"))
    result = Tracker("").ok("run", "--today", "2026-11-23", env={"DATABASE_URL": ""})
    assert (tmp_path / "home" / "tracker.db").exists()
    assert "Overdue as of 2026-11-23" in result.output


# --------------------------------------------------------------------------- the real console script


def test_the_console_script_runs_and_errors_have_no_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "tracker"
    help_text = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert help_text.returncode == 0 and "validate" in help_text.stdout
    broken = tmp_path / "broken.toml"
    broken.write_text("[register\n", encoding="utf-8")
    result = subprocess.run([str(script), "--lang", "en", "validate", str(broken)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert "broken.toml:1" in result.stderr and "Traceback" not in result.stderr


def test_archived_deliverables_show_only_with_all(synced: Tracker, small_register: Path, tmp_path: Path) -> None:
    text = small_register.read_text(encoding="utf-8")
    smaller = tmp_path / "smaller.toml"
    smaller.write_text(text[: text.index('[[deliverable]]\nid = "evaluering"')], encoding="utf-8")
    assert "1 archived" in synced.ok("sync", "--register", str(smaller)).output
    assert "evaluering" not in {r["id"] for r in _rows(synced)}
    archived = [r for r in _rows(synced, "--all") if r["id"] == "evaluering"]
    assert len(archived) == 1 and archived[0]["archived"] is True
    assert "ARCHIVED" in synced.ok("show", "evaluering").output


def test_every_command_is_documented_in_the_readme() -> None:
    from tracker.cli import cli

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    names = []
    for name, command in cli.commands.items():
        sub = getattr(command, "commands", None)
        names += [f"tracker {name} {child}" for child in sub] if sub else [f"tracker {name}"]
    assert [name for name in names if f"`{name}" not in readme] == []
