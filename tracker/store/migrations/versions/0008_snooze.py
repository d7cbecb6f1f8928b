"""An occurrence's reminders and alerts to its owner can be paused until a day, with a reason.

``occurrence`` learns ``snoozed_until`` (the first day messages go again),
``snooze_reason`` and ``snoozed_by``; the history records each pause and
each lifting (action ``snoozed``). A request for a new deadline pauses them
too, and ``replan_request.reminded_at`` is when the coordinators were last
reminded that it still waits.

Revision ID: 0008_snooze
Revises: 0007_request_messages
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from tracker.store.tables import UTCDateTime

revision = "0008_snooze"
down_revision = "0007_request_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("occurrence") as table:
        table.add_column(sa.Column("snoozed_until", sa.Date(), nullable=True))
        table.add_column(sa.Column("snooze_reason", AutoString(), nullable=True))
        table.add_column(sa.Column("snoozed_by", AutoString(length=255), nullable=True))
    with op.batch_alter_table("replan_request") as table:
        table.add_column(sa.Column("reminded_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("replan_request") as table:
        table.drop_column("reminded_at")
    with op.batch_alter_table("occurrence") as table:
        for name in ("snoozed_by", "snooze_reason", "snoozed_until"):
            table.drop_column(name)
