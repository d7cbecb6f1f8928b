"""Text from the register or a coordinator, made safe for any output.

Every format tracker writes (iCalendar, Slack, e-mail, the console) refuses
or misreads control characters, so they are removed in one way everywhere.
Each format then escapes what is special to it. CSV is written here too, by
one writer that every CSV output uses, so no cell can carry a spreadsheet
formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

# Every C0 and C1 control except TAB and LF, DEL, and lone surrogates (which
# cannot be encoded as UTF-8 at all). CR is handled first, as a line break.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` with CRLF and CR as LF, and every control character other than TAB and LF removed."""
    return _UNSAFE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


# A cell that starts with one of these is run as a formula by Excel, LibreOffice
# and Google Sheets (OWASP, "CSV Injection"); a leading apostrophe makes it text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """``value`` as a CSV cell no spreadsheet will run: text that could start a formula gets a leading '.

    Numbers stay numbers (``-3`` is a count of days, not a formula); None is an empty cell.
    """
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The one CSV writer: a header, then the rows, every cell through ``csv_cell``; LF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_cell(name) for name in header])
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def suggestions(wanted: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """The one "did you mean": keys that look like ``wanted``, close spellings first, then keys that contain it.

    A sibling is never offered for a typo: ``region-hovedstaden`` is not
    ``region-midtjylland`` misspelt, though the two look alike, so keys that
    share the part before the last hyphen and differ after it are left out.
    """
    import difflib

    candidates = sorted(set(known))
    family, _sep, last = wanted.rpartition("-")

    def sibling(key: str) -> bool:
        other_family, _sep, other_last = key.rpartition("-")
        return bool(family) and other_family == family and other_last != last and \
            difflib.SequenceMatcher(None, last, other_last).ratio() < 0.6

    allowed = [key for key in candidates if not sibling(key)]
    close = difflib.get_close_matches(wanted, allowed, n=limit, cutoff=0.6)
    containing = [key for key in allowed if wanted and wanted in key and key not in close]
    return (close + containing)[:limit]


def siblings(wanted: str, known: Iterable[str]) -> list[str]:
    """Keys of the same family as ``wanted`` (``region-*`` for ``region-hovedstaden``), to list instead."""
    family = wanted.rpartition("-")[0]
    return sorted(key for key in set(known) if family and key.rpartition("-")[0] == family and key != wanted)
