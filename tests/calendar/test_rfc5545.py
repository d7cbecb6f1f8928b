"""RFC 5545 text handling: cleaning, TEXT escaping, folding at 75 octets, CRLF.

Property tests feed arbitrary Unicode (with the characters that break
calendars weighted in: backslashes, separators, every kind of line break,
control characters, lone surrogates, multi-octet letters and emoji) through
``escape_text`` and the folding, then check the physical lines byte by byte
and read them back with an unescaper written here and with ``icalendar``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from tests.calendar.support import unescape
from tracker.calendar.rfc5545 import (
    MAX_LINE_OCTETS,
    clean_text,
    content_lines,
    date_value,
    escape_text,
    fold_line,
    unfold,
    utc_value,
)

TRICKY = [
    "\\", ";", ",", ":", '"', "\n", "\r\n", "\r", "\t", " ",
    "\\n", "\\,", "\\;", "\\\\",
    "æ", "ø", "å", "Æ", "Ø", "Å", "—", "–", "“", "”", "€",
    "😀", "👩\u200d👩\u200d👧", "𝄞", "e\u0301",
    "\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x80", "\x85", "\x9f",
    "\u2028", "\u2029", "\ufeff", "\ufffe", "\ud800", "\udbff", "\udfff",
]
ANY_TEXT = st.lists(st.one_of(st.characters(), st.sampled_from(TRICKY)), max_size=300).map("".join)

# What RFC 5545 calls CONTROL (every C0 but TAB, and DEL), plus the C1 range
# clean_text also removes; CR and LF may only appear as the line terminator.
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
UNIT = re.compile(r"\\.|.", re.DOTALL)


def physical_lines(stream: str) -> list[bytes]:
    """The stream's physical lines as octets, checking it ends in CRLF and has no other CR or LF."""
    data = stream.encode("utf-8")  # raises on a lone surrogate
    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")
    assert lines[-1] == b""
    for line in lines[:-1]:
        assert b"\r" not in line and b"\n" not in line
    return lines[:-1]


def check_stream(stream: str) -> list[str]:
    """Every invariant of a folded stream; returns the decoded physical lines."""
    decoded = []
    for index, line in enumerate(physical_lines(stream)):
        assert len(line) <= MAX_LINE_OCTETS, (len(line), line)
        text = line.decode("utf-8")  # each physical line on its own: no character split across lines
        assert not CONTROL.search(text), text
        if index:
            assert text.startswith(" "), text  # a continuation line begins with the folding space
        decoded.append(text)
    return decoded


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_escaped_and_folded_text_is_valid_and_reads_back(text: str) -> None:
    line = "DESCRIPTION:" + escape_text(text)
    stream = content_lines([line])
    decoded = check_stream(stream)

    # No escape sequence is split: every physical line holds whole escapes,
    # so its trailing run of backslashes is even.
    for index, physical in enumerate(decoded):
        content = physical[1:] if index else physical
        trailing = len(content) - len(content.rstrip("\\"))
        assert trailing % 2 == 0, (index, physical)
    # Folding is greedy: a line is only broken when the next unit would not fit.
    for index in range(len(decoded) - 1):
        following = decoded[index + 1][1:]
        first_unit = UNIT.match(following)
        assert first_unit is not None
        assert len(decoded[index].encode()) + len(first_unit[0].encode()) > MAX_LINE_OCTETS

    assert unfold(stream) == [line]
    value = unfold(stream)[0].removeprefix("DESCRIPTION:")
    # Every ; , newline and backslash in the value is escaped.
    assert all(unit not in (";", ",", "\n", "\r", "\\") for unit in UNIT.findall(value))
    assert unescape(value) == clean_text(text)


@settings(max_examples=150, deadline=None)
@given(ANY_TEXT)
def test_icalendar_reads_back_the_clean_text(text: str) -> None:
    stream = content_lines([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN",
        "BEGIN:VEVENT", "UID:x@test", "DTSTAMP:20260101T000000Z", "DTSTART;VALUE=DATE:20260630",
        f"SUMMARY:{escape_text(text)}", "END:VEVENT", "END:VCALENDAR",
    ])
    event = Calendar.from_ical(stream.encode("utf-8")).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == clean_text(text)


@settings(max_examples=150, deadline=None)
@given(ANY_TEXT)
def test_clean_text_keeps_only_what_text_may_carry(text: str) -> None:
    cleaned = clean_text(text)
    assert "\r" not in cleaned
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]", cleaned)
    cleaned.encode("utf-8")
    assert clean_text(cleaned) == cleaned
    # Only removals and line-break normalisation: the line count is CR/LF-based.
    assert cleaned.count("\n") == text.replace("\r\n", "\n").replace("\r", "\n").count("\n")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.characters(blacklist_categories=("Cs", "Cc")), st.sampled_from(["\\", "😀", "ø"])),
                max_size=400).map("".join))
def test_folding_any_line_keeps_characters_whole(line: str) -> None:
    folded = fold_line(line)
    stream = folded + "\r\n"
    decoded = check_stream(stream)
    assert unfold(stream) == [line]
    assert (len(decoded) == 1) == (len(line.encode("utf-8")) <= MAX_LINE_OCTETS)


def octets(lines: list[str]) -> list[int]:
    return [len(line.encode("utf-8")) for line in lines]


def folded(line: str) -> list[str]:
    return fold_line(line).split("\r\n")


def test_a_line_of_exactly_75_octets_is_not_folded() -> None:
    line = "SUMMARY:" + "x" * (75 - len("SUMMARY:"))
    assert fold_line(line) == line


def test_a_line_of_76_octets_folds_after_75() -> None:
    line = "SUMMARY:" + "x" * (76 - len("SUMMARY:"))
    assert folded(line) == [line[:75], " x"]


def test_continuation_lines_count_their_space() -> None:
    # 75 on the first line, then 74 characters plus the space on each further line.
    line = "x" * (75 + 74 + 1)
    assert octets(folded(line)) == [75, 75, 2]
    assert folded(line)[1] == " " + "x" * 74


def test_a_multi_octet_letter_at_the_boundary_moves_whole_to_the_next_line() -> None:
    line = "x" * 74 + "ø" + "y"  # ø is 2 octets: 74 + 2 = 76
    assert folded(line) == ["x" * 74, " øy"]


def test_a_multi_octet_letter_that_ends_exactly_at_75_stays() -> None:
    line = "x" * 73 + "ø" + "y"
    assert folded(line) == ["x" * 73 + "ø", " y"]
    assert octets(folded(line)) == [75, 2]


def test_a_four_octet_emoji_is_never_split() -> None:
    for prefix in range(71, 75):
        line = "x" * prefix + "😀" + "z"
        lines = folded(line)
        assert all(len(part.encode()) <= 75 for part in lines)
        for part in lines:
            part.encode("utf-8").decode("utf-8")
        expected_first = "x" * prefix + ("😀" if prefix + 4 <= 75 else "")
        assert lines[0] == expected_first, prefix


def test_an_escaped_comma_at_the_boundary_moves_whole() -> None:
    # The backslash would be octet 75 and the comma octet 76.
    line = "x" * 74 + "\\," + "y"
    assert folded(line) == ["x" * 74, " \\,y"]


def test_an_escaped_backslash_at_the_boundary_moves_whole() -> None:
    line = "x" * 74 + "\\\\" + "n"  # an escaped backslash followed by a plain n, not a newline
    lines = folded(line)
    assert lines == ["x" * 74, " \\\\n"]
    assert unescape("".join(part.removeprefix(" ") for part in lines)) == "x" * 74 + "\\n"


def test_an_escape_that_ends_exactly_at_75_stays() -> None:
    line = "x" * 73 + "\\;" + "y"
    assert folded(line) == ["x" * 73 + "\\;", " y"]


def test_content_lines_terminates_every_line_with_crlf() -> None:
    assert content_lines(["BEGIN:VCALENDAR", "END:VCALENDAR"]) == "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    assert content_lines([]) == ""


def test_unicode_line_separators_are_content_not_line_breaks() -> None:
    stream = content_lines(["SUMMARY:" + escape_text("før\u2028efter\u2029slut\x85")])
    assert stream == "SUMMARY:før\u2028efter\u2029slut\r\n"
    assert unfold(stream) == ["SUMMARY:før\u2028efter\u2029slut"]


def test_clean_text_examples() -> None:
    assert clean_text("a\r\nb\rc\nd") == "a\nb\nc\nd"
    assert clean_text("a\r\rb") == "a\n\nb"
    assert clean_text("tab\tkept") == "tab\tkept"
    assert clean_text("\x00bel\x07esc\x1bdel\x7fnel\x85\ud800end") == "belescdelnelend"
    assert clean_text("æøå — 😀") == "æøå — 😀"


def test_escape_text_examples() -> None:
    assert escape_text("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne"
    assert escape_text("linje 1\r\nlinje 2\rlinje 3") == "linje 1\\nlinje 2\\nlinje 3"
    assert escape_text("\\n") == "\\\\n"  # a literal backslash-n stays two characters
    assert escape_text("kolon: og “citat”") == "kolon: og “citat”"


def test_unfold_accepts_space_and_tab_continuations() -> None:
    assert unfold("SUMMARY:ab\r\n c\r\n\td\r\nEND:VEVENT\r\n") == ["SUMMARY:abcd", "END:VEVENT"]


@pytest.mark.parametrize(("day", "expected"), [
    (date(2026, 6, 30), "20260630"),
    (date(2028, 2, 29), "20280229"),
    (date(2026, 12, 31), "20261231"),
    (date(999, 1, 2), "09990102"),
])
def test_date_value(day: date, expected: str) -> None:
    assert date_value(day) == expected


def test_utc_value_converts_to_utc() -> None:
    summer = datetime(2026, 6, 30, 9, 0, tzinfo=ZoneInfo("Europe/Copenhagen"))
    assert utc_value(summer) == "20260630T070000Z"
    assert utc_value(datetime(2026, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-8)))) == "20270101T075959Z"


def test_utc_value_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        utc_value(datetime(2026, 6, 30, 9, 0))
