"""What the dashboard computes, without HTTP: counts, filters, and the timeline's geometry."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.dashboard.conftest import MEETING, get, serving
from tests.conftest import Tracker
from tracker.dashboard.views import TIMELINE_END, TIMELINE_START, FilterError, parse_filters, tally, timeline
from tests.plan_views import occurrence
from tracker.model import OccurrenceView, PlanNames, Status

NAMES = PlanNames(parties={"sst": ("Sundhedsstyrelsen", "Danish Health Authority"), "kl": ("KL", "KL")},
              themes={"anbefaling-2": (2, "Screening", "Screening")})


def view(ident: str = "a", *, due: date = date(2026, 6, 30), start: date | None = None, status: Status =
         Status.NOT_STARTED, today: date = date(2026, 11, 23), baseline: date | None = None, year: int | None = None,
         owner: str = "sst", co_owners: tuple[str, ...] = ()) -> OccurrenceView:
    return occurrence(
        deliverable_id=ident, title=f"Titel {ident}", title_en=f"Title {ident}", kind="report", owner=owner,
        co_owners=co_owners, deadline_text="medio 2026", window_start=start or due, due=due, year=year,
        status=status, overdue=today > due and not status.is_closed, baseline_due=baseline or due,
        theme="anbefaling-2", source_file="x.txt", source_section="1", source_quote="…")


def test_tally_counts_every_item_under_its_status_and_says_how_many_are_overdue() -> None:
    views = [view("a"), view("b", status=Status.IN_PROGRESS), view("c", status=Status.DONE),
             view("d", due=date(2027, 1, 1)), view("e", due=date(2027, 1, 1), status=Status.AT_RISK)]
    counts = tally(views)
    assert {entry.key: (entry.count, entry.overdue) for entry in counts.counts} == {
        "done": (1, 0), "in_progress": (1, 1), "at_risk": (1, 0), "overdue": (2, 0), "not_started": (2, 1),
        "cancelled": (0, 0)}
    assert counts.total == len(views) and counts["in_progress"] == 1


def test_filters_read_a_form_and_refuse_values_the_plan_does_not_have() -> None:
    assert parse_filters({"party": "sst", "theme": "", "status": "at_risk", "overdue": "1"}, NAMES).active
    assert not parse_filters({}, NAMES).active
    with pytest.raises(FilterError, match="'who'"):
        parse_filters({"party": "who"}, NAMES)
    with pytest.raises(FilterError, match="'anbefaling-12'"):
        parse_filters({"theme": "anbefaling-12"}, NAMES)
    with pytest.raises(FilterError, match="not_started, in_progress"):
        parse_filters({"status": "overdue"}, NAMES)  # overdue is its own filter, not a status


def test_one_row_per_deliverable_with_a_mark_per_occurrence_ordered_by_first_due_day() -> None:
    views = [view("yearly", due=date(2027, 3, 31), year=2027), view("yearly", due=date(2026, 3, 31), year=2026),
             view("early", due=date(2025, 12, 31)), view("late", due=date(2030, 12, 31))]
    drawn = timeline(views, date(2026, 11, 23), english=False)
    assert [row.id for row in drawn.rows] == ["early", "yearly", "late"]
    assert [mark.view.year for mark in drawn.rows[1].marks] == [2026, 2027]
    assert [year for year, _ in drawn.years] == [2025, 2026, 2027, 2028, 2029, 2030]


def test_a_fuzzy_deadline_has_a_window_and_a_replanned_one_its_baseline() -> None:
    quarter = view("q", start=date(2026, 1, 1), due=date(2026, 3, 31), baseline=date(2025, 12, 31),
                   today=date(2026, 1, 1))
    day = view("d", due=date(2026, 3, 31), today=date(2026, 1, 1))
    marks = {row.id: row.marks[0] for row in timeline([quarter, day], date(2026, 1, 1), english=True).rows}
    assert marks["q"].has_window and not marks["d"].has_window
    assert marks["q"].baseline is not None and marks["q"].baseline < marks["q"].due
    assert marks["d"].baseline is None
    assert marks["q"].standing == "not_started"


def test_the_leap_day_and_the_year_ends_sit_where_the_calendar_puts_them() -> None:
    days = [date(2028, 2, 28), date(2028, 2, 29), date(2028, 3, 1), date(2028, 12, 31), date(2029, 1, 1)]
    drawn = timeline([view(str(i), due=day) for i, day in enumerate(days)], date(2026, 1, 1), english=False)
    positions = {row.marks[0].view.due: row.marks[0].due for row in drawn.rows}
    step = 1 / (TIMELINE_END - TIMELINE_START).days  # one day
    assert positions[date(2028, 2, 29)] - positions[date(2028, 2, 28)] == pytest.approx(step)
    assert positions[date(2028, 3, 1)] - positions[date(2028, 2, 29)] == pytest.approx(step)
    assert positions[date(2029, 1, 1)] == pytest.approx(dict(drawn.years)[2029])


@given(st.lists(st.dates(date(2020, 1, 1), date(2035, 12, 31)), min_size=1, max_size=30),
       st.dates(date(2020, 1, 1), date(2035, 12, 31)))
def test_every_mark_is_on_the_plot_in_the_order_of_its_days(days: list[date], today: date) -> None:
    drawn = timeline([view(f"d{i}", due=day) for i, day in enumerate(days)], today, english=False)
    marks = [mark for row in drawn.rows for mark in row.marks]
    assert len(drawn.rows) == len(days)
    assert all(0.0 <= mark.window_start <= mark.due <= 1.0 for mark in marks)
    assert all(mark.past_end == (mark.view.due >= TIMELINE_END) for mark in marks)
    by_day = sorted(marks, key=lambda mark: mark.view.due)
    assert all(a.due <= b.due for a, b in zip(by_day, by_day[1:], strict=False))
    assert (drawn.today is None) == (not TIMELINE_START <= today < TIMELINE_END)


def test_a_row_is_overdue_when_any_of_its_occurrences_is() -> None:
    views = [view("y", due=date(2026, 3, 31), year=2026), view("y", due=date(2027, 3, 31), year=2027)]
    row = timeline(views, date(2026, 11, 23), english=False).rows[0]
    assert row.overdue
    assert [mark.standing for mark in row.marks] == ["overdue", "not_started"]
    done = [replace(views[0], status=Status.DONE, overdue=False), views[1]]
    assert not timeline(done, date(2026, 11, 23), english=False).rows[0].overdue


# -- the day the board shows is Copenhagen's, whatever the UTC date ------------------------------------------------

@pytest.mark.parametrize(("utc", "overdue"), [
    # Summer time began on 29 March 2026. Midnight starting 1 April in Copenhagen is 22:00 UTC on 31 March:
    # the 2026 regional status, due in the first quarter, is overdue from then, not from UTC's midnight.
    (datetime(2026, 3, 31, 21, 59, tzinfo=timezone.utc), []),
    (datetime(2026, 3, 31, 22, 0, tzinfo=timezone.utc), ["regional-status"]),
    # 00:30 on 1 July in Copenhagen is still 30 June in UTC: the clinics (due by mid-2026) are overdue already.
    (datetime(2026, 6, 30, 21, 30, tzinfo=timezone.utc), ["regional-status"]),
    (datetime(2026, 6, 30, 22, 30, tzinfo=timezone.utc), ["regional-status", "senfoelgeklinikker"]),
    # A year end in winter time: 00:30 on 1 January 2029 is 23:30 UTC on 31 December. The evaluation, due by
    # the end of 2028, is overdue with every earlier occurrence.
    (datetime(2028, 12, 31, 22, 59, tzinfo=timezone.utc),
     ["regional-status", "senfoelgeklinikker", "regional-status", "regional-status"]),
    (datetime(2028, 12, 31, 23, 30, tzinfo=timezone.utc),
     ["regional-status", "senfoelgeklinikker", "regional-status", "regional-status", "evaluering"]),
])
def test_overdue_turns_at_midnight_in_copenhagen(sqlite_url: str, small_register, utc: datetime,
                                                 overdue: list[str]) -> None:
    Tracker(sqlite_url, small_register).ok("sync")
    with serving(sqlite_url, utc) as base:
        body = get(base, "/", params={"overdue": "1"}).text
    assert re.findall(r'<tr class="overdue" data-id="([^"]+)"', body) == overdue


def test_the_board_of_the_meeting_day_says_which_day_it_is(sqlite_url: str, small_register) -> None:
    Tracker(sqlite_url, small_register).ok("sync")
    with serving(sqlite_url, MEETING + timedelta(hours=14)) as base:  # 00:00 on the 24th in Copenhagen
        assert "status pr. 24. november 2026" in get(base, "/").text
