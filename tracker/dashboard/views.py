"""What the dashboard shows, computed from the plan's occurrences: counts, filters and the timeline's geometry.

Pure: occurrences, names and today come in; plain values the templates draw
go out. Nothing here knows about HTTP or HTML (the templates escape).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tracker.i18n import _
from tracker.model import Status, StatusCount, count_by_status, standing
from tracker.model import OccurrenceView, PlanNames

# The timeline spans the plan's years: the agreement's deliverables fall due from 2025 to 2030.
TIMELINE_START = date(2025, 1, 1)
TIMELINE_END = date(2031, 1, 1)  # exclusive: the end of 2030


# ----------------------------------------------------------------------------------------------------------------
# Counts


@dataclass(frozen=True)
class Tally:
    """How many occurrences have each status, overdue ones included and said, and how many are overdue in all
    (``tracker.model.count_by_status``, the rule the report counts by too)."""

    counts: tuple[StatusCount, ...]
    total: int

    def __getitem__(self, key: str) -> int:
        return next(entry.count for entry in self.counts if entry.key == key)


def tally(views: Iterable[OccurrenceView]) -> Tally:
    views = list(views)
    return Tally(count_by_status((view.status, view.overdue) for view in views), len(views))


def tally_by(views: list[OccurrenceView], groups: Callable[[OccurrenceView], Iterable[str]],
             order: Callable[[str], Any] | None = None) -> list[tuple[str, Tally]]:
    """One tally per group, in ``order`` (by default the group's key); a view counts in every group it names."""
    members: dict[str, list[OccurrenceView]] = {}
    for view in views:
        for group in dict.fromkeys(groups(view)):  # once per group, in case the register names a party twice
            members.setdefault(group, []).append(view)
    return [(group, tally(members[group])) for group in sorted(members, key=order or (lambda k: k))]


# ----------------------------------------------------------------------------------------------------------------
# Filters


class FilterError(ValueError):
    """A filter value the plan does not know; the message names the parameter and the choices."""


@dataclass(frozen=True)
class Filters:
    party: str = ""
    theme: str = ""
    status: str = ""
    overdue: bool | None = None  # None: overdue or not; True: only overdue; False: only what is not overdue

    @property
    def active(self) -> bool:
        return bool(self.party or self.theme or self.status or self.overdue is not None)

    def admits(self, view: OccurrenceView) -> bool:
        # A party's work includes what it shares as co-owner: the same rule as its calendar feed.
        if self.party and self.party not in view.parties:
            return False
        if self.theme and view.theme != self.theme:
            return False
        if self.status and view.status.value != self.status:
            return False
        return self.overdue is None or self.overdue == view.overdue


def parse_filters(query: Mapping[str, str], names: PlanNames) -> Filters:
    """The filters in a query string; FilterError for a value that is not in the plan.

    Empty values mean "all", as a form submits them.
    """
    party = query.get("party", "").strip()
    theme = query.get("theme", "").strip()
    status = query.get("status", "").strip()
    overdue = query.get("overdue", "").strip()
    if party and party not in names.parties:
        raise FilterError(_("No party has the key {key!r}. Choose one from the list, or all parties.")
                          .format(key=party))
    if theme and theme not in names.themes:
        raise FilterError(_("No theme has the key {key!r}. Choose one from the list, or all themes.")
                          .format(key=theme))
    if status and status not in {s.value for s in Status}:
        raise FilterError(_("There is no status {status!r}. Choose one of: {choices}.")
                          .format(status=status, choices=", ".join(s.value for s in Status)))
    if overdue.lower() not in _YES_NO:
        raise FilterError(_("overdue=1 shows only overdue deadlines and overdue=0 only those that are not; "
                            "leave it out to show all."))
    return Filters(party=party, theme=theme, status=status, overdue=_YES_NO[overdue.lower()])


# What a form, a bookmark or a hand-typed address may say for the overdue filter.
_YES_NO: dict[str, bool | None] = {"": None, **dict.fromkeys(("1", "on", "yes", "true"), True),
                                   **dict.fromkeys(("0", "off", "no", "false"), False)}


# ----------------------------------------------------------------------------------------------------------------
# The timeline


@dataclass(frozen=True)
class Mark:
    """One occurrence on its deliverable's row; x positions are fractions of the plotted span (0–1)."""

    view: OccurrenceView
    window_start: float  # where the deadline's window opens (equals ``due`` for a day deadline)
    due: float
    baseline: float | None  # the first planned due day, where a re-plan moved it
    standing: str
    past_end: bool  # due after the plotted years: drawn at the right edge, pointing on

    @property
    def has_window(self) -> bool:
        return self.due - self.window_start > 0.0005


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    marks: tuple[Mark, ...]

    @property
    def overdue(self) -> bool:
        return any(mark.standing == "overdue" for mark in self.marks)


@dataclass(frozen=True)
class Timeline:
    rows: tuple[Row, ...]
    years: tuple[tuple[int, float], ...]  # each year and where it starts
    today: float | None  # None when today is outside the plotted years
    start: date = TIMELINE_START
    end: date = TIMELINE_END


def _position(day: date, start: date, end: date) -> float:
    span = (end - start).days
    return min(1.0, max(0.0, (day - start).days / span))


def timeline(views: Iterable[OccurrenceView], today: date, english: bool,
             start: date = TIMELINE_START, end: date = TIMELINE_END) -> Timeline:
    """One row per deliverable, ordered by its first due day; a mark per occurrence."""
    by_id: dict[str, list[OccurrenceView]] = {}
    for view in views:
        if view.due is not None:  # an undated commitment has no place on a line of days: the page lists it apart
            by_id.setdefault(view.deliverable_id, []).append(view)
    rows = []
    for ident, occurrences in by_id.items():
        occurrences.sort(key=lambda v: (v.due_order, v.year or 0))
        marks = []
        for view in occurrences:
            due, window_start = view.due_order, view.window_start or view.due_order
            # The window ends with the due day, so a quarter's bar covers the whole quarter.
            marks.append(Mark(
                view=view,
                window_start=_position(window_start, start, end),
                due=_position(due, start, end),
                baseline=_position(view.baseline_due, start, end)
                if view.baseline_due is not None and view.baseline_due != due else None,
                standing=standing(view.status, view.overdue),
                past_end=due >= end,
            ))
        first = occurrences[0]
        rows.append(Row(id=ident, title=first.title_en if english else first.title, marks=tuple(marks)))
    rows.sort(key=lambda row: (row.marks[0].view.due_order, row.id))
    years = tuple((year, _position(date(year, 1, 1), start, end)) for year in range(start.year, end.year))
    today_at = _position(today, start, end) if start <= today < end else None
    return Timeline(rows=tuple(rows), years=years, today=today_at, start=start, end=end)

