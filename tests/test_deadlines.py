"""Deadlines: the forms plans use, read into windows; property tests on the parser."""

from __future__ import annotations

import calendar
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.deadlines import Deadline, Precision, Recurrence, occurrences_of, parse_deadline
from tracker.errors import DeadlineError

EXAMPLES = [
    # text, window start, due, precision
    ("2026-03-31", date(2026, 3, 31), date(2026, 3, 31), Precision.DAY),
    ("31. marts 2026", date(2026, 3, 31), date(2026, 3, 31), Precision.DAY),
    ("31 March 2026", date(2026, 3, 31), date(2026, 3, 31), Precision.DAY),
    ("March 31, 2026", date(2026, 3, 31), date(2026, 3, 31), Precision.DAY),
    ("29. februar 2028", date(2028, 2, 29), date(2028, 2, 29), Precision.DAY),
    ("september 2025", date(2025, 9, 1), date(2025, 9, 30), Precision.MONTH),
    ("i september 2025", date(2025, 9, 1), date(2025, 9, 30), Precision.MONTH),
    ("2026-02", date(2026, 2, 1), date(2026, 2, 28), Precision.MONTH),
    ("februar 2028", date(2028, 2, 1), date(2028, 2, 29), Precision.MONTH),
    ("Q1 2026", date(2026, 1, 1), date(2026, 3, 31), Precision.QUARTER),
    ("første kvartal 2026", date(2026, 1, 1), date(2026, 3, 31), Precision.QUARTER),
    ("i første kvartal 2026", date(2026, 1, 1), date(2026, 3, 31), Precision.QUARTER),
    ("1. kvartal 2026", date(2026, 1, 1), date(2026, 3, 31), Precision.QUARTER),
    ("fjerde kvartal 2027", date(2027, 10, 1), date(2027, 12, 31), Precision.QUARTER),
    ("third quarter of 2026", date(2026, 7, 1), date(2026, 9, 30), Precision.QUARTER),
    ("H1 2026", date(2026, 1, 1), date(2026, 6, 30), Precision.HALF),
    ("første halvår af 2026", date(2026, 1, 1), date(2026, 6, 30), Precision.HALF),
    ("senest i første halvår af 2026", date(2026, 1, 1), date(2026, 6, 30), Precision.HALF),
    ("andet halvår 2026", date(2026, 7, 1), date(2026, 12, 31), Precision.HALF),
    ("2. halvår 2026", date(2026, 7, 1), date(2026, 12, 31), Precision.HALF),
    ("second half of 2026", date(2026, 7, 1), date(2026, 12, 31), Precision.HALF),
    ("primo 2026", date(2026, 1, 1), date(2026, 2, 28), Precision.PART_OF_YEAR),
    ("primo 2028", date(2028, 1, 1), date(2028, 2, 29), Precision.PART_OF_YEAR),
    ("medio 2026", date(2026, 6, 1), date(2026, 7, 31), Precision.PART_OF_YEAR),
    ("mid-2026", date(2026, 6, 1), date(2026, 7, 31), Precision.PART_OF_YEAR),
    ("ultimo 2026", date(2026, 11, 1), date(2026, 12, 31), Precision.PART_OF_YEAR),
    ("late 2026", date(2026, 11, 1), date(2026, 12, 31), Precision.PART_OF_YEAR),
    ("medio juni 2026", date(2026, 6, 11), date(2026, 6, 20), Precision.PART_OF_MONTH),
    ("ultimo februar 2028", date(2028, 2, 21), date(2028, 2, 29), Precision.PART_OF_MONTH),
    ("2027", date(2027, 1, 1), date(2027, 12, 31), Precision.YEAR),
    ("i 2027", date(2027, 1, 1), date(2027, 12, 31), Precision.YEAR),
    ("i løbet af 2026", date(2026, 1, 1), date(2026, 12, 31), Precision.YEAR),
    ("inden udgangen af 2027", date(2027, 1, 1), date(2027, 12, 31), Precision.YEAR),
    ("frem mod udgangen af 2027", date(2027, 1, 1), date(2027, 12, 31), Precision.YEAR),
    ("senest 2027", date(2027, 1, 1), date(2027, 12, 31), Precision.YEAR),
    ("by the end of 2027", date(2027, 1, 1), date(2027, 12, 31), Precision.YEAR),
    ("during 2026", date(2026, 1, 1), date(2026, 12, 31), Precision.YEAR),
    ("pr. januar 2026", date(2026, 1, 1), date(2026, 1, 1), Precision.MONTH),
    ("med virkning pr. januar 2026", date(2026, 1, 1), date(2026, 1, 1), Precision.MONTH),
    ("pr. 1. januar 2026", date(2026, 1, 1), date(2026, 1, 1), Precision.DAY),
    ("fra 2027", date(2027, 1, 1), date(2027, 1, 1), Precision.YEAR),
    ("as of January 2026", date(2026, 1, 1), date(2026, 1, 1), Precision.MONTH),
    ("2026-2027", date(2026, 1, 1), date(2027, 12, 31), Precision.PERIOD),
    ("i 2028-2029", date(2028, 1, 1), date(2029, 12, 31), Precision.PERIOD),
    ("2025–2026", date(2025, 1, 1), date(2026, 12, 31), Precision.PERIOD),
    ("  Senest  I  Første Halvår af 2026. ", date(2026, 1, 1), date(2026, 6, 30), Precision.HALF),
]


@pytest.mark.parametrize(("text", "window_start", "due", "precision"), EXAMPLES)
def test_reads_the_forms_plans_use(text: str, window_start: date, due: date, precision: Precision) -> None:
    deadline = parse_deadline(text)
    assert isinstance(deadline, Deadline)
    assert (deadline.window_start, deadline.due, deadline.precision) == (window_start, due, precision)
    assert deadline.text == text


def test_a_bounded_yearly_recurrence_expands_into_one_occurrence_a_year() -> None:
    schedule = parse_deadline("én gang årligt fra første kvartal 2026 og til og med 2030")
    assert isinstance(schedule, Recurrence)
    occurrences = occurrences_of(schedule)
    assert [o.key for o in occurrences] == [2026, 2027, 2028, 2029, 2030]
    assert [o.deadline.due for o in occurrences] == [date(y, 3, 31) for y in range(2026, 2031)]
    assert all(o.deadline.window_start == date(o.key, 1, 1) for o in occurrences)


def test_english_recurrence_and_leap_years_inside_one() -> None:
    occurrences = occurrences_of(parse_deadline("annually from primo 2027 through 2029"))
    # February's end moves with the leap year instead of being shifted blindly.
    assert [o.deadline.due for o in occurrences] == [date(2027, 2, 28), date(2028, 2, 29), date(2029, 2, 28)]


def test_a_one_off_deadline_is_one_keyless_occurrence() -> None:
    (occurrence,) = occurrences_of(parse_deadline("medio 2026"))
    assert occurrence.key is None
    assert occurrence.deadline.due == date(2026, 7, 31)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("én gang årligt fra første kvartal 2026", "no end"),
        ("årligt til og med 2030", "no start"),
        ("årligt fra 2031 til og med 2030", "ends"),
        ("årligt fra 2026-2027 til og med 2030", "one period"),
        ("medio-ish 2026", "cannot read"),
        ("", "empty"),
        ("31. februar 2026", "does not exist"),
        ("2026-13", "no month"),
        ("2027-2026", "later year"),
        ("femte kvartal 2026", "cannot read"),
        ("tredje halvår 2026", "two halves"),
        ("i 3026", "outside"),
    ],
)
@pytest.mark.usefixtures("english")
def test_unreadable_deadlines_say_why_and_what_is_accepted(text: str, says: str) -> None:
    with pytest.raises(DeadlineError) as raised:
        parse_deadline(text)
    assert says in raised.value.message


def test_overdue_starts_the_day_after_the_due_day() -> None:
    deadline = parse_deadline("første kvartal 2026")
    assert not deadline.is_overdue(date(2026, 3, 31))
    assert deadline.is_overdue(date(2026, 4, 1))


# ---------------------------------------------------------------------------
# Properties. Expected windows are computed here from the calendar module, not
# from the parser's own helpers, so the two must agree independently.

MONTHS_DA = ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
             "november", "december"]
MONTHS_EN = [calendar.month_name[m] for m in range(1, 13)]
years = st.integers(min_value=1990, max_value=2100)
prefixes = st.sampled_from(["", "senest ", "i ", "inden udgangen af ", "senest i ", "by ", "in ", "during "])


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _spaced(text: str, data: st.DataObject) -> str:
    """The same words with arbitrary case and white space, as people type them."""
    words = text.split(" ")
    gaps = [data.draw(st.sampled_from([" ", "  ", "\t", " \u00a0"])) for _ in words[1:]]
    out = words[0] + "".join(g + w for g, w in zip(gaps, words[1:]))
    return data.draw(st.sampled_from([out, out.upper(), out.title(), f"  {out} "]))


@given(data=st.data(), year=years, month=st.integers(1, 12), prefix=prefixes)
def test_property_months_in_both_languages(data: st.DataObject, year: int, month: int, prefix: str) -> None:
    name = data.draw(st.sampled_from([MONTHS_DA[month - 1], MONTHS_EN[month - 1]]))
    deadline = parse_deadline(_spaced(f"{prefix}{name} {year}", data))
    assert isinstance(deadline, Deadline)
    assert (deadline.window_start, deadline.due) == (date(year, month, 1), _last_day(year, month))


@given(data=st.data(), year=years, quarter=st.integers(1, 4), prefix=prefixes)
def test_property_quarters(data: st.DataObject, year: int, quarter: int, prefix: str) -> None:
    words = data.draw(st.sampled_from([
        f"Q{quarter} {year}",
        f"{['første', 'andet', 'tredje', 'fjerde'][quarter - 1]} kvartal {year}",
        f"{quarter}. kvartal {year}",
        f"{['first', 'second', 'third', 'fourth'][quarter - 1]} quarter of {year}",
    ]))
    deadline = parse_deadline(_spaced(prefix + words, data))
    assert deadline.window_start == date(year, 3 * quarter - 2, 1)
    assert deadline.due == _last_day(year, 3 * quarter)


@given(data=st.data(), year=years, half=st.integers(1, 2), prefix=prefixes)
def test_property_halves(data: st.DataObject, year: int, half: int, prefix: str) -> None:
    words = data.draw(st.sampled_from([
        f"H{half} {year}",
        f"{['første', 'andet'][half - 1]} halvår af {year}",
        f"{['første', 'andet'][half - 1]} halvår {year}",
        f"{['first', 'second'][half - 1]} half of {year}",
    ]))
    deadline = parse_deadline(_spaced(prefix + words, data))
    assert (deadline.window_start, deadline.due) == (date(year, 6 * half - 5, 1), _last_day(year, 6 * half))


@given(data=st.data(), year=years, month=st.integers(1, 12), day=st.integers(1, 31))
def test_property_days_exist_or_are_refused(data: st.DataObject, year: int, month: int, day: int) -> None:
    text = data.draw(st.sampled_from([
        f"{year:04d}-{month:02d}-{day:02d}", f"{day}. {MONTHS_DA[month - 1]} {year}",
        f"{day} {MONTHS_EN[month - 1]} {year}", f"{MONTHS_EN[month - 1]} {day}, {year}",
    ]))
    try:
        expected = date(year, month, day)
    except ValueError:
        with pytest.raises(DeadlineError):
            parse_deadline(text)
        return
    deadline = parse_deadline(text)
    assert deadline.window_start == deadline.due == expected


@given(first=years, length=st.integers(0, 20), quarter=st.integers(1, 4))
def test_property_recurrences_have_one_occurrence_a_year_in_order(first: int, length: int, quarter: int) -> None:
    schedule = parse_deadline(f"én gang årligt fra {quarter}. kvartal {first} og til og med {first + length}")
    occurrences = occurrences_of(schedule)
    assert [o.key for o in occurrences] == list(range(first, first + length + 1))
    for occurrence in occurrences:
        assert occurrence.deadline.due == _last_day(occurrence.key, 3 * quarter)
        assert occurrence.deadline.window_start <= occurrence.deadline.due


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_property_any_text_is_read_or_refused_with_a_deadline_error(text: str) -> None:
    try:
        schedule = parse_deadline(text)
    except DeadlineError as error:
        assert error.message
        return
    for occurrence in occurrences_of(schedule):
        assert occurrence.deadline.window_start <= occurrence.deadline.due
