"""An owner asks for a new deadline from the message; the coordinators decide.

- ``replan_request``: the occurrence, the proposed deadline and the reason,
  who asked and when, and the decision (approved or rejected, by whom, when,
  why).

Revision ID: 0006_replan_requests
Revises: 0005_answers
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from tracker.store.tables import UTCDateTime

revision = "0006_replan_requests"
down_revision = "0005_answers"
branch_labels = None
depends_on = None

_text = AutoString


def upgrade() -> None:
    op.create_table(
        "replan_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("deliverable_id", _text(length=128), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("deadline_text", _text(), nullable=False),
        sa.Column("reason", _text(), nullable=False),
        sa.Column("requested_by", _text(length=255), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("state", _text(length=16), nullable=False),
        sa.Column("decided_by", _text(length=255), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decision_reason", _text(), nullable=True),
    )
    op.create_index("ix_replan_request_deliverable_id", "replan_request", ["deliverable_id"])


def downgrade() -> None:
    op.drop_index("ix_replan_request_deliverable_id", table_name="replan_request")
    op.drop_table("replan_request")
