"""Every message users read has a Danish translation that keeps its placeholders."""

from __future__ import annotations

import ast
import string
from datetime import date
from pathlib import Path

import jinja2
import jinja2.nodes
import pytest

from tracker.i18n import _, format_day, set_language
from tracker.locale_da import CATALOGUE
from tracker.model import Status

PACKAGE = Path(__file__).resolve().parents[1] / "tracker"


def _messages_in_code() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "ngettext"):
                for argument in node.args[:2]:
                    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                        found.add(argument.value)
    return found | _messages_in_templates()


def _messages_in_templates() -> set[str]:
    """The dashboard's templates call the same ``_`` and ``ngettext``: read them with Jinja's own parser."""
    environment = jinja2.Environment()
    found = set()
    for path in PACKAGE.rglob("templates/*.html"):
        for call in environment.parse(path.read_text(encoding="utf-8")).find_all(jinja2.nodes.Call):
            if isinstance(call.node, jinja2.nodes.Name) and call.node.name in ("_", "ngettext"):
                found.update(argument.value for argument in call.args[:2]
                             if isinstance(argument, jinja2.nodes.Const) and isinstance(argument.value, str))
    return found


def test_the_templates_are_searched_for_messages() -> None:
    found = _messages_in_templates()
    assert {"Overdue or not", "{count} deadlines in all", ", for {count} deliverable."} <= found  # _() and ngettext


def _placeholders(message: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(message) if field}


def test_every_message_in_the_code_has_a_danish_translation() -> None:
    messages = _messages_in_code() | {status.value.replace("_", " ") for status in Status}
    assert sorted(messages - CATALOGUE.keys()) == []


def test_translations_keep_their_placeholders() -> None:
    for english, danish in CATALOGUE.items():
        assert _placeholders(english) == _placeholders(danish), english


def test_no_translation_is_left_unused() -> None:
    used = _messages_in_code() | {status.value.replace("_", " ") for status in Status}
    assert sorted(CATALOGUE.keys() - used) == []


@pytest.mark.parametrize(("language", "expected"), [("da", "30. juni 2026"), ("en", "30 June 2026")])
def test_dates_are_written_for_the_language(language: str, expected: str) -> None:
    set_language(language)
    assert format_day(date(2026, 6, 30)) == expected


def test_danish_is_the_default_and_english_is_available(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Status.AT_RISK.label == "i risiko"
    monkeypatch.setenv("TRACKER_LANG", "en")
    assert Status.AT_RISK.label == "at risk"
    set_language("da")
    assert _("Due") == "Frist"
    with pytest.raises(ValueError):
        set_language("sv")
