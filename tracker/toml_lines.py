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

_HEADER = re.compile(r"^\s*(\[\[?)\s*(?P<name>[^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*(?P<key>(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")


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
                self._lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if not key:
                continue
            path = table + tuple(_split_dotted(key["key"]))
            self._lines.setdefault(path, number)
            value = line[key.end():]
            for quotes in ('"""', "'''"):
                if value.count(quotes) % 2 == 1:
                    open_string = quotes
            if open_string is None:
                depth = _bracket_balance(value)

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
