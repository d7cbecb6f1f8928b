"""Status rounds: the extra ones coordinators open, and confirmations of a status as it is.

``status_round`` holds the rounds opened with ``tracker round open NAME
--now`` (the scheduled ones follow from the register's cut-offs and need no
row). ``occurrence.confirmed_at`` is when its status was last confirmed
unchanged (history action ``confirmed``), a sign of life like a status change.

Revision ID: 0009_status_rounds
Revises: 0008_snooze
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from tracker.store.tables import UTCDateTime

revision = "0009_status_rounds"
down_revision = "0008_snooze"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_round",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", AutoString(length=64), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("opened_by", AutoString(length=255), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("planned_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_status_round_name", "status_round", ["name"])
    with op.batch_alter_table("occurrence") as table:
        table.add_column(sa.Column("confirmed_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("occurrence") as table:
        table.drop_column("confirmed_at")
    op.drop_index("ix_status_round_name", table_name="status_round")
    op.drop_table("status_round")
