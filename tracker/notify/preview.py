"""What the policy would send over some days, without sending it: `tracker notify preview`.

The plan as it is now, the contacts and the configured channels; one record
per notice (``tracker.notify.message.notice_record``), the same objects
`tracker simulate --json` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlmodel import Session

from tracker.notify.contacts import Contacts
from tracker.notify.message import notice_record
from tracker.notify.planner import bundle, plan_notices
from tracker.notify.source import load_changes, load_subjects
from tracker.store.queries import plan_names
from tracker.store.rounds import extra_rounds
from tracker.policy import PolicySet


@dataclass(frozen=True)
class Preview:
    records: list[dict[str, object]]  # one per notice, in the order they go out
    messages: int
    problems: list[str]  # parties nobody can be reached at, and the like


def party_keys(session: Session) -> set[str]:
    """The parties a contacts file may name."""
    return set(plan_names(session).parties)


def preview(session: Session, policy: PolicySet, contacts: Contacts, channels: tuple[str, ...], start: date,
            end: date, zone: tzinfo, base_url: str) -> Preview:
    """Every notice from ``start`` to ``end`` (inclusive), as its message would carry it."""
    subjects = load_subjects(session, start)
    changes = load_changes(session, datetime.combine(start - timedelta(days=7), datetime.min.time(), zone))
    extras, _unplanned = extra_rounds(session, policy, subjects, zone)  # those coordinators opened, too
    plan = plan_notices(subjects, policy, contacts, channels, start, end, extra_rounds=extras)
    messages = bundle(plan.notices, subjects, changes, policy, zone, base_url, contacts.reply_to(), extras)
    by_bundle = {(m.channel, m.recipient, m.at.date()): m for m in messages}
    records = []
    for notice in plan.notices:
        message = by_bundle[(notice.channel, notice.recipient, notice.day)]
        subject = notice.subject
        records.append(notice_record(
            message.at, message, key=notice.key, kind=notice.kind, step=notice.step,
            deliverable_id=subject.deliverable_id if subject else None, occurrence=subject.year if subject else None,
            recipient=notice.recipient, language=notice.language, reason=notice.reason))
    return Preview(records=records, messages=len(messages), problems=plan.problems)
