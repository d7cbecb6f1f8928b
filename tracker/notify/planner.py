"""Which messages the policy calls for, to whom, and when. Pure: no clock, no I/O.

``plan_notices`` turns the plan's occurrences into ``Notice`` values: one per
(occurrence, kind, step, channel, recipient), each with a deterministic key
that the outbox keeps under a unique constraint, so a message is sent once
however often the plan is swept. ``bundle`` then joins the notices one
recipient gets on one day into a single ``Message``, so nobody receives one
message per deliverable.

The rules (``Policy`` has the numbers):

- reminder: ``n`` days before the due day for each ``n`` in reminder_days;
  on a weekend or a Danish public holiday it moves to the working day before;
- overdue: the first working day after the due day, then after each of
  ``overdue_repeat_days`` (weekly for a month, then every four weeks: the
  last gap repeats), moved to the week's digest day (each party's overdue
  items arrive together, once a week at most), for ``overdue_alert_for_days``:
  an item overdue longer is the coordinators' to follow up, and stays in the
  weekly digest;
- escalation: ``escalate_after_days`` overdue, to the coordinators and the
  task-force channel;
- confirm: ``confirm_after_days`` after the due day, when nobody has updated
  the occurrence since it fell due: "is it done? please confirm";
- digest: weekly on ``digest_weekday`` to the task force;
- round: a status round (``tracker.rounds``) asks each party about its items
  in scope on the day it opens, and again, about those nobody has answered
  since, on its reminder days. A paused item is asked when the round opens
  (the report needs its status), not reminded.

Closed occurrences (done, cancelled) and withdrawn ones get nothing; the
planner plans from their status as it is, so a later change to done stops
every message not yet sent. An occurrence snoozed (``tracker snooze``, or
"Udsæt" in a message) or with a new deadline asked for and not yet decided
gets no reminder, alert or "please confirm" until then; its escalation and
the digest go on, and say so.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo

from tracker.clock import plan_zone
from tracker.i18n import _, format_day, format_due, ngettext, using_language
from tracker.model import Change, HistoryAction, OccurrenceView, history_note
from tracker.notify.contacts import CHANNEL_ORDER, COORDINATORS, TASKFORCE, Contacts, Reach
from tracker.notify.message import Item, Message
from tracker.policy import PolicySet
from tracker.rounds import Round, answered_since_opening, scheduled, scope
from tracker.urls import deliverable_url
from tracker.workdays import on_or_after, on_or_before

# Most urgent first.
KINDS = ("problem", "request", "decision", "escalation", "overdue", "confirm", "round", "reminder", "digest")
# Notices that are not planned from the plan but queued when something happens: a message that could not be
# delivered (for the coordinators), a request for a new deadline (for the coordinators), and its outcome (for the
# one who asked). Each stands for itself in the outbox, and goes in a message of its own.
STANDALONE = frozenset({"problem", "request", "decision"})
CHANNELS = CHANNEL_ORDER  # slack, teams, email: the providers a deployment may configure


@dataclass(frozen=True)
class Notice:
    """One message the policy calls for: one occurrence, one recipient, one channel."""

    key: str
    kind: str
    step: str
    day: date  # the working day it goes out on
    subject: OccurrenceView | None  # None for a digest
    channel: str  # "slack", "teams", "email" or "console"
    recipient: str
    language: str
    reason: str  # why this recipient (e.g. "responsible party sst", "coordinators")
    # Whom this route reaches, for a fallback to their e-mail: a party's key, or COORDINATORS or TASKFORCE.
    party: str | None = None
    detail: str | None = None  # a problem notice's text (what failed, and what was done about it)
    round: Round | None = None  # a status round's question: the round it asks for


@dataclass
class Plan:
    notices: list[Notice] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # e.g. parties nobody can be reached at


def notice_key(subject: OccurrenceView | None, kind: str, step: str, channel: str, recipient: str) -> str:
    """``id/year/kind/step@due/channel/recipient``: the same message has the same key at every sweep.

    The due day is part of the key, so an occurrence that is re-planned to
    another day starts its reminders and alerts over.
    """
    if subject is None:
        return f"-/-/{kind}/{step}/{channel}/{recipient}"
    due = subject.due.isoformat() if subject.due is not None else "undated"
    # A member's own part of a per-member occurrence is a message of its own, to whomever it goes.
    about = subject.deliverable_id if subject.member is None else f"{subject.deliverable_id}~{subject.member}"
    return f"{about}/{subject.year or '-'}/{kind}/{step}@{due}/{channel}/{recipient}"


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def repeats(gaps: tuple[int, ...], skip: int = 0) -> Iterator[tuple[int, int]]:
    """(alert number, days after the first alert) of the repeated overdue alerts, endlessly: ``gaps`` apart, the
    last gap repeating. Those less than ``skip`` days after the first may be left out (a sweep's cost must not
    grow with how long ago an occurrence fell due)."""
    number, offset = 1, 0
    for gap in gaps:
        number, offset = number + 1, offset + gap
        if offset >= skip:
            yield number, offset
    last = gaps[-1]
    if offset < skip:  # jump over the repeats of the last gap that lie before skip (not the one at it)
        jumps = (skip - offset - 1) // last
        number, offset = number + jumps, offset + jumps * last
    while True:
        number, offset = number + 1, offset + last
        yield number, offset


def occurrence_steps(subject: OccurrenceView, policy_set: PolicySet, end: date,
                     start: date | None = None) -> Iterator[tuple[str, str, date]]:
    """(kind, step, day) for every message this occurrence calls for up to ``end``, in any order.

    With ``start``, the weekly overdue alerts long before it are not worked
    out (some may still be yielded): a sweep's cost must not grow with how
    long ago an occurrence fell due.
    """
    due = subject.due
    if not subject.open or due is None:
        return  # closed work needs nothing; an undated commitment is only asked about in status rounds
    policy = policy_set.for_deliverable(subject.deliverable_id, subject.responsible)
    for days_before in policy.reminder_days:
        yield "reminder", f"{days_before}d", on_or_before(due - timedelta(days=days_before))
    # The first alert on the first working day after the due day; the repeats
    # on the plan's weekly day (the digest's), so a party with many overdue
    # items hears about all of them in one message a week, not one a day.
    first = on_or_after(due + timedelta(days=1))
    if first <= end:
        yield "overdue", "1", first
    days_seen = {first}
    # The weekly snap moves an alert at most six days later, a holiday a few more: two weeks of margin.
    skip = max(0, (start - first).days - 14) if start is not None else 0
    for number, offset in repeats(policy.overdue_repeat_days, skip):
        nominal = first + timedelta(days=offset)
        if nominal > end or (nominal - due).days > policy.overdue_alert_for_days:
            break
        weekly = on_or_after(nominal + timedelta(days=(policy_set.default.digest_weekday - nominal.weekday()) % 7))
        if weekly not in days_seen and weekly <= end:
            days_seen.add(weekly)
            yield "overdue", str(number), weekly
    yield "escalation", f"{policy.escalate_after_days}d", on_or_after(due + timedelta(days=policy.escalate_after_days))
    nobody_updated = subject.updated_at is None or subject.updated_at.date() <= due
    if nobody_updated:
        yield "confirm", f"{policy.confirm_after_days}d", on_or_after(due + timedelta(days=policy.confirm_after_days))


def _routes(reach: Reach, channels: Iterable[str]) -> list[tuple[str, str]]:
    """(channel, recipient) pairs for ``reach`` over the configured channels: the first it prefers that has an
    address (Slack, Teams, e-mail when its contacts do not say)."""
    route = reach.route(channels)
    return [] if route is None else [(route[0], recipient) for recipient in route[1]]


def routes_for(reach: Reach, channels: tuple[str, ...], fallback_name: str | None) -> list[tuple[str, str, str]]:
    """(channel, recipient, language) for ``reach``; with no channel configured, the console.

    On the console a message is addressed as it would be sent (a Teams webhook by its handle), or to
    ``fallback_name`` ("coordinators", "taskforce") when ``reach`` has no address.
    """
    if not channels:
        route = reach.route(CHANNEL_ORDER)
        targets = list(route[1]) if route is not None else ([fallback_name] if fallback_name else [])
        return [("console", target, reach.language) for target in targets]
    return [(channel, target, reach.language) for channel, target in _routes(reach, channels)]


def plan_notices(subjects: Iterable[OccurrenceView], policy_set: PolicySet, contacts: Contacts, channels: Iterable[str],
                 start: date, end: date, extra_rounds: Iterable[Round] = ()) -> Plan:
    """Every notice due on a day from ``start`` to ``end`` (inclusive).

    ``channels`` are those configured (``slack``, ``teams``, ``email``); with none, every
    notice goes to the console, addressed as it would be. The register's
    status rounds are planned with ``extra_rounds``, those coordinators opened.
    """
    subjects = list(subjects)
    channels = tuple(channel for channel in CHANNELS if channel in set(channels))
    result = Plan()
    unreachable: dict[str, int] = defaultdict(int)

    def routes(reach: Reach, fallback_name: str) -> list[tuple[str, str, str]]:
        return routes_for(reach, channels, fallback_name)

    coordinators = routes(contacts.coordinators, "coordinators")
    taskforce = routes(contacts.taskforce, "taskforce")
    for whole in subjects:
        # A per-member occurrence: each member hears about its own part (``part``), the co-owners about the whole,
        # and the coordinators' escalation is the whole's, naming the late members.
        for subject in (whole, *whole.parts()):
            for kind, step, day in occurrence_steps(subject, policy_set, end, start):
                targets: list[_Target] = []
                if kind == "escalation":
                    if subject.member is not None:
                        continue
                    targets = [(*route, "coordinators", COORDINATORS, day) for route in coordinators]
                    targets += [(*route, "coordinators", TASKFORCE, day) for route in taskforce]
                else:
                    for party in subject.co_owners if subject.per_member else subject.parties:
                        reach = contacts.reach(party)
                        party_day = day
                        if reach.digest_only and (kind, step) != ("reminder", "1d"):
                            # Everything in the week's one message, on the digest's day after; a reminder stays on
                            # its day if that would be too late. Never earlier: a day already planned would lose
                            # it. The day-before reminder comes on its day.
                            party_day = weekly_day(day, policy_set)
                            if kind == "reminder" and subject.due is not None and party_day >= subject.due:
                                party_day = day
                        if not start <= party_day <= end or subject.paused_on(party_day):
                            continue  # another sweep's day; or snoozed, or a new deadline asked for
                        targets += _party_targets(subject, party, reach, party_day, channels, contacts,
                                                  coordinators, unreachable)
                _add(result, subject, kind, step, targets, start, end)
    for round_ in [*scheduled(policy_set, subjects), *extra_rounds]:
        steps = [(step, day) for step, day in round_.steps() if day <= end]
        if round_.report_done or not steps or round_.closes < start:
            continue  # the report is delivered; or the round is another sweep's
        for subject, parties in _asked_parts(round_, subjects):
            answered = answered_since_opening(subject, round_, plan_zone())
            for step, day in steps:
                if step != "open" and (answered or subject.paused_on(day)):
                    continue  # nobody is reminded of what they answered, or what is paused
                targets = []
                for party in parties:
                    reach = contacts.reach(party)
                    party_day = day
                    if reach.digest_only:  # the week's one message, if it comes before the cut-off
                        party_day = weekly_day(day, policy_set)
                        if party_day > round_.closes:
                            party_day = day
                    targets += _party_targets(subject, party, reach, party_day, channels, contacts, coordinators,
                                              unreachable)
                _add(result, subject, "round", f"{round_.key}:{step}", targets, start, end, round_)
    for day in _days(start, end):
        digest_day = _digest_day(day, policy_set)
        if digest_day is None:
            continue
        week = day.isocalendar()
        step = f"{week.year}-W{week.week:02d}"
        for channel, recipient, language in taskforce:
            result.notices.append(Notice(
                key=notice_key(None, "digest", step, channel, recipient), kind="digest", step=step,
                day=day, subject=None, channel=channel, recipient=recipient, language=language, reason="task force",
                party=TASKFORCE))
    for party, count in sorted(unreachable.items()):
        result.problems.append(ngettext(
            "{party}: no contact for the configured channels; {count} notice goes to the coordinators instead. "
            "Add [party.{party}] to the contacts file.",
            "{party}: no contact for the configured channels; {count} notices go to the coordinators instead. "
            "Add [party.{party}] to the contacts file.", count).format(party=party, count=count))
    if channels and not coordinators:
        result.problems.append("no coordinators in the contacts file: escalations reach no one. Add [coordinators].")
    result.notices.sort(key=lambda n: (n.day, KINDS.index(n.kind), n.key))
    return result


def _asked_parts(round_: Round, subjects: list[OccurrenceView]) -> Iterator[tuple[OccurrenceView, tuple[str, ...]]]:
    """What a round asks, and whom: each item in its scope, of the parties it asks; a per-member occurrence's
    members each about their own part (those still open, or answered since the round opened), its co-owners about
    the whole."""
    for asked in scope(round_, subjects):
        subject = asked.subject
        if not subject.per_member or subject.owner not in asked.parties:
            yield subject, asked.parties
            continue
        others = tuple(party for party in asked.parties if party != subject.owner)
        if others:
            yield subject, others
        for part in subject.parts():
            if part.open or answered_since_opening(part, round_, plan_zone()):
                yield part, (part.owner,)


_Target = tuple[str, str, str, str, str, date]  # channel, recipient, language, reason, party, day


def _party_targets(subject: OccurrenceView, party: str, reach: Reach, day: date, channels: tuple[str, ...],
                   contacts: Contacts, coordinators: list[tuple[str, str, str]],
                   unreachable: dict[str, int]) -> list[_Target]:
    """Where a message to ``party`` about ``subject`` goes: the party's routes, or the coordinators' for a party
    with no contact (counted in ``unreachable``)."""
    party_routes = routes_for(reach, channels, None)
    if not party_routes and subject.member == party and subject.collective is not None:
        # A member with no contact of its own hears through its collective party's (the regions' shared channel).
        collective = contacts.reach(subject.collective)
        member_routes = routes_for(collective, channels, None)
        if member_routes:
            return [(*route, f"{subject.collective}, for member {party}", subject.collective, day)
                    for route in member_routes]
    if not party_routes and not channels and contacts.coordinators.empty:
        # No contacts at all (the embedded default): printed, addressed to the party.
        party_routes = [("console", party, reach.language)]
    if party_routes:
        reason = (f"member {party} of {subject.collective}" if subject.member == party else
                  f"responsible party {party}" if party == subject.owner else f"co-owner {party}")
        return [(*route, reason, party, day) for route in party_routes]
    unreachable[party] += 1  # the console routes as Slack and e-mail would: to the coordinators
    return [(*route, f"coordinators, for {party} (no contact)", COORDINATORS, day) for route in coordinators]


def _add(result: Plan, subject: OccurrenceView, kind: str, step: str, targets: list[_Target], start: date, end: date,
         round_: Round | None = None) -> None:
    """One notice per (channel, recipient) of ``targets`` on a day from ``start`` to ``end``."""
    seen = set()
    for channel, recipient, language, reason, party, target_day in targets:
        if (channel, recipient) in seen or not start <= target_day <= end:
            continue
        seen.add((channel, recipient))
        result.notices.append(Notice(
            key=notice_key(subject, kind, step, channel, recipient), kind=kind, step=step, day=target_day,
            subject=subject, channel=channel, recipient=recipient, language=language, reason=reason, party=party,
            round=round_))


def weekly_day(day: date, policy_set: PolicySet) -> date:
    """The plan's weekly day (the digest's) on or after ``day``, moved to the next working day after a holiday."""
    return on_or_after(day + timedelta(days=(policy_set.default.digest_weekday - day.weekday()) % 7))


def _digest_day(day: date, policy_set: PolicySet) -> date | None:
    """``day`` if the week's digest goes out on it (its weekday, or the next working day)."""
    monday = day - timedelta(days=day.weekday())
    nominal = monday + timedelta(days=policy_set.default.digest_weekday)
    actual = on_or_after(nominal)
    return day if actual == day else None


# ----------------------------------------------------------------------------------------------------------------
# Messages: the notices one recipient gets on one day, in one text


def send_time(day: date, policy_set: PolicySet, zone: tzinfo) -> datetime:
    return datetime.combine(day, policy_set.default.send_at, tzinfo=zone)


def _item(notice: Notice, subject: OccurrenceView, base_url: str, reply_to: str = "") -> Item:
    english = notice.language == "en"
    title = subject.title_en if english else subject.title
    if subject.year is not None:
        title = f"{title} ({subject.year})"
    owner = subject.owner_label(english)
    days = (subject.due - notice.day).days if subject.due is not None else 0
    due = format_due(subject.due)
    if notice.kind == "round" and notice.round is not None and subject.due is None:
        # An undated commitment is only ever asked about in a round: what it needs is a status, and a date.
        report = notice.round.report_title_en if english else notice.round.report_title
        opening = notice.step.endswith(":open")
        line = (_("for “{report}” (cut-off {cutoff}): is “{status}” still right? Confirm it or update it; it has no "
                  "deadline yet, so say if one has been agreed") if opening else
                _("for “{report}” (cut-off {cutoff}): not answered yet. Is “{status}” still right? Confirm it or "
                  "update it; it has no deadline yet, so say if one has been agreed")).format(
            report=report, cutoff=format_day(notice.round.closes), status=subject.status.label)
    elif subject.due is None:
        line = _("no deadline yet; now {status}").format(status=subject.status.label)
    elif notice.kind == "reminder":
        # "Tomorrow" and "today" are words of their own, not a plural form: ngettext only counts days.
        if days == 0:
            line = _("due today ({due})").format(due=due)
        elif days == 1:
            line = _("due tomorrow ({due})").format(due=due)
        else:
            line = ngettext("due in {days} day ({due})", "due in {days} days ({due})", days).format(days=days, due=due)
    elif notice.kind == "overdue":
        line = ngettext("overdue by {days} day (due {due})", "overdue by {days} days (due {due})", -days).format(
            days=-days, due=due)
    elif notice.kind == "round" and notice.round is not None:
        report = notice.round.report_title_en if english else notice.round.report_title
        if notice.step.endswith(":open"):
            line = _("for “{report}” (cut-off {cutoff}): is “{status}” still right? Confirm it or update it; due "
                     "{due}").format(report=report, cutoff=format_day(notice.round.closes), status=subject.status.label,
                                     due=due)
        else:
            line = _("for “{report}” (cut-off {cutoff}): not answered yet. Is “{status}” still right? Confirm it "
                     "or update it; due {due}").format(report=report, cutoff=format_day(notice.round.closes),
                                                       status=subject.status.label, due=due)
    elif notice.kind == "escalation":
        line = ngettext("overdue by {days} day (due {due}) and escalated to the coordinators",
                        "overdue by {days} days (due {due}) and escalated to the coordinators", -days).format(
            days=-days, due=due)
    elif reply_to:
        line = _("the due day ({due}) has passed and nobody has updated the status since: is it done? Please tell "
                 "the coordinators how it stands ({reply_to}).").format(due=due, reply_to=reply_to)
    else:
        line = _("the due day ({due}) has passed and nobody has updated the status since: is it done? Please tell "
                 "the coordinators how it stands.").format(due=due)
    progress = subject.progress
    if progress is not None and subject.member is not None:
        collective = next((part for part in subject.members if part.key == subject.member), None)
        line += "; " + _("for {member}, {progress} done in all").format(
            member=collective.label(english) if collective else subject.member, progress=progress.text())
    elif progress is not None:
        late = [part.label(english) for part in subject.late_members]
        line += "; " + (_("{progress} done, late: {members}").format(progress=progress.text(), members=", ".join(late))
                        if late and subject.open else _("{progress} done").format(progress=progress.text()))
    if subject.requested_deadline and subject.open:
        line += "; " + _("a new deadline (“{deadline}”) is requested and awaits the coordinators").format(
            deadline=subject.requested_deadline)
    if subject.snoozed_until and notice.day < subject.snoozed_until and subject.open:
        line += "; " + _("paused until {day} by {who}: {reason}").format(
            day=format_day(subject.snoozed_until), who=subject.snoozed_by or "?",
            reason=history_note(subject.snooze_reason, "") or "")
    return Item(
        deliverable_id=subject.deliverable_id, occurrence=subject.year, title=title, owner=owner, due=subject.due,
        deadline_text=subject.deadline_text, status=subject.status.label, note=subject.note,
        source_section=subject.source_section, source_quote=subject.source_quote,
        url=deliverable_url(base_url, subject.deliverable_id), line=line, status_value=subject.status.value,
        kind=notice.kind, member=subject.member,
    )


def _digest_items(notice: Notice, subjects: list[OccurrenceView], changes: list[Change], policy_set: PolicySet,
                  base_url: str, zone: tzinfo) -> list[Item]:
    horizon = notice.day + timedelta(days=policy_set.default.digest_horizon_days)
    week_ago = notice.day - timedelta(days=7)
    changed: dict[tuple[str, int | None], set[str]] = defaultdict(set)
    answered: dict[tuple[str, int | None], list[str]] = defaultdict(list)
    for change in changes:
        if week_ago <= change.at.astimezone(zone).date() < notice.day:  # the plan's days, not UTC's
            changed[(change.deliverable_id, change.year)].add(change.action)
            if change.by_owner and change.actor not in answered[(change.deliverable_id, change.year)]:
                answered[(change.deliverable_id, change.year)].append(change.actor)
    items = []
    for subject in sorted(subjects, key=lambda s: (s.due_order, s.deliverable_id, s.year or 0)):
        key = (subject.deliverable_id, subject.year)
        if subject.open and subject.due is not None and subject.due < notice.day:
            kind = "overdue"
        elif subject.open and subject.due is not None and subject.due <= horizon:
            kind = "reminder"
        elif changed.get(key):
            kind = "changed"
        else:
            continue
        item = _item(replace(notice, kind=kind if kind != "changed" else "reminder"), subject, base_url)
        if kind == "changed" and HistoryAction.REPLAN in changed[key]:
            item = replace(item, line=_("re-planned in the last week: now due {due}, {status}").format(
                due=format_due(subject.due), status=item.status))
        elif kind == "changed":
            item = replace(item, line=_("changed in the last week; now {status}").format(status=item.status))
        if answered.get(key):
            item = replace(item, line=item.line + "; " + _("answered by the owners this week ({who})").format(
                who=", ".join(answered[key])))
        items.append(item)
    return items


def digest_summary(subjects: list[OccurrenceView], changes: list[Change], day: date, zone: tzinfo,
                   rounds: Iterable[Round] = (), english: bool = False) -> str:
    """The digest's second sentence: what the owners answered from their messages this week, the requests
    for a new deadline the coordinators have yet to decide, and how far each status round open on ``day`` has
    come; "" when none of these."""
    week_ago = day - timedelta(days=7)
    answered = {(change.deliverable_id, change.year) for change in changes
                if change.by_owner and week_ago <= change.at.astimezone(zone).date() < day}
    pending = sum(1 for subject in subjects if subject.requested_deadline and subject.open)
    parts = []
    if answered:
        parts.append(ngettext("{count} item answered by the owners this week",
                              "{count} items answered by the owners this week", len(answered)).format(
            count=len(answered)))
    if pending:
        parts.append(ngettext("{count} request for a new deadline awaits the coordinators",
                              "{count} requests for a new deadline await the coordinators", pending).format(
            count=pending))
    for round_ in rounds:
        if round_.state(day) != "open" or round_.report_done:
            continue
        # Answered as the reminders judge it (the read model's latest update), so the digest and the reminders
        # agree; an item answered "done" stays in the round's count.
        answered_in_round = frozenset((s.deliverable_id, s.year) for s in subjects
                                      if answered_since_opening(s, round_, zone))
        asked = scope(round_, subjects, answered_in_round)
        if asked:
            done = sum(1 for item in asked if (item.subject.deliverable_id, item.subject.year) in answered_in_round)
            parts.append(ngettext("the status round for “{report}” is open until {cutoff}: {answered} of {count} "
                                  "item answered",
                                  "the status round for “{report}” is open until {cutoff}: {answered} of {count} "
                                  "items answered", len(asked)).format(
                report=round_.report_title_en if english else round_.report_title,
                cutoff=format_day(round_.closes), answered=done, count=len(asked)))
    return "; ".join(parts) + "." if parts else ""


def bundle(notices: Iterable[Notice], subjects: list[OccurrenceView], changes: list[Change], policy_set: PolicySet,
           zone: tzinfo, base_url: str, reply_to: str = "", extra_rounds: Iterable[Round] = ()) -> list[Message]:
    """One Message per (channel, recipient, day), its notices' items most urgent first.

    The coordinators' digest says how far the status rounds open that day have come: the register's, and
    ``extra_rounds`` (those coordinators opened).

    Problem notices (a message that could not be delivered, for the
    coordinators) go in a message of their own, so they are not lost among
    the day's reminders.

    ``reply_to`` is who owners answer a "please confirm" to: the
    coordinators' addresses (``Contacts.reply_to``).
    """
    groups: dict[tuple[str, str, date, str], list[Notice]] = defaultdict(list)
    notices = list(notices)
    rounds = [*scheduled(policy_set, subjects), *extra_rounds] if any(n.kind == "digest" for n in notices) else []
    for notice in notices:
        groups[(notice.channel, notice.recipient, notice.day, alone(notice.kind, notice.key))].append(notice)
    messages = []
    for (channel, recipient, day, _alone), group in sorted(groups.items(), key=lambda g: (g[0][2], g[0][0],
                                                                                            g[0][1], not g[0][3])):
        group.sort(key=lambda n: (KINDS.index(n.kind), n.subject.due_order if n.subject else day, n.key))
        language = group[0].language
        with using_language(language):
            items: list[Item] = []
            for notice in group:
                if notice.kind == "digest":
                    items.extend(_digest_items(notice, subjects, changes, policy_set, base_url, zone))
                elif notice.subject is not None:
                    items.append(_item(notice, notice.subject, base_url, reply_to))
            kind = group[0].kind
            subject_line = _subject_line(group, day)
            if kind in STANDALONE:
                intro = "\n\n".join(notice.detail or "" for notice in group)
                text = "\n".join([subject_line, "", intro])
            else:
                intro = _intro(kind, day)
                asked_for = list(dict.fromkeys(notice.round for notice in group if notice.round is not None))
                if asked_for:
                    rounds_said = " ".join(_round_intro(round_, language == "en") for round_ in asked_for)
                    intro = rounds_said if kind == "round" else f"{intro} {rounds_said}"
                summary = digest_summary(subjects, changes, day, zone, rounds, language == "en") \
                    if kind == "digest" else ""
                if summary:
                    intro = f"{intro} {summary[0].upper()}{summary[1:]}"
                text = _text(subject_line, intro, items)
        digest = hashlib.sha256("\n".join(sorted(n.key for n in group)).encode()).hexdigest()[:20]
        messages.append(Message(
            key=f"{channel}/{recipient}/{day.isoformat()}/{digest}", kind=kind, channel=channel,
            recipient=recipient, language=language, at=send_time(day, policy_set, zone), subject=subject_line,
            intro=intro, items=tuple(items), text=text,
        ))
    return messages


def alone(kind: str, key: str) -> str:
    """What keeps a notice in a message of its own: "problem" for the problem reports (together), its key for a
    request or its outcome (one each, so the buttons under it decide that one), "" for the rest."""
    if kind == "problem":
        return "problem"
    return key if kind in STANDALONE else ""


def request_number(step: str) -> int | None:
    """The request a request's or a decision's step names: "request-12", "approved-12", "rejected-12"."""
    _state, _sep, number = step.rpartition("-")
    return int(number) if number.isdigit() else None


def _subject_line(group: list[Notice], day: date) -> str:
    counts: defaultdict[str, int] = defaultdict(int)
    for notice in group:
        counts[notice.kind] += 1
    first = group[0]
    if first.kind == "request" and first.step.startswith("reminder"):
        return _("Cancer Plan V: request {number} for a new deadline still waits").format(
            number=request_number(first.step))
    if first.kind == "request":
        return _("Cancer Plan V: a new deadline is requested (request {number})").format(
            number=request_number(first.step))
    if first.kind == "decision":
        return (_("Cancer Plan V: your request for a new deadline was approved") if first.step.startswith("approved")
                else _("Cancer Plan V: your request for a new deadline was rejected"))
    if counts["problem"]:
        # A report's step says whether the message failed or may have arrived (tracker.notify.sweep).
        uncertain = sum(1 for notice in group if notice.step.startswith("unknown-"))
        if uncertain == counts["problem"]:
            return ngettext("Cancer Plan V: {count} message may not have arrived",
                            "Cancer Plan V: {count} messages may not have arrived", uncertain).format(count=uncertain)
        if uncertain:
            return _("Cancer Plan V: {failed} not delivered, {uncertain} may not have arrived").format(
                failed=counts["problem"] - uncertain, uncertain=uncertain)
        return ngettext("Cancer Plan V: {count} message could not be delivered",
                        "Cancer Plan V: {count} messages could not be delivered", counts["problem"]).format(
            count=counts["problem"])
    parts = []
    if counts["escalation"]:
        parts.append(ngettext("{count} deadline escalated", "{count} deadlines escalated", counts["escalation"])
                     .format(count=counts["escalation"]))
    if counts["overdue"]:
        parts.append(ngettext("{count} overdue deadline", "{count} overdue deadlines", counts["overdue"])
                     .format(count=counts["overdue"]))
    if counts["confirm"]:
        parts.append(ngettext("{count} status to confirm", "{count} statuses to confirm", counts["confirm"]).format(
            count=counts["confirm"]))
    if counts["round"]:
        parts.append(ngettext("{count} status asked for a report", "{count} statuses asked for a report",
                              counts["round"]).format(count=counts["round"]))
    if counts["reminder"]:
        parts.append(ngettext("{count} deadline coming up", "{count} deadlines coming up", counts["reminder"])
                     .format(count=counts["reminder"]))
    if counts["digest"]:
        parts.append(_("the week's overview"))
    return _("Cancer Plan V: {parts}").format(parts=", ".join(parts))


def _intro(kind: str, day: date) -> str:
    if kind == "digest":
        return _("The week in Cancer Plan V as of {day}: what is overdue, what falls due in the coming weeks, and "
                 "what changed.").format(day=format_day(day))
    return _("What needs your attention in Cancer Plan V on {day}:").format(day=format_day(day))


def _round_intro(round_: Round, english: bool) -> str:
    return _("Status round for “{report}”: please confirm or update how each deliverable below stands by {cutoff}, "
             "the cut-off.").format(report=round_.report_title_en if english else round_.report_title,
                                    cutoff=format_day(round_.closes))


def _text(subject_line: str, intro: str, items: list[Item]) -> str:
    lines = [subject_line, "", intro, ""]
    if not items:
        lines.append(_("Nothing is overdue or due soon."))
    for item in items:
        lines.append(f"• {item.title}: {item.line}")
        lines.append("  " + _("Responsible: {party}").format(party=item.owner) + " · "
                     + _("Deadline: “{text}”").format(text=item.deadline_text) + " · "
                     + _("Status: {status}").format(status=item.status))
        if item.note:
            lines.append("  " + _("Latest note: {note}").format(note=item.note))
        lines.append(f"  {item.url}")
    return "\n".join(lines)
