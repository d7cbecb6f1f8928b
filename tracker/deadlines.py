"""Deadlines as plans write them, read into windows of days.

"senest i første halvår af 2026" is not a date; it is a window (1 January to
30 June 2026) whose last day is the due day. A ``Deadline`` keeps the window,
how precise the text was, and the text itself. A ``Recurrence`` ("én gang
årligt fra første kvartal 2026 og til og med 2030") expands into one
``Deadline`` a year.

Readings that are choices rather than facts (what "medio" means, for example)
are documented in ``docs/register.md`` under "Deadlines" and next to the code
that makes them below.

Everything here is pure: no clock, no I/O.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from tracker.errors import DeadlineError
from tracker.i18n import _


class Precision(StrEnum):
    """How precisely the text names the deadline, from finest to coarsest."""

    DAY = "day"
    PART_OF_MONTH = "part_of_month"
    MONTH = "month"
    QUARTER = "quarter"
    PART_OF_YEAR = "part_of_year"
    HALF = "half"
    YEAR = "year"
    PERIOD = "period"
    UNDATED = "undated"  # no due day at all ("uden frist"): stored on an occurrence that has none


@dataclass(frozen=True)
class Period:
    """A named stretch of the calendar, independent of any text.

    ``index`` means the month (1-12) for months, the quarter (1-4), the half
    (1-2), the part (1 primo, 2 medio, 3 ultimo) for parts of a year, and for
    parts of a month ``month * 10 + part``. ``last_year`` is only for periods
    of several years. ``starts_only`` marks "pr. januar 2026": due on the first
    day of the period.
    """

    precision: Precision
    year: int
    index: int = 0
    day: int = 0
    last_year: int = 0
    starts_only: bool = False

    def window(self) -> tuple[date, date]:
        first, last = self._span()
        return (first, first) if self.starts_only else (first, last)

    def _span(self) -> tuple[date, date]:
        year = self.year
        match self.precision:
            case Precision.DAY:
                day = date(year, self.index, min(self.day, _days_in_month(year, self.index)))
                return day, day
            case Precision.MONTH:
                return _month_span(year, self.index)
            case Precision.PART_OF_MONTH:
                month, part = divmod(self.index, 10)
                first_of_month, last_of_month = _month_span(year, month)
                # Reading (docs/register.md): primo = days 1-10, medio = 11-20, ultimo = 21-end.
                starts = {1: 1, 2: 11, 3: 21}
                ends = {1: 10, 2: 20, 3: last_of_month.day}
                return date(year, month, starts[part]), date(year, month, ends[part])
            case Precision.QUARTER:
                return _month_span(year, 3 * self.index - 2)[0], _month_span(year, 3 * self.index)[1]
            case Precision.HALF:
                return _month_span(year, 6 * self.index - 5)[0], _month_span(year, 6 * self.index)[1]
            case Precision.PART_OF_YEAR:
                # Reading (docs/register.md): primo = January-February, medio = June-July,
                # ultimo = November-December. "Medio 2026" is due 31 July 2026: the text
                # has not slipped until the middle of the year is clearly over.
                first_month, last_month = {1: (1, 2), 2: (6, 7), 3: (11, 12)}[self.index]
                return _month_span(year, first_month)[0], _month_span(year, last_month)[1]
            case Precision.YEAR:
                return date(year, 1, 1), date(year, 12, 31)
            case Precision.PERIOD:
                return date(year, 1, 1), date(self.last_year, 12, 31)
        raise AssertionError(self.precision)  # pragma: no cover - the match is exhaustive

    def moved_by_years(self, years: int) -> Period:
        """The same period ``years`` later: Q1 2026 moved by 2 is Q1 2028.

        Recomputed from the period, not by shifting dates, so that the end of
        February and 29 February land right in leap years.
        """
        last_year = self.last_year + years if self.last_year else 0
        return replace(self, year=self.year + years, last_year=last_year)


@dataclass(frozen=True)
class Deadline:
    """A window of days and the text it was read from. The due day is the window's last day."""

    text: str
    window_start: date
    due: date
    precision: Precision
    period: Period

    @classmethod
    def from_period(cls, text: str, period: Period) -> Deadline:
        window_start, due = period.window()
        return cls(text=text, window_start=window_start, due=due, precision=period.precision, period=period)

    def is_overdue(self, today: date) -> bool:
        """True once the due day has passed; the due day itself is not overdue."""
        return today > self.due


@dataclass(frozen=True)
class Undated:
    """A commitment the source gives no date ("uden frist"): one occurrence with no due day, never overdue and
    never reminded by date, until a re-plan dates it."""

    text: str

    @property
    def precision(self) -> Precision:
        return Precision.UNDATED


@dataclass(frozen=True)
class Occurrence:
    """One due instance of a deliverable: ``key`` is None for a one-off, else its year. ``deadline`` is None for
    an undated commitment."""

    key: int | None
    deadline: Deadline | None


@dataclass(frozen=True)
class Recurrence:
    """A yearly deadline from a first period up to and including ``until_year``."""

    text: str
    first: Period
    until_year: int

    @property
    def precision(self) -> Precision:
        return self.first.precision

    def occurrences(self) -> list[Occurrence]:
        """One occurrence a year, keyed by the year of its due day."""
        result: list[Occurrence] = []
        years = 0
        while True:
            deadline = Deadline.from_period(self.text, self.first.moved_by_years(years))
            if deadline.due.year > self.until_year:
                return result
            result.append(Occurrence(key=deadline.due.year, deadline=deadline))
            years += 1


Schedule = Deadline | Recurrence | Undated
DatedSchedule = Deadline | Recurrence

# The words for "no date": the register's form for an undated commitment (docs/register.md, "Undated").
UNDATED_FORMS = ("uden frist", "ingen frist", "udateret", "no deadline", "undated")


def occurrences_of(schedule: Schedule) -> list[Occurrence]:
    """Every occurrence of a schedule: one keyless one for a plain deadline or an undated commitment."""
    if isinstance(schedule, Recurrence):
        return schedule.occurrences()
    if isinstance(schedule, Undated):
        return [Occurrence(key=None, deadline=None)]
    return [Occurrence(key=None, deadline=schedule)]


def accepted_forms() -> str:
    """The forms a deadline may take, for messages (in the language of the moment, so called when one is built)."""
    return _(
        "2026-03-31 · 31/12/2026 · 31.12.2026 · 31. marts 2026 · september 2025 · Q1 2026 · første kvartal 2026 · "
        "H1 2026 · første halvår af 2026 · primo/medio/ultimo 2026 · 2027 · "
        "i løbet af 2026 · inden udgangen af 2027 · pr. januar 2026 · 2026-2027 · "
        "én gang årligt fra første kvartal 2026 og til og med 2030 (English forms too: "
        "31 March 2026, first half of 2026, mid 2026, by the end of 2027, annually from Q1 2026 through 2030)"
    )

_MONTH_NAMES = {
    name: number
    for number, names in enumerate(
        [
            ("januar", "january", "jan"),
            ("februar", "february", "feb"),
            ("marts", "march", "mar"),
            ("april", "apr"),
            ("maj", "may"),
            ("juni", "june", "jun"),
            ("juli", "july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("oktober", "october", "okt", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_ORDINALS = {
    "første": 1, "1.": 1, "1": 1, "first": 1, "1st": 1,
    "anden": 2, "andet": 2, "2.": 2, "2": 2, "second": 2, "2nd": 2,
    "tredje": 3, "3.": 3, "3": 3, "third": 3, "3rd": 3,
    "fjerde": 4, "4.": 4, "4": 4, "fourth": 4, "4th": 4,
}
_PARTS = {"primo": 1, "early": 1, "start of": 1, "beginning of": 1,
          "medio": 2, "mid": 2, "middle of": 2,
          "ultimo": 3, "late": 3}

_MONTH = "(?P<month>" + "|".join(sorted(_MONTH_NAMES, key=len, reverse=True)) + r")\.?"
_ORDINAL = "(?P<ordinal>" + "|".join(re.escape(o) for o in sorted(_ORDINALS, key=len, reverse=True)) + ")"
_PART = "(?P<part>" + "|".join(sorted(_PARTS, key=len, reverse=True)) + ")"
_YEAR = r"(?P<year>\d{4})"
_OF = r"(?:\s+(?:af|of|i|in))?"

# Words that say "by" or "in" without changing the window (docs/register.md:
# "inden udgangen af 2027" bounds the deadline; it does not widen the window).
_LEADING_WORDS = re.compile(
    r"^(?:senest|inden\s+udgangen\s+af|frem\s+mod\s+udgangen\s+af|ved\s+udgangen\s+af|"
    r"inden|frem\s+mod|i\s+løbet\s+af|løbet\s+af|i|til|"
    r"no\s+later\s+than|by\s+the\s+end\s+of|before\s+the\s+end\s+of|at\s+the\s+end\s+of|"
    r"the\s+end\s+of|end\s+of|by|in\s+the\s+course\s+of|during|in)\s+"
)
_STARTS_WORDS = re.compile(
    r"^(?:med\s+virkning\s+)?(?:pr\.|per)\s*|^(?:med\s+virkning\s+)?fra\s+(?:og\s+med\s+)?|"
    r"^(?:with\s+effect\s+)?(?:as\s+of|from)\s+"
)

_SINGLE_FORMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(?P<year>\d{4})-(?P<month_number>\d{2})-(?P<day>\d{2})$"), "iso_day"),
    # Danish numeric dates, day first: 31/12/2026, 31.12.2026, 31-12-2026 (the year in full: "1/2/26" is refused).
    (re.compile(r"^(?P<day>\d{1,2})(?P<separator>[./-])(?P<month_number>\d{1,2})(?P=separator)(?P<year>\d{4})$"),
     "iso_day"),
    (re.compile(rf"^(?P<day>\d{{1,2}})\.?\s+{_MONTH}\s+{_YEAR}$"), "day"),
    (re.compile(rf"^{_MONTH}\s+(?P<day>\d{{1,2}}),?\s+{_YEAR}$"), "day"),
    (re.compile(r"^(?P<year>\d{4})-(?P<month_number>\d{2})$"), "iso_month"),
    (re.compile(rf"^{_MONTH}{_OF}\s+{_YEAR}$"), "month"),
    (re.compile(rf"^q(?P<index>[1-4])\s*{_YEAR}$"), "quarter"),
    (re.compile(rf"^{_YEAR}\s*-?\s*q(?P<index>[1-4])$"), "quarter"),
    (re.compile(rf"^{_ORDINAL}\s+(?:kvartal|quarter){_OF}\s+{_YEAR}$"), "quarter_ordinal"),
    (re.compile(rf"^h(?P<index>[12])\s*{_YEAR}$"), "half"),
    (re.compile(rf"^{_YEAR}\s*-?\s*h(?P<index>[12])$"), "half"),
    (re.compile(rf"^{_ORDINAL}\s+(?:halvår|halvdel|half){_OF}\s+{_YEAR}$"), "half_ordinal"),
    (re.compile(rf"^{_PART}(?:\s+|-){_MONTH}\s+{_YEAR}$"), "part_of_month"),
    (re.compile(rf"^{_PART}(?:\s+|-){_YEAR}$"), "part_of_year"),
    (re.compile(rf"^{_YEAR}$"), "year"),
    (re.compile(r"^(?P<year>\d{4})\s*(?:-|til|to|through)\s*(?P<last_year>\d{4})$"), "period"),
]

_RECURRENCE = re.compile(
    r"^(?:(?:én|en|1)\s+gang\s+(?:årligt|om\s+året)|årligt|hvert\s+år|"
    r"once\s+a\s+year|once\s+every\s+year|annually|yearly|every\s+year)"
    r"(?:\s+(?:fra|from|starting(?:\s+in)?|begyndende(?:\s+i)?)\s+(?P<first>.+?))?"
    r"(?:\s*,?\s+(?:og\s+)?(?:til\s+og\s+med|up\s+to\s+and\s+including|through|until|to|til)\s+"
    r"(?P<until>\d{4}))?$"
)


def _normalise(text: str) -> str:
    folded = " ".join(text.replace("\u2013", "-").replace("\u2014", "-").replace("\u00a0", " ").split())
    return folded.strip().rstrip(".").strip().lower()


def parse_deadline(text: str) -> Schedule:
    """Read a deadline, a yearly recurrence or "uden frist" (``Undated``) from the way a plan writes it.

    Raises DeadlineError naming the text and the accepted forms.
    """
    if not isinstance(text, str) or not text.strip():
        raise DeadlineError(_("an empty deadline cannot be read. Accepted forms: {forms}").format(
            forms=accepted_forms()))
    normalised = _normalise(text)
    if normalised in UNDATED_FORMS:
        return Undated(text)
    recurrence = _RECURRENCE.match(normalised)
    if recurrence:
        return _read_recurrence(text, recurrence)
    return Deadline.from_period(text, _read_period(text, normalised))


def is_undated(text: str) -> bool:
    """Whether ``text`` is the register's form for "no date" ("uden frist")."""
    return isinstance(text, str) and _normalise(text) in UNDATED_FORMS


def parse_dated(text: str) -> DatedSchedule:
    """A deadline that names a day: what a re-plan or an owner's request gives. "uden frist" is refused, since
    the date an undated commitment gets is the point of re-planning it."""
    schedule = parse_deadline(text)
    if isinstance(schedule, Undated):
        raise DeadlineError(_("{text!r} gives no date; a new deadline must name one. Accepted forms: {forms}").format(
            text=text, forms=accepted_forms()))
    return schedule


def _read_recurrence(text: str, match: re.Match[str]) -> Recurrence:
    if match["until"] is None:
        raise DeadlineError(_(
            "the recurrence {text!r} has no end. Say when it ends, for example "
            "'én gang årligt fra første kvartal 2026 og til og med 2030'."
        ).format(text=text))
    if match["first"] is None:
        raise DeadlineError(_(
            "the recurrence {text!r} has no start. Say when it starts, for example "
            "'årligt fra 2026 til og med 2030'."
        ).format(text=text))
    first = _read_period(text, match["first"])
    until_year = int(match["until"])
    if first.precision is Precision.PERIOD:
        raise DeadlineError(_("a recurrence must start with one period, not the span {span!r} in {text!r}.").format(
            span=match["first"], text=text))
    if until_year < first.window()[1].year:
        raise DeadlineError(_(
            "the recurrence {text!r} ends ({until_year}) before its first occurrence is due ({due})."
        ).format(text=text, until_year=until_year, due=first.window()[1].isoformat()))
    return Recurrence(text=text, first=first, until_year=until_year)


def _read_period(text: str, normalised: str) -> Period:
    remainder = normalised
    starts_only = False
    for _attempt in range(4):  # "senest i første halvår af 2026": strip "senest", then "i"
        starts = _STARTS_WORDS.match(remainder)
        if starts:
            starts_only = True
            remainder = remainder[starts.end():]
            continue
        leading = _LEADING_WORDS.match(remainder)
        if not leading:
            break
        remainder = remainder[leading.end():]
    for pattern, form in _SINGLE_FORMS:
        match = pattern.match(remainder)
        if match:
            period = _period_from_match(text, form, match)
            return replace(period, starts_only=True) if starts_only else period
    raise DeadlineError(_("cannot read the deadline {text!r}. Accepted forms: {forms}").format(
        text=text, forms=accepted_forms()))


def _period_from_match(text: str, form: str, match: re.Match[str]) -> Period:
    year = int(match["year"])
    if not 1900 <= year <= 2200:
        raise DeadlineError(_("the year {year} in {text!r} is outside 1900-2200.").format(year=year, text=text))
    groups = match.groupdict()
    month = _MONTH_NAMES.get(groups.get("month") or "", 0) or int(groups.get("month_number") or 0)
    if form in ("iso_day", "day", "iso_month") and not 1 <= month <= 12:
        raise DeadlineError(_("there is no month {month} in {text!r}.").format(month=month, text=text))
    match form:
        case "iso_day" | "day":
            day = int(match["day"])
            if not 1 <= day <= _days_in_month(year, month):
                raise DeadlineError(_("{text!r} names a day that does not exist.").format(text=text))
            return Period(Precision.DAY, year, index=month, day=day)
        case "iso_month" | "month":
            return Period(Precision.MONTH, year, index=month)
        case "quarter":
            return Period(Precision.QUARTER, year, index=int(match["index"]))
        case "quarter_ordinal":
            return Period(Precision.QUARTER, year, index=_ORDINALS[match["ordinal"]])
        case "half":
            return Period(Precision.HALF, year, index=int(match["index"]))
        case "half_ordinal":
            half = _ORDINALS[match["ordinal"]]
            if half > 2:
                raise DeadlineError(_("a year has two halves, not {half}, in {text!r}.").format(half=half, text=text))
            return Period(Precision.HALF, year, index=half)
        case "part_of_month":
            return Period(Precision.PART_OF_MONTH, year, index=month * 10 + _PARTS[match["part"]])
        case "part_of_year":
            return Period(Precision.PART_OF_YEAR, year, index=_PARTS[match["part"]])
        case "year":
            return Period(Precision.YEAR, year)
        case "period":
            last_year = int(match["last_year"])
            if last_year <= year:
                raise DeadlineError(_("the period {text!r} must end in a later year than it starts.").format(
                    text=text))
            return Period(Precision.PERIOD, year, last_year=last_year)
    raise AssertionError(form)  # pragma: no cover - every form above is handled


def _days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _month_span(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, _days_in_month(year, month))


def day_forms() -> str:
    """The forms a day may take, for messages (in the language of the moment, so called when one is built)."""
    return _("2026-12-31, 31/12/2026, 31.12.2026, 31-12-2026 or 31. december 2026")


def parse_day(text: str) -> date:
    """One day as people write it (``day_forms()``); DeadlineError for anything else, a month or a quarter too."""
    try:
        schedule = parse_deadline(text)
    except DeadlineError:
        schedule = None
    if not isinstance(schedule, Deadline) or schedule.precision is not Precision.DAY:
        raise DeadlineError(_("{text!r} is not a day. Write it as {forms}.").format(text=text, forms=day_forms()))
    return schedule.due



# -- Deadlines set by another deliverable --------------------------------------------------------------------------
#
# "i forbindelse med retningslinjerne", "inden den første status", "evalueres efter to år": many commitments are
# dated by another deliverable. A register entry writes that reading as ``interpreted_as = "med ID"``, "før ID",
# "N år efter ID" (from its due day) or "N år efter ID er færdig" (from the day it was marked done). The day is
# resolved from the one it follows, and moves when that one moves (docs/register.md, "Deadlines that follow
# another deliverable").

BEFORE, WITH, AFTER = "before", "with", "after"

_ID = r"(?P<target>[a-z0-9]+(?:-[a-z0-9]+)*)"
_YEARS_WORDS = {"et": 1, "én": 1, "en": 1, "ét": 1, "one": 1, "to": 2, "two": 2, "tre": 3, "three": 3, "fire": 4,
                "four": 4, "fem": 5, "five": 5}
_COUNT = r"(?P<years>\d{1,2}|" + "|".join(sorted(_YEARS_WORDS, key=len, reverse=True)) + ")"
_FOLLOWS_FORMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^(?:før|inden|before)\s+{_ID}$"), BEFORE),
    (re.compile(rf"^(?:med|sammen\s+med|i\s+forbindelse\s+med|with|together\s+with)\s+{_ID}$"), WITH),
    (re.compile(rf"^{_COUNT}\s+(?:år|years?)\s+(?:efter|after)\s+{_ID}"
                r"(?P<done>\s+(?:er\s+færdig|er\s+afsluttet|is\s+done|is\s+finished))?$"), AFTER),
]


@dataclass(frozen=True)
class Follows:
    """A deadline set by another deliverable (``target``): before it, with it, or ``years`` after its due day (or,
    ``from_done``, after the day it was marked done)."""

    text: str
    relation: str  # BEFORE, WITH or AFTER
    target: str  # the deliverable it follows
    years: int = 0
    from_done: bool = False


def parse_follows(text: str) -> Follows | None:
    """The deadline ``text`` as one set by another deliverable, or None when it is not of those forms (then it
    is an ordinary deadline: ``parse_deadline``)."""
    if not isinstance(text, str):
        return None
    normalised = _normalise(text)
    for pattern, relation in _FOLLOWS_FORMS:
        match = pattern.match(normalised)
        if match is None:
            continue
        years = 0
        if relation == AFTER:
            count = match["years"]
            years = _YEARS_WORDS[count] if count in _YEARS_WORDS else int(count)
            if years < 1:
                raise DeadlineError(_("{text!r} must follow by at least one year.").format(text=text))
        return Follows(text=text, relation=relation, target=match["target"], years=years,
                       from_done=relation == AFTER and bool(match["done"]))
    return None


def resolve_follows(follows: Follows, target: Deadline, done_on: date | None = None) -> Deadline:
    """The deadline ``follows`` gives, from the deadline of the one it follows (its first occurrence, for a
    recurring one) and, for "N år efter ID er færdig", the day that one was marked done.

    Readings (docs/register.md): "før ID" is due the day before the window of ID opens (the template before the
    first status is written); "med ID" has the window of ID; "N år efter ID" is the window of ID N years later
    (a trial started "i 2026" ends "i 2028"); "N år efter ID er færdig" is the day N years after it was marked
    done, and until then the window N years after that of ID.
    """
    if follows.relation == WITH:
        return replace(target, text=follows.text)
    if follows.relation == BEFORE:
        return _on_day(follows.text, date.fromordinal(target.window_start.toordinal() - 1))
    if follows.from_done and done_on is not None:
        return _on_day(follows.text, years_later(done_on, follows.years))
    return Deadline(text=follows.text, window_start=years_later(target.window_start, follows.years),
                    due=years_later(target.due, follows.years), precision=target.precision,
                    period=target.period.moved_by_years(follows.years))


def _on_day(text: str, day: date) -> Deadline:
    return Deadline.from_period(text, Period(Precision.DAY, day.year, index=day.month, day=day.day))


def years_later(day: date, years: int) -> date:
    """The same day ``years`` later; the last day of a month stays the last (28 February 2027 → 29 February 2028)."""
    last = _days_in_month(day.year, day.month)
    target_last = _days_in_month(day.year + years, day.month)
    return date(day.year + years, day.month, target_last if day.day == last else min(day.day, target_last))
