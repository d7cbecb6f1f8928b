"""Every message users read has a Danish translation that keeps its placeholders, from a real gettext catalogue."""

from __future__ import annotations

import gettext
from datetime import date

import pytest

from tools import catalogue
from tracker.i18n import LOCALE_DIR, _, format_day, ngettext, set_language, translations
from tracker.model import Status


def test_the_catalogue_has_danish_for_every_message_and_the_shipped_mo_is_compiled_from_it() -> None:
    # What CI runs as `tools/catalogue.py check`: the code's, the templates', the --help texts' and click's own.
    assert catalogue.problems() == []


def test_extraction_finds_every_kind_of_message() -> None:
    found = {message.id if isinstance(message.id, str) else message.id[0]: message for message in catalogue.template()
             if message.id}
    assert "Overdue or not" in found  # a template's _()
    assert isinstance(found["{count} deadline in all"].id, tuple)  # a template's ngettext, singular and plural
    assert "not started" in found  # marked with N_ where it is defined
    assert "Changed since {day}" in found  # inside an f-string, which Babel's own extractor reads as one token
    assert "Usage:" in found and "Missing option" in found  # click's own
    assert any(key.startswith("Track the deliverables and deadlines of Kræftplan V") for key in found)  # a docstring
    assert "Language of messages: da (default) or en (env TRACKER_LANG)." in found  # an option's help


def test_a_missing_translation_is_found(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The check must be able to fail: the same catalogue with one message untranslated, and no .mo.
    untranslated = catalogue.read()
    untranslated["Overdue or not"].string = ""
    monkeypatch.setattr(catalogue, "PO", tmp_path / "tracker.po")
    monkeypatch.setattr(catalogue, "MO", tmp_path / "tracker.mo")
    catalogue.write(untranslated)
    found = " ".join(catalogue.problems())
    assert "'Overdue or not' is not translated in" in found and "is not compiled from" in found


def test_the_danish_plural_forms_follow_the_count() -> None:
    set_language("da")
    assert ngettext("{count} overdue deadline", "{count} overdue deadlines", 1).format(count=1) == "1 forsinket frist"
    assert ngettext("{count} overdue deadline", "{count} overdue deadlines", 3).format(count=3) == \
        "3 forsinkede frister"
    assert ngettext("{count} overdue deadline", "{count} overdue deadlines", 0).format(count=0) == \
        "0 forsinkede frister"


def test_the_shipped_catalogue_is_the_one_the_standard_library_reads() -> None:
    danish = gettext.translation("tracker", LOCALE_DIR, languages=["da"])
    assert danish.gettext("Usage:") == "Brug:"
    assert translations("da").gettext("Due") == "Frist"
    assert translations("en").gettext("Due") == "Due"


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
