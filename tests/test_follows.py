"""Deadlines set by another deliverable: "før ID", "med ID", "N år efter ID", "N år efter ID er færdig".

The pure reading (across a year end and a leap day), the register's checks
(an unknown or own deliverable, a cycle, overridden days), and the plan on
real SQLite and PostgreSQL: a re-plan or a "done" of the one followed moves
its followers, chains included, with the history saying why; a sync keeps
what the plan moved; `tracker show`, the feed, the dashboard's page and the
report show what the day is counted from.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone
from pathlib import Path

import httpx
import icalendar
import pytest
from freezegun import freeze_time

from tests.conftest import Tracker
from tests.webserver import serving
from tracker.deadlines import AFTER, BEFORE, WITH, Follows, parse_deadline, parse_follows, resolve_follows, years_later
from tracker.errors import DeadlineError, RegisterError
from tracker.i18n import using_language
from tracker.register import parse_register

FOLLOWERS = '''

[[deliverable]]
id = "skabelon"
title = "Skabelon for den årlige status"
title_en = "Template for the yearly status"
kind = "product"
owner = "sst"
deadline = "en skabelon"
interpreted_as = "før regional-status"
reading = "The template comes before the first status."
theme = "anbefaling-7"
source = { file = "test", section = "Implementering", quote = "Sundhedsstyrelsen udarbejder en skabelon." }

[[deliverable]]
id = "forsoeg-slut"
title = "Forsøget gennemført"
title_en = "Trial completed"
kind = "milestone"
owner = "regionerne"
deadline = "en to-årig periode"
interpreted_as = "2 år efter senfoelgeklinikker"
reading = "Two years from the start."
theme = "anbefaling-7"
source = { file = "test", section = "Forsøg", quote = "Forsøget løber i en to-årig periode." }

[[deliverable]]
id = "halvdelen"
title = "Halvdelen tilbudt"
title_en = "Half offered"
kind = "milestone"
owner = "regionerne"
deadline = "i løbet af projektperioden"
interpreted_as = "med forsoeg-slut"
reading = "By the end of the project period."
theme = "anbefaling-7"
source = { file = "test", section = "Forsøg", quote = "Halvdelen tilbydes i løbet af projektperioden." }

[[deliverable]]
id = "rammen-evalueres"
title = "Rammen evalueret"
title_en = "Frame evaluated"
kind = "report"
owner = "sst"
deadline = "efter to år"
interpreted_as = "to år efter evaluering er færdig"
reading = "Two years after the evaluation is done."
theme = "anbefaling-7"
source = { file = "test", section = "Ramme", quote = "Rammen evalueres efter to år." }
'''


@pytest.fixture(autouse=True)
def _english() -> object:
    with using_language("en"):
        yield


def test_the_forms_are_read_in_danish_and_english_and_others_are_not_theirs() -> None:
    assert parse_follows("før regional-status") == Follows("før regional-status", BEFORE, "regional-status")
    assert parse_follows("Before regional-status.") == Follows("Before regional-status.", BEFORE, "regional-status")
    assert parse_follows("i forbindelse med sst-retningslinjer").relation == WITH
    assert parse_follows("to år efter start") == Follows("to år efter start", AFTER, "start", years=2)
    assert parse_follows("3 years after start is done") == Follows("3 years after start is done", AFTER, "start",
                                                                   years=3, from_done=True)
    for ordinary in ("i 2026", "senest i første halvår af 2026", "inden udgangen af 2027", "medio 2026"):
        assert parse_follows(ordinary) is None
        parse_deadline(ordinary)  # still an ordinary deadline
    with pytest.raises(DeadlineError, match="at least one year"):
        parse_follows("0 år efter start")


def test_the_days_follow_across_a_year_end_and_a_leap_day() -> None:
    first_quarter = parse_deadline("i første kvartal 2026")
    before = resolve_follows(Follows("før x", BEFORE, "x"), first_quarter)
    assert (before.window_start, before.due) == (date(2025, 12, 31), date(2025, 12, 31))  # across the year end
    with_it = resolve_follows(Follows("med x", WITH, "x"), parse_deadline("medio 2026"))
    assert (with_it.window_start, with_it.due, with_it.text) == (date(2026, 6, 1), date(2026, 7, 31), "med x")
    # A trial started "i 2026" ends "i 2028": the window moves, not only the day.
    after = resolve_follows(Follows("2 år efter x", AFTER, "x", years=2), parse_deadline("i 2026"))
    assert (after.window_start, after.due, after.precision.value) == (date(2028, 1, 1), date(2028, 12, 31), "year")
    february = resolve_follows(Follows("2 år efter x", AFTER, "x", years=2), parse_deadline("februar 2026"))
    assert february.due == date(2028, 2, 29)  # the end of February stays its end in a leap year
    done = Follows("1 år efter x er færdig", AFTER, "x", years=1, from_done=True)
    assert resolve_follows(done, first_quarter).due == date(2027, 3, 31)  # not done yet: from its due day
    assert resolve_follows(done, first_quarter, done_on=date(2028, 2, 29)).due == date(2029, 2, 28)
    assert years_later(date(2027, 2, 28), 1) == date(2028, 2, 29) and years_later(date(2026, 3, 1), 2) == date(
        2028, 3, 1)


def test_the_register_resolves_chains_and_names_what_is_wrong(small_register: Path) -> None:
    base = small_register.read_text(encoding="utf-8")
    register = parse_register((base + FOLLOWERS).encode())
    due = {key: register.deliverables[key].occurrences()[0].deadline.due
           for key in ("skabelon", "forsoeg-slut", "halvdelen", "rammen-evalueres")}
    assert due == {"skabelon": date(2025, 12, 31), "forsoeg-slut": date(2028, 6, 30),
                   "halvdelen": date(2028, 6, 30), "rammen-evalueres": date(2030, 12, 31)}
    assert register.deliverables["halvdelen"].follows == Follows("med forsoeg-slut", WITH, "forsoeg-slut")

    def problems(text: str) -> list[tuple[str, str]]:
        with pytest.raises(RegisterError) as error:
            parse_register((base + text).encode())
        return [(problem.path, problem.message) for problem in error.value.problems]

    assert problems(FOLLOWERS.replace("før regional-status", "før regional-statu")) == [
        ("deliverable[3].interpreted_as",
         "the deadline follows unknown deliverable 'regional-statu'. Did you mean 'regional-status'?")]
    assert problems(FOLLOWERS.replace("med forsoeg-slut", "med halvdelen")) == [
        ("deliverable[5].interpreted_as", "a deadline cannot follow its own deliverable.")]
    assert problems(FOLLOWERS.replace("2 år efter senfoelgeklinikker", "2 år efter halvdelen")) == [
        ("deliverable[5].interpreted_as", "the deadlines follow each other in a circle: forsoeg-slut → halvdelen → "
                                          "forsoeg-slut. Give one of them a date of its own.")]
    # A "før ID" in ID's own depends_on is no circle: the order of the work and the dates are two graphs.
    waits = base.replace('id = "regional-status"', 'id = "regional-status"\ndepends_on = ["skabelon"]')
    assert waits != base
    assert parse_register((waits + FOLLOWERS).encode()).deliverables["regional-status"].depends_on == ("skabelon",)
    overridden = problems(FOLLOWERS.replace('reading = "Two years from the start."',
                                            'reading = "Two years."\ndue = 2028-01-01'))
    assert overridden == [("deliverable[4].due", "a deadline that follows another deliverable takes its days "
                                                 "from it; remove window_start and due.")]


def test_followers_move_when_what_they_follow_moves_and_say_what_they_count_from(
        database_url: str, small_register: Path, tmp_path: Path) -> None:
    register = tmp_path / "register.toml"
    register.write_text(small_register.read_text(encoding="utf-8") + FOLLOWERS, encoding="utf-8")
    tracker = Tracker(database_url, register)
    tracker.ok("sync")

    def due(key: str) -> str:
        (occurrence,) = json.loads(tracker.ok("show", key, "--json").output)["occurrences"]
        return occurrence["due"]

    assert (due("forsoeg-slut"), due("halvdelen")) == ("2028-06-30", "2028-06-30")
    tracker.ok("replan", "senfoelgeklinikker", "1. marts 2026", "--reason", "Åbnede 1. marts.")
    assert (due("forsoeg-slut"), due("halvdelen")) == ("2028-03-01", "2028-03-01")  # the chain moved
    shown = tracker.ok("show", "halvdelen").output
    assert "Counted from:    with “Trial completed”, 1 March 2028 → 1 March 2028" in shown, shown
    assert "Moved with the deliverable its deadline follows." in shown
    danish = Tracker(database_url, register, lang="da").ok("show", "forsoeg-slut").output
    assert "Regnet fra:      2 år efter “Senfølgeklinikker etableret”, 1. marts 2026 → 1. marts 2028" in danish

    # "N år efter ID er færdig": from the day it was done, in the plan's time zone: 23:30 UTC on the leap day is
    # already 1 March in Copenhagen.
    assert due("rammen-evalueres") == "2030-12-31"
    with freeze_time("2028-02-29 23:30:00"):
        tracker.ok("status", "evaluering", "done", "--note", "Afleveret.")
    assert due("rammen-evalueres") == "2030-03-01"
    assert "2 years after “Evaluation of the trial” was done, 1 March 2028 → 1 March 2030" in tracker.ok(
        "show", "rammen-evalueres").output
    # Reopened, it counts from its due day again.
    tracker.ok("status", "evaluering", "in_progress", "--note", "Genåbnet.")
    assert due("rammen-evalueres") == "2030-12-31"

    # A sync keeps what the plan moved; a follower re-planned by hand follows no more.
    assert "already matches" in tracker.ok("sync").output
    assert due("halvdelen") == "2028-03-01"
    tracker.ok("replan", "halvdelen", "i 2027", "--reason", "Aftalt for sig.")
    tracker.ok("replan", "forsoeg-slut", "i 2029", "--reason", "Forlænget.")
    assert due("halvdelen") == "2027-12-31"

    report = tracker.ok("report", "--as-of", "2026-12-02").output
    assert "| en skabelon (before “Yearly regional status”, 1 January 2026 → 31 December 2025) |" in report
    assert "en to-årig periode (" not in report  # re-planned by hand: it follows nothing any more
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(tracker.ok(
        "report", "--as-of", "2026-12-02", "--format", "csv").output))}
    assert rows["skabelon"]["counted_from"] == "before “Yearly regional status”, 1 January 2026 → 31 December 2025"
    assert rows["evaluering"]["counted_from"] == ""
    folder = tmp_path / "feeds"
    tracker.ok("feed", "create", "--name", "alt", "--language", "en")
    tracker.ok("feed", "export", str(folder))
    (calendar,) = [icalendar.Calendar.from_ical(path.read_bytes()) for path in folder.glob("*.ics")]
    descriptions = {str(event["UID"]).split("@")[0]: str(event["DESCRIPTION"]) for event in calendar.walk("VEVENT")}
    assert "Counted from: before “Yearly regional status”, 1 January 2026 → 31 December 2025" in descriptions[
        "skabelon"]
    assert "Counted from" not in descriptions["senfoelgeklinikker"]
    with serving(database_url, datetime(2026, 12, 2, 10, tzinfo=timezone.utc)) as base:
        page = httpx.get(f"{base}/deliverables/skabelon", timeout=10).text
    assert "<dt>Regnet fra</dt><dd>før “Årlig regional status”, 1. januar 2026 → 31. december 2025</dd>" in page
