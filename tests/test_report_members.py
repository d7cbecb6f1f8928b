"""`tracker report` and per-member deliverables ("i alle regioner"): a table of the members' own parts for each
such occurrence, and the counts by member ("by region"), in Markdown, CSV and HTML, as of the report's day.

The register is tests/fixtures/register_members.toml (the five regions, one per-member deliverable and one the
regions deliver as one), on SQLite and PostgreSQL; time is frozen with freezegun.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from tests.conftest import FIXTURES, Tracker

CPH = ZoneInfo("Europe/Copenhagen")
SENF = "senfoelgeklinikker"
NOTE_NORD = "Klinikken i Aalborg | åbnet *før* tid <b>"
NOTE_SJ = "=HYPERLINK(\"x\") mangler personale"


@pytest.fixture
def members(database_url: str) -> Tracker:
    """Half a year of the regions' own parts, and changes after the report's day (15 July 2026)."""
    tracker = Tracker(database_url, FIXTURES / "register_members.toml")
    with freeze_time(datetime(2026, 1, 5, 10, tzinfo=CPH)):
        tracker.ok("sync")
    with freeze_time(datetime(2026, 3, 2, 14, tzinfo=CPH)):
        tracker.ok("status", SENF, "done", "--member", "region-nordjylland", "--note", NOTE_NORD, "--by", "kg")
    with freeze_time(datetime(2026, 4, 7, 9, tzinfo=CPH)):
        tracker.ok("status", SENF, "at_risk", "--member", "region-sjaelland", "--note", NOTE_SJ,
                   "--by", "Mette <mette@regionsjaelland.dk> via Slack")
    with freeze_time(datetime(2026, 5, 11, 9, tzinfo=CPH)):
        tracker.ok("status", SENF, "in_progress", "--member", "region-syddanmark", "--note", "Åbner i august.",
                   "--by", "kg")
    with freeze_time(datetime(2026, 8, 10, 9, tzinfo=CPH)):  # after the report's day: undone in it
        tracker.ok("status", SENF, "done", "--member", "region-hovedstaden", "--note", "Åbnet på Rigshospitalet.",
                   "--by", "kg")
        tracker.ok("note", SENF, "Evalueres i 2027.", "--member", "region-nordjylland", "--by", "kg")
    return tracker


def report(tracker: Tracker, *args: str, lang: str = "en") -> str:
    tracker.lang = lang
    return tracker.ok("report", "--since", "2026-01-01", *args).output


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_has_a_row_per_members_part_as_of_the_day(members: Tracker) -> None:
    rows = csv_rows(report(members, "--as-of", "2026-07-15", "--format", "csv"))
    assert list(rows[0])[-2:] == ["member", "member_note"]
    clinics = [row for row in rows if row["id"] == SENF]
    whole, parts = clinics[0], {row["member"]: row for row in clinics[1:]}
    assert whole["member"] == "" and whole["status"] == "at_risk" and whole["overdue"] == "yes"
    assert list(parts) == ["region-hovedstaden", "region-sjaelland", "region-syddanmark", "region-midtjylland",
                           "region-nordjylland"]
    assert all(row["owner"] == "regionerne" for row in clinics)
    # Hovedstaden was done only on 10 August, and Nordjylland's later note is not yet written.
    assert (parts["region-hovedstaden"]["status"], parts["region-hovedstaden"]["overdue"]) == ("not_started", "yes")
    assert parts["region-hovedstaden"]["latest_update"] == ""
    assert (parts["region-nordjylland"]["status"], parts["region-nordjylland"]["overdue"]) == ("done", "no")
    assert parts["region-nordjylland"]["member_note"] == NOTE_NORD
    assert (parts["region-nordjylland"]["latest_update"], parts["region-nordjylland"]["latest_update_by"]) == \
        ("2026-03-02", "kg")
    assert parts["region-sjaelland"]["latest_update_by"] == "Mette <mette@regionsjaelland.dk> via Slack"
    assert parts["region-sjaelland"]["member_note"] == "'" + NOTE_SJ  # through the one CSV writer: no formula
    assert parts["region-syddanmark"]["status"] == "in_progress"
    evaluation = [row for row in rows if row["id"] == "evaluering"]
    assert len(evaluation) == 1 and evaluation[0]["member"] == ""

    later = {row["member"]: row for row in csv_rows(report(members, "--as-of", "2026-08-20", "--format", "csv"))
             if row["id"] == SENF}
    assert later["region-hovedstaden"]["status"] == "done"
    assert later["region-nordjylland"]["member_note"] == "Evalueres i 2027."
    assert later["region-nordjylland"]["latest_update"] == "2026-08-10"
    # Before any member changed anything: every part as the register loaded it.
    before = csv_rows(report(members, "--as-of", "2026-02-01", "--format", "csv"))
    assert {row["status"] for row in before if row["id"] == SENF} == {"not_started"}


def test_markdown_has_a_table_of_the_members_and_the_counts_by_member(members: Tracker) -> None:
    text = report(members, "--as-of", "2026-07-15")
    section = text[text.index("## Per member (1)"):]
    assert "### Late-effects clinics established (senfoelgeklinikker): 1 of 5 done" in section
    assert "| Member | Status | Overdue | Latest update | Latest note |" in section
    assert "| Capital Region of Denmark | not started | yes | – | – |" in section
    # Register and coordinator text escaped for a Markdown table cell.
    assert "| North Denmark Region | done | no | 2026-03-02, kg | Klinikken i Aalborg \\| åbnet \\*før\\* tid " \
           "\\<b\\> |" in section
    assert "| Region Zealand | at risk | yes | 2026-04-07, Mette \\<mette@regionsjaelland.dk\\> via Slack |" in section
    by_member = text[text.index("## By member of The regions"):]
    assert "| Member | done | in progress | at risk | overdue | not started | cancelled |" in by_member
    assert "| North Denmark Region | 1 | 0 | 0 | 0 | 0 | 0 |" in by_member
    assert "| Region Zealand | 0 | 0 | 1 (of them 1 overdue) | 1 | 0 | 0 |" in by_member
    assert "| Region of Southern Denmark | 0 | 1 (of them 1 overdue) | 0 | 1 | 0 | 0 |" in by_member
    # The whole occurrence in the main tables: the members' status rolled up, and how far they have come.
    assert "| at risk, overdue (1/5) |" in text


def test_a_coordinators_status_for_every_member_is_undone_member_by_member(members: Tracker) -> None:
    with freeze_time(datetime(2026, 9, 1, 9, tzinfo=CPH)):
        members.ok("status", SENF, "done", "--note", "Alle fem er åbnet.", "--by", "kg")
    after = {row["member"]: row for row in csv_rows(report(members, "--as-of", "2026-09-01", "--format", "csv"))
             if row["id"] == SENF}
    assert {row["status"] for row in after.values()} == {"done"}
    assert after["region-syddanmark"]["member_note"] == "Alle fem er åbnet."
    assert after["region-hovedstaden"]["member_note"] == "Åbnet på Rigshospitalet."  # already done: unchanged
    then = {row["member"]: row["status"] for row in csv_rows(report(
        members, "--as-of", "2026-08-31", "--format", "csv")) if row["id"] == SENF}
    assert then == {"": "at_risk", "region-hovedstaden": "done", "region-sjaelland": "at_risk",
                    "region-syddanmark": "in_progress", "region-midtjylland": "not_started",
                    "region-nordjylland": "done"}


class _Tables(HTMLParser):
    """Every table's rows (cell texts), and the text under the headings, from the report's HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.strong: list[str] = []
        self._heading: str | None = None
        self._cell: str | None = None
        self._in_strong = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h2", "h3"):
            self._heading = ""
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "strong":
            self._in_strong = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "h3") and self._heading is not None:
            self.headings.append(self._heading)
            self._heading = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(self._cell)
            self._cell = None
        elif tag == "strong":
            self._in_strong = False

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading += data
        if self._cell is not None:
            self._cell += data
        if self._in_strong:
            self.strong.append(data)


def test_html_has_the_same_tables_escaped(members: Tracker) -> None:
    text = report(members, "--as-of", "2026-07-15", "--format", "html", lang="da")
    assert "<b>" not in text and "&lt;b&gt;" in text
    parsed = _Tables()
    parsed.feed(text)
    # Matched by its start: "1 af 5 færdige" is English until the Danish catalogue has it.
    assert any(h.startswith("Senfølgeklinikker etableret (senfoelgeklinikker): 1 ") for h in parsed.headings), \
        parsed.headings
    regions = ["Region Hovedstaden", "Region Sjælland", "Region Syddanmark", "Region Midtjylland", "Region Nordjylland"]
    members_table, counts = [table for table in parsed.tables if [row[0] for row in table[1:]] == regions]
    assert len(members_table[0]) == 5 and len(counts[0]) == 7
    by_name = {row[0]: row[1:] for row in members_table[1:]}
    status, overdue, latest, note = by_name["Region Nordjylland"]
    assert (status, latest, note) == ("færdig", "2026-03-02, kg", NOTE_NORD)
    assert by_name["Region Hovedstaden"][0] == "ikke påbegyndt"
    assert parsed.strong == [by_name["Region Hovedstaden"][1]] * 4  # the four overdue members' "yes" stands out
    assert overdue not in parsed.strong
    assert counts[5][1:] == ["1", "0", "0", "0", "0", "0"]
    assert counts[2][1:4] == ["0", "0", "1 (heraf 1 forsinket)"]


def test_a_members_report_shows_its_own_part_and_counts_only_it(members: Tracker) -> None:
    text = report(members, "--as-of", "2026-07-15", "--party", "region-nordjylland")
    assert "| Late-effects clinics established (senfoelgeklinikker) | North Denmark Region |" in text
    assert "| done |" in text  # its own status, not the regions' rolled up
    assert "Nothing is overdue." in text
    by_member = text[text.index("## By member of The regions"):]
    assert "| North Denmark Region | 1 | 0 | 0 | 0 | 0 | 0 |" in by_member
    assert "Region Zealand" not in by_member
    changes = text[text.index("## Changed since"):]
    assert "senfoelgeklinikker (region-nordjylland)" in changes
    assert "region-sjaelland" not in changes  # another region's part is its own news
    rows = csv_rows(report(members, "--as-of", "2026-07-15", "--party", "region-nordjylland", "--format", "csv"))
    assert [(row["id"], row["owner"], row["member"], row["status"]) for row in rows] == [
        (SENF, "regionerne", "region-nordjylland", "done")]
    assert rows[0]["member_note"] == NOTE_NORD


def test_a_report_without_per_member_deliverables_keeps_its_columns(tracker: Tracker) -> None:
    with freeze_time(datetime(2026, 1, 5, 10, tzinfo=CPH)):
        tracker.ok("sync")
    text = report(tracker, "--as-of", "2026-07-15", "--format", "csv")
    assert text.splitlines()[0].endswith(",latest_update_by,counted_from")
    markdown = report(tracker, "--as-of", "2026-07-15")
    assert "## Per member" not in markdown and "By member of" not in markdown
