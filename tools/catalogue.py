"""The Danish catalogue: extract every message with Babel, update the .po, compile the .mo, check both.

    .venv/bin/python tools/catalogue.py update    after changing messages: new ones in, gone ones out, compiled
    .venv/bin/python tools/catalogue.py compile   tracker.po → tracker.mo (committed: the package ships it)
    .venv/bin/python tools/catalogue.py check     what CI runs: every message translated, the .mo current

The messages are those of the code (``_``, ``ngettext`` and the ``N_``
marker), of the dashboard's templates (Jinja's own extractor), the command
line's ``--help`` texts (read from the click commands themselves, so a
docstring is its own message) and click's own ("Usage:", "Error: …",
"Missing option"), extracted from the installed click.
"""

from __future__ import annotations

import ast
import io
import string
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tracker"
PO = PACKAGE / "locale" / "da" / "LC_MESSAGES" / "tracker.po"
MO = PO.with_suffix(".mo")

_KEYWORDS = {"_": None, "ngettext": (1, 2), "N_": None}
# click translates these from a variable, where extraction cannot see them ("[required]" in --help).
_CLICK_DYNAMIC = ("required",)
_HEADER = {"Project-Id-Version": "tracker", "Report-Msgid-Bugs-To": "the task force's coordinators",
           "Last-Translator": "tracker maintainers", "Language-Team": "Danish", "Language": "da",
           "Plural-Forms": "nplurals=2; plural=(n != 1);"}


def extract_python(fileobj: Any, keywords: Any, comment_tags: Sequence[str],
                   options: dict[str, Any]) -> Iterator[tuple[int, str, str | tuple[str, ...], list[str]]]:
    """Babel's extraction method for tracker's Python, from the syntax tree.

    Babel's own Python extractor reads tokens, and on Python 3.11 an f-string
    is one token: ``f"## {_('Changed since {day}')}"`` would go unseen, and
    shown in English. The tree has every call; a ``# Translators:`` comment
    on the lines just above a call goes with it.
    """
    source = fileobj.read().decode("utf-8")
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in keywords):
            continue
        count = 2 if _KEYWORDS.get(node.func.id) == (1, 2) else 1
        arguments = node.args[:count]
        if len(arguments) < count or not all(isinstance(argument, ast.Constant) and isinstance(argument.value, str)
                                             for argument in arguments):
            continue
        texts = tuple(str(argument.value) for argument in arguments)  # type: ignore[attr-defined]
        comments = []
        above = node.lineno - 2
        while above >= 0 and lines[above].strip().startswith("#"):
            comment = lines[above].strip().lstrip("#").strip()
            if any(comment.startswith(tag) for tag in comment_tags):
                comments.insert(0, comment)
            above -= 1
        yield node.lineno, node.func.id, texts if count == 2 else texts[0], comments


def _help_texts() -> Iterator[tuple[str, str]]:
    """(where, text) for every --help text of the command line, as ``tracker.cli.app.localize`` looks them up."""
    sys.path.insert(0, str(ROOT))
    from tracker.cli import cli
    from tracker.cli.app import help_texts

    yield from help_texts(cli)


def template() -> Catalog:
    """Every message users can read, with where it comes from."""
    catalog = Catalog(project="tracker", domain="tracker", fuzzy=False)
    for path, line, message, comments, _context in extract_from_dir(
            str(PACKAGE), method_map=[("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", extract_python)],
            keywords=_KEYWORDS, comment_tags=("Translators:",)):
        catalog.add(message, locations=[(f"tracker/{path}", line)], auto_comments=comments)
    for where, text in _help_texts():
        catalog.add(text, locations=[(where, 0)])
    click_dir = Path(click.__file__).parent
    for path, line, message, _comments, _context in extract_from_dir(
            str(click_dir), method_map=[("**.py", "python")], keywords={"_": None, "gettext": None,
                                                                       "ngettext": (1, 2)}):
        catalog.add(message, locations=[(f"click/{path}", line)])
    for message in _CLICK_DYNAMIC:
        catalog.add(message, locations=[("click/core.py", 0)])
    return catalog


def read() -> Catalog:
    with PO.open("rb") as file:
        return read_po(file, locale="da", domain="tracker")


def write(catalog: Catalog) -> None:
    catalog.project, catalog.version = "tracker", ""
    catalog.copyright_holder, catalog.msgid_bugs_address = "tracker maintainers", _HEADER["Report-Msgid-Bugs-To"]
    catalog.last_translator, catalog.language_team = _HEADER["Last-Translator"], _HEADER["Language-Team"]
    catalog.header_comment = ("# The Danish messages of tracker. Translate msgstr; `tools/catalogue.py update` adds\n"
                              "# new messages, removes gone ones, and compiles tracker.mo beside this file.")
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=120, omit_header=False, sort_output=False, include_previous=False,
             ignore_obsolete=True)
    PO.write_bytes(buffer.getvalue())


def compiled(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def update() -> Catalog:
    """The catalogue with the messages of the code as they are now (translations kept), written and compiled."""
    catalog = read() if PO.exists() else Catalog(locale="da", domain="tracker")
    catalog.update(template(), no_fuzzy_matching=True)
    catalog.obsolete.clear()
    write(catalog)
    MO.write_bytes(compiled(read()))
    return catalog


def _placeholders(text: str) -> set[str]:
    try:
        return {f"{field}{'!' + conversion if conversion else ''}"
                for _literal, field, _spec, conversion in string.Formatter().parse(text) if field is not None}
    except ValueError:  # not a format string (click's %-style messages): compare the %(name)s fields
        return set()


def _percent(text: str) -> set[str]:
    import re

    return set(re.findall(r"%\([a-z_]+\)s", text))


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def problems() -> list[str]:
    """What is wrong with the catalogue: untranslated, stale or missing messages, placeholders that differ."""
    found = []
    catalog = read()
    wanted = template()
    for message in wanted:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        have = catalog.get(key)
        where = ", ".join(f"{path}:{line}" for path, line in message.locations[:1])
        if have is None:
            found.append(f"no Danish for {key!r} ({where}): run `tools/catalogue.py update` and translate it")
            continue
        strings = have.string if isinstance(have.string, tuple) else (have.string,)
        if have.fuzzy or not all(strings):
            found.append(f"{key!r} is not translated in {_shown(PO)} ({where})")
            continue
        originals = message.id if isinstance(message.id, tuple) else (message.id,)
        if isinstance(message.id, tuple) != isinstance(have.id, tuple):
            found.append(f"{key!r} is a plural message in one place and not in the other: run update")
            continue
        # Danish has two forms, as English: the first answers the singular, the second the plural.
        for index, translated in enumerate(strings):
            original = originals[min(index, len(originals) - 1)]
            if _placeholders(original) - {"count"} != _placeholders(translated) - {"count"} or \
                    _percent(original) != _percent(translated):
                found.append(f"{key!r}: the Danish {translated!r} does not keep its placeholders")
    stale = {message.id if isinstance(message.id, str) else message.id[0] for message in catalog if message.id} - \
        {message.id if isinstance(message.id, str) else message.id[0] for message in wanted if message.id}
    found.extend(f"{key!r} is no longer used: run `tools/catalogue.py update`" for key in sorted(stale))
    if not MO.exists() or MO.read_bytes() != compiled(catalog):
        found.append(f"{_shown(MO)} is not compiled from {PO.name}: run `tools/catalogue.py compile`")
    return found


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
    elif command == "compile":
        MO.write_bytes(compiled(read()))
    elif command == "check":
        found = problems()
        for problem in found:
            print(problem)
        if found:
            print(f"{len(found)} problems in the Danish catalogue.", file=sys.stderr)
            return 1
        print("The Danish catalogue is complete.")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
