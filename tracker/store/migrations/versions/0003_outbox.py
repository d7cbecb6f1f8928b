"""The notification outbox: one row per message the policy calls for, and how sending it went.

Revision ID: 0003_outbox
Revises: 0002_feeds
Create Date: 2026-11-23
"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from tracker.store.tables import UTCDateTime

revision = "0003_outbox"
down_revision = "0002_feeds"
branch_labels = None
depends_on = None

_text = AutoString


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", _text(length=1024), nullable=False),
        sa.Column("kind", _text(length=16), nullable=False),
        sa.Column("step", _text(length=64), nullable=False),
        sa.Column("deliverable_id", _text(length=128), nullable=True),
        sa.Column("occurrence_year", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("channel", _text(length=16), nullable=False),
        sa.Column("recipient", _text(length=320), nullable=False),
        sa.Column("language", _text(length=2), nullable=False),
        sa.Column("reason", _text(length=255), nullable=False),
        sa.Column("party", _text(length=64), nullable=True),
        sa.Column("replaces", _text(length=1024), nullable=True),
        sa.Column("detail", _text(), nullable=True),
        sa.Column("state", _text(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("claim_token", _text(length=32), nullable=True),
        sa.Column("message_key", _text(length=1024), nullable=True),
        sa.Column("provider_id", _text(length=255), nullable=True),
        sa.Column("error", _text(), nullable=True),
        sa.Column("error_code", _text(length=64), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_outbox_state_due_at", "outbox", ["state", "due_at"])
    op.create_index("ix_outbox_message_key", "outbox", ["message_key"])
    # The last day the sweeps have planned: the row exists from the start, so
    # two sweeps on PostgreSQL can queue on its row lock instead of racing to
    # insert it. Empty: no day planned yet.
    meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.String),
                    sa.column("updated_at", UTCDateTime()))
    op.bulk_insert(meta, [{"key": "notify_planned_through", "value": "", "updated_at": datetime.now(timezone.utc)}])


def downgrade() -> None:
    op.execute("DELETE FROM meta WHERE key = 'notify_planned_through'")
    op.drop_index("ix_outbox_message_key", table_name="outbox")
    op.drop_index("ix_outbox_state_due_at", table_name="outbox")
    op.drop_table("outbox")
