"""The front page of a large plan: summarised and paged, so its size does not grow with the plan.

The shipped register three and six times over (``tools/scaled_register.py``: the same deliverables under new ids,
as if the task force followed other plans beside this one), synced and served over HTTP on SQLite and
PostgreSQL at a meeting in November 2026, when some of each copy is overdue.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import Tracker
from tests.dashboard.conftest import MEETING, get, serving
from tracker.dashboard.access import parse_access
from tests.dashboard.test_pages import Page
from tools.scaled_register import scaled_register
from tracker.register import default_register_path, load_register

SHIPPED = default_register_path().read_text(encoding="utf-8")


def large_plan(database_url: str, tmp_path: Path, copies: int) -> int:
    """The shipped plan ``copies`` times in the database; how many occurrences it has."""
    path = tmp_path / f"register-{copies}.toml"
    path.write_text(scaled_register(SHIPPED, copies), encoding="utf-8")
    Tracker(database_url, path).ok("sync")
    return sum(len(deliverable.occurrences()) for deliverable in load_register(path).deliverables.values())


@pytest.fixture
def triple(database_url: str, tmp_path: Path) -> tuple[str, int]:
    return database_url, large_plan(database_url, tmp_path, 3)


def test_the_timeline_of_a_large_plan_is_drawn_by_theme_and_the_table_paged(triple: tuple[str, int]) -> None:
    database_url, occurrences = triple
    with serving(database_url, MEETING) as base:
        response = get(base, "/")
        assert response.status_code == 200
        page = Page(response.text)
        themes = re.findall(r'<g class="theme-row[^"]*" data-theme="([^"]+)"', response.text)
        dated = {deliverable.theme for deliverable in load_register().deliverables.values()
                 if any(occurrence.deadline is not None for occurrence in deliverable.occurrences())}
        assert set(themes) == dated and len(themes) == len(dated)  # a row per theme with deadlines...
        assert page.timeline_rows == []  # ...and none per deliverable
        assert len(page.rows) == 100
        assert "Viser {} af {} frister.".format(occurrences, occurrences) in page.all_text
        assert "Række 1–100 af {}".format(occurrences) in page.all_text
        assert "/?page=2#deadlines" in page.links and "/?page=all#deadlines" in page.links

        # The overdue list names twenty and links to all of them; the counts at the top count them all.
        overdue = Page(response.text).all_text
        listed = re.search(r"<h2 id=\"overdue-list\">Forsinket \((\d+)\)</h2>", response.text)
        assert listed is not None and int(listed.group(1)) > 20
        assert f"Alle {listed.group(1)}" in overdue

        last = Page(get(base, f"/?page={-(-occurrences // 100)}").text)
        assert 0 < len(last.rows) <= 100
        everything = Page(get(base, "/?page=all").text)
        assert len(everything.rows) == occurrences
        assert [row["data-id"] for row in everything.rows[:100]] == [row["data-id"] for row in page.rows]
        # A page past the end shows the last; words that are no page show the first.
        assert Page(get(base, "/?page=999").text).rows == last.rows
        assert Page(get(base, "/?page=to").text).rows == page.rows

        # A theme's deadlines are one click away, and the filter is kept from page to page.
        theme = Page(get(base, f"/?theme={themes[0]}").text)
        assert theme.rows and all(f"theme={themes[0]}" in link for link in theme.links if "page=" in link)

        english = get(base, "/?lang=en").text
        assert "Rows 1–100 of {}".format(occurrences) in Page(english).all_text


def test_the_front_page_does_not_grow_with_the_plan(tmp_path: Path) -> None:
    """Its size, on SQLite (the page is the same on any database)."""
    sizes = []
    for copies in (3, 6):
        url = f"sqlite:///{tmp_path / f'plan-{copies}.db'}"
        large_plan(url, tmp_path, copies)
        with serving(url, MEETING) as base:
            sizes.append(len(get(base, "/").content))
    assert sizes[1] < sizes[0] * 1.1  # twice the plan, the same page (counts have more digits)


def test_a_change_shows_at_the_next_request_though_pages_are_kept(board: str) -> None:
    """The plan read and the page rendered are kept until the plan changes: a status set with the CLI between
    two requests in the same minute is on the second, and the public never gets the task force's page."""
    with serving(board, MEETING) as base:
        before = get(base, "/").text
        assert get(base, "/").text == before  # the same minute, the same plan: the same page
        Tracker(board, None).ok("status", "evaluering", "at_risk", "--note", "Forsinket af udbud",
                                "--by", "Mette Koordinator")
        after = get(base, "/").text
        assert after != before
        assert 'data-id="evaluering"' in after
        row = re.search(r'<tr class="([^"]+)" data-id="evaluering"', after)
        assert row is not None and row.group(1) == "at_risk"
        assert "Forsinket af udbud" not in after  # the public page: no notes, however it was cached
    with serving(board, MEETING, access=parse_access("basic:taskforce:korrekt-hest-batteri")) as base:
        assert get(base, "/").status_code == 401
        seen = get(base, "/", auth=("taskforce", "korrekt-hest-batteri")).text
        assert "Forsinket af udbud" in seen
        assert get(base, "/").status_code == 401  # a kept page is never a way past the credential
