"""The plan's domain types: parties, themes, deliverables and their statuses.

These are plain, immutable values built by ``tracker.register`` from the
register file. The database (``tracker.store``) keeps their state over time;
nothing here does I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from typing import TYPE_CHECKING, Any

from tracker.errors import TransitionError
from tracker.i18n import N_

if TYPE_CHECKING:  # the parser is not needed to read statuses (tracker list stays fast)
    from tracker.deadlines import Follows, Occurrence, Schedule
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
    Status.NOT_STARTED: N_("not started"),
    Status.IN_PROGRESS: N_("in progress"),
    Status.AT_RISK: N_("at risk"),
    Status.DONE: N_("done"),
    Status.CANCELLED: N_("cancelled"),
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
        raise TransitionError(_("The status is already {status}; nothing to change.").format(status=new.label))
    if new not in ALLOWED_TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.label for s in ALLOWED_TRANSITIONS[current]))
        if new is Status.NOT_STARTED:
            reason = _("work that has begun cannot become not started again")
        else:
            reason = _("that step skips how the work actually moves")
        raise TransitionError(
            _("Cannot change the status from {current} to {new}: {reason}. From {current} it can become: {allowed}.")
            .format(current=current.label, new=new.label, reason=reason, allowed=allowed)
        )


def rolled_up(statuses: Iterable[Status]) -> Status:
    """An occurrence's status from its members' (a per-member deliverable, "i alle regioner"): done when every member
    is done or cancelled for it (cancelled when all are), at risk when any is, in progress once any has begun, and
    not started until then. A member's own transitions are checked; the roll-up follows from them."""
    statuses = list(statuses)
    if not statuses:
        return Status.NOT_STARTED
    if all(status is Status.CANCELLED for status in statuses):
        return Status.CANCELLED
    if all(status.is_closed for status in statuses):
        return Status.DONE
    if any(status is Status.AT_RISK for status in statuses):
        return Status.AT_RISK
    if any(status in (Status.IN_PROGRESS, Status.DONE) for status in statuses):
        return Status.IN_PROGRESS
    return Status.NOT_STARTED


def is_overdue(due: date | None, status: Status, today: date) -> bool:
    """Overdue: the due day has passed (in the plan's time zone) and the work is not closed. An undated commitment
    (no due day) never is."""
    return due is not None and today > due and not status.is_closed


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


class HistoryAction(StrEnum):
    """What a history row records. Parties and themes record ``party_…`` and ``theme_…`` the same way."""

    CREATED = "created"  # a deliverable first loaded from the register
    STATUS = "status"
    CONFIRMED = "confirmed"  # the status confirmed as it is (new: the status), e.g. in a status round
    REPLAN = "replan"  # a new deadline (field "deadline") or an occurrence's new due day (field "due")
    REPLAN_REQUESTED = "replan_requested"  # an owner asked for a new deadline (new: the deadline asked for)
    REPLAN_REJECTED = "replan_rejected"  # the coordinators said no to such a request
    NOTE = "note"
    SNOOZED = "snoozed"  # the owner's reminders and alerts paused (new: the day they go again) or resumed (new: None)
    ARCHIVED = "archived"  # no longer in the register
    RESTORED = "restored"  # back in the register
    RENAMED = "renamed"
    REGISTER_UPDATE = "register_update"  # a field the register changed (title, source, …)
    OCCURRENCE_ADDED = "occurrence_added"
    OCCURRENCE_ARCHIVED = "occurrence_archived"
    OCCURRENCE_RESTORED = "occurrence_restored"
    PARTY_ADDED = "party_added"
    PARTY_UPDATED = "party_updated"
    PARTY_ARCHIVED = "party_archived"
    PARTY_RESTORED = "party_restored"
    THEME_ADDED = "theme_added"
    THEME_UPDATED = "theme_updated"
    THEME_ARCHIVED = "theme_archived"
    THEME_RESTORED = "theme_restored"


# What changes what an occurrence means for the people on it: the report's "changes", the digest's "changed last
# week". A first sync's "created" rows are not news, nor a register's own wording updates.
NEWS = frozenset({HistoryAction.STATUS, HistoryAction.CONFIRMED, HistoryAction.REPLAN, HistoryAction.NOTE,
                  HistoryAction.ARCHIVED, HistoryAction.RESTORED, HistoryAction.RENAMED, HistoryAction.SNOOZED})


def is_news(action: str, actor: str, deliverable_id: str | None) -> bool:
    """Whether a history row is news to the people following the plan (the one rule for report and digest)."""
    # A status the register itself states (a recurring deliverable's earlier years done at the first sync) is
    # the plan as written, not a coordinator's change.
    return bool(deliverable_id) and action in NEWS and not (actor == REGISTER_ACTOR and action == HistoryAction.STATUS)


@dataclass(frozen=True)
class Change:
    """A history row that is news (``is_news``): the report's changes, the digest's "changed in the last week"."""

    at: datetime
    deliverable_id: str
    year: int | None
    action: str
    old: str | None = None
    new: str | None = None
    note: str | None = None
    actor: str = ""
    member: str | None = None  # a member's own part of a per-member deliverable (its party key)

    @property
    def by_owner(self) -> bool:
        """Answered by an owner from a message (Slack's buttons or the answer page), not by a coordinator."""
        return answered_from_message(self.actor)

    @property
    def label(self) -> str:
        """The occurrence it is about: "screening-plan", "aarsrapport 2027", "senfoelgeklinikker (region-sjaelland)"."""
        label = self.deliverable_id if self.year is None else f"{self.deliverable_id} {self.year}"
        return f"{label} ({self.member})" if self.member else label


def as_change(row: Any) -> Change:
    """A history row (``tracker.store.tables.HistoryRow`` or alike) about a deliverable, as a change."""
    return Change(at=row.at, deliverable_id=row.deliverable_id or "", action=row.action, old=row.old_value,
                  new=row.new_value, note=history_note(row.note, row.actor), actor=row.actor,
                  year=int(row.occurrence_key) if row.occurrence_key else None, member=getattr(row, "member", None))


def news(rows: Iterable[Any]) -> list[Change]:
    """The history rows (``tracker.store.tables.HistoryRow`` or alike) that are news, as changes, in their order."""
    return [as_change(row) for row in rows if is_news(row.action, row.actor, row.deliverable_id)]


# The actor of the rows tracker writes itself when it loads the register.
REGISTER_ACTOR = "register"
# How the actor of an answer from a message ends: "Mette Sørensen <mette@rm.dk> via Slack",
# "kontakt@rm.dk via e-mail", "teams:3f2a9c1b0d via Teams" (the channel's webhook by its handle: the answer page
# cannot know who in the channel opened it).
VIA_SLACK, VIA_EMAIL, VIA_TEAMS = " via Slack", " via e-mail", " via Teams"


def answered_from_message(actor: str) -> bool:
    return actor.endswith((VIA_SLACK, VIA_EMAIL, VIA_TEAMS))


# The note of the history row an undo from a message writes ("Fortryd"): tracker's words, shown translated, and what
# marks the row as an undo (an undo is never undone again).
UNDONE_NOTE = N_("Undone: back to the status before the answer.")
# The reason of a pause an owner chose in a message ("Udsæt 2 uger"): tracker's words too.
SNOOZED_NOTE = N_("Paused from the message.")
# The note of a re-plan tracker makes itself: a deadline set by another deliverable ("2 år efter ID") moved with it.
FOLLOWED_NOTE = N_("Moved with the deliverable its deadline follows.")
_TRACKER_NOTES = frozenset({UNDONE_NOTE, SNOOZED_NOTE, FOLLOWED_NOTE})


def history_note(note: str | None, actor: str) -> str | None:
    """A history row's note in the current language when tracker wrote it ("as stated in the source", marked
    with ``N_`` where written; an undo's, a pause's from a message); a person's note as they wrote it."""
    from tracker.i18n import _

    return _(note) if note and (actor == REGISTER_ACTOR or note in _TRACKER_NOTES) else note


def change_text(action: str, old: str | None, new: str | None, field: str | None = None,
                values: bool = False) -> str:
    """A history row's action in words, without its note: the one wording of ``tracker show``, the dashboard and
    the report. ``values`` adds a register update's old and new values (``tracker show`` has room for them)."""
    from tracker.i18n import _

    def status(value: str) -> str:
        try:
            return Status(value).label
        except ValueError:  # a status a later version added, read by this one
            return value

    if action == HistoryAction.STATUS and old and new:
        return _("status {old} → {new}").format(old=status(old), new=status(new))
    if action == HistoryAction.STATUS and new:
        return _("status {new}").format(new=status(new))
    if action == HistoryAction.CONFIRMED:
        return _("status confirmed unchanged: {status}").format(status=status(new or "?"))
    if action == HistoryAction.REPLAN:
        return _("re-planned {old} → {new}").format(old=old or "?", new=new or "?")
    if action == HistoryAction.REPLAN_REQUESTED:
        return _("asked for a new deadline: {new}").format(new=new or "?")
    if action == HistoryAction.REPLAN_REJECTED:
        return _("the request for a new deadline ({new}) was rejected").format(new=new or "?")
    if action == HistoryAction.RENAMED:
        return _("renamed from {old}").format(old=old or "?")
    if action == HistoryAction.SNOOZED:
        from tracker.i18n import format_day

        if not new:
            return _("reminders to the owner resumed")
        try:
            until = format_day(date.fromisoformat(new))
        except ValueError:
            until = new
        return _("reminders to the owner paused until {day}").format(day=until)
    if action == HistoryAction.REGISTER_UPDATE:
        text = _("{field} changed in the register").format(field=field or "?")
        return f"{text}: {old or '–'} → {new or '–'}" if values else text
    if action.startswith(("party_", "theme_")):
        key = new or old or "?"
        words: dict[str, str] = {
            HistoryAction.PARTY_ADDED: _("party {key} added to the register"),
            HistoryAction.PARTY_UPDATED: _("party details changed in the register ({field})"),
            HistoryAction.PARTY_ARCHIVED: _("party {key} removed from the register"),
            HistoryAction.PARTY_RESTORED: _("party {key} back in the register"),
            HistoryAction.THEME_ADDED: _("theme {key} added to the register"),
            HistoryAction.THEME_UPDATED: _("theme details changed in the register ({field})"),
            HistoryAction.THEME_ARCHIVED: _("theme {key} removed from the register"),
            HistoryAction.THEME_RESTORED: _("theme {key} back in the register"),
        }
        return words.get(action, action).format(key=key, field=field or "?")
    plain: dict[str, str] = {
        HistoryAction.CREATED: _("added from the register"), HistoryAction.NOTE: _("note"),
        HistoryAction.ARCHIVED: _("removed from the register"), HistoryAction.RESTORED: _("back in the register"),
        HistoryAction.OCCURRENCE_ADDED: _("deadline added"), HistoryAction.OCCURRENCE_ARCHIVED: _("deadline removed"),
        HistoryAction.OCCURRENCE_RESTORED: _("deadline back"),
    }
    return plain.get(action, action)


@dataclass(frozen=True)
class Party:
    key: str
    name: str
    name_en: str
    kind: str
    # A collective party's members ("regionerne": the five regions), each a party of its own: a per-member
    # deliverable has a status for each.
    members: tuple[str, ...] = ()


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
    initiative: str | None = None  # the agreement's section it belongs to: its [[funding]] is found by this
    status: Status = Status.NOT_STARTED
    depends_on: tuple[str, ...] = ()
    renamed_from: str | None = None  # the id this deliverable had before: its state and history come along
    follows: Follows | None = None  # its deadline is set by another deliverable ("før ID", "2 år efter ID")
    funding: tuple[Funding, ...] = ()  # its initiative's [[funding]], found by the register (never a deadline)
    # Every member of its owner (a collective party) delivers its own part ("i alle regioner"): the sentence that
    # says so, verbatim, and how it is read where the words are not "alle".
    per_member: bool = False
    per_member_quote: str | None = None
    per_member_reading: str | None = None

    def occurrences(self) -> list[Occurrence]:
        from tracker.deadlines import occurrences_of

        return occurrences_of(self.schedule)


@dataclass(frozen=True)
class Funding:
    """When money flows to an initiative: one line of the agreement's Tabel 1 (a fact about the initiative, never
    a deadline), with the sentence that grants it."""

    initiative: str  # the agreement's section, as deliverables name it in ``initiative``
    amounts: tuple[tuple[int, float], ...]  # (year, mio. kr.) for each year with money, in order
    ongoing: float  # mio. kr. a year for good (Tabel 1's "Varigt"); 0 when the money stops
    source: Source
    table_row: str = ""  # the Tabel 1 line, e.g. "Heraf regioner"; "" where the money is not in Tabel 1
    table_group: str = ""
    recipient: str | None = None
    reading: str | None = None

    def as_json(self) -> dict[str, Any]:
        """What a deliverable of the initiative keeps of it in the database (``deliverable.funded``)."""
        return {"row": self.table_row, "group": self.table_group, "recipient": self.recipient,
                "amounts": {str(year): amount for year, amount in self.amounts}, "ongoing": self.ongoing,
                "quote": self.source.quote}


@dataclass(frozen=True)
class Funded:
    """The years an initiative has money, read from its funding facts: "finansieret 2027–2029" beside the
    deliverables it pays for."""

    years: tuple[int, ...]
    ongoing: bool  # money every year for good from the last year on

    @classmethod
    def of(cls, entries: Iterable[Mapping[str, Any]]) -> Funded | None:
        """From a deliverable's ``funded`` JSON (``Funding.as_json``); None when its initiative has no funding."""
        years: set[int] = set()
        ongoing = False
        for entry in entries:
            years.update(int(year) for year, amount in entry.get("amounts", {}).items() if amount)
            ongoing = ongoing or bool(entry.get("ongoing"))
        return cls(tuple(sorted(years)), ongoing) if years else None

    def text(self) -> str:
        """"finansieret 2026–2028", "finansieret 2026 og 2028", "finansieret fra 2027, varigt"."""
        from tracker.i18n import _

        return _("funded {years}").format(years=self.span())

    def span(self) -> str:
        """The years alone: "2026–2028", "2026 og 2028", "fra 2027, varigt"."""
        from tracker.i18n import _

        if self.ongoing:
            return _("from {year}, for good").format(year=self.years[0])
        spans: list[str] = []
        start = previous = self.years[0]
        for year in (*self.years[1:], None):
            if year is not None and year == previous + 1:
                previous = year
                continue
            spans.append(str(start) if start == previous else f"{start}–{previous}")
            if year is not None:
                start = previous = year
        return spans[0] if len(spans) == 1 else _("{first} and {last}").format(first=", ".join(spans[:-1]),
                                                                               last=spans[-1])


@dataclass(frozen=True)
class Skipped:
    """A dated sentence of a source the register does not track, and why (``tracker validate --coverage``)."""

    file: str
    section: str
    quote: str
    reason: str


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
    skipped: tuple[Skipped, ...] = ()  # dated sentences of the sources that are not deliverables, with the reason
    funding: tuple[Funding, ...] = ()  # when money flows to each initiative (Tabel 1), as facts, not deadlines

    def funding_of(self, initiative: str | None) -> tuple[Funding, ...]:
        return tuple(entry for entry in self.funding if initiative and entry.initiative == initiative)


@dataclass(frozen=True)
class PlanNames:
    """Every party's and theme's display names, read once with the plan: party key → (da, en), theme key →
    (number, topic da, topic en). A key the plan does not name is shown as itself."""

    parties: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    themes: Mapping[str, tuple[int, str, str]] = field(default_factory=dict)
    members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # a collective party's members, in order

    def party(self, key: str, english: bool = False) -> str:
        return self.parties.get(key, (key, key))[1 if english else 0]

    def party_pair(self, key: str) -> tuple[str, str]:
        return self.parties.get(key, (key, key))

    def topic(self, key: str, english: bool = False) -> str:
        number, topic, topic_en = self.themes.get(key, (0, key, key))
        return topic_en if english else topic

    def theme(self, key: str, english: bool = False) -> str:
        """"Anbefaling 7: …": a theme as the plan numbers it (its key where the plan has no such theme)."""
        from tracker.i18n import _

        number, topic, topic_en = self.themes.get(key, (0, key, key))
        if not number:
            return key
        return _("Recommendation {number}: {topic}").format(number=number, topic=topic_en if english else topic)

    def theme_order(self, key: str) -> tuple[int, str]:
        return (self.themes.get(key, (999, "", ""))[0], key)


@dataclass(frozen=True)
class Basis:
    """What a deadline set by another deliverable is counted from: the one it follows (``target``), and its day
    it counts from (the first day of its window for "før", its due day, or the day it was done)."""

    relation: str  # tracker.deadlines.BEFORE, WITH or AFTER
    target: str
    target_title: str
    target_title_en: str
    counted_from: date
    years: int = 0
    from_done: bool = False

    def text(self, due: date | None, english: bool = False) -> str:
        """The basis in words, with the days: "2 år efter “Forsøgsordningen startet”, 1. marts 2026 → 1. marts
        2028"."""
        from tracker.i18n import _, format_day, format_due, ngettext

        title = self.target_title_en if english else self.target_title
        if self.relation == "before":
            said = _("before “{title}”").format(title=title)
        elif self.relation == "with":
            said = _("with “{title}”").format(title=title)
        elif self.from_done:
            said = ngettext("{count} year after “{title}” was done", "{count} years after “{title}” was done",
                            self.years).format(count=self.years, title=title)
        else:
            said = ngettext("{count} year after “{title}”", "{count} years after “{title}”", self.years).format(
                count=self.years, title=title)
        return f"{said}, {format_day(self.counted_from)} → {format_due(due)}"


@dataclass(frozen=True)
class MemberPart:
    """One member's own part of a per-member occurrence: its status, as the member reported it."""

    key: str  # the member's party key ("region-nordjylland")
    name: str
    name_en: str
    status: Status
    overdue: bool
    updated_at: datetime | None  # its last status change, confirmation or note
    note: str | None = None
    evidence_url: str | None = None
    # The member's reminders and alerts paused until this day ("Udsæt" in its message), why, and by whom.
    snoozed_until: date | None = None
    snooze_reason: str | None = None
    snoozed_by: str | None = None

    def label(self, english: bool = False) -> str:
        return (self.name_en if english else self.name) or self.key

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "status": self.status.value, "overdue": self.overdue,
                "updated_at": self.updated_at.isoformat() if self.updated_at else None, "note": self.note}


@dataclass(frozen=True)
class Progress:
    """How far the members have come: "3 af 5". A member that cancelled its part is not counted."""

    done: int
    total: int

    def text(self) -> str:
        from tracker.i18n import _

        return _("{done} of {total}").format(done=self.done, total=self.total)

    def short(self) -> str:
        return f"{self.done}/{self.total}"


@dataclass(frozen=True, slots=True)  # slots: a large plan holds tens of thousands of these
class OccurrenceView:
    """One occurrence with its deliverable and the names of its parties, as of one day: the one read model of
    the plan. ``tracker list`` and ``show``, the report, the dashboard, the calendar feeds and the notification
    planner all read the plan as these (built by ``tracker.store.queries.load_plan``)."""

    deliverable_id: str
    year: int | None  # the occurrence of a recurring deliverable; None for a one-off
    title: str
    title_en: str
    kind: str
    owner: str
    co_owners: tuple[str, ...]
    recipient: str | None
    theme: str
    deadline_text: str
    window_start: date | None  # None, like due and baseline_due, for an undated commitment ("uden frist")
    due: date | None
    baseline_due: date | None  # the due day the register first gave it, before any re-plan
    precision: str
    status: Status
    overdue: bool  # as of the day it was read; withdrawn work is nobody's to deliver, so never overdue
    withdrawn: bool  # archived: the register no longer has it
    note: str | None
    updated_at: datetime | None  # the last status change or note by a coordinator, if any
    source_file: str
    source_section: str
    source_quote: str
    owner_name: str = ""  # the responsible party's names (its key where the plan has none)
    owner_name_en: str = ""
    co_owner_names: tuple[str, ...] = ()
    co_owner_names_en: tuple[str, ...] = ()
    calendar_id: str = ""  # the id its calendar events are known by (the first it had); "" for deliverable_id
    # The deadline an owner asked for and the coordinators have not decided on yet (``tracker requests``).
    requested_deadline: str | None = None
    snoozed_until: date | None = None  # the owner's reminders and alerts paused until this day (``tracker snooze``)
    snooze_reason: str | None = None
    snoozed_by: str | None = None
    basis: Basis | None = None  # a deadline set by another deliverable: what it is counted from
    funded: Funded | None = None  # the years its initiative has money, if the agreement funds it
    # A per-member occurrence ("i alle regioner"): each member's part, in the collective party's order. Its status
    # is the roll-up of theirs (``rolled_up``).
    members: tuple[MemberPart, ...] = ()
    # One member's part of such an occurrence (``part``): the member, and the collective party it is a part for.
    member: str | None = None
    collective: str | None = None

    @property
    def per_member(self) -> bool:
        """The whole of a per-member occurrence (not one member's part of it)."""
        return bool(self.members) and self.member is None

    @property
    def progress(self) -> Progress | None:
        """"3 af 5": the members done, of those that have not cancelled their part; None unless per member."""
        if not self.members:
            return None
        counted = [part for part in self.members if part.status is not Status.CANCELLED]
        return Progress(sum(1 for part in counted if part.status is Status.DONE), len(counted))

    @property
    def late_members(self) -> tuple[MemberPart, ...]:
        return tuple(part for part in self.members if part.overdue)

    def part(self, member: MemberPart) -> OccurrenceView:
        """The member's own part: the occurrence as that member's work, with its status, note, updates and pause.
        What the member is reminded of, answers for and sees in its calendar. It keeps the members, so it can say
        how far they have come in all."""
        return replace(self, owner=member.key, owner_name=member.name, owner_name_en=member.name_en, co_owners=(),
                       co_owner_names=(), co_owner_names_en=(), status=member.status,
                       overdue=not self.withdrawn and member.overdue, note=member.note, updated_at=member.updated_at,
                       snoozed_until=member.snoozed_until or self.snoozed_until,
                       snooze_reason=member.snooze_reason if member.snoozed_until else self.snooze_reason,
                       snoozed_by=member.snoozed_by if member.snoozed_until else self.snoozed_by,
                       member=member.key, collective=self.owner)

    def parts(self) -> tuple[OccurrenceView, ...]:
        """Each member's part of the whole; none for anything else (a part has no parts)."""
        return tuple(self.part(member) for member in self.members) if self.per_member else ()

    @property
    def responsible(self) -> str:
        """The party the register makes responsible: the collective one for a member's part."""
        return self.collective or self.owner

    def paused_on(self, day: date) -> bool:
        """Whether the owner hears nothing about it on ``day``: snoozed until a later day, or a new deadline asked
        for and not decided yet. Escalations and the digest go on."""
        return (self.snoozed_until is not None and day < self.snoozed_until) or self.requested_deadline is not None

    @property
    def parties(self) -> tuple[str, ...]:
        """Whose work this is: the owner and the co-owners (the one rule of party calendars, filters, reports)."""
        return (self.owner, *self.co_owners)

    @property
    def open(self) -> bool:
        """Work someone still owes: in the register and not closed."""
        return not self.withdrawn and not self.status.is_closed

    @property
    def cancelled(self) -> bool:
        return self.withdrawn or self.status is Status.CANCELLED

    @property
    def undated(self) -> bool:
        """A commitment with no due day yet: never overdue, never reminded by date, asked about in every round."""
        return self.due is None

    @property
    def due_order(self) -> date:
        """The due day to sort by: undated commitments after every dated one."""
        return self.due or date.max

    @property
    def slippage_days(self) -> int:
        if self.due is None or self.baseline_due is None:
            return 0
        return (self.due - self.baseline_due).days

    def owner_label(self, english: bool = False) -> str:
        return (self.owner_name_en if english else self.owner_name) or self.owner

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.deliverable_id, "title": self.title, "title_en": self.title_en, "kind": self.kind,
            "owner": self.owner, "co_owners": list(self.co_owners), "recipient": self.recipient,
            "deadline_text": self.deadline_text, "window_start": _iso(self.window_start),
            "due": _iso(self.due), "undated": self.undated, "precision": self.precision, "occurrence": self.year,
            "status": self.status.value, "overdue": self.overdue, "baseline_due": _iso(self.baseline_due),
            "slippage_days": self.slippage_days, "theme": self.theme,
            "funded": {"years": list(self.funded.years), "ongoing": self.funded.ongoing} if self.funded else None,
            "note": self.note, "archived": self.withdrawn,
            "source": {"file": self.source_file, "section": self.source_section, "quote": self.source_quote},
            # Every occurrence has both: no members and no progress unless it is per member.
            "members": [part.as_json() for part in self.members],
            "progress": {"done": progress.done, "total": progress.total} if (progress := self.progress) else None,
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None
