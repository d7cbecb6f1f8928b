"""`tracker report`: the status as of a day, later changes undone, compared against golden files.

The golden files under tests/golden/ were read by eye; regenerate them with
UPDATE_GOLDEN=1 after a deliberate change and read the diff.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from tests.conftest import Tracker
from tracker.text import csv_cell

GOLDEN = Path(__file__).parent / "golden"
CPH = ZoneInfo("Europe/Copenhagen")


@pytest.fixture
def history(tracker: Tracker) -> Tracker:
    """The small register through half a year: a status change, a re-plan, and a change after the report's day."""
    with freeze_time(datetime(2026, 1, 5, 10, tzinfo=CPH)):
        tracker.ok("sync")
    with freeze_time(datetime(2026, 3, 2, 14, tzinfo=CPH)):
        tracker.ok("status", "senfoelgeklinikker", "in_progress", "--note", "Region Nord er i gang.", "--by", "kg")
    with freeze_time(datetime(2026, 5, 4, 9, tzinfo=CPH)):
        tracker.ok("replan", "evaluering", "inden udgangen af 2029", "--reason", "Forsøget forlænges.", "--by", "kg")
    with freeze_time(datetime(2026, 8, 10, 9, tzinfo=CPH)):
        tracker.ok("status", "regional-status", "done", "--occurrence", "2026", "--note", "Modtaget.", "--by", "kg")
    return tracker


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8", newline="")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs; UPDATE_GOLDEN=1 shows how"


@pytest.mark.parametrize(("report_format", "lang"), [("md", "da"), ("csv", "da"), ("html", "da"), ("md", "en")])
def test_the_report_as_of_a_day_matches_its_golden_file(history: Tracker, report_format: str, lang: str) -> None:
    history.lang = lang
    output = history.ok("report", "--as-of", "2026-07-15", "--since", "2026-01-01", "--format", report_format).output
    golden(f"report-2026-07-15-{lang}.{report_format}", output)


def test_an_owners_answer_from_a_message_names_who_answered(history: Tracker) -> None:
    with freeze_time(datetime(2026, 8, 11, 9, tzinfo=CPH)):
        history.ok("status", "evaluering", "in_progress", "--note", "Vi er i gang.", "--by",
                   "Mette Sørensen <mette@rm.dk> via Slack")
    history.lang = "da"
    text = history.ok("report", "--as-of", "2026-08-12", "--since", "2026-08-01", "--format", "html").output
    assert "besvaret af Mette Sørensen &lt;mette@rm.dk&gt; via Slack" in text
    assert "besvaret af kg" not in text  # a coordinator's change is the task force's own, as before


def test_later_changes_are_undone_and_overdue_comes_first(history: Tracker) -> None:
    rows = list(csv.DictReader(io.StringIO(history.ok(
        "report", "--as-of", "2026-07-15", "--format", "csv").output)))
    by_id = {(row["id"], row["occurrence"]): row for row in rows}
    assert by_id[("regional-status", "2026")]["status"] == "not_started"  # done only on 10 August
    assert by_id[("regional-status", "2026")]["overdue"] == "yes"
    assert by_id[("senfoelgeklinikker", "")]["status"] == "in_progress"
    assert by_id[("evaluering", "")]["slippage_days"] == "365"
    assert [row["overdue"] for row in rows] == sorted((row["overdue"] for row in rows), reverse=True)
    later = {(row["id"], row["occurrence"]): row for row in csv.DictReader(io.StringIO(history.ok(
        "report", "--as-of", "2026-08-10", "--format", "csv").output))}
    assert later[("regional-status", "2026")]["status"] == "done"
    before = history.ok("report", "--as-of", "2026-01-04", "--format", "csv").output
    assert before.strip().count("\n") == 5  # before the first load: the plan as first loaded, not an empty one


def test_before_the_records_begin_the_plan_is_as_first_loaded_and_later_additions_are_absent(
        tracker: Tracker, small_register: Path, tmp_path: Path) -> None:
    text = small_register.read_text(encoding="utf-8")
    first = tmp_path / "first.toml"
    first.write_text(text[: text.index('[[deliverable]]\nid = "evaluering"')], encoding="utf-8")
    with freeze_time(datetime(2026, 11, 29, 10, tzinfo=CPH)):  # a deployment that starts late in the year
        Tracker(tracker.database_url, first).ok("sync")
    with freeze_time(datetime(2026, 12, 3, 10, tzinfo=CPH)):  # the register gains a deliverable
        tracker.ok("sync")

    def report(day: str) -> tuple[set[tuple[str, str]], str]:
        rows = csv.DictReader(io.StringIO(tracker.ok("report", "--as-of", day, "--format", "csv").output))
        overdue = {(row["id"], row["occurrence"]) for row in rows if row["overdue"] == "yes"}
        return overdue, tracker.ok("report", "--as-of", day).output

    midsummer, text_then = report("2026-07-15")
    # Both were overdue in July, though the tracker only learnt of them in November.
    assert midsummer == {("regional-status", "2026"), ("senfoelgeklinikker", "")}
    assert "The tracker's records begin on 29 November 2026" in text_then
    assert "evaluering" not in text_then  # added to the register on 3 December
    assert "evaluering" not in report("2026-12-02")[1]
    later = report("2026-12-03")[1]
    assert "evaluering" in later and "records begin" not in later


def test_the_html_report_is_well_formed_and_prints_on_a4(history: Tracker, tmp_path: Path) -> None:
    target = tmp_path / "rapport.html"
    history.lang = "da"
    history.ok("report", "--as-of", "2026-07-15", "--format", "html", "--output", str(target))
    page = target.read_text(encoding="utf-8")
    assert '<html lang="da">' in page and "@page { size: A4;" in page

    class Checker(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.open: list[str] = []
            self.headings: list[int] = []

        def handle_starttag(self, tag: str, attrs: list) -> None:
            if tag not in ("meta", "br", "link"):
                self.open.append(tag)
            if tag in ("h1", "h2", "h3"):
                self.headings.append(int(tag[1]))

        def handle_endtag(self, tag: str) -> None:
            assert self.open and self.open.pop() == tag, f"</{tag}> closes something else"

    checker = Checker()
    checker.feed(page)
    assert checker.open == []
    assert checker.headings[0] == 1 and all(b - a <= 1 for a, b in zip(checker.headings, checker.headings[1:]))


def test_one_party_and_bad_input(history: Tracker) -> None:
    # A party's items are those it is responsible or co-responsible for, as in its calendar and the dashboard:
    # sst co-owns the clinics.
    sst = history.ok("report", "--as-of", "2026-07-15", "--party", "sst", "--format", "csv").output
    assert [line.split(",")[1] for line in sst.strip().splitlines()[1:]] == ["senfoelgeklinikker"]
    assert "Sundhedsstyrelsen (responsible or co-responsible)" in history.ok(
        "report", "--as-of", "2026-07-15", "--party", "sst").output
    regions = history.ok("report", "--as-of", "2026-07-15", "--party", "regionerne").output
    assert "Regionerne" in regions
    unknown = history.fails("report", "--party", "regioner")
    assert "No party has the key 'regioner'" in unknown.output and "regionerne" in unknown.output
    assert history("report", "--as-of", "2026-01-01", "--since", "2026-02-01").exit_code == 2


@pytest.mark.parametrize(("value", "cell"), [("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1", "'+1"),
                                             ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("Senfølger", "Senfølger"),
                                             (None, ""), (2026, "2026"), (-3, "-3"), ("\t=1", "'\t=1")])
def test_csv_cells_never_run_as_formulas(value: object, cell: str) -> None:
    assert str(csv_cell(value)) == cell  # numbers stay numbers: -3 days of slippage is no formula


def test_the_next_report_lists_the_changes_since_the_last_one_written_out(history: Tracker, tmp_path: Path) -> None:
    first = tmp_path / "status-2026-07.md"
    history.ok("report", "--as-of", "2026-07-15", "--output", str(first))
    assert "2026-03-02 · senfoelgeklinikker" in first.read_text(encoding="utf-8")
    # The same report again, in another format, lists the same changes: not none, not a year's.
    printable = tmp_path / "status-2026-07.html"
    again = history.ok("report", "--as-of", "2026-07-15", "--format", "html", "--output", str(printable))
    assert "Changes as in the report already written as of 2026-07-15." in again.stderr
    html = printable.read_text(encoding="utf-8")
    assert "Changed since 16 July 2025" not in html and "2026-03-02" in html
    # Printed only, a report is a look, not an issued report: it does not move the mark.
    history.ok("report", "--as-of", "2026-09-01", "--party", "regionerne")
    following = history.ok("report", "--as-of", "2026-12-31")
    assert "Changes since the last report (as of 2026-07-15)." in following.stderr
    assert "Changed since 16 July 2026 (1)" in following.stdout
    changed = following.stdout.split("## Changed since")[1]
    assert "2026-08-10 · regional-status 2026" in changed and "2026-03-02" not in changed
    # Each party's reports have their own mark; the whole plan's is not theirs.
    regions = history.ok("report", "--as-of", "2026-12-31", "--party", "regionerne")
    assert "Changed since 31 December 2025" in regions.stdout and "last report" not in regions.stderr
    # Writing an older report again does not move the mark back.
    history.ok("report", "--as-of", "2026-03-01", "--output", str(tmp_path / "old.md"))
    assert "as of 2026-07-15" in history.ok("report", "--as-of", "2026-12-31").stderr
    # --since still says exactly what to list.
    assert "Changed since 1 January 2026 (3)" in history.ok("report", "--as-of", "2026-12-31", "--since",
                                                              "2026-01-01").stdout


def test_a_report_that_cannot_be_written_says_where_and_records_nothing(history: Tracker, tmp_path: Path) -> None:
    result = history.fails("report", "--as-of", "2026-07-15", "--output", str(tmp_path / "missing" / "r.md"))
    assert "Cannot write the report to" in result.output and "missing" in result.output
    assert "last report" not in history.ok("report", "--as-of", "2026-12-31").stderr
