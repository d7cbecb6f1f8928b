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
from tracker.model import (Change, HistoryAction, OccurrenceView, PlanNames, Status, change_text, count_by_status,
                           as_change, is_overdue, news, standing_label)
from tracker.policy import PolicySet
from tracker.rounds import RoundStatus, is_answer
from tracker.store.tables import HistoryRow
from tracker.text import write_csv

# History actions a report lists as "changed since the last report".
@dataclass(frozen=True)
class Entry:
    """One occurrence as it stood at the end of the report's day."""

    view: OccurrenceView  # status and due as they were then
    overdue: bool

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
    entries = []
    for view in views:
        occurrence_key = "" if view.year is None else str(view.year)
        rows = by_occurrence.get((view.deliverable_id, occurrence_key), [])
        if first_added.get((view.deliverable_id, None), cutoff) > cutoff or \
                first_added.get((view.deliverable_id, occurrence_key), cutoff) > cutoff:
            continue  # not in the plan yet
        # The first change of a field after ``moment`` holds, as its old value, what the field was then.
        first_status = next((row for row in rows if row.field == "status" and row.old_value), None)
        # A re-plan's old due day is empty where it dated an undated commitment: then it was undated.
        first_due = next((row for row in rows if row.field == "due" and row.action == HistoryAction.REPLAN), None)
        status = Status(first_status.old_value) if first_status and first_status.old_value else view.status
        due = view.due if first_due is None else \
            date.fromisoformat(first_due.old_value) if first_due.old_value else None
        then = replace(view, status=status, due=due)
        entries.append(Entry(view=then, overdue=is_overdue(due, status, day)))
    return entries


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
    return _("{status}, overdue").format(status=label) if entry.overdue else label


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
    Slack"; "–" when nobody has updated it."""
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
    result = []
    for entry in count_by_status((item.view.status, item.overdue) for item in entries):
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
    overdue, themes, _parties = _ordered(report)
    rows = []
    for entry in overdue + [entry for _key, entries in themes for entry in entries if not entry.overdue]:
        view = entry.view
        latest = report.latest.get((view.deliverable_id, view.year))
        rows.append((
            report.as_of.isoformat(), view.deliverable_id, view.year, _title(entry, english), view.owner, view.theme,
            view.deadline_text, view.due.isoformat() if view.due else "",
            view.baseline_due.isoformat() if view.baseline_due else "", view.slippage_days, view.status.value,
            "yes" if entry.overdue else "no",
            _local_day(latest.at) if latest else "", latest.actor if latest else "",
            view.basis.text(view.due, english) if view.basis else ""))
    return write_csv(("as_of", "id", "occurrence", "title", "owner", "theme", "deadline_text", "due", "baseline_due",
                      "slippage_days", "status", "overdue", "latest_update", "latest_update_by", "counted_from"), rows)


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
    views = [view for view in plan.views if where.admits(view, day)]
    history = list(session.exec(select(HistoryRow)))
    begins = history_begins(history)
    shown = {view.deliverable_id for view in views}
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
        history_begins=begins.astimezone(zone).date() if begins else None, entries=as_of(views, history, end, day),
        changes=[change for change in changes_between(history, datetime.combine(since, time(0), zone), end)
                 if not party or change.deliverable_id in shown],
        names=plan.names)
    return Assembled(report=report, since_from=since_from)
