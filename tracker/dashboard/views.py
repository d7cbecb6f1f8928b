"""What the dashboard shows, computed from the plan's occurrences: counts, filters, the timeline's geometry and
the matrix of a collective party's members.

Pure: occurrences, names and today come in; plain values the templates draw
go out. Nothing here knows about HTTP or HTML (the templates escape).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from tracker.i18n import _
from tracker.model import Status, StatusCount, count_by_status, standing
from tracker.model import MemberPart, OccurrenceView, PlanNames

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

    @property
    def progress(self) -> str:
        """"3/5" beside a per-member occurrence's mark; "" for any other."""
        progress = self.view.progress
        return progress.short() if progress is not None and self.view.per_member else ""


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    marks: tuple[Mark, ...]
    line: int = 0  # the row's first line on the timeline: the rows above may take more than one each

    @property
    def overdue(self) -> bool:
        return any(mark.standing == "overdue" for mark in self.marks)

    @property
    def late_marks(self) -> tuple[Mark, ...]:
        """The marks of per-member occurrences with members late: each gets a line of its own under the row that
        names them, since a name only on hover is lost on a wall screen and to a screen reader."""
        return tuple(mark for mark in self.marks if mark.view.per_member and mark.view.late_members)

    @property
    def lines(self) -> int:
        return 1 + len(self.late_marks)


@dataclass(frozen=True)
class Timeline:
    rows: tuple[Row, ...]
    years: tuple[tuple[int, float], ...]  # each year and where it starts
    today: float | None  # None when today is outside the plotted years
    start: date = TIMELINE_START
    end: date = TIMELINE_END

    @property
    def lines(self) -> int:
        return sum(row.lines for row in self.rows)


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
    line = 0
    for index, row in enumerate(rows):
        rows[index] = replace(row, line=line)
        line += row.lines
    years = tuple((year, _position(date(year, 1, 1), start, end)) for year in range(start.year, end.year))
    today_at = _position(today, start, end) if start <= today < end else None
    return Timeline(rows=tuple(rows), years=years, today=today_at, start=start, end=end)



# Above this many deliverables on the timeline, the front page draws it by theme (``theme_timeline``): a row per
# deliverable would make the page grow with the plan. The rows stay one filter away (``?theme=``).
TIMELINE_ROWS = 80
# The front page's table shows this many deadlines a page; ``?page=all`` shows them all.
PAGE_SIZE = 100
# The front page lists at most this many overdue, coming or undated deadlines, and says how many more there are.
LISTED = 20
# How many days ahead "coming soon" looks.
SOON_DAYS = 30

# A quarter's cell takes the colour of the most pressing standing among its deadlines.
_URGENCY = ("overdue", "at_risk", "in_progress", "not_started", "done", "cancelled")


@dataclass(frozen=True)
class Cell:
    """A theme's deadlines due in one quarter: how many, how many overdue, and the most pressing standing."""

    year: int
    quarter: int
    start: float  # x of the quarter, as a fraction of the plotted span
    end: float
    count: int
    overdue: int
    standing: str


@dataclass(frozen=True)
class ThemeRow:
    key: str
    title: str
    cells: tuple[Cell, ...]
    count: int
    overdue: int


@dataclass(frozen=True)
class ThemeTimeline:
    rows: tuple[ThemeRow, ...]
    years: tuple[tuple[int, float], ...]
    today: float | None
    start: date = TIMELINE_START
    end: date = TIMELINE_END


def theme_timeline(views: Iterable[OccurrenceView], today: date, names: PlanNames, english: bool,
                   start: date = TIMELINE_START, end: date = TIMELINE_END) -> ThemeTimeline:
    """The timeline of a large plan: a row per theme, a cell per quarter with its deadlines counted.

    Its size is the themes times the quarters, whatever the size of the plan. A deadline due after the
    plotted years counts in the last quarter; one before them in the first.
    """
    counts: dict[str, dict[tuple[int, int], list[str]]] = {}
    for view in views:
        if view.due is None:
            continue
        due = min(max(view.due, start), end - timedelta(days=1))
        counts.setdefault(view.theme, {}).setdefault((due.year, (due.month - 1) // 3 + 1), []).append(
            standing(view.status, view.overdue))
    rows = []
    for key in sorted(counts, key=names.theme_order):
        cells = []
        for (year, quarter), standings in sorted(counts[key].items()):
            first = date(year, 3 * quarter - 2, 1)
            after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
            cells.append(Cell(year=year, quarter=quarter, start=_position(first, start, end),
                              end=_position(after, start, end), count=len(standings),
                              overdue=standings.count("overdue"),
                              standing=min(standings, key=_URGENCY.index)))
        rows.append(ThemeRow(key=key, title=names.theme(key, english), cells=tuple(cells),
                             count=sum(cell.count for cell in cells), overdue=sum(cell.overdue for cell in cells)))
    years = tuple((year, _position(date(year, 1, 1), start, end)) for year in range(start.year, end.year))
    today_at = _position(today, start, end) if start <= today < end else None
    return ThemeTimeline(rows=tuple(rows), years=years, today=today_at, start=start, end=end)


@dataclass(frozen=True)
class Page:
    """One page of the front page's table: which rows, and where the others are."""

    rows: list[OccurrenceView]
    number: int  # 1-based; 0 for "all on one page"
    pages: int
    first: int  # the 1-based position of the first row shown (0 when there are none)
    last: int
    total: int

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if 0 < self.number < self.pages else None


def page_of(views: list[OccurrenceView], asked: str | None, size: int = PAGE_SIZE) -> Page:
    """The ``asked`` page ("2"; "all" for every row; the first for anything else, or past the end: the last)."""
    total = len(views)
    pages = max(1, -(-total // size))
    if asked == "all":
        return Page(rows=views, number=0, pages=pages, first=1 if total else 0, last=total, total=total)
    try:
        number = min(max(1, int(asked or "1")), pages)
    except ValueError:
        number = 1
    rows = views[(number - 1) * size:number * size]
    first = (number - 1) * size + 1 if rows else 0
    return Page(rows=rows, number=number, pages=pages, first=first, last=first + len(rows) - 1 if rows else 0,
                total=total)

# ----------------------------------------------------------------------------------------------------------------
# Per member ("i alle regioner")


def members_said(view: OccurrenceView, english: bool) -> str:
    """"3/5 færdige, forsinket: Region Sjælland, Region Syddanmark": how far a per-member occurrence's members have
    come and who is late, in the words the reminders use; "" for an occurrence that is not per member."""
    progress = view.progress
    if progress is None or not view.per_member:
        return ""
    late = [part.label(english) for part in view.late_members]
    if late:
        return _("{progress} done, late: {members}").format(progress=progress.short(), members=", ".join(late))
    return _("{progress} done").format(progress=progress.short())


@dataclass(frozen=True)
class MemberCell:
    """One member's part of one occurrence, as its cell in the matrix shows it."""

    part: MemberPart
    standing: str  # its status, or "overdue": the rule the timeline marks by


@dataclass(frozen=True)
class MatrixRow:
    view: OccurrenceView
    cells: tuple[MemberCell | None, ...]  # one per member, in the columns' order; None where it has no part

    @property
    def overdue(self) -> bool:
        return any(cell is not None and cell.standing == "overdue" for cell in self.cells)


@dataclass(frozen=True)
class Matrix:
    """A collective party's per-member deliverables against its members: a row per occurrence, a column per
    member."""

    collective: str
    members: tuple[str, ...]
    rows: tuple[MatrixRow, ...]


def member_matrix(views: Iterable[OccurrenceView], collective: str, members: Iterable[str]) -> Matrix:
    """The occurrences ``collective``'s members each deliver their own part of, open and closed, in the order
    they come (the plan's: by due day); withdrawn ones are nobody's work and are left out."""
    members = tuple(members)
    rows = []
    for view in views:
        if not view.per_member or view.owner != collective or view.withdrawn:
            continue
        parts = {part.key: part for part in view.members}
        rows.append(MatrixRow(view=view, cells=tuple(
            MemberCell(part, standing(part.status, part.overdue)) if (part := parts.get(key)) else None
            for key in members)))
    return Matrix(collective=collective, members=members, rows=tuple(rows))


def collectives_shown(views: Iterable[OccurrenceView], names: PlanNames) -> list[str]:
    """The collective parties with per-member occurrences among ``views``, in the plan's order of parties: the
    board links to their pages."""
    owners = {view.owner for view in views if view.per_member and not view.withdrawn}
    return [key for key in names.members if key in owners]
