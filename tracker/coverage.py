"""Which dated sentences of a source document the register follows: ``tracker validate --coverage``.

A sentence is *dated* when it names a year: every deadline form the parser
reads has one ("medio 2026", "i første kvartal 2026", "fra 2027", "2026-2027").
A dated sentence is *tracked* when a deliverable quotes it, as its source or as
its funding sentence, and *skipped* when a ``[[skipped]]`` entry of the register
quotes it with the reason it is not a deliverable (background, money that
flows, a baseline). Every other dated sentence is a gap.

The document is read as the seeds write it: paragraphs on lines, headings
starting with "#", tables as tab-separated rows. A paragraph broken over a
page (a line that does not end a sentence) is joined to the next one. Table
rows are not sentences (Tabel 1's money by year is funding data), and are left
out. Everything here is pure: the caller reads the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tracker.model import Register

# A year the parser reads (1900-2199), not a part of a longer number ("12026", "2026,5").
_YEAR = re.compile(r"(?<!\d)(?<!\d,)(?:19|20|21)\d\d(?!\d)(?!,\d)")
# A sentence ends at ". ", "! " or "? " before a capital letter, a digit or an opening quote: "mio. kr. årligt",
# "jf. afsnit" and "1. kvartal" go on (the next word is in lower case).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÆØÅ0-9“\"(])")
_ENDS_A_SENTENCE = re.compile(r"[.!?:;)”\"]\**$")


@dataclass(frozen=True)
class Sentence:
    text: str  # as the document has it, white space folded
    line: int  # the line it starts on (1-based)
    section: str  # the nearest heading above it, without its markup


@dataclass(frozen=True)
class Covered:
    """One dated sentence, and what the register says of it."""

    sentence: Sentence
    tracked_by: tuple[str, ...] = ()  # the deliverables that quote it (source or funding)
    skipped: str | None = None  # the reason of the [[skipped]] entry that quotes it

    @property
    def covered(self) -> bool:
        return bool(self.tracked_by) or self.skipped is not None


def comparable(text: str) -> str:
    """Text as quotes are compared with the document: white space folded, emphasis marks and a final stop
    dropped (a quote keeps the words, not the typography)."""
    return " ".join(text.replace("*", "").split()).rstrip(". ")


def _heading(line: str) -> str:
    return comparable(line.lstrip("#").strip())


def sentences(text: str) -> list[Sentence]:
    """The document's sentences, in order, with the line each starts on and the section it is in."""
    found: list[Sentence] = []
    section = ""
    paragraph: list[str] = []
    start = 0

    def flush() -> None:
        if not paragraph:
            return
        joined = " ".join(paragraph)
        for part in _SENTENCE_END.split(joined):
            part = " ".join(part.split())
            if part.strip("*").strip():
                found.append(Sentence(text=part, line=start, section=section))
        paragraph.clear()

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            flush()
            section = _heading(line)
            continue
        if "\t" in raw or line.startswith("|"):
            flush()  # a table row: data, not a sentence
            continue
        if not paragraph:
            start = number
        paragraph.append(line)
        if _ENDS_A_SENTENCE.search(line):
            flush()
    flush()
    return found


def is_dated(sentence: Sentence) -> bool:
    return _YEAR.search(sentence.text) is not None


def coverage(register: Register, source_file: str, text: str) -> list[Covered]:
    """Every dated sentence of ``text`` (the source ``source_file``), and who tracks or skips it."""
    quotes: list[tuple[str, str]] = []  # (comparable quote, deliverable id)
    for deliverable in register.deliverables.values():
        if deliverable.source.file == source_file:
            quotes.append((comparable(deliverable.source.quote), deliverable.id))
            # A funding sentence is tracked as a fact on the initiative, by the deliverables it pays for.
            quotes += [(comparable(entry.source.quote), deliverable.id) for entry in deliverable.funding
                       if entry.source.file == source_file]
    skips = [(comparable(skip.quote), skip.reason) for skip in register.skipped if skip.file == source_file]
    result = []
    for sentence in sentences(text):
        if not is_dated(sentence):
            continue
        said = comparable(sentence.text)
        tracked = tuple(dict.fromkeys(identifier for quote, identifier in quotes if _same(said, quote)))
        reason = next((why for quote, why in skips if _same(said, quote)), None)
        result.append(Covered(sentence, tracked, None if tracked else reason))
    return result


def _same(sentence: str, quote: str) -> bool:
    """A quote is of a sentence when one holds the other: a quote may be one sentence of a longer line the
    splitter kept together, or a sentence the splitter cut at an abbreviation."""
    if min(len(sentence), len(quote)) < 30:  # "2026." or a heading's words are in many quotes
        return quote == sentence
    return quote in sentence or sentence in quote


def gaps(covered: Iterable[Covered]) -> list[Covered]:
    return [item for item in covered if not item.covered]
