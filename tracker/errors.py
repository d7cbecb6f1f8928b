"""The one error hierarchy of tracker.

Every error a user can cause or meet is one of these, and its message says what
went wrong, where, and what to do about it. Only ``tracker.cli`` turns them into
exit codes; nothing else in the package knows about exit codes.

::

    TrackerError                 anything tracker reports to a user
    ├── RegisterError            the register has problems (carries every Problem)
    ├── DeadlineError            a deadline expression cannot be read
    ├── UnknownIdError           no deliverable, party or theme with that id
    ├── TransitionError          a status change that makes no sense
    ├── OccurrenceError          a recurring deliverable needs --occurrence, or has no such one
    ├── SyncRefusedError         a sync that would lose part of the plan: refused, nothing written
    ├── StoreError               the database cannot be used as asked
    │   ├── DatabaseLockedError  another process (the service) holds the write lock
    │   └── SchemaError          the database is missing or not at this version's schema
    ├── FeedError                a calendar feed cannot be created, found or written as asked
    ├── ClockBusyError           another clock holds the database's clock lease
    └── SendError                a message was not (known to be) delivered (tracker.notify.message)
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass


class TrackerError(Exception):
    """Anything tracker reports to a user: the message names the problem and the fix."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


_PARTICULARS = re.compile(r"'[^']*'|\"[^\"]*\"|\d+")
_LONGEST_QUOTE, _LONGEST_PATH, _LONGEST_MESSAGE = 80, 120, 1000
_LONG_QUOTE = re.compile(r"(['\"])([^'\"]{%d,})\1" % (_LONGEST_QUOTE + 20))


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Problem:
    """One problem in a register: where it is, what is wrong, what would be accepted."""

    line: int | None
    path: str
    message: str

    @property
    def kind(self) -> str:
        """The problem without its particulars (quoted values, numbers), first sentence only: for counting."""
        return _PARTICULARS.sub("…", self.message).split(". ")[0].rstrip(".")

    def describe(self, filename: str) -> str:
        """One line for people: where, then what. A quoted value, the key path or the message that runs to
        thousands of characters (a hostile or broken file) is shortened, so a problem stays a line."""
        where = f"{filename}:{self.line}" if self.line else filename
        location = f" [{_shortened(self.path, _LONGEST_PATH)}]" if self.path else ""
        message = _LONG_QUOTE.sub(lambda match: match.group(1) + match.group(2)[:_LONGEST_QUOTE] + "…" + match.group(1),
                                  self.message)
        return f"{where}{location}: {_shortened(message, _LONGEST_MESSAGE)}"


class RegisterError(TrackerError):
    """The register has one or more problems; all of them are in ``problems``.

    The message lists the first ``SHOWN`` of them and counts the rest by kind,
    so a register with a million problems prints a page, not a flood.
    """

    SHOWN = 100

    def __init__(self, filename: str, problems: list[Problem]):
        self.filename = filename
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.path))
        super().__init__(filename)

    def heading(self) -> str:
        from tracker.i18n import ngettext

        return ngettext(
            "{count} problem in the register {filename}:",
            "{count} problems in the register {filename}:",
            len(self.problems),
        ).format(count=len(self.problems), filename=self.filename)

    def advice(self) -> str:
        from tracker.i18n import ngettext

        return ngettext("Fix it and run `tracker validate` again. The format is described in docs/register.md.",
                        "Fix them and run `tracker validate` again. The format is described in docs/register.md.",
                        len(self.problems))

    def rest(self, hidden: list[Problem]) -> str:
        from tracker.i18n import ngettext

        kinds = Counter(problem.kind for problem in hidden)
        top = ", ".join(f"{kind}: {count}" for kind, count in kinds.most_common(5))
        if len(kinds) > 5:
            top += ", …"
        return ngettext("… and {count} more problem ({kinds}).", "… and {count} more problems ({kinds}).",
                        len(hidden)).format(count=len(hidden), kinds=top)

    @property
    def message(self) -> str:
        shown, hidden = self.problems[: self.SHOWN], self.problems[self.SHOWN:]
        lines = [self.heading()] + [f"  - {p.describe(self.filename)}" for p in shown]
        if hidden:
            lines.append("  " + self.rest(hidden))
        lines.append(self.advice())
        return "\n".join(lines)


class DeadlineError(TrackerError):
    """A deadline expression cannot be read; the message lists the accepted forms."""


class UnknownIdError(TrackerError):
    """No deliverable (or party, or theme) has the given id."""

    def __init__(self, message: str, suggestions: list[str] | None = None):
        self.suggestions = suggestions or []
        super().__init__(message)


class TransitionError(TrackerError):
    """A status change that makes no sense, with the reason."""


class OccurrenceError(TrackerError):
    """A recurring deliverable was addressed without (or with a wrong) occurrence."""


class SyncRefusedError(TrackerError):
    """A sync refused before writing anything: it would archive more of the plan than one sync may unasked
    (a register cut off or half saved), or reuse the id of a renamed deliverable."""


class StoreError(TrackerError):
    """The database cannot be used as asked."""


class DatabaseLockedError(StoreError):
    """Another process, usually the running service, holds the database's write lock."""


class SchemaError(StoreError):
    """The database has no tracker schema, or one of another version."""


class FeedError(TrackerError):
    """A calendar feed cannot be created, found or written as asked (name, selection, alarm, export folder)."""


class ClockBusyError(TrackerError):
    """Another clock holds the database's clock lease: only one may run."""


class AnswerError(TrackerError):
    """An answer from a message that cannot be applied: an unknown, expired or revoked token, or an item that
    changed since the message told it. The message says which, for the person who answered."""
