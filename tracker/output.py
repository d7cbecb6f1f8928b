"""Text for people and for machines: tables, CSV, JSON and the detail view.

Pure functions from views to strings; the CLI only echoes what they return.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from tracker.clock import plan_zone
from tracker.i18n import _, current_language, format_day
from tracker.model import Funded, Status, change_text, history_note, kind_label
from tracker.store.queries import DeliverableDetail, OccurrenceView, history_as_json
from tracker.text import write_csv

CSV_FIELDS = (
    "id", "title", "title_en", "kind", "owner", "co_owners", "recipient", "deadline_text", "window_start", "due",
    "precision", "occurrence", "status", "overdue", "baseline_due", "slippage_days", "theme", "note", "archived",
    "source_file", "source_section", "source_quote",
)


def _title(view: OccurrenceView) -> str:
    return view.title_en if current_language() == "en" else view.title


def _status_cell(view: OccurrenceView, today: date, labels: Mapping[Status, str] | None = None,
                 overdue: str | None = None) -> str:
    """"FORSINKET 3 d (I gang 3/5)"; ``labels`` and ``overdue`` are the words, looked up once for a table."""
    label = labels[view.status] if labels is not None else view.status.label
    progress = f" {view.progress.short()}" if view.progress is not None else ""
    if view.overdue and view.due is not None:
        days = (today - view.due).days
        return (overdue or _("OVERDUE {days} d")).format(days=days) + f" ({label}{progress})"
    return label + progress


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def render_table(views: list[OccurrenceView], today: date, width: int = 120) -> str:
    """A plain-text table for people: due day, id, owner, status, title (clipped to ``width``)."""
    if not views:
        return "  " + _("(nothing)")
    headers = (_("Due"), _("Id"), _("Owner"), _("Status"), _("Title"))
    # The words every row shares, looked up once: a large plan has tens of thousands of rows.
    english = current_language() == "en"
    labels = {status: status.label for status in Status}
    overdue, undated = _("OVERDUE {days} d"), _("no deadline")
    rows = []
    for view in views:
        ident = view.deliverable_id + (f" ({view.year})" if view.year else "")
        due = view.due.isoformat() if view.due is not None else undated
        if view.slippage_days:
            due += f" {view.slippage_days:+d}d"
        rows.append((due, ident, view.owner_label(english), _status_cell(view, today, labels, overdue),
                     view.title_en if english else view.title))
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows)) for i in range(4)]
    fixed = sum(widths) + 2 * 4 + 2
    title_width = max(20, width - fixed)
    lines = []
    for cells in [headers] + rows:
        left = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells[:4]))
        lines.append(f"  {left}  {_clip(cells[4], title_width)}".rstrip())
    return "\n".join(lines)


def render_grid(headers: list[str], rows: list[list[str]]) -> str:
    """A plain-text table of short cells, columns as wide as their widest cell."""
    widths = [max(len(cells[i]) for cells in [headers, *rows]) for i in range(len(headers))]
    return "\n".join("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip()
                     for cells in [headers, *rows])


def render_members(view: OccurrenceView, today: date, english: bool = False) -> str:
    """A per-member occurrence's members as a table: member, status (overdue marked), last update, latest note."""
    rows = []
    for member in view.members:
        status = member.status.label
        if member.overdue and view.due is not None:
            status = _("OVERDUE {days} d").format(days=(today - view.due).days) + f" ({status})"
        updated = member.updated_at.astimezone(plan_zone()).date().isoformat() if member.updated_at else "–"
        rows.append([f"{member.label(english)} ({member.key})", status, updated, _clip(member.note or "", 60)])
    progress = view.progress
    said = _("Members: {progress} done").format(progress=progress.text()) if progress is not None else ""
    return said + "\n" + render_grid([_("Member"), _("Status"), _("Updated"), _("Note")], rows)


def render_csv(views: list[OccurrenceView]) -> str:
    rows = []
    for view in views:
        record = view.as_json()
        source = record.pop("source")
        record.update({"source_file": source["file"], "source_section": source["section"],
                       "source_quote": source["quote"], "co_owners": " ".join(record["co_owners"])})
        rows.append([record[name] for name in CSV_FIELDS])
    return write_csv(CSV_FIELDS, rows)


def detail_as_json(detail: DeliverableDetail) -> dict[str, Any]:
    row = detail.deliverable
    return {
        "id": row.id, "title": row.title, "title_en": row.title_en, "kind": row.kind, "owner": row.owner,
        "co_owners": list(row.co_owners), "recipient": row.recipient, "theme": row.theme,
        "initiative": row.initiative, "funding": row.funding, "funded": list(row.funded),
        "deadline_text": row.deadline_text,
        "interpreted_as": row.interpreted_as, "reading": row.reading, "depends_on": list(row.depends_on),
        "per_member": row.per_member, "per_member_quote": row.per_member_quote,
        "archived": row.archived_at is not None,
        "source": {"file": row.source_file, "section": row.source_section, "quote": row.source_quote},
        "occurrences": [view.as_json() for view in detail.occurrences],
        "history": [history_as_json(entry) for entry in detail.history],
    }


def render_detail(detail: DeliverableDetail, today: date) -> str:
    row = detail.deliverable
    english = current_language() == "en"
    lines = [f"{row.id}: {row.title_en if english else row.title}"]
    if row.archived_at is not None:
        lines.append("  " + _("ARCHIVED: no longer in the register"))

    def field(label: str, value: Any) -> None:
        if value not in (None, "", []):
            lines.append(f"  {label + ':':<16} {value}")

    field(_("Title (da)") if english else _("Title (en)"), row.title if english else row.title_en)
    def party(key: str | None) -> str | None:
        """A party by its name, with the key the commands take after it: "Regionerne (regionerne)"."""
        if key is None:
            return None
        return f"{detail.names.party(key, english)} ({key})"

    field(_("Kind"), kind_label(row.kind))
    field(_("Owner"), party(row.owner))
    field(_("Co-owners"), ", ".join(party(key) or key for key in row.co_owners))
    field(_("Recipient"), party(row.recipient))
    field(_("Theme"), f"{detail.names.topic(row.theme, english)} ({row.theme})")
    field(_("Initiative"), row.initiative)
    field(_("Deadline"), row.deadline_text)
    field(_("Read as"), row.interpreted_as)
    basis = next((view.basis for view in detail.occurrences if view.basis is not None and not view.withdrawn), None)
    if basis is not None:
        due = next(view.due for view in detail.occurrences if view.basis is basis)
        field(_("Counted from"), basis.text(due, english))
    field(_("Reading"), row.reading)
    field(_("Depends on"), ", ".join(row.depends_on))
    funded = Funded.of(row.funded)
    field(_("Funded"), funded.span() if funded else None)
    field(_("Funding"), row.funding)
    if row.per_member:
        field(_("Every member"), f"“{row.per_member_quote}”" if row.per_member_quote else _("yes"))
    lines.append("")
    lines.append(_("Occurrences:"))
    for view in detail.occurrences:
        label = str(view.year) if view.year else "–"
        slip = f", {_('baseline')} {view.baseline_due.isoformat()} ({view.slippage_days:+d}d)" \
            if view.slippage_days and view.baseline_due is not None else ""
        days = f"{view.window_start.isoformat()} → {view.due.isoformat()} ({format_day(view.due)}{slip})" \
            if view.window_start is not None and view.due is not None else _("no deadline")
        lines.append(f"  {label:<6} {days}  {_status_cell(view, today)}"
                     + ("  [" + _("archived") + "]" if view.withdrawn else ""))
        if view.note:
            lines.append(f"         {_('Note')}: {view.note}")
        if view.members:
            lines.append("")
            lines.extend("         " + line for line in render_members(view, today, english).splitlines())
            lines.append("")
    lines.append("")
    lines.append(_("Source: {file}, section {section!r}:").format(file=row.source_file, section=row.source_section))
    lines.append(f"  “{row.source_quote}”")
    lines.append("")
    lines.append(_("History:"))
    for entry in detail.history:
        what = change_text(entry.action, entry.old_value, entry.new_value, entry.field, values=True)
        occurrence = f" [{entry.occurrence_key}]" if entry.occurrence_key else ""
        if entry.member:
            occurrence += f" [{detail.names.party(entry.member, english)}]"
        note = f" — {history_note(entry.note, entry.actor)}" if entry.note else ""
        evidence = f" <{entry.evidence_url}>" if entry.evidence_url else ""
        local_at = entry.at.astimezone(plan_zone()).isoformat(timespec="seconds")
        lines.append(f"  {local_at} {entry.actor}{occurrence}: {what}{note}{evidence}")
    return "\n".join(lines)
