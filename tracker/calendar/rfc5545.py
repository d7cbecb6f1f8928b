"""RFC 5545 to the letter, where the ``ics`` package falls short of it.

``ics`` 0.7 builds components and escapes TEXT values, but it does not fold
long lines, escapes a carriage return as ``\\r`` (not an iCalendar escape),
lets control characters through, TEXT-escapes URIs, and converts all-day
dates through UTC. This module is the one small place that closes those gaps:

- ``clean_text``: register or coordinator text as TEXT may carry it (no
  control characters, newlines as ``\\n`` only, no lone surrogates);
- ``escape_text``: TEXT escaping for values we write ourselves;
- ``fold_line``: lines of at most 75 octets, never splitting a UTF-8
  character or an escape sequence;
- ``content_lines``: CRLF-terminated, folded physical lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timezone

from tracker.text import clean_text  # what TEXT may carry: no controls but TAB and LF

__all__ = ["clean_text", "content_lines", "date_value", "escape_text", "fold_line", "unfold", "utc_value"]

MAX_LINE_OCTETS = 75


def escape_text(text: str) -> str:
    """A TEXT property value (RFC 5545 §3.3.11): backslash, semicolon, comma and newline escaped."""
    return (
        clean_text(text).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    )


def fold_line(line: str) -> str:
    """One content line folded into physical lines of at most 75 octets, joined by CRLF + space.

    A continuation line starts with one space, which counts towards its 75
    octets. Multi-octet UTF-8 characters (æ, ø, å, —, emoji) and escape
    sequences (``\\,``) are never split across lines: some clients unfold
    correctly but decode each physical line on its own.
    """
    if len(line) <= MAX_LINE_OCTETS // 4:
        return line
    data = line.encode("utf-8")
    if len(data) <= MAX_LINE_OCTETS:
        return line
    # Cut the encoded line at byte offsets (one encode, no per-character
    # work: folding is most of the cost of rendering a feed).
    pieces: list[bytes] = []
    start, limit = 0, MAX_LINE_OCTETS
    while len(data) - start > limit:
        cut = start + limit
        while data[cut] & 0xC0 == 0x80:  # inside a multi-octet character: back to its first octet
            cut -= 1
        run = cut - 1
        while run >= start and data[run] == 0x5C:  # count the backslashes just before the cut
            run -= 1
        if (cut - 1 - run) % 2:  # an odd run ends in an escape's backslash: keep it with its character
            cut -= 1
        pieces.append(data[start:cut])
        start, limit = cut, MAX_LINE_OCTETS - 1  # a continuation line's leading space counts
    pieces.append(data[start:])
    return b"\r\n ".join(pieces).decode("utf-8")


def content_lines(lines: Iterable[str]) -> str:
    """Unfolded content lines as the physical text of a stream: folded, each ending in CRLF."""
    return "".join(fold_line(line) + "\r\n" for line in lines)


def date_value(day: date) -> str:
    """A DATE value (``20260630``), written from the calendar day itself, never via a time zone."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def utc_value(moment: datetime) -> str:
    """A DATE-TIME value in UTC (``20260630T070000Z``); naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"refusing the naive datetime {moment!r}: give it a time zone")
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def unfold(text: str) -> list[str]:
    """The content lines of a folded stream (for tests and for reading our own output)."""
    return text.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]
