"""The plan's domain types: parties, themes, deliverables and their statuses.

These are plain, immutable values built by ``tracker.register`` from the
register file. The database (``tracker.store``) keeps their state over time;
nothing here does I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from typing import TYPE_CHECKING

from tracker.errors import TransitionError

if TYPE_CHECKING:  # the parser is not needed to read statuses (tracker list stays fast)
    from tracker.deadlines import Occurrence, Schedule
    from tracker.policy import PolicySet


def _default_policy() -> PolicySet:
    from tracker.policy import PolicySet

    return PolicySet()


class Status(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    AT_RISK = "at_risk"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def is_closed(self) -> bool:
        """Done and cancelled occurrences are never overdue and need no reminders."""
        return self in (Status.DONE, Status.CANCELLED)

    @property
    def label(self) -> str:
        from tracker.i18n import _

        return _(_STATUS_LABELS[self])

    @classmethod
    def parse(cls, text: str) -> Status:
        """A status as people type it: ``done``, ``in-progress``, ``I gang``, ``færdig``, ``ikke_påbegyndt``.

        Case, and ``-``, ``_`` or spaces between words, do not matter; Danish
        and English words are both taken. ValueError for anything else.
        """
        words = " ".join(text.replace("-", " ").replace("_", " ").split()).casefold()
        status = _STATUS_WORDS.get(words) or _STATUS_WORDS.get(words.replace("æ", "ae").replace("å", "aa"))
        if status is None:
            raise ValueError(text)
        return status


_STATUS_LABELS = {
    Status.NOT_STARTED: "not started",
    Status.IN_PROGRESS: "in progress",
    Status.AT_RISK: "at risk",
    Status.DONE: "done",
    Status.CANCELLED: "cancelled",
}

# What a coordinator may type for each status: its value, its English and its Danish label, folded as
# Status.parse folds them (lower case, single spaces; æ and å also written ae and aa).
_STATUS_WORDS: dict[str, Status] = {
    word: status
    for status, words in {
        Status.NOT_STARTED: ("not started", "ikke påbegyndt", "ikke paabegyndt", "ikke startet"),
        Status.IN_PROGRESS: ("in progress", "i gang", "igang"),
        Status.AT_RISK: ("at risk", "i risiko"),
        Status.DONE: ("done", "færdig", "faerdig"),
        Status.CANCELLED: ("cancelled", "canceled", "aflyst"),
    }.items()
    for word in words
}

# Which status may follow which. Work does not become "not started" again once
# begun; a done item may be reopened (in progress) and a cancelled one
# reinstated, both with a note saying why.
ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NOT_STARTED: frozenset({Status.IN_PROGRESS, Status.AT_RISK, Status.DONE, Status.CANCELLED}),
    Status.IN_PROGRESS: frozenset({Status.AT_RISK, Status.DONE, Status.CANCELLED}),
    Status.AT_RISK: frozenset({Status.IN_PROGRESS, Status.DONE, Status.CANCELLED}),
    Status.DONE: frozenset({Status.IN_PROGRESS}),
    Status.CANCELLED: frozenset({Status.NOT_STARTED, Status.IN_PROGRESS}),
}


def check_transition(current: Status, new: Status) -> None:
    """Raise TransitionError, with the reason, when ``current`` cannot become ``new``."""
    from tracker.i18n import _

    if current == new:
        raise TransitionError(_("The status is already {status}; nothing to change.").format(status=new.value))
    if new not in ALLOWED_TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED_TRANSITIONS[current]))
        if new is Status.NOT_STARTED:
            reason = _("work that has begun cannot become not started again")
        else:
            reason = _("that step skips how the work actually moves")
        raise TransitionError(
            _("Cannot change the status from {current} to {new}: {reason}. From {current} it can become: {allowed}.")
            .format(current=current.value, new=new.value, reason=reason, allowed=allowed)
        )


def is_overdue(due: date, status: Status, today: date) -> bool:
    """Overdue: the due day has passed (in the plan's time zone) and the work is not closed."""
    return today > due and not status.is_closed


# Where an occurrence stands, as the report and the dashboard count it: its
# status, except that open work past its due day counts as overdue.
STANDINGS = ("done", "in_progress", "at_risk", "overdue", "not_started", "cancelled")


@dataclass(frozen=True)
class StatusCount:
    """How many occurrences have one status, and how many of those are overdue; or, for ``"overdue"``, how many
    are overdue in all."""

    key: str  # a Status value, or "overdue"
    count: int
    overdue: int = 0  # of ``count``, those overdue (for a status)


def count_by_status(items: Iterable[tuple[Status, bool]]) -> tuple[StatusCount, ...]:
    """The one rule for every count tracker shows: each occurrence under its status, overdue or not, with the
    overdue ones among them said ("i gang 2, heraf 1 forsinket"), and the overdue in all, in ``STANDINGS`` order.

    Before, overdue work counted only as overdue, so marking items in progress left "i gang: 0".
    """
    by_status: Counter[str] = Counter()
    overdue_by_status: Counter[str] = Counter()
    for status, overdue in items:
        by_status[status.value] += 1
        overdue_by_status[status.value] += overdue
    return tuple(StatusCount(key, sum(overdue_by_status.values())) if key == "overdue"
                 else StatusCount(key, by_status[key], overdue_by_status[key]) for key in STANDINGS)


def standing(status: Status, overdue: bool) -> str:
    return "overdue" if overdue else status.value


def standing_label(key: str) -> str:
    from tracker.i18n import _

    return _("overdue") if key == "overdue" else Status(key).label


def kind_label(kind: str) -> str:
    """What kind of deliverable it is, in words (the register's key where it is one this version does not know)."""
    from tracker.i18n import _

    return {
        "product": _("product"), "milestone": _("milestone"), "start": _("start"), "report": _("report"),
        "decision": _("decision"),
    }.get(kind, kind)


@dataclass(frozen=True)
class Party:
    key: str
    name: str
    name_en: str
    kind: str


@dataclass(frozen=True)
class Source:
    file: str
    section: str
    quote: str


@dataclass(frozen=True)
class Initiative:
    letter: str
    horizon: str
    text: str
    text_en: str = ""


@dataclass(frozen=True)
class Theme:
    key: str
    number: int
    title: str
    title_en: str
    topic: str
    topic_en: str
    chapter: str
    source: Source
    initiatives: tuple[Initiative, ...] = ()


@dataclass(frozen=True)
class Deliverable:
    id: str
    title: str
    title_en: str
    kind: str
    owner: str
    deadline_text: str
    schedule: Schedule
    theme: str
    source: Source
    co_owners: tuple[str, ...] = ()
    recipient: str | None = None
    interpreted_as: str | None = None
    reading: str | None = None
    initiative: str | None = None
    funding: str | None = None
    status: Status = Status.NOT_STARTED
    depends_on: tuple[str, ...] = ()
    renamed_from: str | None = None  # the id this deliverable had before: its state and history come along

    def occurrences(self) -> list[Occurrence]:
        from tracker.deadlines import occurrences_of

        return occurrences_of(self.schedule)


@dataclass(frozen=True)
class Register:
    """A validated register: every reference in it resolves."""

    title: str
    title_en: str
    timezone: str
    parties: dict[str, Party]
    themes: dict[str, Theme]
    deliverables: dict[str, Deliverable]
    path: str = ""
    digest: str = ""
    sources: dict[str, dict[str, str]] = field(default_factory=dict)
    policy: PolicySet = field(default_factory=_default_policy)
