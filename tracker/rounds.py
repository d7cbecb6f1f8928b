"""Status rounds: before each report's cut-off, every party is asked how each of its items stands.

Pure: the register's ``[[policy.round]]`` rules (``tracker.policy.RoundRule``),
the plan's occurrences and their history come in; no clock, no I/O.

A rule's rounds are its cut-off deliverable's occurrences: each due day is a
cut-off. A round opens ``opens_working_days_before`` working days before it,
and asks every party it names, in one message, to confirm or update each of
its items in scope; it reminds those who have not answered
``remind_working_days_before`` working days before the cut-off, and closes
at the end of the cut-off day. A coordinator may open an extra round
(``tracker round open NAME --now``): it opens at once and closes as many
working days later as a scheduled one is open, unless told another day.

Which items are in scope (the reading, recorded in docs/register.md): of
every deliverable a named party owns or co-owns (the report itself and the
cut-off's deliverable aside), each open occurrence due on or before the
cut-off, and the next one after it: the work that is late or due by the
report, and the work under way. A yearly deliverable is asked about its
current year, not about 2030's in 2026. An undated commitment ("uden frist")
counts as due after every cut-off, so it is the next one of its deliverable
and every round asks about it. An occurrence answered in the round stays in
it, even when the answer closed it.

An item counts as answered in a round when anyone gave its status, a note, a
new deadline or a request for one, or confirmed it unchanged, from the day
the round opened to the end of the cut-off day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from tracker.model import REGISTER_ACTOR, Change, HistoryAction, OccurrenceView
from tracker.workdays import on_or_after, working_days_before
from tracker.policy import PolicySet, RoundRule

# What answers a round's question: a status (or the same status, confirmed), a note, a new deadline, or a request
# for one. A pause ("Udsæt") does not: it says nothing of how the work stands.
ANSWERS = frozenset({HistoryAction.STATUS, HistoryAction.CONFIRMED, HistoryAction.NOTE, HistoryAction.REPLAN,
                     HistoryAction.REPLAN_REQUESTED})

UPCOMING, OPEN, CLOSED = "upcoming", "open", "closed"


def is_answer(action: str, actor: str) -> bool:
    """Whether a history row is someone's update of how an occurrence stands: one of ``ANSWERS``, and not the
    register's own statement of a status when it was loaded."""
    return action in ANSWERS and actor != REGISTER_ACTOR


@dataclass(frozen=True)
class Round:
    """One round of a rule: scheduled before one cut-off, or an extra one a coordinator opened."""

    rule: RoundRule
    opens: date  # the day the question goes out
    closes: date  # the cut-off: answers count to the end of this day
    report_title: str
    report_title_en: str
    year: int | None = None  # the cut-off's occurrence
    report_done: bool = False  # the cut-off's occurrence is closed: nothing is sent for it any more
    extra: int | None = None  # an extra round's number (``tracker round open``)
    opened_at: datetime | None = None  # an extra round: the instant it was opened
    opened_by: str | None = None

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def key(self) -> str:
        """The round in a notice's step and on the command line: "regionernes-status-2027-03-31", or
        "regionernes-status-extra-3"."""
        return f"{self.name}-extra-{self.extra}" if self.extra is not None else f"{self.name}-{self.closes.isoformat()}"

    def starts_at(self, zone: tzinfo) -> datetime:
        """From when an answer counts: the opening day's start, or the instant an extra round was opened."""
        return self.opened_at if self.opened_at is not None else datetime.combine(self.opens, time(0), zone)

    def ends_at(self, zone: tzinfo) -> datetime:
        """The end of the cut-off day, when the round closes."""
        return datetime.combine(self.closes + timedelta(days=1), time(0), zone)

    def steps(self) -> list[tuple[str, date]]:
        """(step, day) of the round's messages: "open" on its first day, then "remind-N" N working days before the
        cut-off, each after the opening."""
        steps = [("open", self.opens)]
        for days in self.rule.remind_working_days_before:
            day = working_days_before(self.closes, days)
            if self.opens < day <= self.closes and all(day != other for _step, other in steps):
                steps.append((f"remind-{days}", day))
        return steps

    def state(self, today: date) -> str:
        if today < self.opens:
            return UPCOMING
        return OPEN if today <= self.closes else CLOSED


def scheduled(policy_set: PolicySet, subjects: Iterable[OccurrenceView]) -> list[Round]:
    """Every rule's rounds, one per occurrence of its cut-off deliverable in the plan, by cut-off."""
    subjects = list(subjects)
    rounds = []
    for rule in policy_set.rounds:
        report = next((s for s in subjects if s.deliverable_id == rule.report), None)
        if report is None:
            continue  # the report left the register: its rounds with it
        for cutoff in subjects:
            if cutoff.deliverable_id != rule.cutoff or cutoff.withdrawn or cutoff.due is None:
                continue  # an undated cut-off sets no day for a round
            rounds.append(Round(rule=rule, opens=working_days_before(cutoff.due, rule.opens_working_days_before),
                                closes=cutoff.due, year=cutoff.year, report_title=report.title,
                                report_title_en=report.title_en, report_done=cutoff.status.is_closed))
    return sorted(rounds, key=lambda r: (r.closes, r.name))


def extra(rule: RoundRule, subjects: Iterable[OccurrenceView], number: int, opened_at: datetime, opened_by: str,
          zone: tzinfo, closes: date | None = None) -> Round:
    """An extra round, opened at ``opened_at``: it closes on ``closes``, or as many working days later as a
    scheduled round of the rule is open."""
    opens = opened_at.astimezone(zone).date()
    if closes is None:
        closes = opens
        for _day in range(rule.opens_working_days_before):
            closes = on_or_after(closes + timedelta(days=1))
    report = next((s for s in subjects if s.deliverable_id == rule.report), None)
    return Round(rule=rule, opens=opens, closes=closes, report_title=report.title if report else rule.report,
                 report_title_en=report.title_en if report else rule.report, extra=number, opened_at=opened_at,
                 opened_by=opened_by)


@dataclass(frozen=True)
class Asked:
    """One occurrence a round asks about, and the parties it asks (its owner and co-owners among the rule's)."""

    subject: OccurrenceView
    parties: tuple[str, ...]


def scope(round_: Round, subjects: Iterable[OccurrenceView],
          answered: frozenset[tuple[str, int | None]] = frozenset()) -> list[Asked]:
    """What ``round_`` asks about (the module's reading), by due day: ``answered`` (id, year) stay in scope
    though an answer closed them."""
    rule = round_.rule
    by_deliverable: dict[str, list[Asked]] = defaultdict(list)
    for subject in subjects:
        if subject.withdrawn or subject.deliverable_id in (rule.report, rule.cutoff):
            continue
        parties = tuple(party for party in (subject.owner, *subject.co_owners) if party in rule.parties)
        if parties and (subject.open or (subject.deliverable_id, subject.year) in answered):
            by_deliverable[subject.deliverable_id].append(Asked(subject, parties))
    asked = []
    for items in by_deliverable.values():
        items.sort(key=lambda item: (item.subject.due_order, item.subject.year or 0))
        asked += [item for item in items if item.subject.due_order <= round_.closes]
        asked += [item for item in items if item.subject.due_order > round_.closes][:1]
    return sorted(asked, key=lambda item: (item.subject.due_order, item.subject.deliverable_id, item.subject.year or 0))


def answered_since_opening(subject: OccurrenceView, round_: Round, zone: tzinfo) -> bool:
    """Whether someone has answered about ``subject`` since the round opened, as the plan's read model tells
    (its latest status, note or confirmation): the planner's test for a reminder."""
    return subject.updated_at is not None and subject.updated_at >= round_.starts_at(zone)


@dataclass(frozen=True)
class Standing:
    """One item of a round, and its latest answer in the round (None: no answer received)."""

    asked: Asked
    answer: Change | None


@dataclass(frozen=True)
class RoundStatus:
    round: Round
    items: list[Standing]

    def for_party(self, party: str) -> list[Standing]:
        return [item for item in self.items if party in item.asked.parties]

    @property
    def parties(self) -> list[str]:
        return list(dict.fromkeys(party for party in self.round.rule.parties
                                  if any(party in item.asked.parties for item in self.items)))

    @property
    def answered(self) -> int:
        return sum(1 for item in self.items if item.answer is not None)


def status(round_: Round, subjects: Iterable[OccurrenceView], changes: Iterable[Change], zone: tzinfo) -> RoundStatus:
    """Who answered what in ``round_``, from the history's ``changes`` (any actions: only ``ANSWERS`` count)."""
    start, end = round_.starts_at(zone), round_.ends_at(zone)
    latest: dict[tuple[str, int | None], Change] = {}
    for change in sorted(changes, key=lambda c: c.at):
        if is_answer(change.action, change.actor) and start <= change.at < end:
            latest[(change.deliverable_id, change.year)] = change
    asked = scope(round_, subjects, frozenset(latest))
    return RoundStatus(round=round_, items=[
        Standing(item, latest.get((item.subject.deliverable_id, item.subject.year))) for item in asked])


def current(rounds: Iterable[Round], name: str, today: date) -> Round | None:
    """The round of ``name`` as of ``today``: the open one (the latest opened, if an extra overlaps), else the
    last closed, else the next."""
    mine = [r for r in rounds if r.name == name]
    started = [r for r in mine if r.opens <= today]
    open_now = [r for r in started if r.closes >= today]
    if open_now:
        return max(open_now, key=lambda r: (r.opens, r.extra or 0))
    if started:
        return max(started, key=lambda r: (r.closes, r.extra or 0))
    return min(mine, key=lambda r: r.opens, default=None)
