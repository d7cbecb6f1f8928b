"""Owners answer in the message: answer tokens and the clicks already applied.

- ``answer``: one per message an owner can answer (Slack's buttons), reached
  by a secret token kept only as its SHA-256, bound to the message, its
  recipient and party, and its items as the message told them; it expires.
- ``interaction``: the id of each click applied, so a delivery Slack retries
  is not applied twice.

Revision ID: 0005_answers
Revises: 0004_renames_and_claims
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from tracker.store.tables import UTCDateTime

revision = "0005_answers"
down_revision = "0004_renames_and_claims"
branch_labels = None
depends_on = None

_text = AutoString


def upgrade() -> None:
    op.create_table(
        "answer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", _text(length=64), nullable=False, unique=True),
        sa.Column("message_key", _text(length=255), nullable=False),
        sa.Column("channel", _text(length=16), nullable=False),
        sa.Column("recipient", _text(length=255), nullable=False),
        sa.Column("party", _text(length=128), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_answer_message_key", "answer", ["message_key"])
    op.create_table(
        "interaction",
        sa.Column("key", _text(length=255), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("interaction")
    op.drop_index("ix_answer_message_key", table_name="answer")
    op.drop_table("answer")
