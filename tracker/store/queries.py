"""Reading the plan's state: the one read model every view of the plan is built from.

``load_plan`` is the one join of deliverables and occurrences and the one
read of party and theme names; ``tracker list`` and ``show``, the report, the
dashboard, the calendar feeds and the notification planner all start from it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from tracker.clock import plan_zone
from tracker.deadlines import BEFORE, Follows, parse_follows
from tracker.errors import DeadlineError, UnknownIdError
from tracker.i18n import _
from tracker.model import Basis, Funded, MemberPart, OccurrenceView, PlanNames, Status, is_overdue
from tracker.store.tables import (DeliverableRow, HistoryRow, MemberStatusRow, OccurrenceRow, PartyRow,
                                  ReplanRequestRow, ThemeRow)

__all__ = ["OccurrenceView", "PlanNames", "Plan", "ListFilter", "load_plan", "list_occurrences", "plan_names"]
from tracker.text import siblings, suggestions


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
    undated: bool = False  # only the commitments with no deadline yet ("uden frist")
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
        if self.undated and not view.undated:
            return False
        if (self.upcoming_days is not None or self.due_before or self.due_after) and view.due is None:
            return False  # a filter by day says nothing about what has no day
        if self.upcoming_days is not None and view.due is not None:
            # Upcoming: open work due from today up to and including today + N days.
            if view.status.is_closed or not 0 <= (view.due - today).days <= self.upcoming_days:
                return False
        if self.due_before and view.due is not None and not view.due < self.due_before:
            return False
        if self.due_after and view.due is not None and not view.due > self.due_after:
            return False
        return self.include_archived or not view.withdrawn


def plan_names(session: Session) -> PlanNames:
    """Every party's and theme's names, read once for a whole view of the plan."""
    parties = list(session.exec(select(PartyRow.key, PartyRow.name, PartyRow.name_en, PartyRow.members)))
    return PlanNames(
        parties={key: (name, name_en) for key, name, name_en, _members in parties},
        members={key: tuple(members) for key, _name, _name_en, members in parties if members},
        themes={key: (number, topic, topic_en) for key, number, topic, topic_en in session.exec(
            select(ThemeRow.key, ThemeRow.number, ThemeRow.topic, ThemeRow.topic_en))},
    )


def occurrence_view(deliverable: DeliverableRow, occurrence: OccurrenceRow, today: date,
                    names: PlanNames, requested_deadline: str | None = None,
                    parts: Iterable[MemberStatusRow] = ()) -> OccurrenceView:
    status = Status(occurrence.status)
    withdrawn = deliverable.archived_at is not None or occurrence.archived_at is not None
    by_member = {row.member: row for row in parts}
    members = tuple(
        MemberPart(key=key, name=names.party(key), name_en=names.party(key, english=True), status=Status(row.status),
                   overdue=not withdrawn and is_overdue(occurrence.due, Status(row.status), today),
                   updated_at=_touched_at(row), note=row.note, evidence_url=row.evidence_url,
                   snoozed_until=row.snoozed_until, snooze_reason=row.snooze_reason, snoozed_by=row.snoozed_by)
        for key in names.members.get(deliverable.owner, ()) if deliverable.per_member and (row := by_member.get(key)))
    co_owners = tuple(deliverable.co_owners)
    owner_name, owner_name_en = names.party_pair(deliverable.owner)
    return OccurrenceView(
        deliverable_id=deliverable.id, year=occurrence.year, title=deliverable.title, title_en=deliverable.title_en,
        kind=deliverable.kind, owner=deliverable.owner, co_owners=co_owners, recipient=deliverable.recipient,
        theme=deliverable.theme, deadline_text=deliverable.deadline_text, window_start=occurrence.window_start,
        due=occurrence.due, baseline_due=occurrence.baseline_due, precision=occurrence.precision, status=status,
        overdue=not withdrawn and is_overdue(occurrence.due, status, today), withdrawn=withdrawn,
        note=occurrence.note, updated_at=_touched_at(occurrence), source_file=deliverable.source_file,
        source_section=deliverable.source_section, source_quote=deliverable.source_quote,
        owner_name=owner_name, owner_name_en=owner_name_en,
        co_owner_names=tuple(names.party(key) for key in co_owners),
        co_owner_names_en=tuple(names.party(key, english=True) for key in co_owners),
        calendar_id=deliverable.calendar_id, requested_deadline=requested_deadline,
        snoozed_until=occurrence.snoozed_until, snooze_reason=occurrence.snooze_reason,
        snoozed_by=occurrence.snoozed_by, funded=Funded.of(deliverable.funded), members=members,
    )


def _touched_at(occurrence: OccurrenceRow | MemberStatusRow) -> datetime | None:
    # A note is a sign of life too: updated_at moves with notes, status changes and confirmations (and re-plans,
    # which are a coordinator's update as well). A member's part has the day of its note.
    if isinstance(occurrence, MemberStatusRow):
        noted = occurrence.noted_at
    else:
        noted = occurrence.updated_at if occurrence.note else None
    touched = [moment for moment in (occurrence.status_changed_at, noted, occurrence.confirmed_at) if moment]
    return max(touched) if touched else None


@dataclass(frozen=True)
class Plan:
    """The plan as of one day: every occurrence (ordered by due day, id and year) and the names to show."""

    views: list[OccurrenceView]
    names: PlanNames


def load_plan(session: Session, today: date, *, include_archived: bool = True, owner: str | None = None,
              theme: str | None = None) -> Plan:
    """Every occurrence as of ``today`` with its deliverable and names, withdrawn ones too unless told not to.

    ``owner`` and ``theme`` narrow the query itself (a listing for one party need not read the whole plan).
    """
    statement = select(DeliverableRow, OccurrenceRow).join(
        OccurrenceRow, col(OccurrenceRow.deliverable_id) == DeliverableRow.id
    )
    if not include_archived:
        statement = statement.where(col(DeliverableRow.archived_at).is_(None), col(OccurrenceRow.archived_at).is_(None))
    if owner:
        statement = statement.where(col(DeliverableRow.owner) == owner)
    if theme:
        statement = statement.where(col(DeliverableRow.theme) == theme)
    names = plan_names(session)
    requested = {(row.deliverable_id, row.year): row.deadline_text for row in session.exec(
        select(ReplanRequestRow).where(col(ReplanRequestRow.state) == "pending").order_by(col(ReplanRequestRow.id)))}
    parts: dict[int, list[MemberStatusRow]] = defaultdict(list)
    for part in session.exec(select(MemberStatusRow)):  # only per-member occurrences have them: a few per plan
        parts[part.occurrence_id].append(part)
    views, follows_of = [], {}
    for deliverable, occurrence in session.exec(statement):
        views.append(occurrence_view(deliverable, occurrence, today, names,
                                     requested.get((deliverable.id, occurrence.year)),
                                     parts.get(occurrence.id or 0, ()) if deliverable.per_member else ()))
        follows = follows_of_row(deliverable)
        if follows is not None:
            follows_of[deliverable.id] = follows
    views.sort(key=lambda v: (v.due_order, v.deliverable_id, v.year or 0))
    return Plan(views=_with_bases(session, views, follows_of), names=names)


def follows_of_row(deliverable: DeliverableRow) -> Follows | None:
    """What the deliverable's deadline follows, when another deliverable sets it ("før ID", "2 år efter ID"): its
    reading, or its words where a re-plan gave it that form."""
    try:
        return parse_follows(deliverable.interpreted_as or deliverable.deadline_text)
    except DeadlineError:
        return None


def _with_bases(session: Session, views: list[OccurrenceView], follows_of: dict[str, Follows]) -> list[OccurrenceView]:
    """The views, those whose deadline follows another deliverable's with what it is counted from."""
    if not follows_of:
        return views
    targets = {follows.target for follows in follows_of.values()}
    first: dict[str, tuple[DeliverableRow, OccurrenceRow]] = {}
    for deliverable, occurrence in session.exec(
            select(DeliverableRow, OccurrenceRow)
            .join(OccurrenceRow, col(OccurrenceRow.deliverable_id) == DeliverableRow.id)
            .where(col(DeliverableRow.id).in_(targets), col(OccurrenceRow.archived_at).is_(None))
            .order_by(col(OccurrenceRow.due).asc().nulls_last())):
        first.setdefault(deliverable.id, (deliverable, occurrence))
    result = []
    for view in views:
        follows = follows_of.get(view.deliverable_id)
        target = first.get(follows.target) if follows is not None else None
        if follows is None or target is None:
            result.append(view)
            continue
        deliverable, occurrence = target
        done = occurrence.status == Status.DONE.value and occurrence.status_changed_at is not None
        if follows.relation == BEFORE:
            counted_from = occurrence.window_start
        elif follows.from_done and done and occurrence.status_changed_at is not None:
            counted_from = occurrence.status_changed_at.astimezone(plan_zone()).date()
        else:
            counted_from = occurrence.due
        if counted_from is None:
            result.append(view)  # the register refuses to follow an undated deliverable; an older database may not
            continue
        result.append(replace(view, basis=Basis(
            relation=follows.relation, target=deliverable.id, target_title=deliverable.title,
            target_title_en=deliverable.title_en, counted_from=counted_from, years=follows.years,
            from_done=follows.from_done and done)))
    return result


def list_occurrences(session: Session, today: date, where: ListFilter = ListFilter()) -> list[OccurrenceView]:
    """Every occurrence that passes the filter, ordered by due day, then id and year."""
    plan = load_plan(session, today, include_archived=where.include_archived, owner=where.owner, theme=where.theme)
    return [view for view in plan.views if where.admits(view, today)]


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


def completion_keys(session: Session, kind: str, english: bool = False) -> list[tuple[str, str]]:
    """(key, name) of the deliverables in the register, or of the parties or themes: what shell completion offers."""
    if kind == "deliverable":
        rows = session.exec(select(DeliverableRow.id, DeliverableRow.title, DeliverableRow.title_en)
                            .where(col(DeliverableRow.archived_at).is_(None)).order_by(col(DeliverableRow.id)))
        return [(key, title_en if english else title) for key, title, title_en in rows]
    names = plan_names(session)
    if kind == "party":
        return [(key, names.party(key, english)) for key in sorted(names.parties)]
    return [(key, names.theme(key, english)) for key in sorted(names.themes, key=names.theme_order)]


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
    names: PlanNames


def show_deliverable(session: Session, deliverable_id: str, today: date) -> DeliverableDetail:
    deliverable = get_deliverable(session, deliverable_id)
    occurrences = session.exec(
        select(OccurrenceRow).where(col(OccurrenceRow.deliverable_id) == deliverable.id)
        .order_by(col(OccurrenceRow.due).asc().nulls_last())
    )
    history = session.exec(
        select(HistoryRow).where(col(HistoryRow.deliverable_id) == deliverable.id)
        .order_by(col(HistoryRow.at), col(HistoryRow.id))
    )
    names = plan_names(session)
    return DeliverableDetail(
        deliverable=deliverable,
        occurrences=_with_bases(session, [occurrence_view(deliverable, occurrence, today, names,
                                                          parts=_parts(session, occurrence))
                                          for occurrence in occurrences],
                                {deliverable.id: follows} if (follows := follows_of_row(deliverable)) else {}),
        history=list(history), names=names,
    )


def _parts(session: Session, occurrence: OccurrenceRow) -> list[MemberStatusRow]:
    return list(session.exec(select(MemberStatusRow).where(col(MemberStatusRow.occurrence_id) == occurrence.id)))


def history_as_json(row: HistoryRow) -> dict[str, Any]:
    at: datetime = row.at
    return {
        "at": at.isoformat(), "actor": row.actor, "action": row.action, "occurrence": row.occurrence_key or None,
        "field": row.field, "old": row.old_value, "new": row.new_value, "note": row.note,
        "evidence": row.evidence_url, "member": row.member,
    }
