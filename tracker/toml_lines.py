"""Where in a TOML file a key stands, for error messages that name the line.

``tomllib`` gives values, not positions. The register's problems must each name
their line, so this module scans the text once and records the line of every
table header and key, addressed by the same path the loaded data has:
``("deliverable", 3, "source", "quote")``. Keys of an inline table, and items
of a multi-line array, resolve to the line of the key that holds them, which
is what a reader looks for.

It reads only what TOML allows at the start of a line (headers, keys, the
inside of multi-line strings and arrays) and is exact for those; the register's
tests hold it to that.
"""

from __future__ import annotations

import re

Path = tuple[str | int, ...]

# The register nests arrays and inline tables three levels deep. A file that nests deeper than Python's
# recursion limit lets tomllib go is reported on the first line deeper than this.
MAX_NESTING = 64
_PREFIX_DEPTH = 16
_HEADER = re.compile(r"^\s*(\[\[?)\s*(?P<name>[^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*(?P<key>(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")  # noqa: E501


def _split_dotted(name: str) -> list[str]:
    parts = re.findall(r'"[^"]*"|\'[^\']*\'|[^.\s]+', name)
    return [part.strip("\"'") for part in parts]


class KeyLines:
    """The line of every key and table in a TOML text, looked up by data path."""

    def __init__(self, text: str):
        self._lines: dict[Path, int] = {}
        self._scan(text)

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), 0, -1):
            line = self._lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def _scan(self, text: str) -> None:
        table: Path = ()
        array_counts: dict[Path, int] = {}
        open_string: str | None = None
        depth = 0  # brackets and braces still open from a multi-line value
        for number, line in enumerate(text.splitlines(), start=1):
            if open_string:
                if line.count(open_string) % 2 == 1:
                    open_string = None
                continue
            if depth > 0:
                depth += _bracket_balance(line)
                continue
            header = _HEADER.match(line)
            if header and not _KEY.match(line):
                names = _split_dotted(header["name"])
                parent = self._resolve(names[:-1], array_counts)
                if header.group(1) == "[[":
                    array_path = parent + (names[-1],)
                    index = array_counts.get(array_path, 0)
                    array_counts[array_path] = index + 1
                    table = array_path + (index,)
                else:
                    table = parent + (names[-1],)
                self._record(table, number)
                continue
            key = _KEY.match(line)
            if not key:
                continue
            path = table + tuple(_split_dotted(key["key"]))
            self._record(path, number)
            value = line[key.end():]
            for quotes in ('"""', "'''"):
                if value.count(quotes) % 2 == 1:
                    open_string = quotes
            if open_string is None:
                depth = _bracket_balance(value)

    def _record(self, path: Path, number: int) -> None:
        """``path`` and every table it creates on the way (``[a.b.c]`` creates ``a`` and ``a.b``) start here,
        unless an earlier line defined them. Only the first few levels and the whole path: a hostile header
        thousands of levels deep must not cost quadratic time."""
        for end in range(1, min(len(path), _PREFIX_DEPTH) + 1):
            self._lines.setdefault(path[:end], number)
        self._lines.setdefault(path, number)

    def _resolve(self, names: list[str], array_counts: dict[Path, int]) -> Path:
        """The path of a parent table, with the current index of any array of tables in it."""
        path: Path = ()
        for name in names:
            path += (name,)
            count = array_counts.get(path)
            if count:
                path += (count - 1,)
        return path


def _bracket_balance(value: str) -> int:
    """Opened minus closed brackets and braces outside strings and comments."""
    balance = 0
    quote: str | None = None
    escaped = False
    for char in value:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char in "[{":
            balance += 1
        elif char in "]}":
            balance -= 1
    return balance


def nesting_deeper_than(text: str, limit: int) -> int | None:
    """The first line on which arrays and inline tables are nested more than ``limit`` deep, or None.

    One pass over the characters, outside strings and comments. Table
    headers (``[a.b]``, ``[[a]]``) open and close on their own line, so they
    never count deeper than two.
    """
    depth = 0
    line = 1
    quote: str | None = None  # the delimiter of the string we are in: ", ', \"\"\" or '''
    index, end = 0, len(text)
    while index < end:
        char = text[index]
        if char == "\n":
            line += 1
            if quote in ('"', "'"):
                quote = None  # a one-line string cannot span lines; tomllib reports it
        elif quote is not None:
            if char == "\\" and quote in ('"', '"""'):
                index += 1  # the escaped character, whatever it is
                if index < end and text[index] == "\n":
                    line += 1
            elif text.startswith(quote, index):
                index += len(quote) - 1
                quote = None
        elif char in "\"'":
            triple = char * 3
            quote = triple if text.startswith(triple, index) else char
            index += len(quote) - 1
        elif char == "#":
            newline = text.find("\n", index)
            index = end if newline < 0 else newline - 1
        elif char in "[{":
            depth += 1
            if depth > limit:
                return line
        elif char in "]}":
            depth = max(0, depth - 1)
        index += 1
    return None
