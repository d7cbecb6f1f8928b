"""Undated commitments ("uden frist"): a deliverable the agreement gives no date.

The pure reading and the register's checks; the planner, which never reminds
or alerts by date and asks about it in every status round; and the plan on
real SQLite and PostgreSQL: listed apart by `tracker list --undated`, the
report and the dashboard, left out of the feeds, never overdue, and dated by
`tracker replan` (the first date becomes its baseline), with a report as of
an earlier day showing it undated again.
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
from tests.test_rounds import POLICY, plan_of, view
from tests.webserver import serving
from tracker.deadlines import Undated, parse_dated, parse_deadline
from tracker.errors import DeadlineError, RegisterError
from tracker.i18n import using_language
from tracker.model import OccurrenceView
from tracker.notify.contacts import Contacts
from tracker.notify.email import render_html
from tracker.notify.planner import bundle, occurrence_steps, plan_notices
from tracker.notify.slack import blocks_for
from tracker.policy import PolicySet
from tracker.register import parse_register
from tests.notify.test_sweep import BASE
from zoneinfo import ZoneInfo

CPH = ZoneInfo("Europe/Copenhagen")
UNDATED = '''

[[deliverable]]
id = "videreudvikling"
title = "Videreudvikling af pakkerne"
title_en = "Further development of the packages"
kind = "product"
owner = "regionerne"
deadline = "uden frist"
reading = "The agreement gives no date; dated with tracker replan when one is agreed."
theme = "anbefaling-7"
source = { file = "test", section = "Pakker", quote = "Regionerne videreudvikler pakkerne." }
'''


@pytest.fixture(autouse=True)
def _english() -> object:
    with using_language("en"):
        yield


def undated_view(**changes: object) -> OccurrenceView:
    from dataclasses import replace

    return replace(view("videreudvikling", date(2027, 1, 1)), window_start=None, due=None, baseline_due=None,
                   precision="undated", **changes)


def test_uden_frist_is_read_as_undated_and_a_new_deadline_must_name_a_day() -> None:
    for text in ("uden frist", "Uden frist.", "ingen frist", "no deadline", "undated"):
        assert parse_deadline(text) == Undated(text)
    with pytest.raises(DeadlineError, match="gives no date; a new deadline must name one"):
        parse_dated("uden frist")
    assert parse_dated("i 2027").due == date(2027, 12, 31)


def test_the_register_refuses_days_on_an_undated_commitment_and_a_deadline_that_follows_one(
        small_register: Path) -> None:
    text = small_register.read_text(encoding="utf-8") + UNDATED
    register = parse_register(text.encode())
    assert register.deliverables["videreudvikling"].occurrences()[0].deadline is None
    with pytest.raises(RegisterError) as raised:
        parse_register(text.replace('deadline = "uden frist"', 'deadline = "uden frist"\ndue = 2027-06-30').encode())
    assert "an undated commitment has no days: remove window_start and due" in " ".join(problem.message for problem in raised.value.problems)
    follower = UNDATED.replace('id = "videreudvikling"', 'id = "efter"').replace(
        'deadline = "uden frist"', 'deadline = "bagefter"\ninterpreted_as = "2 år efter videreudvikling"').replace(
        "Regionerne videreudvikler pakkerne.", "Bagefter.")
    with pytest.raises(RegisterError) as raised:
        parse_register((text + follower).encode())
    assert "follows 'videreudvikling', which is undated: there is no day to count from" in " ".join(problem.message for problem in raised.value.problems)


def test_an_undated_commitment_is_never_reminded_by_date_and_asked_in_every_round() -> None:
    subject = undated_view()
    assert not subject.overdue and subject.slippage_days == 0 and subject.due_order == date.max
    assert list(occurrence_steps(subject, PolicySet(), date(2031, 1, 1))) == []
    # Five years of the regions' yearly status: a round a year, and the undated item asked in each.
    subjects = [*plan_of(), *(view("regional-status", date(year, 3, 31), year=year) for year in (2028, 2029)),
                subject]
    plan = plan_notices(subjects, POLICY, Contacts(), (), date(2026, 1, 1), date(2030, 12, 31))
    about = [n for n in plan.notices if n.subject is not None and n.subject.deliverable_id == "videreudvikling"]
    assert {n.kind for n in about} == {"round"}
    opened = sorted(n.day for n in about if n.step.endswith(":open"))
    # 2029: Maundy Thursday and Good Friday (29 and 30 March) are not working days, so it opens earlier.
    assert opened == [date(2027, 3, 5), date(2028, 3, 10), date(2029, 3, 8)]
    opening = [n for n in plan.notices if n.day == date(2027, 3, 5)]
    (message,) = bundle(opening, subjects, [], POLICY, CPH, BASE)
    (item,) = [item for item in message.items if item.deliverable_id == "videreudvikling"]
    assert item.due is None
    assert "der er endnu ingen frist, så sig til, hvis en er aftalt" in item.line  # the party speaks Danish
    # Slack and e-mail say so where they would give the day.
    slack = json.dumps(blocks_for(message), ensure_ascii=False)
    assert "Frist: endnu ikke aftalt" in slack and "Frist: “uden frist”" not in slack
    assert "Frist: endnu ikke aftalt" in render_html(message)


def test_an_undated_commitment_is_listed_apart_and_dated_by_a_replan(database_url: str, small_register: Path,
                                                                     tmp_path: Path) -> None:
    register = tmp_path / "register.toml"
    register.write_text(small_register.read_text(encoding="utf-8") + UNDATED, encoding="utf-8")
    tracker = Tracker(database_url, register)
    with freeze_time("2026-03-02 09:00:00"):
        tracker.ok("sync")

    listed = json.loads(tracker.ok("list", "--undated", "--json").output)
    assert [(row["id"], row["due"], row["undated"], row["overdue"]) for row in listed] == [
        ("videreudvikling", None, True, False)]
    everything = json.loads(tracker.ok("list", "--json", "--today", "2031-01-01").output)
    assert everything[-1]["id"] == "videreudvikling"  # undated last; never overdue, years on
    assert "videreudvikling" not in tracker.ok("list", "--overdue", "--today", "2031-01-01").output
    assert "no deadline" in tracker.ok("list").output
    assert "no deadline" in tracker.ok("show", "videreudvikling").output
    refused = tracker("list", "--undated", "--overdue")
    assert refused.exit_code == 2 and "--undated lists what has no due day" in refused.output  # a usage error

    report = tracker.ok("report", "--as-of", "2026-12-02").output
    assert "## No deadline (1)" in report
    assert "| Further development of the packages (videreudvikling) | The regions | uden frist | no deadline |" \
        in report
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(tracker.ok(
        "report", "--as-of", "2026-12-02", "--format", "csv").output))}
    assert (rows["videreudvikling"]["due"], rows["videreudvikling"]["overdue"]) == ("", "no")
    folder = tmp_path / "feeds"
    tracker.ok("feed", "create", "--name", "alt", "--language", "en")
    tracker.ok("feed", "export", str(folder))

    def uids() -> set[str]:
        (calendar,) = [icalendar.Calendar.from_ical(path.read_bytes()) for path in folder.glob("*.ics")]
        return {str(event["UID"]).split("@")[0] for event in calendar.walk("VEVENT")}

    assert "videreudvikling" not in uids() and "evaluering" in uids()
    with serving(database_url, datetime(2026, 12, 2, 10, tzinfo=timezone.utc)) as base:
        board = httpx.get(f"{base}/?lang=en", timeout=10).text
        page = httpx.get(f"{base}/deliverables/videreudvikling", timeout=10).text
    assert '<h2 id="undated">No deadline</h2>' in board and 'data-id="videreudvikling"' in board
    assert "<td>uden frist</td>" in page  # the Danish page says so of its due day

    # A date agreed: a re-plan dates it, its first date is its baseline, and it joins the feeds.
    failed = tracker.fails("replan", "videreudvikling", "uden frist", "--reason", "Ingen dato.")
    assert "gives no date; a new deadline must name one" in failed.output
    with freeze_time("2026-12-03 10:00:00"):
        tracker.ok("replan", "videreudvikling", "andet halvår 2027", "--reason", "Aftalt på mødet.")
    (occurrence,) = json.loads(tracker.ok("show", "videreudvikling", "--json").output)["occurrences"]
    assert (occurrence["due"], occurrence["baseline_due"], occurrence["slippage_days"], occurrence["undated"]) == (
        "2027-12-31", "2027-12-31", 0, False)
    assert json.loads(tracker.ok("list", "--undated", "--json").output) == []
    tracker.ok("feed", "export", str(folder))
    assert "videreudvikling" in uids()
    # As of a day before the re-plan, the report shows it undated, as it was then.
    assert "## No deadline (1)" in tracker.ok("report", "--as-of", "2026-12-02").output
    assert "## No deadline" not in tracker.ok("report", "--as-of", "2026-12-04").output
