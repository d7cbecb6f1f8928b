"""Calendar feeds (token hashes) and the state of every published event; the plan revision.

Revision ID: 0002_feeds
Revises: 0001_initial
Create Date: 2026-11-23
"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from tracker.store.tables import UTCDateTime

revision = "0002_feeds"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

_text = AutoString


def upgrade() -> None:
    op.create_table(
        "feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _text(length=64), nullable=False),
        sa.Column("token_hash", _text(length=64), nullable=False),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("overdue_only", sa.Boolean(), nullable=False),
        sa.Column("alarm", _text(length=8), nullable=True),
        sa.Column("language", _text(length=2), nullable=False),
        sa.Column("created_by", _text(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "calendar_event",
        sa.Column("uid", _text(length=255), nullable=False),
        sa.Column("fingerprint", _text(length=64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("uid"),
    )
    # The markers the web process polls to notice a change made by another
    # process (tracker.store.revision); their values only need to change.
    meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.String),
                    sa.column("updated_at", UTCDateTime()))
    now = datetime.now(timezone.utc)
    op.bulk_insert(meta, [
        {"key": "plan_revision", "value": "0", "updated_at": now},
        {"key": "feeds_revision", "value": "0", "updated_at": now},
    ])


def downgrade() -> None:
    op.execute("DELETE FROM meta WHERE key IN ('plan_revision', 'feeds_revision')")
    op.drop_table("calendar_event")
    op.drop_table("feed")
