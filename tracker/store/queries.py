"""Reading the plan's state: the rows behind `tracker list` and `tracker show`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from tracker.errors import UnknownIdError
from tracker.i18n import _
from tracker.model import Status, is_overdue
from tracker.store.tables import DeliverableRow, HistoryRow, OccurrenceRow, PartyRow, ThemeRow
from tracker.text import siblings, suggestions


@dataclass(frozen=True)
class OccurrenceView:
    """One occurrence with its deliverable, as `tracker list` shows it (and `--json` prints it)."""

    id: str
    title: str
    title_en: str
    kind: str
    owner: str
    co_owners: list[str]
    recipient: str | None
    deadline_text: str
    window_start: date
    due: date
    precision: str
    occurrence: int | None
    status: Status
    overdue: bool
    baseline_due: date
    theme: str
    note: str | None
    archived: bool
    source_file: str
    source_section: str
    source_quote: str
    owner_name: str = ""  # the responsible party's name, Danish and English (the key where the plan has none)
    owner_name_en: str = ""

    @property
    def slippage_days(self) -> int:
        return (self.due - self.baseline_due).days

    @property
    def parties(self) -> tuple[str, ...]:
        """Whose work this is: the owner and the co-owners (the rule of party calendars and dashboard filters)."""
        return (self.owner, *self.co_owners)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "title_en": self.title_en, "kind": self.kind,
            "owner": self.owner, "co_owners": self.co_owners, "recipient": self.recipient,
            "deadline_text": self.deadline_text, "window_start": self.window_start.isoformat(),
            "due": self.due.isoformat(), "precision": self.precision, "occurrence": self.occurrence,
            "status": self.status.value, "overdue": self.overdue, "baseline_due": self.baseline_due.isoformat(),
            "slippage_days": self.slippage_days, "theme": self.theme, "note": self.note, "archived": self.archived,
            "source": {"file": self.source_file, "section": self.source_section, "quote": self.source_quote},
        }


@dataclass(frozen=True)
class ListFilter:
    owner: str | None = None  # responsible for it
    # Responsible or co-responsible: a party's items, as its calendar, the dashboard and its messages count them.
    party: str | None = None
    statuses: tuple[Status, ...] = ()
    theme: str | None = None
    overdue: bool = False
    upcoming_days: int | None = None
    due_before: date | None = None
    due_after: date | None = None
    include_archived: bool = False

    def admits(self, view: OccurrenceView, today: date) -> bool:
        if self.owner and view.owner != self.owner:
            return False
        if self.party and self.party not in view.parties:
            return False
        if self.statuses and view.status not in self.statuses:
            return False
        if self.theme and view.theme != self.theme:
            return False
        if self.overdue and not view.overdue:
            return False
        if self.upcoming_days is not None:
            # Upcoming: open work due from today up to and including today + N days.
            if view.status.is_closed or not 0 <= (view.due - today).days <= self.upcoming_days:
                return False
        if self.due_before and not view.due < self.due_before:
            return False
        if self.due_after and not view.due > self.due_after:
            return False
        return self.include_archived or not view.archived


def party_names(session: Session) -> dict[str, tuple[str, str]]:
    """Every party's (name, name_en) by key, read once for a whole listing."""
    return {key: (name, name_en) for key, name, name_en in session.exec(
        select(PartyRow.key, PartyRow.name, PartyRow.name_en))}


def _view(deliverable: DeliverableRow, occurrence: OccurrenceRow, today: date,
          names: dict[str, tuple[str, str]] | None = None) -> OccurrenceView:
    status = Status(occurrence.status)
    owner_name, owner_name_en = (names or {}).get(deliverable.owner, (deliverable.owner, deliverable.owner))
    return OccurrenceView(
        id=deliverable.id, title=deliverable.title, title_en=deliverable.title_en, kind=deliverable.kind,
        owner=deliverable.owner, co_owners=list(deliverable.co_owners), recipient=deliverable.recipient,
        deadline_text=deliverable.deadline_text, window_start=occurrence.window_start, due=occurrence.due,
        precision=occurrence.precision, occurrence=occurrence.year, status=status,
        overdue=is_overdue(occurrence.due, status, today), baseline_due=occurrence.baseline_due,
        theme=deliverable.theme, note=occurrence.note,
        archived=deliverable.archived_at is not None or occurrence.archived_at is not None,
        source_file=deliverable.source_file, source_section=deliverable.source_section,
        source_quote=deliverable.source_quote, owner_name=owner_name, owner_name_en=owner_name_en,
    )


def list_occurrences(session: Session, today: date, where: ListFilter = ListFilter()) -> list[OccurrenceView]:
    """Every occurrence that passes the filter, ordered by due day, then id and year."""
    statement = select(DeliverableRow, OccurrenceRow).join(
        OccurrenceRow, col(OccurrenceRow.deliverable_id) == DeliverableRow.id
    )
    if not where.include_archived:
        statement = statement.where(col(DeliverableRow.archived_at).is_(None), col(OccurrenceRow.archived_at).is_(None))
    if where.owner:
        statement = statement.where(col(DeliverableRow.owner) == where.owner)
    if where.theme:
        statement = statement.where(col(DeliverableRow.theme) == where.theme)
    names = party_names(session)
    views = [_view(deliverable, occurrence, today, names) for deliverable, occurrence in session.exec(statement)]
    views = [view for view in views if where.admits(view, today)]
    return sorted(views, key=lambda v: (v.due, v.id, v.occurrence or 0))


_LISTED_KEYS = 12  # a plan with this few parties or themes lists them in the message itself


def require_key(kind: str, key: str, known: Iterable[str]) -> None:
    """UnknownIdError unless ``key`` is one of ``known``, the keys of a ``kind`` ("party" or "theme").

    An unknown key in a filter must not answer with an empty list, which
    reads as "nothing there": it is an error naming the closest keys, or the
    keys of its family, or the command that lists them all.
    """
    known = sorted(set(known))
    if key in known:
        return
    close = suggestions(key, known)
    family = siblings(key, known)
    listing = _("`tracker parties` lists them all.") if kind == "party" else _("`tracker themes` lists them all.")
    what = (_("No party has the key {key!r}.") if kind == "party" else _("No theme has the key {key!r}.")).format(
        key=key)
    if close:
        hint = _(" Did you mean: {ids}?").format(ids=", ".join(close))
    elif family:
        hint = " " + _("Those of its kind are: {keys}.").format(keys=", ".join(family))
    elif len(known) <= _LISTED_KEYS:
        hint = _(" Known: {ids}.").format(ids=", ".join(known))
    else:
        hint = " " + listing
    raise UnknownIdError(what + hint, close or family)


def check_filter(session: Session, where: ListFilter) -> None:
    """UnknownIdError for a party or theme in ``where`` that the plan does not have."""
    for party in (where.owner, where.party):
        if party:
            require_key("party", party, session.exec(select(PartyRow.key)))
    if where.theme:
        require_key("theme", where.theme, session.exec(select(ThemeRow.key)))


def get_deliverable(session: Session, deliverable_id: str) -> DeliverableRow:
    """The deliverable with this id, or UnknownIdError naming the closest ids."""
    row = session.get(DeliverableRow, deliverable_id)
    if row is not None:
        return row
    renamed = [current for current, former in session.exec(select(DeliverableRow.id, DeliverableRow.former_ids))
               if deliverable_id in former]
    if renamed:
        raise UnknownIdError(_("The deliverable {id!r} was renamed: it is {current} now.").format(
            id=deliverable_id, current=renamed[0]), renamed)
    known = list(session.exec(select(DeliverableRow.id)))
    suggestions = closest_ids(deliverable_id, known)
    hint = (_(" Did you mean: {ids}?").format(ids=", ".join(suggestions)) if suggestions
            else _(" See `tracker list` for every id."))
    raise UnknownIdError(_("No deliverable has the id {id!r}.").format(id=deliverable_id) + hint, suggestions)


def closest_ids(wanted: str, known: list[str], limit: int = 3) -> list[str]:
    """Ids that look like ``wanted`` (``tracker.text.suggestions``, the one "did you mean")."""
    return suggestions(wanted, known, limit)


@dataclass(frozen=True)
class DeliverableDetail:
    deliverable: DeliverableRow
    occurrences: list[OccurrenceView]
    history: list[HistoryRow]
    party_names: dict[str, tuple[str, str]]  # key → (name, name_en), for its owner, co-owners and recipient
    theme_name: tuple[str, str]  # (topic, topic_en) of its theme


def show_deliverable(session: Session, deliverable_id: str, today: date) -> DeliverableDetail:
    deliverable = get_deliverable(session, deliverable_id)
    occurrences = session.exec(
        select(OccurrenceRow).where(col(OccurrenceRow.deliverable_id) == deliverable.id)
        .order_by(col(OccurrenceRow.due))
    )
    history = session.exec(
        select(HistoryRow).where(col(HistoryRow.deliverable_id) == deliverable.id)
        .order_by(col(HistoryRow.at), col(HistoryRow.id))
    )
    names = party_names(session)
    theme = session.get(ThemeRow, deliverable.theme)
    return DeliverableDetail(
        deliverable=deliverable,
        occurrences=[_view(deliverable, occurrence, today, names) for occurrence in occurrences],
        history=list(history), party_names=names,
        theme_name=(theme.topic, theme.topic_en) if theme else (deliverable.theme, deliverable.theme),
    )


def history_as_json(row: HistoryRow) -> dict[str, Any]:
    at: datetime = row.at
    return {
        "at": at.isoformat(), "actor": row.actor, "action": row.action, "occurrence": row.occurrence_key or None,
        "field": row.field, "old": row.old_value, "new": row.new_value, "note": row.note,
        "evidence": row.evidence_url,
    }
