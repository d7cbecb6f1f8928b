"""Reading the plan's state: the one read model every view of the plan is built from.

``load_plan`` is the one join of deliverables and occurrences and the one
read of party and theme names; ``tracker list`` and ``show``, the report, the
dashboard, the calendar feeds and the notification planner all start from it.
It reads with Core selects into plain tuples and builds the frozen
``OccurrenceView`` of each directly: no ORM instance is made for a read, and
``deliverable_ids`` narrows the query to what a command needs (``show``, a
feed refreshing what changed). The ORM stays where rows are written.
"""

from __future__ import annotations

import gc
import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Text, cast, func
from sqlalchemy import select as select_rows  # Core: sqlmodel's select types a few columns at most
from sqlmodel import Session, col, select

from tracker.clock import plan_zone
from tracker.deadlines import BEFORE, Follows, parse_follows
from tracker.errors import DeadlineError, UnknownIdError
from tracker.i18n import _
from tracker.model import Basis, Funded, MemberPart, OccurrenceView, PlanNames, Status, is_overdue
from tracker.store.tables import (DeliverableRow, HistoryRow, MemberStatusRow, OccurrenceRow, PartyRow,
                                  ReplanRequestRow, ThemeRow, table_of)

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
    parties = list(session.execute(select(PartyRow.key, PartyRow.name, PartyRow.name_en, PartyRow.members)))
    return PlanNames(
        parties={key: (name, name_en) for key, name, name_en, _members in parties},
        members={key: tuple(members) for key, _name, _name_en, members in parties if members},
        themes={key: (number, topic, topic_en) for key, number, topic, topic_en in session.execute(
            select(ThemeRow.key, ThemeRow.number, ThemeRow.topic, ThemeRow.topic_en))},
    )


# The read model's columns, read with Core into plain tuples: an ORM instance per row (and the garbage collector
# scanning them all) was most of the cost of every read of a large plan. JSON columns come as their text and are
# decoded once per distinct value: most deliverables share "[]".
_D, _O = table_of(DeliverableRow).c, table_of(OccurrenceRow).c
_PLAN_COLUMNS = (
    _D.id, _D.title, _D.title_en, _D.kind, _D.owner, cast(_D.co_owners, Text), _D.recipient, _D.theme,
    _D.deadline_text, _D.interpreted_as, _D.source_file, _D.source_section, _D.source_quote,
    cast(_D.former_ids, Text), cast(_D.funded, Text), _D.per_member, _D.archived_at,
    _O.id, _O.year, _O.window_start, _O.due, _O.baseline_due, _O.precision, _O.status, _O.status_changed_at,
    _O.note, _O.updated_at, _O.confirmed_at, _O.archived_at, _O.snoozed_until, _O.snooze_reason, _O.snoozed_by,
)
_M = table_of(MemberStatusRow).c
_PART_COLUMNS = (_M.occurrence_id, _M.member, _M.status, _M.status_changed_at, _M.note, _M.evidence_url,
                 _M.noted_at, _M.confirmed_at, _M.snoozed_until, _M.snooze_reason, _M.snoozed_by)


def _decoder() -> Callable[[str | None], Any]:
    decoded: dict[str | None, Any] = {}

    def decode(text: str | None) -> Any:
        if text not in decoded:
            decoded[text] = json.loads(text) if text else []
        return decoded[text]
    return decode


def _latest(first: datetime | None, second: datetime | None, third: datetime | None) -> datetime | None:
    # A note is a sign of life too: updated_at moves with notes, status changes and confirmations (and re-plans,
    # which are a coordinator's update as well). A member's part has the day of its note.
    if second is None and third is None:
        return first  # most of a plan: nothing happened to it yet, or only a status change
    return max(moment for moment in (first, second, third) if moment is not None)


@dataclass(frozen=True)
class Plan:
    """The plan as of one day: every occurrence (ordered by due day, id and year) and the names to show."""

    views: list[OccurrenceView]
    names: PlanNames


def load_plan(session: Session, today: date, *, include_archived: bool = True, owner: str | None = None,
              theme: str | None = None, deliverable_ids: Collection[str] | None = None, bases: bool = True) -> Plan:
    """Every occurrence as of ``today`` with its deliverable and names, withdrawn ones too unless told not to.

    ``owner``, ``theme`` and ``deliverable_ids`` narrow the query itself: a listing for one party, ``tracker
    show`` and a feed refreshing the deliverables that changed need not read the whole plan.
    """
    # In the read model's order (due day, undated last; id; year), so the sort below finds it sorted.
    statement = select_rows(*_PLAN_COLUMNS).select_from(
        table_of(DeliverableRow).join(table_of(OccurrenceRow), _O.deliverable_id == _D.id)).order_by(
        _O.due.is_(None), _O.due, _D.id, func.coalesce(_O.year, 0))
    if not include_archived:
        statement = statement.where(_D.archived_at.is_(None), _O.archived_at.is_(None))
    if owner:
        statement = statement.where(_D.owner == owner)
    if theme:
        statement = statement.where(_D.theme == theme)
    wanted = sorted(set(deliverable_ids)) if deliverable_ids is not None else None
    names = plan_names(session)
    requested = {(deliverable_id, year): text for deliverable_id, year, text in session.execute(
        select(ReplanRequestRow.deliverable_id, ReplanRequestRow.year, ReplanRequestRow.deadline_text)
        .where(col(ReplanRequestRow.state) == "pending").order_by(col(ReplanRequestRow.id)))}
    parts: dict[int, list[Any]] = defaultdict(list)
    for part in session.execute(select_rows(*_PART_COLUMNS)):  # only per-member occurrences have them: a few per plan
        parts[part[0]].append(part)
    rows: Iterable[Any]
    with collector_paused():
        if wanted is None:
            rows = session.execute(statement).all()  # fetchall: one call into the driver, not one per row
        else:
            rows = [row for chunk in range(0, len(wanted), _IN_LIMIT)
                    for row in session.execute(statement.where(_D.id.in_(wanted[chunk:chunk + _IN_LIMIT])))]
        views, follows_of = _views(rows, today, names, requested, parts)
        del rows
    views.sort(key=lambda v: (v.due_order, v.deliverable_id, v.year or 0))  # ids chunked: one run per chunk
    return Plan(views=_with_bases(session, views, follows_of) if bases else views, names=names)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while the read model is built.

    Building it allocates a few objects per row and frees none, so every few
    hundred rows the collector would scan everything built so far for cycles
    it cannot find: a third of the time of a large plan's read. The views hold
    no cycles; reference counting frees them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_STATUSES = {status.value: status for status in Status}  # a dict lookup, not Enum's call, per row

_IN_LIMIT = 500  # ids per IN list: within every database's limits on parameters


def _views(rows: Iterable[Any], today: date, names: PlanNames, requested: dict[tuple[str, int | None], str],
           parts: dict[int, list[Any]]) -> tuple[list[OccurrenceView], dict[str, Follows]]:
    """The read model of each (deliverable, occurrence) row, and what each deliverable's deadline follows."""
    decode = _decoder()
    funding: dict[str | None, Funded | None] = {}
    deliverables: dict[str, dict[str, Any]] = {}  # what every occurrence of a deliverable shares: built once
    follows_of: dict[str, Follows] = {}
    views = []
    for (deliverable_id, title, title_en, kind, owner, co_owners_text, recipient, theme, deadline_text,
         interpreted_as, source_file, source_section, source_quote, former_text, funded_text, per_member,
         deliverable_archived, occurrence_id, year, window_start, due, baseline_due, precision, status_value,
         status_changed_at, note, updated_at, confirmed_at, occurrence_archived, snoozed_until, snooze_reason,
         snoozed_by) in rows:
        shared = deliverables.get(deliverable_id)
        if shared is None:
            co_owners = tuple(decode(co_owners_text))
            former = decode(former_text)
            owner_name, owner_name_en = names.party_pair(owner)
            shared = deliverables[deliverable_id] = dict(
                deliverable_id=deliverable_id, title=title, title_en=title_en, kind=kind, owner=owner,
                co_owners=co_owners, recipient=recipient, theme=theme, deadline_text=deadline_text,
                source_file=source_file, source_section=source_section, source_quote=source_quote,
                owner_name=owner_name, owner_name_en=owner_name_en,
                co_owner_names=tuple(names.party(key) for key in co_owners),
                co_owner_names_en=tuple(names.party(key, english=True) for key in co_owners),
                calendar_id=former[0] if former else deliverable_id,
                funded=funding[funded_text] if funded_text in funding
                else funding.setdefault(funded_text, Funded.of(decode(funded_text))))
            follows = follows_of_text(interpreted_as or deadline_text)
            if follows is not None:
                follows_of[deliverable_id] = follows
        status = _STATUSES[status_value]
        withdrawn = deliverable_archived is not None or occurrence_archived is not None
        members = _member_parts(parts.get(occurrence_id, ()), names.members.get(owner, ()), due, withdrawn,
                                today, names) if per_member else ()
        views.append(OccurrenceView(
            **shared, year=year, window_start=window_start, due=due, baseline_due=baseline_due,
            precision=precision, status=status, overdue=not withdrawn and is_overdue(due, status, today),
            withdrawn=withdrawn, note=note,
            updated_at=_latest(status_changed_at, updated_at if note else None, confirmed_at),
            requested_deadline=requested.get((deliverable_id, year)), snoozed_until=snoozed_until,
            snooze_reason=snooze_reason, snoozed_by=snoozed_by, members=members))
    return views, follows_of


def _member_parts(rows: Iterable[Any], order: tuple[str, ...], due: date | None, withdrawn: bool, today: date,
                  names: PlanNames) -> tuple[MemberPart, ...]:
    """Each member's part of a per-member occurrence, in the collective party's order."""
    by_member = {row[1]: row for row in rows}
    parts = []
    for key in order:
        row = by_member.get(key)
        if row is None:
            continue
        (_occurrence, _member, status_value, status_changed_at, note, evidence_url, noted_at, confirmed_at,
         snoozed_until, snooze_reason, snoozed_by) = row
        status = Status(status_value)
        parts.append(MemberPart(
            key=key, name=names.party(key), name_en=names.party(key, english=True), status=status,
            overdue=not withdrawn and is_overdue(due, status, today),
            updated_at=_latest(status_changed_at, noted_at, confirmed_at), note=note, evidence_url=evidence_url,
            snoozed_until=snoozed_until, snooze_reason=snooze_reason, snoozed_by=snoozed_by))
    return tuple(parts)


@lru_cache(maxsize=4096)
def follows_of_text(text: str) -> Follows | None:
    """What a deadline follows, when another deliverable sets it ("før ID", "2 år efter ID"), read from its
    words (its reading, or a re-plan's words); None for any other deadline. Cached: a large plan repeats a few
    forms."""
    try:
        return parse_follows(text)
    except DeadlineError:
        return None


def follows_of_row(deliverable: DeliverableRow) -> Follows | None:
    """What the deliverable's deadline follows, when another deliverable sets it: its reading, or its words where
    a re-plan gave it that form."""
    return follows_of_text(deliverable.interpreted_as or deliverable.deadline_text)


def _with_bases(session: Session, views: list[OccurrenceView], follows_of: dict[str, Follows]) -> list[OccurrenceView]:
    """The views, those whose deadline follows another deliverable's with what it is counted from."""
    if not follows_of:
        return views
    targets = sorted({follows.target for follows in follows_of.values()})
    first: dict[str, tuple[str, str, str | None, date | None, date | None, datetime | None]] = {}
    for chunk in range(0, len(targets), _IN_LIMIT):
        for target_id, title, title_en, status, window_start, due, changed_at in session.execute(
                select_rows(_D.id, _D.title, _D.title_en, _O.status, _O.window_start, _O.due, _O.status_changed_at)
                .select_from(table_of(DeliverableRow).join(table_of(OccurrenceRow), _O.deliverable_id == _D.id))
                .where(_D.id.in_(targets[chunk:chunk + _IN_LIMIT]), _O.archived_at.is_(None))
                .order_by(_O.due.asc().nulls_last())):
            if target_id not in first:
                first[target_id] = (title, title_en, status, window_start, due, changed_at)
    result = []
    for view in views:
        follows = follows_of.get(view.deliverable_id)
        target = first.get(follows.target) if follows is not None else None
        if follows is None or target is None:
            result.append(view)
            continue
        title, title_en, status, window_start, due, changed_at = target
        done = status == Status.DONE.value and changed_at is not None
        if follows.relation == BEFORE:
            counted_from = window_start
        elif follows.from_done and done and changed_at is not None:
            counted_from = changed_at.astimezone(plan_zone()).date()
        else:
            counted_from = due
        if counted_from is None:
            result.append(view)  # the register refuses to follow an undated deliverable; an older database may not
            continue
        result.append(replace(view, basis=Basis(
            relation=follows.relation, target=follows.target, target_title=title, target_title_en=title_en,
            counted_from=counted_from, years=follows.years, from_done=follows.from_done and done)))
    return result


def list_occurrences(session: Session, today: date, where: ListFilter = ListFilter(), *,
                     bases: bool = True) -> list[OccurrenceView]:
    """Every occurrence that passes the filter, ordered by due day, then id and year (``bases``: see
    ``load_plan``)."""
    plan = load_plan(session, today, include_archived=where.include_archived, owner=where.owner, theme=where.theme,
                     bases=bases)
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
    """One deliverable with its occurrences (the read model, read for it alone) and its history."""
    deliverable = get_deliverable(session, deliverable_id)
    history = session.exec(
        select(HistoryRow).where(col(HistoryRow.deliverable_id) == deliverable.id)
        .order_by(col(HistoryRow.at), col(HistoryRow.id))
    )
    plan = load_plan(session, today, deliverable_ids=[deliverable.id])
    return DeliverableDetail(deliverable=deliverable, occurrences=plan.views, history=list(history), names=plan.names)


def history_as_json(row: HistoryRow) -> dict[str, Any]:
    at: datetime = row.at
    return {
        "at": at.isoformat(), "actor": row.actor, "action": row.action, "occurrence": row.occurrence_key or None,
        "field": row.field, "old": row.old_value, "new": row.new_value, "note": row.note,
        "evidence": row.evidence_url, "member": row.member,
    }
