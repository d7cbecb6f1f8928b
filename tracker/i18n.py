"""Danish by default, English on request: the text users read.

Messages are written in English in the code (``_("Unknown deliverable {id}.")``)
and translated with gettext from the Danish catalogue,
``tracker/locale/da/LC_MESSAGES/tracker.po`` (the form translators' tools
read), compiled to ``tracker.mo`` beside it and shipped in the package.
``tools/catalogue.py`` extracts the messages with Babel (the code, the
dashboard's templates, the command line's help and click's own messages),
updates the catalogue and compiles it; ``tests/test_i18n.py`` and CI fail when
a message has no Danish translation. English is the source language, so
``--lang en`` needs no catalogue.

The language comes from ``--lang`` on the command line, else ``TRACKER_LANG``,
else Danish. A CLI invocation has exactly one language; the web process
renders feeds in several at once, so the choice is a context variable (one per
thread and task), and ``using_language`` sets it for a block.
"""

from __future__ import annotations

import functools
import gettext
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from pathlib import Path

LANGUAGES = ("da", "en")
DEFAULT_LANGUAGE = "da"
SOURCE_LANGUAGE = "en"  # the language of the messages in the code: it needs no catalogue
DOMAIN = "tracker"
LOCALE_DIR = Path(__file__).with_name("locale")

_language: ContextVar[str | None] = ContextVar("tracker_language", default=None)


def _checked(language: str | None) -> str | None:
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    return language


def set_language(language: str | None) -> None:
    """Use ``language`` ("da" or "en") for every message from now on; None resets."""
    _language.set(_checked(language))


@contextmanager
def using_language(language: str) -> Iterator[None]:
    """Messages in ``language`` inside the block, whatever was chosen outside it."""
    token = _language.set(_checked(language))
    try:
        yield
    finally:
        _language.reset(token)


def current_language() -> str:
    chosen = _language.get()
    if chosen is not None:
        return chosen
    from_env = os.environ.get("TRACKER_LANG", "").strip().lower()[:2]
    return from_env if from_env in LANGUAGES else DEFAULT_LANGUAGE


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of ``language``, read once per process."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    # No fallback: a package without its compiled catalogue is broken, and must say so rather than speak English.
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])


def _(message: str) -> str:
    """The message in the current language."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The message for ``count`` in the current language, in the plural form its grammar wants."""
    return translations(current_language()).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined; ``_`` translates it where it is shown."""
    return message


def signed_days(days: int) -> str:
    """A shift in days with its sign, as slippage against the baseline is shown: "+1 day", "-30 days"."""
    return ngettext("{days:+d} day", "{days:+d} days", abs(days)).format(days=days)


_MONTHS = {
    "da": (
        "januar", "februar", "marts", "april", "maj", "juni",
        "juli", "august", "september", "oktober", "november", "december",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}


def format_due(day: date | None) -> str:
    """A due day as people write it, or "uden frist" ("no deadline") for an undated commitment."""
    return format_day(day) if day is not None else _("no deadline")


def format_day(day: date) -> str:
    """A day as people write it: "30. juni 2026" in Danish, "30 June 2026" in English."""
    language = current_language()
    month = _MONTHS[language][day.month - 1]
    if language == "da":
        return f"{day.day}. {month} {day.year}"
    return f"{day.day} {month} {day.year}"
