"""A command line a Danish coordinator can live in: Danish words and dates, and no silent empty answers."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import Tracker
from tracker.register import default_register_path


@pytest.mark.parametrize("word, status", [
    ("færdig", "done"), ("Færdig", "done"), ("faerdig", "done"), ("i gang", "in_progress"), ("I-GANG", "in_progress"),
    ("i_risiko", "at_risk"), ("ikke påbegyndt", "not_started"), ("Ikke_Påbegyndt", "not_started"),
    ("aflyst", "cancelled"), ("in-progress", "in_progress"), ("done", "done"), ("AT RISK", "at_risk"),
])
def test_a_status_in_danish_or_english_in_any_case_and_spelling(synced: Tracker, word: str, status: str) -> None:
    if status == "not_started":
        synced.ok("status", "senfoelgeklinikker", "i gang", "--note", "Først i gang.")
        result = synced("status", "senfoelgeklinikker", word, "--note", "Tilbage.")
        assert result.exit_code == 1 and "cannot become not started again" in result.output  # parsed, then refused
        return
    synced.ok("status", "senfoelgeklinikker", word, "--note", "Sådan står det.")
    (row,) = [r for r in json.loads(synced.ok("list", "--json").output) if r["id"] == "senfoelgeklinikker"]
    assert row["status"] == status
    listed = json.loads(synced.ok("list", "--json", "--status", word).output)
    assert [r["id"] for r in listed] == ["senfoelgeklinikker"]


def test_an_unknown_status_lists_the_accepted_words(synced: Tracker) -> None:
    result = synced("status", "senfoelgeklinikker", "halvvejs", "--note", "x")
    assert result.exit_code == 2
    assert "'halvvejs' is not a status" in result.output and "in progress (in_progress)" in result.output


def test_danish_days_wherever_a_day_is_taken(synced: Tracker) -> None:
    synced.ok("replan", "evaluering", "31/12/2027", "--reason", "Aftalt på mødet.")
    (row,) = [r for r in json.loads(synced.ok("list", "--json").output) if r["id"] == "evaluering"]
    assert row["due"] == "2027-12-31"
    for written in ("31.12.2027", "31-12-2027", "2027-12-31"):
        due_before = json.loads(synced.ok("list", "--json", "--due-before", written).output)
        assert "evaluering" not in {r["id"] for r in due_before} and due_before, written
    assert "Overdue" in synced.ok("run", "--today", "1.7.2026").output
    for impossible in ("31/13/2026", "30.02.2026", "12/31/2026", "31/12/26", "i morgen"):
        refused = synced("list", "--today", impossible)
        assert refused.exit_code == 2 and "31/12/2026, 31.12.2026 or 31-12-2026" in refused.output, impossible


def test_an_unknown_party_or_theme_in_a_filter_is_an_error_naming_the_closest(synced: Tracker) -> None:
    owner = synced.fails("list", "--owner", "regioner")
    assert "No party has the key 'regioner'. Did you mean: regionerne?" in owner.output
    theme = synced.fails("list", "--theme", "anbefaling7")
    assert "No theme has the key 'anbefaling7'. Did you mean: anbefaling-7?" in theme.output
    nothing = synced.fails("list", "--owner", "xyz")
    assert "No party has the key 'xyz'. Known: ism, regionerne, sst." in nothing.output
    assert synced.fails("report", "--party", "regioner").output.count("regionerne") == 1


def test_a_key_that_looks_like_another_real_one_is_not_swapped_for_it(tracker: Tracker, tmp_path: Path) -> None:
    text = default_register_path().read_text(encoding="utf-8")
    broken = tmp_path / "register.toml"
    # Qaasuitsup was a Greenlandic municipality, no Danish region: none is offered in its place, all are listed.
    broken.write_text(text.replace('owner = "region-midtjylland"', 'owner = "region-qaasuitsup"', 1),
                      encoding="utf-8")
    result = tracker.fails("validate", str(broken))
    assert "unknown party 'region-qaasuitsup'" in result.output
    assert "did you mean" not in result.output.lower()
    assert "those of its kind are: region-hovedstaden, region-midtjylland, region-nordjylland, region-sjaelland, " \
           "region-syddanmark" in result.output


def test_parties_and_themes_list_their_keys_with_names(synced: Tracker) -> None:
    parties = synced.ok("parties").output
    assert re.search(r"regionerne\s+Regionerne\s+The regions", parties)
    themes = json.loads(synced.ok("themes", "--json").output)
    assert themes == [{"key": "anbefaling-7", "number": 7, "topic": "Senfølger", "topic_en": "Late effects"}]
    danish = Tracker(synced.database_url, synced.register, lang="da")
    assert "Nøgle" in danish.ok("parties").output


def test_a_replan_far_into_the_past_or_before_its_window_asks_first(synced: Tracker) -> None:
    before = json.loads(synced.ok("show", "evaluering", "--json").output)["occurrences"][0]["due"]
    refused = synced.fails("replan", "evaluering", "2020-06-30", "--reason", "Tastefejl?")
    assert "more than a year ago" in refused.output and "--yes" in refused.output
    assert json.loads(synced.ok("show", "evaluering", "--json").output)["occurrences"][0]["due"] == before
    synced.ok("replan", "evaluering", "2020-06-30", "--reason", "Det var faktisk afsluttet.", "--yes")
    assert json.loads(synced.ok("show", "evaluering", "--json").output)["occurrences"][0]["due"] == "2020-06-30"


@pytest.mark.parametrize("command", [("status", "evaluering", "i gang", "--note", "  "),
                                     ("replan", "evaluering", "2029", "--reason", "")])
def test_an_empty_note_or_reason_is_refused(synced: Tracker, command: tuple[str, ...]) -> None:
    result = synced(*command)
    assert result.exit_code == 2 and "it is empty" in result.output


def test_a_change_just_after_midnight_is_of_that_day_in_the_report(synced: Tracker) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from freezegun import freeze_time

    with freeze_time(datetime(2026, 3, 2, 0, 14, tzinfo=ZoneInfo("Europe/Copenhagen"))):  # 23:14 UTC on the 1st
        synced.ok("note", "senfoelgeklinikker", "Lige efter midnat.")
    report = synced.ok("report", "--as-of", "2026-03-31", "--since", "2026-01-01").output
    assert "- 2026-03-02 · senfoelgeklinikker" in report
    assert date(2026, 3, 1).isoformat() not in report


def test_one_years_occurrence_moved_before_its_window_asks_first(synced: Tracker) -> None:
    refused = synced.fails("replan", "regional-status", "2026-12-15", "--occurrence", "2027", "--reason", "Hm.")
    assert "regional-status (2027) would be due 2026-12-15, before its window opens (2027-01-01)" in refused.output
    synced.ok("replan", "regional-status", "2026-12-15", "--occurrence", "2027", "--reason", "Fremrykket.", "--yes")


def test_replanning_a_recurring_deliverable_as_a_whole_to_one_day_asks_first(synced: Tracker) -> None:
    # Without --occurrence, one day for a yearly deliverable archives every year's occurrence and its slippage:
    # a slip of the keyboard more often than not, so it is refused until confirmed, and nothing is written.
    before = synced.ok("list", "--json").output
    refused = synced.fails("replan", "regional-status", "2027-06-30", "--reason", "Hm.")
    assert "regional-status recurs (3 occurrences)" in refused.output and "--occurrence YEAR" in refused.output
    assert synced.ok("list", "--json").output == before
    synced.ok("replan", "regional-status", "2027-06-30", "--reason", "Aftalen er ændret.", "--yes")
    assert [r["due"] for r in json.loads(synced.ok("list", "--json").output) if r["id"] == "regional-status"] == [
        "2027-06-30"]


def test_statuses_transitions_notices_and_trackers_own_notes_in_danish(synced: Tracker, tmp_path: Path) -> None:
    danish = Tracker(synced.database_url, synced.register, lang="da")
    danish.ok("status", "senfoelgeklinikker", "færdig", "--note", "Alle fem regioner.")
    again = danish.fails("status", "senfoelgeklinikker", "færdig", "--note", "Igen.")
    assert "Status er allerede færdig" in again.output and "done" not in again.output
    back = danish.fails("status", "senfoelgeklinikker", "ikke påbegyndt", "--note", "Tilbage.")
    assert "fra færdig til ikke påbegyndt" in back.output and "not_started" not in back.output
    preview = danish.ok("notify", "preview", "--from", "2026-06-23", "--to", "2026-06-30").output
    assert "ansvarlig part" in preview and "responsible party" not in preview and "ugeoversigt" in preview
    # A status the register states is recorded with tracker's own note, which shows in the reader's language.
    stated = tmp_path / "stated.toml"
    stated.write_text(synced.register.read_text(encoding="utf-8").replace(
        'id = "evaluering"', 'id = "evaluering"\nstatus = "in_progress"', 1), encoding="utf-8")
    fresh = Tracker(f"sqlite:///{tmp_path / 'stated.db'}", stated, lang="da")
    fresh.ok("sync")
    assert "— som angivet i kilden" in fresh.ok("show", "evaluering").output
    assert "— as stated in the source" in Tracker(fresh.database_url, stated).ok("show", "evaluering").output


def test_a_closed_pipe_ends_quietly(synced: Tracker) -> None:
    import os
    import subprocess
    import sys

    command = [os.path.join(os.path.dirname(sys.executable), "tracker"), "notify", "preview", "--to", "2030-12-31"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "DATABASE_URL": synced.database_url})
    assert process.stdout is not None and process.stdout.readline()
    process.stdout.close()  # as `| head -1` does
    error = process.stderr.read().decode() if process.stderr else ""
    assert process.wait(timeout=60) == 1
    assert "Traceback" not in error and "unexpectedly" not in error and "fejlede uventet" not in error


def test_with_many_parties_an_unknown_one_points_to_tracker_parties(sqlite_url: str) -> None:
    shipped = Tracker(sqlite_url)
    shipped.ok("sync")
    assert "`tracker parties` lists them all." in shipped.fails("list", "--owner", "xyz").output
    assert "Those of its kind are: region-hovedstaden, region-midtjylland, region-nordjylland, region-sjaelland, " \
           "region-syddanmark." in shipped.fails("list", "--owner", "region-qaasuitsup").output


def test_list_and_show_name_the_parties_and_say_the_kind_in_words(synced: Tracker) -> None:
    danish = Tracker(synced.database_url, synced.register, lang="da")
    listing = danish.ok("list").output
    assert re.search(r"senfoelgeklinikker\s+Regionerne\s", listing)
    shown = danish.ok("show", "senfoelgeklinikker").output
    assert "Regionerne (regionerne)" in shown and "Sundhedsstyrelsen (sst)" in shown
    assert "milepæl" in shown and "Senfølger (anbefaling-7)" in shown
    english = synced.ok("show", "senfoelgeklinikker").output
    assert "The regions (regionerne)" in english and "milestone" in english
    assert json.loads(synced.ok("list", "--json").output)[0]["owner"] == "regionerne"  # the interface keeps keys


# English words that occur in tracker's sentences and in no Danish one: any of them in Danish output is a message
# nobody translated. (Register data, such as a deliverable's English title, is shown as data and left out.)
_ENGLISH = re.compile(r"\b(the|and|with|from|this|that|must|cannot|should|which|usage|options|commands|error|"
                      r"missing|deliverable|deadline|owner|history|created|occurrences?|recipient|required|default)\b",
                      re.IGNORECASE)


def english_in(text: str, data: tuple[str, ...] = ()) -> list[str]:
    lines = [line for line in text.splitlines() if not any(value in line for value in data)]
    return [line for line in lines if _ENGLISH.search(line.replace("`tracker", "`").replace("--", " --x"))]


def test_help_validate_and_show_speak_danish_only(synced: Tracker, tmp_path: Path) -> None:
    danish = Tracker(synced.database_url, synced.register, lang="da")
    # Option names, commands in backticks and environment variables are what users type: not sentences.
    # So are the register's key paths (deliverable[3].owner) and quoted keys and values ('owner').
    typed = re.compile(r"`[^`]*`|--[a-z-]+|\b[A-Z_]{2,}\b|\[[a-z|]+\]|'[^']*'|\b[a-z_]+\[\d+\](\.[a-z_]+)*")
    for args in (("--help",), ("status", "--help"), ("list", "--help"), ("feed", "create", "--help")):
        shown = typed.sub("", danish.ok(*args).output)
        assert english_in(shown) == [], args
        assert "Brug:" in shown and "Tilvalg:" in shown
    broken = tmp_path / "broken.toml"
    broken.write_text(synced.register.read_text(encoding="utf-8").replace('owner = "sst"', 'owner = "sts"', 1)
                      .replace('kind = "', 'kind = "x', 1) + "\n[[deliverable]]\nid = 'Ugyldig Id'\n", encoding="utf-8")
    failed = danish.fails("validate", str(broken)).output
    assert "problem" in failed and english_in(typed.sub("", failed)) == []
    detail = danish.ok("show", "senfoelgeklinikker").output
    titles = ("Late-effects clinics established",)
    assert english_in(detail, titles) == [] and "tilføjet fra registret" in detail
    # And click's own parsing errors, before any command runs.
    missing = danish("status", "senfoelgeklinikker", "færdig")
    assert missing.exit_code == 2 and "Fejl: Manglende tilvalg '--note'." in missing.output
