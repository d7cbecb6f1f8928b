"""The dashboard over HTTP: what the task force sees, what the public does not, and what the browser is told.

Each test serves a synced copy of the small register (with markup in a
title) from a real uvicorn on loopback, on SQLite and PostgreSQL, at a fixed
moment: 23 November 2026, when the clinics (due by mid-2026) and the 2026
regional status (due in the first quarter) are overdue.
"""

from __future__ import annotations

import base64
import html
import re
from html.parser import HTMLParser

import httpx
import icalendar
import pytest

from tests.dashboard.conftest import HOSTILE_TITLE, INTERNAL_NOTE, MEETING, get, serving
from tracker.dashboard.access import parse_access

TASK_FORCE = "basic:taskforce:korrekt-hest-batteri"
PASSWORD_HEADER = {"Authorization": "Basic " + base64.b64encode(b"taskforce:korrekt-hest-batteri").decode()}


class Page(HTMLParser):
    """The parts of a page the tests read: headings, table rows, timeline rows, labels, links, text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.headings: list[tuple[int, str]] = []
        self.rows: list[dict[str, str]] = []  # the deadlines table: data-id and class
        self.timeline_rows: list[str] = []
        self.labels: set[str] = set()
        self.controls: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self.scripts = 0
        self._heading: int | None = None
        self.lang = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "html":
            self.lang = attributes.get("lang", "")
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = int(tag[1])
            self.headings.append((self._heading, ""))
        if tag == "tr" and "data-id" in attributes:
            self.rows.append(attributes)
        if tag == "g" and "row" in attributes.get("class", "").split():
            self.timeline_rows.append(attributes["data-id"])
        if tag == "label":
            self.labels.add(attributes.get("for", ""))
        if tag in ("select", "input") and attributes.get("type") != "hidden":
            self.controls.append(attributes.get("id", ""))
        if tag == "a":
            self.links.append(attributes.get("href", ""))
        if tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._heading is not None:
            level, text = self.headings[-1]
            self.headings[-1] = (level, text + data)

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def test_the_board_counts_draws_and_lists_the_plan_in_danish(board: str) -> None:
    with serving(board, MEETING) as base:
        response = get(base, "/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = Page(response.text)
    assert page.lang == "da"
    assert page.headings[0] == (1, "Kræftplan V: status pr. 23. november 2026")
    # Two overdue (the clinics, the 2026 regional status); 2027 and 2028 not started; the re-planned evaluation.
    # Each status counts its overdue items too, and says so: the clinics are in progress, and overdue.
    counts = re.findall(r'<li class="count (\w+)">.*?<span class="number">(\d+)</span>', response.text)
    assert dict(counts) == {"done": "0", "in_progress": "1", "at_risk": "0", "overdue": "2", "not_started": "4"}
    assert "i gang heraf 1 forsinket" in page.all_text and "ikke påbegyndt heraf 1 forsinket" in page.all_text
    assert sorted(page.timeline_rows) == ["evaluering", "regional-status", "senfoelgeklinikker"]
    assert [row["data-id"] for row in page.rows] == ["regional-status", "senfoelgeklinikker", "regional-status",
                                                     "regional-status", "evaluering"]
    assert [row["class"] for row in page.rows] == ["overdue", "overdue", "not_started", "not_started", "not_started"]
    assert "forsinket 237 dage (i gang)" in page.all_text  # 31 March to 23 November
    assert "Viser 5 af 5 frister." in page.all_text


def test_the_page_is_accessible_by_construction(board: str) -> None:
    with serving(board, MEETING) as base:
        page = Page(get(base, "/").text)
    levels = [level for level, _text in page.headings]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(later - earlier <= 1 for earlier, later in zip(levels, levels[1:], strict=False))  # no level skipped
    assert page.controls and set(page.controls) <= page.labels  # every control has a label
    assert page.scripts == 0


def test_english_is_one_link_away_and_every_link_keeps_it(board: str) -> None:
    with serving(board, MEETING) as base:
        danish = Page(get(base, "/").text)
        assert "/?lang=en" in danish.links
        english = Page(get(base, "/?lang=en").text)
    assert english.lang == "en"
    assert english.headings[0] == (1, "Cancer Plan V: status as of 23 November 2026")
    internal = [link for link in english.links if link.startswith("/") and not link.startswith("/static")]
    switch = [link for link in internal if "lang=en" not in link]
    assert switch == ["/"]  # the one link without it is the switch back to Danish


def test_filters_narrow_the_table_and_the_timeline(board: str) -> None:
    with serving(board, MEETING) as base:
        overdue = Page(get(base, "/", params={"overdue": "1"}).text)
        started = Page(get(base, "/", params={"status": "in_progress"}).text)
        nothing = Page(get(base, "/", params={"party": "ism"}).text)
        co_owner = Page(get(base, "/", params={"party": "sst"}).text)
    assert [row["data-id"] for row in overdue.rows] == ["regional-status", "senfoelgeklinikker"]
    assert sorted(overdue.timeline_rows) == ["regional-status", "senfoelgeklinikker"]
    assert [row["data-id"] for row in started.rows] == ["regional-status"]
    assert nothing.rows == [] and nothing.timeline_rows == []
    assert "Ingen frister passer til filteret." in nothing.all_text
    assert [row["data-id"] for row in co_owner.rows] == ["senfoelgeklinikker"]  # sst shares it as co-owner


def test_every_count_leads_to_as_many_deadlines(board: str) -> None:
    """A number on the board and the list its link opens must agree: the tiles, and each party's and theme's row."""
    with serving(board, MEETING) as base:
        body = get(base, "/").text
        tiles = re.findall(r'<li class="count \w+"><a href="([^"]+)"><span class="number">(\d+)</span>', body)
        rows = re.findall(r'<tr><th scope="row"><a href="([^"]+)">[^<]*</a></th>.*?<td>(\d+)</td></tr>', body)
        # A party that only shares work as co-owner has its row too (sst co-owns the clinics).
        assert [href for href, _count in rows] == ["/?party=regionerne#deadlines", "/?party=sst#deadlines",
                                                   "/?theme=anbefaling-7#deadlines"]
        assert len(tiles) == 5
        for href, count in tiles + rows:
            shown = Page(get(base, html.unescape(href).split("#")[0]).text).rows
            assert len(shown) == int(count), href


def test_labels_follow_the_page_language_not_the_process(board: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_LANG", "en")  # the process speaks English; the page asked for is Danish
    with serving(board, MEETING) as base:
        danish = Page(get(base, "/").text).all_text
        english = Page(get(base, "/?lang=en").text).all_text
    assert "ikke påbegyndt" in danish and "Anbefaling 7: Senfølger" in danish
    assert "not started" not in danish and "Recommendation 7" not in danish
    assert "not started" in english and "Recommendation 7: Late effects" in english
    assert "ikke påbegyndt" not in english and "Anbefaling" not in english


def test_overdue_days_and_slippage_are_counted_in_words_that_agree(board: str) -> None:
    day_after = MEETING.replace(month=4, day=1)  # the 2026 regional status fell due on 31 March
    with serving(board, day_after) as base:
        danish = Page(get(base, "/deliverables/regional-status").text).all_text
        english = Page(get(base, "/deliverables/regional-status?lang=en").text).all_text
    assert "forsinket 1 dag (i gang)" in danish and "overdue by 1 day (in progress)" in english


@pytest.mark.parametrize(("query", "named"), [
    ({"party": "sundhedsministeriet"}, "'sundhedsministeriet'"),
    ({"theme": "anbefaling-99"}, "'anbefaling-99'"),
    ({"status": "late"}, "'late'"),
    ({"overdue": "maybe"}, "overdue=1"),
])
def test_an_unknown_filter_value_is_a_400_that_names_it_and_still_shows_the_plan(board: str, query: dict,
                                                                                 named: str) -> None:
    with serving(board, MEETING) as base:
        response = get(base, "/", params={**query, "lang": "en"})
    assert response.status_code == 400
    alert = re.search(r'<p class="error" role="alert">(.*?)</p>', response.text)
    assert alert and named in alert.group(1).replace("&#39;", "'")
    assert len(Page(response.text).rows) == 5


def test_register_text_is_escaped_in_html_and_in_the_svg(board: str) -> None:
    with serving(board, MEETING) as base:
        board_page = get(base, "/").text
        detail = get(base, "/deliverables/evaluering").text
    for body in (board_page, detail):
        assert "<script>" not in body and "<b>co</b>" not in body
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;co&lt;/b&gt;" in body
    assert Page(detail).headings[0] == (1, HOSTILE_TITLE)


def test_the_browser_is_told_to_load_nothing_from_elsewhere(board: str) -> None:
    with serving(board, MEETING) as base:
        response = get(base, "/")
        css = get(base, "/static/dashboard.css")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "style-src 'self'" in policy and "script-src" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in policy
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    # Nothing on the page points off the server: no CDN, no web font, no analytics.
    assert not re.search(r'(src|href)="(https?:)?//', response.text)
    assert "url(" not in css.text and "@import" not in css.text


def test_a_deliverable_page_has_every_field_its_deadlines_source_history_and_calendars(board: str) -> None:
    with serving(board, MEETING, base_url="https://tracker.example.dk") as base:
        page = Page(get(base, "/deliverables/regional-status").text)
    text = page.all_text
    assert page.headings[0] == (1, "Årlig regional status")
    for expected in ("én gang årligt fra første kvartal 2026 og til og med 2028",  # the deadline as written
                     "Regionerne", "Senfølger", "2026", "2027", "2028",
                     "status ikke påbegyndt → i gang (2026)", "forsinket 237 dage (i gang)"):
        assert expected in text, expected
    assert "webcal://tracker.example.dk/calendar/party/regionerne.ics" in page.links
    assert "https://tracker.example.dk/calendar/theme/anbefaling-7.ics" in page.links
    assert [level for level, _ in page.headings] == [1, 2, 2, 2, 2]


def test_the_public_sees_no_notes_no_evidence_and_no_names(board: str) -> None:
    with serving(board, MEETING) as base:
        bodies = [get(base, "/").text, get(base, "/deliverables/regional-status").text,
                  get(base, "/calendar/party/regionerne.ics").text]
    for body in bodies:
        assert "Intern note" not in body and "example.org/status.pdf" not in body and "Mette" not in body
    assert "Noter vises ikke" in bodies[0]


def test_with_auth_configured_nothing_is_shown_without_the_credential(board: str) -> None:
    access = parse_access(TASK_FORCE)
    with serving(board, MEETING, access=access) as base:
        for path in ("/", "/deliverables/regional-status", "/calendar/party/regionerne.ics", "/?party=nope"):
            refused = get(base, path)
            assert refused.status_code == 401, path
            assert refused.headers["www-authenticate"].startswith("Basic realm=")
            assert "regional" not in refused.text.lower()
        wrong = get(base, "/", headers={"Authorization": "Basic " + base64.b64encode("taskforce:gæt".encode()).decode()})
        assert wrong.status_code == 401
        # The feeds and the health check are never behind it: they have tokens, or nothing to hide.
        assert get(base, "/healthz").status_code == 200
        assert get(base, "/static/dashboard.css").status_code == 200


def test_the_task_force_sees_notes_evidence_and_who(board: str) -> None:
    with serving(board, MEETING, access=parse_access(TASK_FORCE)) as base:
        board_page = get(base, "/", headers=PASSWORD_HEADER).text
        detail = get(base, "/deliverables/regional-status", headers=PASSWORD_HEADER).text
        calendar = get(base, "/calendar/party/regionerne.ics", headers=PASSWORD_HEADER)
    escaped_note = "Intern note: &lt;i&gt;budget&lt;/i&gt; &amp; tidsplan ændret"
    assert escaped_note in board_page and escaped_note in detail
    assert "Mette Koordinator" in detail
    assert '<a href="https://example.org/status.pdf" rel="noreferrer">' in detail
    assert "Noter vises ikke" not in board_page
    assert calendar.status_code == 200
    descriptions = [str(event["DESCRIPTION"]) for event in icalendar.Calendar.from_ical(calendar.content).walk("VEVENT")]
    assert any(INTERNAL_NOTE in description for description in descriptions)


def test_a_token_opens_the_dashboard_as_a_bearer_or_as_a_basic_password(board: str) -> None:
    secret = "kiosk-skaerm-i-moedelokalet"
    with serving(board, MEETING, access=parse_access("token:" + secret)) as base:
        assert get(base, "/", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
        basic = base64.b64encode(f"vaeg:{secret}".encode()).decode()
        assert get(base, "/", headers={"Authorization": f"Basic {basic}"}).status_code == 200
        assert get(base, "/", headers={"Authorization": f"Bearer {secret}x"}).status_code == 401


def test_a_party_calendar_has_its_deadlines_and_an_unknown_one_is_404(board: str) -> None:
    with serving(board, MEETING) as base:
        regions = get(base, "/calendar/party/regionerne.ics")
        sst = get(base, "/calendar/party/sst.ics?lang=en")
        theme = get(base, "/calendar/theme/anbefaling-7.ics")
        assert get(base, "/calendar/party/nobody.ics").status_code == 404
        assert get(base, "/calendar/region/regionerne.ics").status_code == 404
        assert get(base, "/calendar/party/regionerne").status_code == 404
        again = get(base, "/calendar/party/regionerne.ics", headers={"If-None-Match": regions.headers["etag"]})
    assert regions.headers["content-type"] == "text/calendar; charset=utf-8"
    uids = {str(event["UID"]) for event in icalendar.Calendar.from_ical(regions.content).walk("VEVENT")}
    assert len(uids) == 5  # every occurrence of the three deliverables regionerne owns
    sst_events = icalendar.Calendar.from_ical(sst.content).walk("VEVENT")
    assert [str(event["UID"]) for event in sst_events] == ["senfoelgeklinikker@kraeftplan-v.tracker"]
    assert "Overdue" in str(sst_events[0]["SUMMARY"])  # in English, as asked
    assert len(icalendar.Calendar.from_ical(theme.content).walk("VEVENT")) == 5
    assert again.status_code == 304


def test_an_unknown_deliverable_is_404_with_the_closest_ids(board: str) -> None:
    with serving(board, MEETING) as base:
        response = get(base, "/deliverables/regional-statu")
    assert response.status_code == 404
    assert 'href="/deliverables/regional-status"' in response.text


def test_head_answers_like_get_without_a_body(board: str) -> None:
    with serving(board, MEETING) as base, httpx.Client(base_url=base) as client:
        head = client.head("/")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-security-policy"]


def test_a_database_that_does_not_answer_is_a_503_not_a_traceback(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'tracker.db'}"
    with serving(url, MEETING) as base:
        response = get(base, "/")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "60"
    assert "Traceback" not in response.text and "databasen svarer ikke" in response.text
