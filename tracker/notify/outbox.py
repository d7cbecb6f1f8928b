"""The outbox: every message the policy calls for is a row, and the row says how sending it went.

A row is keyed by its notice key (``tracker.notify.planner.notice_key``)
under a unique constraint, so however many sweeps and processes plan the same
day, each message is recorded once. Its state moves::

    pending ─claim─▶ claimed ─▶ sending ──▶ sent
       ▲                │          │ ├────▶ failed   (permanent, or retries used up)
       ├──(lease over)──┘          │ └────▶ unknown  (the provider may have it: never resent on its own)
       └──────(backoff)────────────┘
    pending ─────────────────────────────▶ skipped  (no longer useful when its time came)

Claiming is the only step two processes could race on. On PostgreSQL the
claim selects with ``FOR UPDATE SKIP LOCKED`` inside the transaction that
marks the rows ``claimed``; on SQLite that transaction begins ``IMMEDIATE``
and so runs alone. Either way a row is claimed by exactly one sweep (its
``claim_token``), and only a ``pending`` row can be claimed.

A sweep claims all it will send, then marks each message's rows ``sending``
in a transaction of their own just before that message goes out. A process
that dies leaves at most one message ``sending`` (the provider may have it)
and the rest ``claimed`` (certainly not sent). After ``LEASE`` the next sweep
marks the one ``unknown`` and gives the rest back to ``pending``: at most one
unknown, never a silent duplicate. A clock that takes over a dead clock's
lease does the same at once for the rows that clock claimed (``claimed_by``):
one crash does not make the rest of the day's messages wait out the lease.

``health`` says what a platform's health check should alert on: messages
that reached nobody, messages that may not have arrived, messages waiting
for a retry.

The rules for what still makes sense after downtime (``triage``) are pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, func, update
from sqlmodel import Session, col, select

from tracker.errors import TrackerError, UnknownIdError
from tracker.i18n import _
from tracker.notify.planner import STANDALONE, Notice
from tracker.store.db import upsert_insert
from tracker.store.queries import closest_ids
from tracker.store.sync import RESTORED
from tracker.store.tables import MetaRow, OutboxRow, table_of

class OutboxState(StrEnum):
    """Where a message is: waiting (pending), taken by a sweep (claimed), being handed to its channel
    (sending), or done with: sent, failed (for good), unknown (it may have arrived) or skipped."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"


PENDING, CLAIMED, SENDING, SENT, FAILED, UNKNOWN, SKIPPED = OutboxState  # the short names queries here read best in
STATES = tuple(OutboxState)


class SkipReason(StrEnum):
    """Why a row was skipped (stored in error_code; `tracker notify log` explains each)."""

    NOT_CALLED_FOR = "not_called_for"  # done, cancelled, withdrawn, re-planned or re-routed before it went out
    SUPERSEDED = "superseded"  # a later step of the same series went out instead
    EXPIRED = "expired"  # a reminder after the due day, a digest after its week
    INTERRUPTED = "interrupted"  # the process stopped between the send and its record


NOT_CALLED_FOR, SUPERSEDED, EXPIRED, INTERRUPTED = SkipReason

# How long a claimed row may stay "sending" before the sweep stops trusting
# that its process is alive. A send takes seconds; a Slack rate-limit wait a
# minute at most (SlackChannel.max_wait, three times); this is well past both.
LEASE = timedelta(minutes=15)
# A message that goes out more than this after its time says it is late.
LATE_AFTER = timedelta(hours=1)
# Transient failures are retried after 1, 4, 16 and 64 minutes and about 4
# hours; then the row is failed and the coordinators are told.
MAX_ATTEMPTS = 6
_BACKOFF_BASE_SECONDS = 60
_BACKOFF_CAP_SECONDS = 6 * 3600

PLANNED_THROUGH = "notify_planned_through"


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """The wait before attempt ``attempts + 1``: exponential, never shorter than the provider asked for."""
    delay = min(_BACKOFF_BASE_SECONDS * 4 ** max(attempts - 1, 0), _BACKOFF_CAP_SECONDS)
    return timedelta(seconds=max(delay, retry_after or 0))


def is_late(due_at: datetime, now: datetime) -> bool:
    return now - due_at > LATE_AFTER


# ----------------------------------------------------------------------------------------------------------------
# What still makes sense (pure)


def notice_for(row: OutboxRow, plan: dict[str, Notice]) -> Notice | None:
    """The notice ``row`` stands for in the current plan, or None when the plan no longer calls for it.

    A problem report, a request for a new deadline and its outcome are not planned (``STANDALONE``): each
    stands for itself. An e-mail
    fallback stands for the Slack notice it replaces, as long as that one is
    still called for.
    """
    if row.kind in STANDALONE:
        return Notice(key=row.key, kind=row.kind, step=row.step, day=row.day, subject=None, channel=row.channel,
                      recipient=row.recipient, language=row.language, reason=row.reason, detail=row.detail,
                      party=row.party)
    if row.replaces is not None:
        original = plan.get(row.replaces)
        if original is None:
            return None
        return replace(original, key=row.key, channel=row.channel, recipient=row.recipient, language=row.language,
                       reason=row.reason)
    return plan.get(row.key)


@dataclass(frozen=True)
class Triage:
    send: list[tuple[OutboxRow, Notice]]
    skip: list[tuple[OutboxRow, str]]  # (row, one of the skip reasons above)


def triage(rows: Iterable[OutboxRow], plan: dict[str, Notice], today: date) -> Triage:
    """Which due rows go out ``today`` and which are skipped, and why.

    - not called for any more (the occurrence was closed, withdrawn,
      re-planned or re-routed): skipped;
    - several steps of one series due at once (after downtime: the 60- and
      the 30-day reminder; two weekly overdue alerts): only the latest goes
      out, the earlier are superseded;
    - a reminder on or after its due day, or a digest a week or more after
      its day: expired.
    """
    send: list[tuple[OutboxRow, Notice]] = []
    skip: list[tuple[OutboxRow, str]] = []
    latest: dict[tuple, tuple[OutboxRow, Notice]] = {}
    for row in sorted(rows, key=lambda r: (r.day, r.id or 0)):
        notice = notice_for(row, plan)
        if notice is None:
            skip.append((row, NOT_CALLED_FOR))
            continue
        if row.kind == "reminder" and notice.subject is not None and today >= notice.subject.due_order:
            skip.append((row, EXPIRED))
            continue
        if row.kind == "digest" and today >= row.day + timedelta(days=7):
            skip.append((row, EXPIRED))
            continue
        if row.kind in STANDALONE:
            send.append((row, notice))
            continue
        series = (row.deliverable_id, row.occurrence_year, row.member, row.kind, row.channel, row.recipient)
        earlier = latest.get(series)
        if earlier is not None:
            skip.append((earlier[0], SUPERSEDED))
        latest[series] = (row, notice)
    send.extend(latest.values())
    send.sort(key=lambda pair: (pair[0].channel, pair[0].recipient, pair[0].day, pair[0].key))
    return Triage(send=send, skip=skip)


# ----------------------------------------------------------------------------------------------------------------
# Reading and writing rows


def read_planned_through(session: Session, *, lock: bool = False) -> date | None:
    """The last day sweeps have planned; with ``lock``, held until the transaction ends (PostgreSQL)."""
    query = select(MetaRow).where(col(MetaRow.key) == PLANNED_THROUGH)
    if lock:
        query = query.with_for_update()
    row = session.exec(query).first()
    return date.fromisoformat(row.value) if row is not None and row.value else None


def write_planned_through(session: Session, day: date, now: datetime) -> None:
    session.execute(update(MetaRow).where(col(MetaRow.key) == PLANNED_THROUGH).values(value=day.isoformat(),
                                                                                 updated_at=now))


def restored_since(session: Session, *, lock: bool = False) -> dict[str, date]:
    """Deliverables back in the register that the sweep has not planned again: id → the day each left."""
    query = select(MetaRow).where(col(MetaRow.key) == RESTORED)
    row = session.exec(query.with_for_update() if lock else query).first()
    if row is None or not row.value:
        return {}
    return {key: date.fromisoformat(day) for key, day in json.loads(row.value).items()}


def replan_restored(session: Session, restored: dict[str, date], now: datetime) -> None:
    """Give the restored deliverables' skipped-while-away rows back to the queue, and forget them as restored
    (in the caller's transaction, which holds the meta row's lock from ``restored_since(lock=True)``).

    A row planned before the deliverable left and skipped while it was away
    ("no longer called for") is called for again; ``triage`` decides at the
    claim whether it is still useful, superseded or too late.
    """
    for deliverable_id, day in restored.items():
        session.execute(update(OutboxRow).where(
            col(OutboxRow.deliverable_id) == deliverable_id, col(OutboxRow.state) == SKIPPED,
            col(OutboxRow.error_code) == NOT_CALLED_FOR, col(OutboxRow.day) >= day).values(
            state=PENDING, error_code=None, updated_at=now))
    left = {key: day.isoformat() for key, day in restored_since(session, lock=True).items() if key not in restored}
    session.execute(update(MetaRow).where(col(MetaRow.key) == RESTORED).values(
        value=json.dumps(left, sort_keys=True) if left else "", updated_at=now))


def earliest_waiting_day(session: Session) -> date | None:
    """The earliest day of a row still waiting to go out (a retry), so the plan can be checked back to it."""
    return session.exec(select(func.min(OutboxRow.day)).where(col(OutboxRow.state) == PENDING)).first()


def insert_new(session: Session, rows: Sequence[dict]) -> int:
    """Insert the rows whose key is not there yet; return how many were new."""
    if not rows:
        return 0
    insert = upsert_insert(session)
    # One compiled statement, executed for many parameter sets (SQLAlchemy batches them with RETURNING,
    # which counts what was new: rowcount is not reliable for multi-row inserts on every driver).
    statement = insert(table_of(OutboxRow)).on_conflict_do_nothing(index_elements=["key"]).returning(
        table_of(OutboxRow).c.id)
    return len(session.execute(statement, list(rows)).all())


def row_values(notice: Notice, due_at: datetime, now: datetime, **extra: object) -> dict:
    """A new pending row for ``notice``, due at ``due_at``."""
    subject = notice.subject
    values: dict[str, object] = dict(
        key=notice.key, kind=notice.kind, step=notice.step,
        deliverable_id=subject.deliverable_id if subject else None,
        occurrence_year=subject.year if subject else None, member=subject.member if subject else None,
        day=notice.day, due_at=due_at, channel=notice.channel, recipient=notice.recipient,
        language=notice.language, reason=notice.reason[:255], party=notice.party, replaces=None,
        detail=notice.detail, state=PENDING, attempts=0, next_attempt_at=None, claimed_at=None, claim_token=None,
        message_key=None,
        provider_id=None, error=None, error_code=None, late=False, sent_at=None, created_at=now, updated_at=now,
    )
    values.update(extra)
    return values


def expire_leases(session: Session, now: datetime, message: str, *, holder: str | None = None) -> list[OutboxRow]:
    """Clean up after sweeps that stopped: their claimed rows back to pending, their sending rows unknown.

    Without ``holder``, the rows whose claim is older than ``LEASE``; with it,
    every row that process claimed, however recently (it is known to be dead).
    Returns the rows now ``unknown`` (``message`` is their error).
    """
    held = col(OutboxRow.state).in_((CLAIMED, SENDING))
    query = select(OutboxRow).where(held, col(OutboxRow.claimed_by) == holder) if holder is not None else \
        select(OutboxRow).where(held, col(OutboxRow.claimed_at) < now - LEASE)
    stale = list(session.exec(query.order_by(col(OutboxRow.id)).with_for_update(skip_locked=True)))
    unknown = []
    for row in stale:
        if row.state == CLAIMED:  # never handed to a provider: safe to send
            row.state, row.claim_token, row.claimed_at, row.claimed_by = PENDING, None, None, None
        else:
            row.state, row.error, row.error_code = UNKNOWN, message, INTERRUPTED
            unknown.append(row)
        row.updated_at = now
        session.add(row)
    return unknown


def start_sending(session: Session, ids: Sequence[int], token: str, now: datetime) -> bool:
    """Mark a claimed message's rows ``sending``; False when this sweep no longer holds all of them.

    On False the caller must roll the transaction back, and not send.
    """
    result = cast(CursorResult[Any], session.execute(update(OutboxRow)
                             .where(col(OutboxRow.id).in_(list(ids)), col(OutboxRow.state) == CLAIMED,
                                    col(OutboxRow.claim_token) == token)
                             .values(state=SENDING, claimed_at=now, updated_at=now)))
    return result.rowcount == len(ids)


def release(session: Session, ids: Sequence[int], token: str, now: datetime) -> None:
    """Give claimed rows back to ``pending`` (a sweep that stops before sending them); their attempt is undone."""
    session.execute(update(OutboxRow)
                    .where(col(OutboxRow.id).in_(list(ids)), col(OutboxRow.state) == CLAIMED,
                           col(OutboxRow.claim_token) == token)
                    .values(state=PENDING, claim_token=None, claimed_at=None, claimed_by=None,
                            attempts=OutboxRow.attempts - 1, updated_at=now))


def claimable(session: Session, now: datetime) -> list[OutboxRow]:
    """Pending rows whose time has come, locked for this transaction; rows another sweep holds are skipped."""
    query = (select(OutboxRow)
             .where(col(OutboxRow.state) == PENDING, col(OutboxRow.due_at) <= now,
                    (col(OutboxRow.next_attempt_at).is_(None)) | (col(OutboxRow.next_attempt_at) <= now))
             .order_by(col(OutboxRow.id))
             .with_for_update(skip_locked=True))
    return list(session.exec(query))


def has_work(session: Session, now: datetime) -> bool:
    """Whether a row can be claimed now, or a stopped sweep's rows are waiting to be cleaned up."""
    due = (col(OutboxRow.state) == PENDING) & (col(OutboxRow.due_at) <= now) & (
        col(OutboxRow.next_attempt_at).is_(None) | (col(OutboxRow.next_attempt_at) <= now))
    stale = col(OutboxRow.state).in_((CLAIMED, SENDING)) & (col(OutboxRow.claimed_at) < now - LEASE)
    return session.exec(select(OutboxRow.id).where(due | stale).limit(1)).first() is not None


def rows_by_ids(session: Session, ids: Iterable[int]) -> list[OutboxRow]:
    return list(session.exec(select(OutboxRow).where(col(OutboxRow.id).in_(list(ids))).order_by(col(OutboxRow.id))))


def in_flight(session: Session) -> int:
    """Rows another sweep holds right now."""
    return session.exec(select(func.count()).select_from(OutboxRow).where(
        col(OutboxRow.state).in_((CLAIMED, SENDING)))).one()


# How far back /healthz counts failures: long enough for a weekend, short enough that an old failure the
# coordinators have dealt with (by retrying, or deciding not to) stops raising the alarm by itself.
HEALTH_WINDOW = timedelta(days=7)


def undeliverable(session: Session, since: datetime) -> Sequence[OutboxRow]:
    """Failed rows since ``since`` that nothing replaced: no e-mail fallback of theirs was sent."""
    fallback = table_of(OutboxRow).alias("fallback")
    replaced = select(fallback.c.id).where(fallback.c.replaces == OutboxRow.key, fallback.c.state == SENT).exists()
    return list(session.exec(select(OutboxRow).where(col(OutboxRow.state) == FAILED, col(OutboxRow.updated_at) >= since,
                                                     ~replaced).order_by(col(OutboxRow.id))))


def health(session: Session, now: datetime) -> dict[str, object]:
    """The notification state for /healthz, over the last week.

    ``undeliverable``: notices that reached none of their recipients, by
    their own route or an e-mail in its place (the coordinators were told,
    where any route of theirs works); ``unknown``: notices that may not have
    arrived; ``retrying``: notices waiting for another attempt.
    """
    since = now - HEALTH_WINDOW

    def count(*where: ColumnElement[bool]) -> int:
        return session.exec(select(func.count()).select_from(OutboxRow).where(*where)).one()

    return {
        "undeliverable": len(undeliverable(session, since)),
        "unknown": count(col(OutboxRow.state) == UNKNOWN, col(OutboxRow.updated_at) >= since),
        "retrying": count(col(OutboxRow.state) == PENDING, col(OutboxRow.attempts) > 0),
        "window_days": HEALTH_WINDOW.days,
    }


# What `tracker notify log --json` prints of a row: an interface others read.
_JSON_FIELDS = ("key", "state", "kind", "step", "deliverable_id", "occurrence_year", "channel", "recipient",
                "language", "reason", "attempts", "message_key", "provider_id", "error_code", "error", "late")
_JSON_MOMENTS = ("due_at", "next_attempt_at", "sent_at", "updated_at")


def row_as_json(row: OutboxRow) -> dict[str, object]:
    """One outbox row as `tracker notify log --json` prints it."""
    record: dict[str, object] = {name: getattr(row, name) for name in _JSON_FIELDS}
    for name in _JSON_MOMENTS:
        value = getattr(row, name)
        record[name] = value.isoformat() if value else None
    return record


def recent(session: Session, *, problems_only: bool = False, limit: int = 50) -> list[OutboxRow]:
    """The latest rows, newest first; ``problems_only``: failed and unknown ones."""
    query = select(OutboxRow)
    if problems_only:
        query = query.where(col(OutboxRow.state).in_((FAILED, UNKNOWN)))
    return list(session.exec(query.order_by(col(OutboxRow.updated_at).desc(), col(OutboxRow.id).desc()).limit(limit)))


def retry(session: Session, key: str, now: datetime) -> list[OutboxRow]:
    """Put the failed or unknown rows with this key (a notice's, or a message's) back in the queue.

    For an ``unknown`` row this is the coordinator's word that the message
    did not arrive. The next sweep sends it, unless by then it is no longer
    called for (see ``triage``).
    """
    rows = list(session.exec(select(OutboxRow).where((col(OutboxRow.key) == key) | (col(OutboxRow.message_key) == key))
                             .with_for_update()))
    if not rows:
        known = list(session.exec(select(OutboxRow.key).where(col(OutboxRow.state).in_((FAILED, UNKNOWN)))))
        suggestions = closest_ids(key, known)
        hint = (_(" Did you mean: {ids}?").format(ids=", ".join(suggestions)) if suggestions
                else _(" `tracker notify log --failed` lists what can be sent again."))
        raise UnknownIdError(_("No message in the outbox has the key {key!r}.").format(key=key) + hint, suggestions)
    retryable = [row for row in rows if row.state in (FAILED, UNKNOWN)]
    if not retryable:
        states = ", ".join(sorted({row.state for row in rows}))
        raise TrackerError(_("The message {key} is {states}: only failed and unknown messages can be sent again.")
                           .format(key=key, states=states))
    for row in retryable:
        row.state, row.attempts, row.next_attempt_at, row.updated_at = PENDING, 0, None, now
        row.claimed_at = row.claim_token = row.claimed_by = None
        row.error = row.error_code = None
        session.add(row)
    return retryable
