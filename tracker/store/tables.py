"""The database tables, as sqlmodel classes.

The register says what the plan is; these tables remember what happened to it:
the status of every occurrence, re-plans with their baseline, and an
append-only history of every change (who, when, what, why). The schema is
created and changed only by the Alembic migrations in ``migrations/``;
``tests/store/test_migrations.py`` fails when these classes and the migrations
drift apart.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, Index, JSON, Table, TypeDecorator, UniqueConstraint, false
from sqlmodel import Field, SQLModel


def table_of(model: type[SQLModel]) -> Table:
    """A table class's Core table (``Model.__table__``, which SQLModel sets at class creation, out of the type
    checker's sight)."""
    return model.__table__  # type: ignore[attr-defined]


class UTCDateTime(TypeDecorator):
    """A time-zone-aware datetime on every database.

    PostgreSQL keeps the instant (``timestamptz``); SQLite has no time zones,
    so the value is stored as UTC and comes back as an aware UTC datetime. A
    naive datetime is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing to store the naive datetime {value!r}: give it a time zone")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _at(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class PartyRow(SQLModel, table=True):
    __tablename__ = "party"

    key: str = Field(primary_key=True, max_length=64)
    name: str
    name_en: str
    kind: str = Field(max_length=32)
    # A collective party's members, in the register's order ("regionerne": the five regions).
    members: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    archived_at: datetime | None = _at(nullable=True)


class ThemeRow(SQLModel, table=True):
    __tablename__ = "theme"

    key: str = Field(primary_key=True, max_length=64)
    number: int
    title: str
    title_en: str
    topic: str
    topic_en: str
    chapter: str
    initiatives: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source_file: str
    source_section: str
    source_quote: str
    archived_at: datetime | None = _at(nullable=True)


class DeliverableRow(SQLModel, table=True):
    """A deliverable as last synced from the register, plus what coordinators changed."""

    __tablename__ = "deliverable"

    id: str = Field(primary_key=True, max_length=128)
    title: str
    title_en: str
    kind: str = Field(max_length=32)
    owner: str = Field(foreign_key="party.key", index=True, max_length=64)
    co_owners: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    recipient: str | None = Field(default=None, foreign_key="party.key", max_length=64)
    theme: str = Field(foreign_key="theme.key", index=True, max_length=64)
    initiative: str | None = None
    funding: str | None = None  # the funding sentences of its initiative, verbatim
    # Its initiative's funding facts from the register ([[funding]]): [{"row", "amounts": {year: mio. kr.},
    # "ongoing", "quote"}], the years the dashboard's "finansieret 2027–2029" is read from.
    funded: list[dict[str, Any]] = Field(default_factory=list,
                                         sa_column=Column(JSON, nullable=False, server_default="[]"))
    # The deadline in force: the register's, or a coordinator's re-plan.
    deadline_text: str
    interpreted_as: str | None = None
    reading: str | None = None
    # The register's own deadline and status at the last sync: a register change
    # is detected against these, so a coordinator's re-plan survives re-syncs
    # of an unchanged register.
    register_deadline: str
    register_status: str = Field(max_length=16)
    source_file: str
    source_section: str
    source_quote: str
    depends_on: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Every member of its owner delivers its own part ("i alle regioner"): a MemberStatusRow for each, per
    # occurrence, and the occurrence's status rolled up from theirs.
    per_member: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    per_member_quote: str | None = None
    # The ids it had before, oldest first (the register's renamed_from): its calendar events keep the UID of the
    # first, and the database lets history rows follow it only to here.
    former_ids: list[str] = Field(default_factory=list,
                                  sa_column=Column(JSON, nullable=False, server_default="[]"))
    created_at: datetime = _at()
    updated_at: datetime = _at()
    archived_at: datetime | None = _at(nullable=True)

    @property
    def calendar_id(self) -> str:
        """The id its calendar events are known by: the first it ever had, so a rename updates them in place."""
        return self.former_ids[0] if self.former_ids else self.id


class OccurrenceRow(SQLModel, table=True):
    """One due instance of a deliverable, with its own status. ``key`` is "" or the year."""

    __tablename__ = "occurrence"
    __table_args__ = (UniqueConstraint("deliverable_id", "key", name="uq_occurrence_deliverable_key"),)

    id: int | None = Field(default=None, primary_key=True)
    deliverable_id: str = Field(foreign_key="deliverable.id", index=True, max_length=128)
    key: str = Field(max_length=8)
    year: int | None = None
    # None for an undated commitment ("uden frist", precision "undated") until a re-plan dates it.
    window_start: date | None = None
    due: date | None = Field(default=None, index=True)
    precision: str = Field(max_length=16)
    # The first due day ever planned: slippage is due - baseline_due. An undated occurrence's baseline is the
    # first date it is given.
    baseline_window_start: date | None = None
    baseline_due: date | None = None
    status: str = Field(default="not_started", max_length=16, index=True)
    status_changed_at: datetime | None = _at(nullable=True)
    note: str | None = None
    evidence_url: str | None = None
    updated_at: datetime = _at()
    archived_at: datetime | None = _at(nullable=True)
    # Reminders and alerts to the owner paused until this day (the first day they go again), why, and by whom.
    snoozed_until: date | None = None
    snooze_reason: str | None = None
    snoozed_by: str | None = Field(default=None, max_length=255)
    # The status last confirmed as it was (a status round's "Uændret"): a sign of life, as a status change is.
    confirmed_at: datetime | None = _at(nullable=True)


class MemberStatusRow(SQLModel, table=True):
    """One member's own part of a per-member occurrence: its status, note and evidence. The occurrence's own
    status is the roll-up of these (``tracker.model.rolled_up``), written with every change."""

    __tablename__ = "member_status"
    __table_args__ = (UniqueConstraint("occurrence_id", "member", name="uq_member_status_occurrence_member"),)

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int = Field(foreign_key="occurrence.id", index=True)
    member: str = Field(foreign_key="party.key", max_length=64)
    status: str = Field(default="not_started", max_length=16)
    status_changed_at: datetime | None = _at(nullable=True)
    note: str | None = None
    evidence_url: str | None = None
    noted_at: datetime | None = _at(nullable=True)
    confirmed_at: datetime | None = _at(nullable=True)
    # The member's reminders and alerts paused ("Udsæt" in its own message), as OccurrenceRow's for the whole.
    snoozed_until: date | None = None
    snooze_reason: str | None = None
    snoozed_by: str | None = Field(default=None, max_length=255)


class HistoryRow(SQLModel, table=True):
    """One change, never deleted and never changed (database triggers refuse both).

    Only its ``deliverable_id`` may move, and only to a deliverable that lists
    the old id among its ``former_ids``: a rename takes its history along.
    """

    __tablename__ = "history"
    __table_args__ = (Index("ix_history_deliverable_at", "deliverable_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _at()
    actor: str = Field(max_length=128)
    action: str = Field(max_length=32)
    deliverable_id: str | None = Field(default=None, max_length=128)
    occurrence_key: str | None = Field(default=None, max_length=8)
    field: str | None = Field(default=None, max_length=64)
    old_value: str | None = None
    new_value: str | None = None
    note: str | None = None
    evidence_url: str | None = None
    member: str | None = Field(default=None, max_length=64)  # a member's own part of a per-member occurrence


class MetaRow(SQLModel, table=True):
    """Small facts about the database itself, such as the digest of the last synced register."""

    __tablename__ = "meta"

    key: str = Field(primary_key=True, max_length=64)
    value: str
    updated_at: datetime = _at()


class FeedRow(SQLModel, table=True):
    """A calendar feed someone subscribes to, reached by a secret token stored only as its SHA-256."""

    __tablename__ = "feed"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    token_hash: str = Field(max_length=64, unique=True)
    # Which occurrences the feed shows: those of these parties (owner or
    # co-owner) or themes; both empty means the whole plan.
    parties: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    themes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    overdue_only: bool = False
    alarm: str | None = Field(default=None, max_length=8)
    language: str = Field(default="da", max_length=2)
    created_by: str = Field(max_length=128)
    created_at: datetime = _at()
    revoked_at: datetime | None = _at(nullable=True)


class AnswerRow(SQLModel, table=True):
    """How the recipients of one message answer it in the message itself (Slack's buttons, later the answer
    page): a secret token, stored only as its SHA-256, bound to the message, its recipient and its items."""

    __tablename__ = "answer"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    message_key: str = Field(max_length=255, index=True)
    channel: str = Field(max_length=16)
    recipient: str = Field(max_length=255)
    party: str = Field(max_length=128)  # whose items: the party the message reached
    # The occurrences as the message told them: [{"id", "year", "due", "status"}], in the message's order.
    items: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _at()
    expires_at: datetime = _at()
    revoked_at: datetime | None = _at(nullable=True)


class ReplanRequestRow(SQLModel, table=True):
    """An owner's request for a new deadline, from the message itself: the coordinators approve or reject it."""

    __tablename__ = "replan_request"

    id: int | None = Field(default=None, primary_key=True)
    deliverable_id: str = Field(max_length=128, index=True)
    year: int | None = None  # the occurrence of a recurring deliverable
    deadline_text: str  # the proposed deadline, in any form the register takes
    reason: str
    requested_by: str = Field(max_length=255)
    requested_at: datetime = _at()
    state: str = Field(max_length=16, default="pending", index=True)  # pending, approved, rejected
    decided_by: str | None = Field(default=None, max_length=255)
    decided_at: datetime | None = _at(nullable=True)
    decision_reason: str | None = None
    party: str | None = Field(default=None, max_length=64)  # whose item it is: the party the message was for
    requester_email: str | None = Field(default=None, max_length=255)  # where the outcome goes
    requested_via: str | None = Field(default=None, max_length=16)  # "slack" or "email": and by which channel
    announced_at: datetime | None = _at(nullable=True)  # the coordinators' message was queued
    told_at: datetime | None = _at(nullable=True)  # the requester's message about the outcome was queued
    reminded_at: datetime | None = _at(nullable=True)  # the coordinators were last reminded that it waits


class InteractionRow(SQLModel, table=True):
    """An answer already applied, by the id of the click: Slack delivers again when it hears nothing in three
    seconds, and a retried delivery must not apply twice."""

    __tablename__ = "interaction"

    key: str = Field(primary_key=True, max_length=255)
    at: datetime = _at()


class CalendarEventRow(SQLModel, table=True):
    """What subscribers last saw of an occurrence's event: SEQUENCE and LAST-MODIFIED survive restarts.

    ``fingerprint`` is the digest of everything the event shows; when it
    differs from the occurrence's current content, the sequence goes up.
    """

    __tablename__ = "calendar_event"

    uid: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64)
    sequence: int = 0
    changed_at: datetime = _at()


class OutboxRow(SQLModel, table=True):
    """One message the policy called for, and how sending it went.

    ``key`` is the notice key (occurrence, kind, step and due day, channel,
    recipient): under its unique constraint a message is recorded once
    however many sweeps and processes plan it. ``state`` moves
    ``pending → sending → sent``, or to ``failed`` (the provider's error in
    ``error``), ``unknown`` (the provider may have received it: never resent
    without a coordinator's ``tracker notify retry``) or ``skipped`` (no longer
    useful when its time came, with the reason in ``error``). The rows sent
    together in one message share ``message_key``. Between ``pending`` and
    ``sending`` a row is ``claimed``: one sweep holds it (``claim_token``) and
    has not started sending it, so a sweep that dies leaves its unsent rows
    to be sent again, and only the one message it was sending as ``unknown``.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_due_at", "state", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=1024, unique=True)
    kind: str = Field(max_length=16)
    step: str = Field(max_length=64)
    deliverable_id: str | None = Field(default=None, max_length=128)
    occurrence_year: int | None = None
    day: date  # the working day it is due on
    due_at: datetime = _at()  # the instant it is due to go out
    channel: str = Field(max_length=16)
    recipient: str = Field(max_length=320)
    language: str = Field(max_length=2)
    reason: str = Field(max_length=255)
    party: str | None = Field(default=None, max_length=64)
    member: str | None = Field(default=None, max_length=64)  # about this member's part of a per-member occurrence
    replaces: str | None = Field(default=None, max_length=1024)  # an e-mail fallback: the Slack notice's key
    detail: str | None = None  # a problem notice's text
    state: str = Field(max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = _at(nullable=True)
    claimed_at: datetime | None = _at(nullable=True)
    claim_token: str | None = Field(default=None, max_length=32)  # which sweep holds a claimed row
    claimed_by: str | None = Field(default=None, max_length=255)  # the process (host:pid) that sweep runs in
    message_key: str | None = Field(default=None, max_length=1024, index=True)
    provider_id: str | None = Field(default=None, max_length=255)
    error: str | None = None
    error_code: str | None = Field(default=None, max_length=64)
    late: bool = False
    sent_at: datetime | None = _at(nullable=True)
    created_at: datetime = _at()
    updated_at: datetime = _at()


class StatusRoundRow(SQLModel, table=True):
    """An extra status round a coordinator opened (``tracker round open NAME --now``). Scheduled rounds are the
    register's (``[[policy.round]]``) and need no row: their days follow from the cut-offs."""

    __tablename__ = "status_round"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, index=True)  # the rule's name in the register
    opened_at: datetime = _at()
    opened_by: str = Field(max_length=255)
    closes_on: date  # the cut-off: the last day answers count
    planned_at: datetime | None = _at(nullable=True)  # when a sweep planned its messages (None: not yet)
