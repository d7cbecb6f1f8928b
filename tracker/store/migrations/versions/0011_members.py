"""Status per member of a collective party ("i alle regioner"), rolled up.

``party.members`` lists a collective party's members (the five regions of
``regionerne``); ``deliverable.per_member`` marks the deliverables every member
delivers its own part of, with ``per_member_quote``, the sentence that says so.
``member_status`` holds each member's status, note and evidence per
occurrence; the occurrence's own status is their roll-up. The history and
the outbox learn ``member``: a row about one member's part.

The member rows are made by the next sync of the register, from each
occurrence's status as it stands: a status set before this revision becomes
every member's.

Revision ID: 0011_members
Revises: 0010_undated_and_funding
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from tracker.store.tables import UTCDateTime

revision = "0011_members"
down_revision = "0010_undated_and_funding"
branch_labels = None
depends_on = None


def _add_column(table: str, column: sa.Column) -> None:
    if column.name not in {existing["name"] for existing in sa.inspect(op.get_bind()).get_columns(table)}:
        op.add_column(table, column)


def upgrade() -> None:
    # Plain ADD COLUMN throughout: a batch copy of these tables would trip the history's triggers, which name them.
    # A downgrade leaves these columns in place (see there), so an upgrade after one finds them.
    _add_column("party", sa.Column("members", sa.JSON(), nullable=False, server_default="[]"))
    _add_column("deliverable", sa.Column("per_member", sa.Boolean(), nullable=False, server_default=sa.false()))
    _add_column("deliverable", sa.Column("per_member_quote", AutoString(), nullable=True))
    op.create_table(
        "member_status",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("occurrence_id", sa.Integer(), sa.ForeignKey("occurrence.id"), nullable=False),
        sa.Column("member", AutoString(length=64), sa.ForeignKey("party.key"), nullable=False),
        sa.Column("status", AutoString(length=16), nullable=False),
        sa.Column("status_changed_at", UTCDateTime(), nullable=True),
        sa.Column("note", AutoString(), nullable=True),
        sa.Column("evidence_url", AutoString(), nullable=True),
        sa.Column("noted_at", UTCDateTime(), nullable=True),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("snoozed_until", sa.Date(), nullable=True),
        sa.Column("snooze_reason", AutoString(), nullable=True),
        sa.Column("snoozed_by", AutoString(length=255), nullable=True),
        sa.UniqueConstraint("occurrence_id", "member", name="uq_member_status_occurrence_member"),
    )
    op.create_index("ix_member_status_occurrence_id", "member_status", ["occurrence_id"])
    _add_column("history", sa.Column("member", AutoString(length=64), nullable=True))
    op.add_column("outbox", sa.Column("member", AutoString(length=64), nullable=True))


def downgrade() -> None:
    # The members' own statuses cannot be kept in the older schema: refuse rather than lose them.
    parts = op.get_bind().execute(sa.text("SELECT count(*) FROM member_status")).scalar()
    if parts:
        raise RuntimeError(f"{parts} members' statuses would be lost; downgrading is refused")
    op.drop_index("ix_member_status_occurrence_id", "member_status")
    op.drop_table("member_status")
    with op.batch_alter_table("outbox") as table:
        table.drop_column("member")
    # party.members, deliverable.per_member(_quote) and history.member stay: dropping a column in SQLite copies the
    # table, which the history's triggers refuse (they name these tables). They have defaults the older schema
    # never needs to set, and it never reads them.
