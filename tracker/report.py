"""The yearly status report: every deliverable as of a day, overdue first, by theme and by party.

It serves the written status the regions and KL owe Sundhedsstyrelsen each
year and Sundhedsstyrelsen's yearly report to the ministry. Pure: the
database's current occurrences and their history come in, and ``as_of``
replays the history backwards to the end of the report's day (a status or a
due day changed later is shown as it was then; an occurrence added later is
left out). Rendering to Markdown, CSV and HTML (printable on A4) escapes
register text for each format.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo

from sqlmodel import Session

from tracker.clock import plan_zone
from tracker.i18n import _, format_day, signed_days
from tracker.model import (REGISTER_ACTOR, UNDONE_NOTE, Change, HistoryAction, MemberPart, OccurrenceView, PlanNames,
                           Status, as_change, change_text, count_by_status, history_note, is_overdue, news,
                           rolled_up, standing_label)
from tracker.policy import PolicySet
from tracker.rounds import RoundStatus, is_answer
from tracker.store.tables import HistoryRow
from tracker.text import write_csv

# History actions a report lists as "changed since the last report".
@dataclass(frozen=True)
class Entry:
    """One occurrence as it stood at the end of the report's day."""

    view: OccurrenceView  # status and due as they were then (a per-member one's members' parts too)
    overdue: bool
    # Each member's latest update of its own part as of then (a per-member occurrence, or a member's part): when,
    # and by whom.
    member_latest: Mapping[str, tuple[datetime, str]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.view.deliverable_id if self.view.year is None else f"{self.view.deliverable_id} {self.view.year}"


@dataclass(frozen=True)
class Report:
    as_of: date
    since: date
    party: str | None  # the party's name, when the report is for one
    entries: list[Entry]
    changes: list[Change]
    names: PlanNames
    history_begins: date | None = None  # the day the register was first loaded into this database
    # Each occurrence's latest update as of the report's day (a status, a confirmation, a note, a re-plan, a request
    # for one): when and by whom.
    latest: Mapping[tuple[str, int | None], Change] = field(default_factory=dict)
    rounds: list[RoundStatus] = field(default_factory=list)  # each round's latest as of the report's day
    party_key: str | None = None


def as_of(views: Iterable[OccurrenceView], history: Iterable[HistoryRow], moment: datetime,
          day: date) -> list[Entry]:
    """The occurrences as they stood at ``moment`` (the end of ``day``), undoing every later change.

    The first load of the register is where the history begins, not a change
    to the plan: before it, the plan is shown as first loaded (every
    deliverable in it, with the status the register stated), never as empty.
    """
    history = list(history)
    cutoff = max(moment, history_begins(history) or moment)
    later = sorted((row for row in history if row.at > cutoff and row.deliverable_id),
                   key=lambda row: (row.at, row.id or 0))
    # In the plan from its first "created" (and each occurrence from its first "occurrence_added"): a deliverable
    # renamed onto an id a sync had just created has both that sync's rows and its own older ones.
    first_added: dict[tuple[str, str | None], datetime] = {}
    for row in history:
        if row.deliverable_id and row.action in (HistoryAction.CREATED, HistoryAction.OCCURRENCE_ADDED):
            key = (row.deliverable_id, None if row.action == HistoryAction.CREATED else row.occurrence_key or "")
            first_added[key] = min(row.at, first_added.get(key, row.at))
    by_occurrence: dict[tuple[str, str], list[HistoryRow]] = defaultdict(list)
    for row in later:
        by_occurrence[(row.deliverable_id or "", row.occurrence_key or "")].append(row)
    # A per-member occurrence's parts are replayed from their whole history (a few occurrences of the plan).
    per_member = {view.deliverable_id for view in views if view.per_member}
    every_row: dict[tuple[str, str], list[HistoryRow]] = defaultdict(list)
    for row in sorted((row for row in history if row.deliverable_id in per_member), key=lambda r: (r.at, r.id or 0)):
        every_row[(row.deliverable_id or "", row.occurrence_key or "")].append(row)
    entries = []
    for view in views:
        occurrence_key = "" if view.year is None else str(view.year)
        rows = by_occurrence.get((view.deliverable_id, occurrence_key), [])
        if first_added.get((view.deliverable_id, None), cutoff) > cutoff or \
                first_added.get((view.deliverable_id, occurrence_key), cutoff) > cutoff:
            continue  # not in the plan yet
        # The first change of a field after ``moment`` holds, as its old value, what the field was then. (A
        # member's own change is its part's, not the whole's.)
        first_status = next((row for row in rows if row.field == "status" and row.old_value and not row.member),
                            None)
        # A re-plan's old due day is empty where it dated an undated commitment: then it was undated.
        first_due = next((row for row in rows if row.field == "due" and row.action == HistoryAction.REPLAN), None)
        status = Status(first_status.old_value) if first_status and first_status.old_value else view.status
        due = view.due if first_due is None else \
            date.fromisoformat(first_due.old_value) if first_due.old_value else None
        member_latest: dict[str, tuple[datetime, str]] = {}
        if view.per_member:
            parts = []
            for part in view.members:
                then_part, latest = _part_then(part, every_row.get((view.deliverable_id, occurrence_key), []),
                                               cutoff, due, day)
                parts.append(then_part)
                if latest is not None:
                    member_latest[part.key] = latest
            # The whole's status is its members' rolled up, then as now (a member's change writes no row of it).
            then = replace(view, status=rolled_up(part.status for part in parts), due=due, members=tuple(parts))
        else:
            then = replace(view, status=status, due=due)
        entries.append(Entry(view=then, overdue=is_overdue(due, then.status, day), member_latest=member_latest))
    return entries


def _part_then(part: MemberPart, rows: list[HistoryRow], cutoff: datetime, due: date | None,
               day: date) -> tuple[MemberPart, tuple[datetime, str] | None]:
    """A member's part as it stood at ``cutoff``, replayed from its occurrence's history (``rows``, oldest first),
    and its latest update then (when, by whom).

    Its own rows name it; a coordinator's status for the whole occurrence (no member named) set every member not
    already at that status. Until the occurrence's first change of status every member had its status (the parts
    are made from it), so that row's old value, whoever's it is, is where every member started.
    """
    mine = [row for row in rows if row.member == part.key or (
        row.member is None and row.action == HistoryAction.STATUS and row.field == "status")]
    if not mine:
        return replace(part, overdue=is_overdue(due, part.status, day)), None
    started = next((row.old_value for row in rows if row.field == "status" and row.old_value), None)
    status = Status(started) if started else part.status
    updated_at: datetime | None = None
    note: str | None = None
    latest: tuple[datetime, str] | None = None
    for row in mine:
        if row.at > cutoff:
            break
        own = row.member == part.key
        if not own and row.new_value == status.value:
            continue  # the whole set to a status this member already had: its part did not change
        if row.field == "status" and row.new_value:
            status = Status(row.new_value)
        if row.note and row.note != UNDONE_NOTE and row.action in (HistoryAction.STATUS, HistoryAction.NOTE):
            note = history_note(row.note, row.actor)
        if row.action in (HistoryAction.STATUS, HistoryAction.CONFIRMED, HistoryAction.NOTE):
            updated_at = row.at
            if row.actor != REGISTER_ACTOR:
                latest = (row.at, row.actor)
    return replace(part, status=status, overdue=is_overdue(due, status, day), updated_at=updated_at,
                   note=note), latest


def _as_parts(entries: list[Entry], member: str | None) -> list[Entry]:
    """In a member's report, each per-member occurrence as the member's own part: its status, its updates."""
    if member is None:
        return entries
    result = []
    for entry in entries:
        part = next((part for part in entry.view.members if part.key == member), None)
        if part is None or not entry.view.per_member:
            result.append(entry)
        else:
            result.append(replace(entry, view=entry.view.part(part), overdue=part.overdue))
    return result


def _answers(history: Iterable[HistoryRow]) -> list[Change]:
    """The updates of the history (``tracker.rounds.ANSWERS``), oldest first, as changes."""
    rows = sorted((row for row in history if row.deliverable_id and is_answer(row.action, row.actor)),
                  key=lambda row: (row.at, row.id or 0))
    return [as_change(row) for row in rows]


def history_begins(history: Iterable[HistoryRow]) -> datetime | None:
    """When the register was first loaded: every row of that load carries its moment."""
    return min((row.at for row in history), default=None)


def changes_between(history: Iterable[HistoryRow], start: datetime, end: datetime) -> list[Change]:
    """The changes people made from ``start`` to ``end`` (``tracker.model.news``), one line each."""
    changes = []
    replanned: set[tuple[datetime, str]] = set()
    rows = sorted((row for row in history if start <= row.at <= end), key=lambda r: (r.at, r.id or 0))
    for change in news(rows):
        if change.action == HistoryAction.REPLAN:
            # A re-plan records the new deadline, then each occurrence's new due day: one line says it.
            if (change.at, change.deliverable_id) in replanned:
                continue
            replanned.add((change.at, change.deliverable_id))
        changes.append(change)
    return changes


# ----------------------------------------------------------------------------------------------------------------
# Shared wording


def _local_day(moment: datetime) -> str:
    """The day of ``moment`` in the plan's time zone: a change at 00:14 in Copenhagen is of that day, not the one
    before (as in UTC)."""
    return moment.astimezone(plan_zone()).date().isoformat()


def _status(entry: Entry) -> str:
    label = entry.view.status.label
    label = _("{status}, overdue").format(status=label) if entry.overdue else label
    # A per-member occurrence's status is its members' rolled up: how far they have come belongs beside it.
    progress = entry.view.progress if entry.view.per_member else None
    return f"{label} ({progress.short()})" if progress is not None else label


def _slippage(entry: Entry) -> str:
    days = entry.view.slippage_days
    return "" if days == 0 else signed_days(days)


def _due(entry: Entry) -> str:
    """The due day as the tables show it: the ISO day, or "uden frist" for an undated commitment."""
    return entry.view.due.isoformat() if entry.view.due is not None else _("no deadline")


def _title(entry: Entry, english: bool) -> str:
    return entry.view.title_en if english else entry.view.title


def _latest(report: Report, entry: Entry) -> str:
    """The item's latest update as of the report's day, and who made it: "2027-03-12, Mette <mette@rm.dk> via
    Slack"; "–" when nobody has updated it. A member's part: the member's own latest."""
    if entry.view.member is not None:
        return _latest_of_member(entry, entry.view.member)
    change = report.latest.get((entry.view.deliverable_id, entry.view.year))
    return f"{_local_day(change.at)}, {change.actor}" if change is not None else "–"


def _round_lines(report: Report, english: bool) -> list[tuple[str, str, list[str]]]:
    """(heading, summary, the party lines) of each round: per party, what was answered and what not."""
    result = []
    for standing in report.rounds:
        round_ = standing.round
        heading = _("Status round for “{report}”, {opens} to {closes}").format(
            report=round_.report_title_en if english else round_.report_title, opens=format_day(round_.opens),
            closes=format_day(round_.closes))
        summary = _("{answered} of {count} items answered in the round.").format(answered=standing.answered,
                                                                               count=len(standing.items))
        lines = []
        for party in standing.parties:
            if report.party and party != report.party_key:
                continue
            items = standing.for_party(party)
            missing = [s.asked.subject for s in items if s.answer is None]
            name = report.names.party(party, english)
            if missing:
                lines.append(_("{party}: no update received for {items}").format(party=name, items=", ".join(
                    s.deliverable_id + (f" ({s.year})" if s.year else "") for s in missing)))
            else:
                lines.append(_("{party}: all {count} answered").format(party=name, count=len(items)))
        result.append((heading, summary, lines))
    return result


def _counts(entries: list[Entry]) -> list[tuple[str, str]]:
    """(label, count) for each status and "overdue" in all, by the one rule (``count_by_status``): a status counts
    its overdue occurrences too, and says how many ("i gang: 2, heraf 1 forsinket")."""
    return _counted((item.view.status, item.overdue) for item in entries)


def _counted(items: Iterable[tuple[Status, bool]]) -> list[tuple[str, str]]:
    result = []
    for entry in count_by_status(items):
        count = str(entry.count)
        if entry.key != "overdue" and entry.overdue:
            count += " (" + _("of them {count} overdue").format(count=entry.overdue) + ")"
        result.append((standing_label(entry.key), count))
    return result


def _deadline(entry: Entry, english: bool) -> str:
    """The deadline in the source's words, and for one set by another deliverable what it is counted from."""
    view = entry.view
    return view.deadline_text if view.basis is None else f"{view.deadline_text} ({view.basis.text(view.due, english)})"


def _change_text(change: Change) -> str:
    what = change_text(change.action, change.old, change.new)
    if change.by_owner:  # answered from a message: who answered is part of the news
        what = _("{change}, answered by {actor}").format(change=what, actor=change.actor)
    return f"{what}: {change.note}" if change.note else what


def _ordered(report: Report) -> tuple[list[Entry], list[tuple[str, list[Entry]]], list[tuple[str, list[Entry]]]]:
    """Overdue first; then every entry by theme (in the plan's order) and by party."""
    key = (lambda e: (e.view.due_order, e.view.deliverable_id, e.view.year or 0))
    overdue = sorted((e for e in report.entries if e.overdue), key=key)
    by_theme: dict[str, list[Entry]] = {}
    by_party: dict[str, list[Entry]] = {}
    for entry in sorted(report.entries, key=key):
        by_theme.setdefault(entry.view.theme, []).append(entry)
        by_party.setdefault(entry.view.owner, []).append(entry)
    themes = sorted(by_theme.items(), key=lambda item: report.names.theme_order(item[0]))
    parties = sorted(by_party.items())
    return overdue, themes, parties


def _latest_of_member(entry: Entry, member: str) -> str:
    latest = entry.member_latest.get(member)
    return f"{_local_day(latest[0])}, {latest[1]}" if latest is not None else "–"


def _per_member(report: Report) -> list[Entry]:
    """The per-member occurrences ("i alle regioner"), by due day: each gets a table of its members' parts."""
    return sorted((entry for entry in report.entries if entry.view.per_member),
                  key=lambda e: (e.view.due_order, e.view.deliverable_id, e.view.year or 0))


def _member_rows(entry: Entry, english: bool) -> list[tuple[MemberPart, list[str]]]:
    """Each member's part as its table shows it: member, status, overdue, latest update (and by whom), latest note."""
    return [(part, [part.label(english), part.status.label, _("yes") if part.overdue else _("no"),
                    _latest_of_member(entry, part.key), part.note or "–"]) for part in entry.view.members]


def _member_columns() -> list[str]:
    return [_("Member"), _("Status"), _("Overdue"), _("Latest update"), _("Latest note")]


def _per_member_heading(entry: Entry, english: bool) -> str:
    """"Senfølgeklinikker etableret (senfoelgeklinikker): 3 af 5 done"."""
    progress = entry.view.progress
    title = f"{_title(entry, english)} ({entry.label})"
    return _("{title}: {progress} done").format(title=title, progress=progress.text()) if progress else title


def _by_member(report: Report) -> list[tuple[str, list[tuple[str, list[tuple[str, str]]]]]]:
    """For each collective party with per-member occurrences in the report ("by region"): (its key, and for each
    member, (its key, the counts of its own parts by standing, by the one rule)). A member's own report counts only
    that member."""
    result = []
    for collective, members in report.names.members.items():
        entries = {(entry.view.deliverable_id, entry.view.year): entry for entry in report.entries
                   if entry.view.members and entry.view.responsible == collective}
        if not entries:
            continue
        shown = [member for member in members if report.party_key in (None, collective, member)] or list(members)
        result.append((collective, [(member, _counted(
            (part.status, part.overdue) for entry in entries.values() for part in entry.view.members
            if part.key == member)) for member in shown]))
    return result


def _undated(report: Report) -> list[Entry]:
    """The commitments with no deadline yet, by id: listed apart, as they are never overdue."""
    return sorted((entry for entry in report.entries if entry.view.undated and not entry.view.withdrawn),
                  key=lambda entry: entry.view.deliverable_id)


def _undated_note() -> str:
    return _("Commitments the agreement gives no date: never overdue, asked about in every status round, and dated "
             "with tracker replan when a date is agreed.")


def _theme_name(report: Report, key: str, english: bool) -> str:
    return report.names.theme(key, english)


def _party_name(report: Report, key: str, english: bool) -> str:
    return report.names.party(key, english)


def _heading(report: Report) -> tuple[str, str]:
    title = _("Cancer Plan V: status as of {day}").format(day=format_day(report.as_of))
    if report.party:
        title = _("{title}, {party} (responsible or co-responsible)").format(title=title, party=report.party)
    subtitle = _("Changes since {day}. Overdue means the due day has passed and it is neither done nor cancelled.") \
        .format(day=format_day(report.since))
    if report.history_begins is not None and report.as_of < report.history_begins:
        subtitle += " " + _("The tracker's records begin on {day}: until then, each deliverable is shown as the "
                            "register first stated it.").format(day=format_day(report.history_begins))
    return title, subtitle


# ----------------------------------------------------------------------------------------------------------------
# Markdown


def _md(text: str) -> str:
    """Register text in a Markdown table cell: no line breaks, no cell breaks, no markup."""
    text = " ".join(str(text).split())
    for character in "\\|*_`[]<>#":
        text = text.replace(character, "\\" + character)
    return text


def render_markdown(report: Report, english: bool) -> str:
    title, subtitle = _heading(report)
    overdue, themes, parties = _ordered(report)
    columns = [_("Deliverable"), _("Responsible"), _("Deadline"), _("Due"), _("Status"), _("Slippage"),
               _("Latest update")]

    def table(entries: list[Entry]) -> list[str]:
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        for entry in entries:
            cells = [f"{_md(_title(entry, english))} ({_md(entry.label)})", _md(_party_name(report, entry.view.owner,
                     english)), _md(_deadline(entry, english)), _md(_due(entry)), _md(_status(entry)),
                     _slippage(entry), _md(_latest(report, entry))]
            lines.append("| " + " | ".join(cells) + " |")
        return lines

    lines = [f"# {_md(title)}", "", subtitle, "",
             " · ".join(f"{label}: {count}" for label, count in _counts(report.entries)), ""]
    lines += [f"## {_('Overdue')} ({len(overdue)})", ""]
    lines += table(overdue) if overdue else [_("Nothing is overdue.")]
    undated = _undated(report)
    if undated:
        lines += ["", f"## {_('No deadline')} ({len(undated)})", "", _undated_note(), "", *table(undated)]
    lines += ["", f"## {_('By theme')}", ""]
    for key, entries in themes:
        lines += [f"### {_md(_theme_name(report, key, english))}", "", *table(entries), ""]
    lines += [f"## {_('By responsible party')}", "", "| " + _("Party") + " | " + " | ".join(
        label for label, _count in _counts([])) + " |", "|" + "---|" * 7]
    for key, entries in parties:
        lines.append(f"| {_md(_party_name(report, key, english))} | " + " | ".join(
            str(count) for _label, count in _counts(entries)) + " |")
    per_member = _per_member(report)
    if per_member:
        member_columns = _member_columns()
        lines += ["", f"## {_('Per member')} ({len(per_member)})"]
        for entry in per_member:
            lines += ["", f"### {_md(_per_member_heading(entry, english))}", "",
                      "| " + " | ".join(member_columns) + " |", "|" + "---|" * len(member_columns)]
            lines += ["| " + " | ".join(_md(cell) for cell in cells) + " |" for _part, cells in
                      _member_rows(entry, english)]
    for collective, rows in _by_member(report):
        lines += ["", f"## {_md(_('By member of {party}').format(party=_party_name(report, collective, english)))}",
                  "", "| " + _("Member") + " | " + " | ".join(label for label, _count in _counts([])) + " |",
                  "|" + "---|" * 7]
        lines += [f"| {_md(_party_name(report, member, english))} | " + " | ".join(
            count for _label, count in counts) + " |" for member, counts in rows]
    for heading, summary, party_lines in _round_lines(report, english):
        lines += ["", f"## {_md(heading)}", "", summary, "", *(f"- {_md(line)}" for line in party_lines)]
    lines += ["", f"## {_('Changed since {day}').format(day=format_day(report.since))} ({len(report.changes)})", ""]
    if not report.changes:
        lines.append(_("No changes."))
    for change in report.changes:
        lines.append(f"- {_local_day(change.at)} · {_md(change.label)} · {_md(_change_text(change))}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------------------------
# CSV


def render_csv(report: Report, english: bool) -> str:
    """One row per occurrence; where the report has per-member occurrences, each one's row is followed by a row
    for each member's own part, and two columns say whose part a row is and the member's latest note (a row with
    no member is a whole occurrence: count those, or the parts, never both)."""
    overdue, themes, _parties = _ordered(report)
    with_members = any(entry.view.members for entry in report.entries)
    rows = []
    for entry in overdue + [entry for _key, entries in themes for entry in entries if not entry.overdue]:
        view = entry.view
        latest = report.latest.get((view.deliverable_id, view.year))
        updated = (latest.at, latest.actor) if latest is not None and view.member is None else \
            entry.member_latest.get(view.member or "")
        lines = [(view.status, entry.overdue, updated, view.member, view.note if view.member else None)]
        if view.per_member:
            lines += [(part.status, part.overdue, entry.member_latest.get(part.key), part.key, part.note)
                      for part in view.members]
        for status, is_late, update, member, note in lines:
            row: tuple[object, ...] = (
                report.as_of.isoformat(), view.deliverable_id, view.year, _title(entry, english), view.responsible,
                view.theme, view.deadline_text, view.due.isoformat() if view.due else "",
                view.baseline_due.isoformat() if view.baseline_due else "", view.slippage_days, status.value,
                "yes" if is_late else "no", _local_day(update[0]) if update else "", update[1] if update else "",
                view.basis.text(view.due, english) if view.basis else "")
            rows.append(row + ((member or "", note or "") if with_members else ()))
    header = ("as_of", "id", "occurrence", "title", "owner", "theme", "deadline_text", "due", "baseline_due",
              "slippage_days", "status", "overdue", "latest_update", "latest_update_by", "counted_from")
    # Only a report with per-member occurrences has the two columns: every other report reads as it always has.
    return write_csv(header + (("member", "member_note") if with_members else ()), rows)


# ----------------------------------------------------------------------------------------------------------------
# HTML, for the screen and for A4 paper

_CSS = """
@page { size: A4; margin: 18mm 15mm; }
body { font-family: system-ui, sans-serif; color: #111; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; } h3 { font-size: 1rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.85rem; }
th, td { border-bottom: 1px solid #999; padding: 0.25rem 0.4rem; text-align: left; vertical-align: top; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
.overdue { font-weight: bold; }
.overdue td:nth-child(5)::before { content: "⚠ "; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } }
"""


def _h(text: object) -> str:
    return html.escape(" ".join(str(text).split()), quote=True)


def render_html(report: Report, english: bool) -> str:
    title, subtitle = _heading(report)
    overdue, themes, parties = _ordered(report)
    columns = [_("Deliverable"), _("Responsible"), _("Deadline"), _("Due"), _("Status"), _("Slippage"),
               _("Latest update")]

    def table(entries: list[Entry]) -> str:
        head = "".join(f"<th scope=\"col\">{_h(column)}</th>" for column in columns)
        rows = []
        for entry in entries:
            css = ' class="overdue"' if entry.overdue else ""
            rows.append(f"<tr{css}><td>{_h(_title(entry, english))} <small>({_h(entry.label)})</small></td>"
                        f"<td>{_h(_party_name(report, entry.view.owner, english))}</td>"
                        f"<td>{_h(_deadline(entry, english))}</td><td>{_h(_due(entry))}</td>"
                        f"<td>{_h(_status(entry))}</td><td>{_h(_slippage(entry))}</td>"
                        f"<td>{_h(_latest(report, entry))}</td></tr>")
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"

    parts = [f"<!doctype html>\n<html lang=\"{'en' if english else 'da'}\">\n<head>\n<meta charset=\"utf-8\">\n"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{_h(title)}</title>\n"
             f"<style>{_CSS}</style>\n</head>\n<body>\n<h1>{_h(title)}</h1>\n<p>{_h(subtitle)}</p>\n<p>"
             + " · ".join(f"{_h(label)}: {count}" for label, count in _counts(report.entries)) + "</p>\n"]
    parts.append(f"<h2>{_h(_('Overdue'))} ({len(overdue)})</h2>\n")
    parts.append(table(overdue) if overdue else f"<p>{_h(_('Nothing is overdue.'))}</p>")
    undated = _undated(report)
    if undated:
        parts.append(f"\n<h2>{_h(_('No deadline'))} ({len(undated)})</h2>\n<p>{_h(_undated_note())}</p>\n"
                     f"{table(undated)}\n")
    parts.append(f"\n<h2>{_h(_('By theme'))}</h2>\n")
    for key, entries in themes:
        parts.append(f"<h3>{_h(_theme_name(report, key, english))}</h3>\n{table(entries)}\n")
    heads = "".join(f"<th scope=\"col\">{_h(label)}</th>" for label, _count in _counts([]))
    rows = "".join(f"<tr><th scope=\"row\">{_h(_party_name(report, key, english))}</th>"
                   + "".join(f"<td>{count}</td>" for _label, count in _counts(entries)) + "</tr>"
                   for key, entries in parties)
    parts.append(f"<h2>{_h(_('By responsible party'))}</h2>\n<table><thead><tr><th scope=\"col\">{_h(_('Party'))}"
                 f"</th>{heads}</tr></thead><tbody>{rows}</tbody></table>\n")
    per_member = _per_member(report)
    if per_member:
        member_heads = "".join(f"<th scope=\"col\">{_h(column)}</th>" for column in _member_columns())
        parts.append(f"<h2>{_h(_('Per member'))} ({len(per_member)})</h2>\n")
        for entry in per_member:
            # An overdue member's "yes" stands out in strong type (the main tables' row style marks their fifth cell).
            member_rows = "".join(
                f"<tr><th scope=\"row\">{_h(cells[0])}</th><td>{_h(cells[1])}</td>"
                + (f"<td><strong>{_h(cells[2])}</strong></td>" if part.overdue else f"<td>{_h(cells[2])}</td>")
                + "".join(f"<td>{_h(cell)}</td>" for cell in cells[3:]) + "</tr>"
                for part, cells in _member_rows(entry, english))
            parts.append(f"<h3>{_h(_per_member_heading(entry, english))}</h3>\n<table class=\"members\"><thead><tr>"
                         f"{member_heads}</tr></thead><tbody>{member_rows}</tbody></table>\n")
    for collective, member_counts in _by_member(report):
        member_rows = "".join(f"<tr><th scope=\"row\">{_h(_party_name(report, member, english))}</th>"
                              + "".join(f"<td>{_h(count)}</td>" for _label, count in counts) + "</tr>"
                              for member, counts in member_counts)
        parts.append(f"<h2>{_h(_('By member of {party}').format(party=_party_name(report, collective, english)))}"
                     f"</h2>\n<table><thead><tr><th scope=\"col\">{_h(_('Member'))}</th>{heads}</tr></thead>"
                     f"<tbody>{member_rows}</tbody></table>\n")
    for heading, summary, party_lines in _round_lines(report, english):
        parts.append(f"<h2>{_h(heading)}</h2>\n<p>{_h(summary)}</p>\n<ul>"
                     + "".join(f"<li>{_h(line)}</li>" for line in party_lines) + "</ul>\n")
    parts.append(f"<h2>{_h(_('Changed since {day}').format(day=format_day(report.since)))} "
                 f"({len(report.changes)})</h2>\n")
    if report.changes:
        parts.append("<ul>" + "".join(f"<li>{_local_day(change.at)} · {_h(change.label)} · "
                                      f"{_h(_change_text(change))}</li>" for change in report.changes) + "</ul>\n")
    else:
        parts.append(f"<p>{_h(_('No changes.'))}</p>\n")
    parts.append("</body>\n</html>\n")
    return "".join(parts)


RENDERERS = {"md": render_markdown, "csv": render_csv, "html": render_html}


# ----------------------------------------------------------------------------------------------------------------
# Reading the report's facts (the one part of this module that touches the database)


@dataclass(frozen=True)
class Assembled:
    report: Report
    # Why the changes start where they do, when that came from the last report issued (for the command to say).
    since_from: str | None = None  # "last": since the last report; "same": as the report already written that day


def assemble(session: Session, day: date, since: date | None, party: str | None, zone: tzinfo,
             policy_set: PolicySet | None = None) -> Assembled:
    """The report as of the end of ``day`` for the whole plan or one ``party`` (UnknownIdError for another key).

    Without ``since``, the changes start the day after the last report issued
    for the same scope, or as the report already issued for that very day did,
    or a year before ``day`` (from a leap day, the 28th of February).
    """
    from sqlmodel import select

    from tracker.store.queries import ListFilter, load_plan, require_key
    from tracker.store.reports import last_report

    end = datetime.combine(day + timedelta(days=1), time(0), zone)  # the end of the report's day
    plan = load_plan(session, day, include_archived=False)
    if party:
        require_key("party", party, plan.names.parties)
    since_from = None
    if since is None:
        last = last_report(session, party)
        if last is not None and last.day < day:
            since, since_from = last.day + timedelta(days=1), "last"  # the last report showed its own day to the end
        elif last is not None and last.day == day and last.since is not None:
            since, since_from = last.since, "same"  # the same report again, in another format: the same changes
        else:
            since = day.replace(year=day.year - 1, day=min(day.day, 28) if day.month == 2 else day.day)
    where = ListFilter(party=party)
    # A member's report has its own parts of the per-member occurrences too (as its calendar and its messages do).
    views = [view for view in plan.views if where.admits(view, day) or
             (party and any(part.key == party for part in view.members))]
    history = list(session.exec(select(HistoryRow)))
    begins = history_begins(history)
    shown = {view.deliverable_id for view in views}
    # A member's report leaves out the other members' changes to their own parts.
    is_member = {member for members in plan.names.members.values() for member in members}
    answers = [change for change in _answers(history) if change.at < end]
    latest = {(change.deliverable_id, change.year): change for change in answers}
    rounds = []
    if policy_set is not None and policy_set.rounds:
        from tracker.rounds import current, status
        from tracker.store.rounds import all_rounds

        every = all_rounds(session, policy_set, plan.views, zone)
        for rule in policy_set.rounds:
            round_ = current(every, rule.name, day)
            if round_ is not None and round_.opens <= day:
                rounds.append(status(round_, plan.views, answers, zone))
    report = Report(
        latest=latest, rounds=rounds, party_key=party,
        as_of=day, since=since, party=plan.names.party(party) if party else None,
        history_begins=begins.astimezone(zone).date() if begins else None,
        entries=_as_parts(as_of(views, history, end, day), party),
        changes=[change for change in changes_between(history, datetime.combine(since, time(0), zone), end)
                 if not party or (change.deliverable_id in shown and not (
                     party in is_member and change.member not in (None, party)))],
        names=plan.names)
    return Assembled(report=report, since_from=since_from)
