"""The dashboard per member ("i alle regioner") over HTTP: the matrix of a collective party, "3/5" on the timeline
with the late members named, and each member's part on the deliverable's page.

Served from a real uvicorn on loopback, on SQLite and PostgreSQL, at the task force's meeting on 23 November 2026:
the late-effects clinics were due in every region by 30 June 2026, and the evaluation is the regions' together.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Tracker
from tests.dashboard.conftest import MEETING, get, serving
from tests.dashboard.test_pages import PASSWORD_HEADER, TASK_FORCE, Page
from tracker.dashboard.access import parse_access

MEMBERS = ("region-hovedstaden", "region-sjaelland", "region-syddanmark", "region-midtjylland", "region-nordjylland")
MARKUP_NOTE = "Åbnet <b>i dag</b> & godkendt"


@pytest.fixture
def regions(database_url: str) -> str:
    """Two regions have answered: Nordjylland is done (with a note in markup), Sjælland at risk; the other three
    have not begun, so four regions are late."""
    plan = Tracker(database_url, FIXTURES / "register_members.toml")
    plan.ok("sync")
    plan.ok("status", "senfoelgeklinikker", "done", "--member", "region-nordjylland", "--note", MARKUP_NOTE,
            "--evidence", "https://example.org/nord.pdf", "--by", "Nina Nord")
    plan.ok("status", "senfoelgeklinikker", "at-risk", "--member", "region-sjaelland", "--note", "Mangler læger")
    return database_url


def cells(body: str) -> dict[str, tuple[str, str, str]]:
    """The matrix's cells of the clinics' row: member → (class, data-status, text)."""
    row = re.search(r'<tr [^>]*data-id="senfoelgeklinikker".*?</tr>', body, re.S)
    assert row, "the clinics have no row in the matrix"
    found = {}
    for match in re.finditer(r'<td class="member (?P<cls>[^"]*)" data-member="(?P<key>[^"]+)" '
                             r'data-status="(?P<status>[^"]+)">(?P<inner>.*?)</td>', row.group(0), re.S):
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match["inner"])).split())
        found[match["key"]] = (match["cls"], match["status"], text)
    return found


def test_the_matrix_has_a_row_per_deadline_and_a_cell_per_member(regions: str) -> None:
    with serving(regions, MEETING) as base:
        response = get(base, "/members/regionerne")
    assert response.status_code == 200
    page = Page(response.text)
    assert (1, "Fordelt på medlemmerne af Regionerne") in page.headings
    # A column per member, in the register's order, and only the per-member deliverable: the evaluation is the
    # regions' together and has no row.
    header = re.findall(r'<th scope="col" data-member="([^"]+)">', response.text)
    assert tuple(header) == MEMBERS
    assert [row["data-id"] for row in page.rows] == ["senfoelgeklinikker"]
    found = cells(response.text)
    assert found["region-nordjylland"] == ("done", "done", "færdig")
    # An open part past the due day is overdue, marked as the timeline marks it: the class, the ⚠ and the word.
    assert found["region-sjaelland"] == ("overdue", "at_risk", "i risiko, forsinket")
    for key in ("region-hovedstaden", "region-syddanmark", "region-midtjylland"):
        assert found[key] == ("overdue", "not_started", "ikke påbegyndt, forsinket")
    assert 'class="has-overdue"' in response.text
    # The progress column and the row's link to the deliverable's page.
    assert re.search(r'<td class="progress">1/5</td>', response.text)
    assert "/deliverables/senfoelgeklinikker" in page.links
    # The due day says by how much it is overdue; the roll-up's progress has its own column.
    assert "30. juni 2026 forsinket 146 dage" in page.all_text


def test_the_matrix_follows_the_members_to_done(regions: str) -> None:
    plan = Tracker(regions, FIXTURES / "register_members.toml")
    for member in ("region-hovedstaden", "region-syddanmark", "region-midtjylland"):
        plan.ok("status", "senfoelgeklinikker", "done", "--member", member, "--note", "Åbnet")
    plan.ok("status", "senfoelgeklinikker", "cancelled", "--member", "region-sjaelland", "--note",
            "Dækkes af Region Hovedstaden")
    with serving(regions, MEETING) as base:
        matrix = get(base, "/members/regionerne").text
        board = get(base, "/").text
    found = cells(matrix)
    assert found["region-sjaelland"] == ("cancelled", "cancelled", "aflyst")
    assert all(found[key][0] == "done" for key in MEMBERS if key != "region-sjaelland")
    # A member that cancelled its part is not counted: four of four, and nothing is late any more.
    assert re.search(r'<td class="progress">4/4</td>', matrix)
    assert "has-overdue" not in matrix and "⚠" not in matrix
    assert re.search(r'<text class="progress"[^>]*>4/4</text>', board)
    assert 'class="late-members"' not in board


def test_the_timeline_says_3_of_5_and_names_the_late_members_in_text_and_on_hover(regions: str) -> None:
    with serving(regions, MEETING) as base:
        board = get(base, "/").text
        english = get(base, "/?lang=en").text
    row = re.search(r'<g class="row[^"]*" data-id="senfoelgeklinikker">.*?\n  </g>', board, re.S)
    assert row, "the clinics have no row on the timeline"
    drawn = row.group(0)
    assert re.search(r'<text class="progress"[^>]*>1/5</text>', drawn)
    late = "Region Hovedstaden, Region Sjælland, Region Syddanmark, Region Midtjylland"
    # In text, on a line of its own under the row, for the wall screen and a screen reader...
    line = re.search(r'<text class="late-members"[^>]*>(.*?)</text>', drawn, re.S)
    assert line and html.unescape(line.group(1)) == f"⚠ 1/5 færdige, forsinket: {late}"
    # ...and on hover, in the mark's title, with the rest of what the mark says.
    titles = [html.unescape(title) for title in re.findall(r"<title>(.*?)</title>", drawn, re.S)]
    assert any(title.endswith(f"· 1/5 færdige, forsinket: {late}") and "30. juni 2026" in title
               for title in titles), titles
    assert "Region Nordjylland" not in line.group(1)
    # The row's stripe covers its extra line, and the SVG is tall enough for it.
    assert re.search(r'<rect class="stripe" x="0" y="\d+" width="1000" height="44"/>', drawn)
    # Linked to the matrix, in the viewer's language; the board links there too.
    assert "/members/regionerne" in Page(board).links
    assert "/members/regionerne?lang=en" in Page(english).links
    assert "1/5 done, late: Capital Region of Denmark, Region Zealand" in html.unescape(english)
    # The deadlines table says it as `tracker list` does.
    assert "forsinket 146 dage (ikke påbegyndt 1/5)" not in board  # the roll-up is at risk: Sjælland is
    assert "forsinket 146 dage (i risiko 1/5)" in Page(board).all_text


def test_the_deliverable_page_has_each_members_part(regions: str) -> None:
    access = parse_access(TASK_FORCE)
    with serving(regions, MEETING, access=access) as base:
        inside = get(base, "/deliverables/senfoelgeklinikker", headers=PASSWORD_HEADER).text
    with serving(regions, MEETING) as base:
        public = get(base, "/deliverables/senfoelgeklinikker").text
    members = re.search(r'<table class="members".*?</table>', inside, re.S)
    assert members
    rows = re.findall(r'<tr class="([^"]+)" data-member="([^"]+)" data-status="([^"]+)">(.*?)</tr>',
                      members.group(0), re.S)
    assert [key for _cls, key, _status, _inner in rows] == list(MEMBERS)
    by_member = {key: (cls, status, " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inner)).split()))
                 for cls, key, status, inner in rows}
    assert by_member["region-sjaelland"][:2] == ("overdue", "at_risk")
    assert "⚠ forsinket 146 dage (i risiko)" in by_member["region-sjaelland"][2]
    assert "Mangler læger" in by_member["region-sjaelland"][2]
    assert by_member["region-nordjylland"][:2] == ("done", "done")
    assert MARKUP_NOTE in by_member["region-nordjylland"][2]
    # Register and user text is escaped: the note's markup is text, not markup.
    assert "<b>i dag</b>" not in inside and "Åbnet &lt;b&gt;i dag&lt;/b&gt; &amp; godkendt" in inside
    assert 'href="https://example.org/nord.pdf"' in inside
    page = Page(inside)
    assert (3, "Pr. medlem: 1 af 5 færdige") in page.headings
    assert "Alle medlemmer" in page.all_text and "/members/regionerne" in page.links
    # The history names the member each change was for.
    assert "status ikke påbegyndt → færdig [Region Nordjylland]" in page.all_text
    assert "status ikke påbegyndt → i risiko [Region Sjælland]" in page.all_text
    # The public sees the members and their statuses, not what they wrote or who wrote it.
    assert re.search(r'data-member="region-sjaelland" data-status="at_risk"', public)
    assert "Mangler læger" not in public and "i dag" not in public and "nord.pdf" not in public
    assert "Nina Nord" not in public and "Nina Nord" in inside


def test_a_party_without_members_has_no_matrix_and_says_which_do(regions: str) -> None:
    with serving(regions, MEETING) as base:
        agency = get(base, "/members/sst")
        unknown = get(base, "/members/region-qaasuitsup?lang=en")
        member = get(base, "/members/region-nordjylland")
    assert agency.status_code == unknown.status_code == member.status_code == 404
    assert "Sundhedsstyrelsen har ingen medlemmer" in Page(agency.text).all_text
    assert "Regionerne (/members/regionerne)" in Page(agency.text).all_text
    assert "No party has the key 'region-qaasuitsup'." in Page(unknown.text).all_text
    assert "Region Nordjylland har ingen medlemmer" in Page(member.text).all_text


def test_a_collective_with_no_per_member_work_says_so(database_url: str, tmp_path: Path) -> None:
    text = (FIXTURES / "register_members.toml").read_text(encoding="utf-8")
    register = tmp_path / "register.toml"
    register.write_text(re.sub(r"per_member = true\nper_member_quote = .*\n", "", text), encoding="utf-8")
    Tracker(database_url, register).ok("sync")
    with serving(database_url, MEETING) as base:
        matrix = get(base, "/members/regionerne")
        board = get(base, "/").text
    assert matrix.status_code == 200
    assert "Ingen af leverancerne fra Regionerne leveres pr. medlem." in Page(matrix.text).all_text
    assert "<table" not in matrix.text
    assert "/members/regionerne" not in Page(board).links


def test_member_names_from_the_register_are_escaped_in_the_matrix_and_the_svg(tmp_path: Path,
                                                                               sqlite_url: str) -> None:
    text = (FIXTURES / "register_members.toml").read_text(encoding="utf-8")
    register = tmp_path / "register.toml"
    register.write_text(text.replace('name = "Region Sjælland"', "name = 'Region <i>Sjælland</i> & \"co\"'"),
                        encoding="utf-8")
    Tracker(sqlite_url, register).ok("sync")
    with serving(sqlite_url, MEETING) as base:
        matrix = get(base, "/members/regionerne").text
        board = get(base, "/").text
    for body in (matrix, board):
        assert "<i>Sjælland</i>" not in body
        assert "Region &lt;i&gt;Sjælland&lt;/i&gt; &amp; &#34;co&#34;" in body
