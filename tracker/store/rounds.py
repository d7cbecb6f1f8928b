"""Status rounds in the database: the extra ones coordinators open, and the answers each round received.

The scheduled rounds follow from the register (``tracker.rounds.scheduled``);
only an extra round (``tracker round open NAME --now``) has a row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, tzinfo

from sqlmodel import Session, col, select

from tracker.errors import TrackerError, UnknownIdError
from tracker.i18n import _
from tracker.model import Change, OccurrenceView, as_change
from tracker.policy import PolicySet, RoundRule
from tracker.rounds import ANSWERS, Round, extra, is_answer, scheduled
from tracker.store.tables import HistoryRow, StatusRoundRow


def rule_named(policy_set: PolicySet, name: str) -> RoundRule:
    """The register's round ``name``, or UnknownIdError naming the ones it has."""
    rule = policy_set.round(name)
    if rule is None:
        known = ", ".join(r.name for r in policy_set.rounds)
        raise UnknownIdError(_("The register has no round named {name!r}. Its rounds: {known}.").format(
            name=name, known=known) if known else _(
            "The register has no round named {name!r}, nor any other: add [[policy.round]] to it "
            "(docs/register.md).").format(name=name))
    return rule


def _as_round(row: StatusRoundRow, rule: RoundRule, subjects: list[OccurrenceView], zone: tzinfo) -> Round:
    assert row.id is not None
    return extra(rule, subjects, row.id, row.opened_at, row.opened_by, zone, closes=row.closes_on)


def extra_rounds(session: Session, policy_set: PolicySet, subjects: Iterable[OccurrenceView],
                 zone: tzinfo) -> tuple[list[Round], set[int]]:
    """The extra rounds whose rule the register still has, and the numbers of those not planned yet."""
    subjects = list(subjects)
    rounds, unplanned = [], set()
    for row in session.exec(select(StatusRoundRow).order_by(col(StatusRoundRow.id))):
        rule = policy_set.round(row.name)
        if rule is None or row.id is None:
            continue  # the register dropped the round: nothing more is sent for it
        rounds.append(_as_round(row, rule, subjects, zone))
        if row.planned_at is None:
            unplanned.add(row.id)
    return rounds, unplanned


def has_unplanned(session: Session) -> bool:
    return session.exec(select(StatusRoundRow.id).where(col(StatusRoundRow.planned_at).is_(None))).first() is not None


def mark_planned(session: Session, numbers: Iterable[int], now: datetime) -> None:
    for number in numbers:
        row = session.get(StatusRoundRow, number)
        if row is not None and row.planned_at is None:
            row.planned_at = now
            session.add(row)


def open_extra(session: Session, policy_set: PolicySet, name: str, subjects: list[OccurrenceView], *,
               actor: str, now: datetime, zone: tzinfo, closes: date | None = None) -> Round:
    """Open an extra round of ``name`` at ``now``: its messages go out at the service's next sweep."""
    rule = rule_named(policy_set, name)
    today = now.astimezone(zone).date()
    if closes is not None and closes < today:
        raise TrackerError(_("--closes {day} is in the past: a round closes today at the earliest.").format(
            day=closes.isoformat()))
    planned = extra(rule, subjects, 0, now, actor, zone, closes=closes)
    row = StatusRoundRow(name=rule.name, opened_at=now, opened_by=actor, closes_on=planned.closes)
    session.add(row)
    session.flush()
    return _as_round(row, rule, subjects, zone)


def all_rounds(session: Session, policy_set: PolicySet, subjects: list[OccurrenceView], zone: tzinfo) -> list[Round]:
    """Every round, scheduled and extra, by opening day."""
    extras, _unplanned = extra_rounds(session, policy_set, subjects, zone)
    return sorted([*scheduled(policy_set, subjects), *extras], key=lambda r: (r.opens, r.closes, r.extra or 0))


def answers_between(session: Session, start: datetime, end: datetime) -> list[Change]:
    """Every answer a round counts (``tracker.rounds.ANSWERS``) from ``start`` to before ``end``, oldest first."""
    rows = session.exec(select(HistoryRow).where(col(HistoryRow.at) >= start, col(HistoryRow.at) < end,
                                                 col(HistoryRow.action).in_(ANSWERS),
                                                 col(HistoryRow.deliverable_id).is_not(None))
                        .order_by(col(HistoryRow.at), col(HistoryRow.id)))
    return [as_change(row) for row in rows if is_answer(row.action, row.actor)]
