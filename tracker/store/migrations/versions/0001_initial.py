"""Parties, themes, deliverables, occurrences, the append-only history, meta.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from tracker.store.tables import UTCDateTime

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

_text = AutoString


def upgrade() -> None:
    op.create_table(
        "party",
        sa.Column("key", _text(length=64), nullable=False),
        sa.Column("name", _text(), nullable=False),
        sa.Column("name_en", _text(), nullable=False),
        sa.Column("kind", _text(length=32), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "theme",
        sa.Column("key", _text(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", _text(), nullable=False),
        sa.Column("title_en", _text(), nullable=False),
        sa.Column("topic", _text(), nullable=False),
        sa.Column("topic_en", _text(), nullable=False),
        sa.Column("chapter", _text(), nullable=False),
        sa.Column("initiatives", sa.JSON(), nullable=False),
        sa.Column("source_file", _text(), nullable=False),
        sa.Column("source_section", _text(), nullable=False),
        sa.Column("source_quote", _text(), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "deliverable",
        sa.Column("id", _text(length=128), nullable=False),
        sa.Column("title", _text(), nullable=False),
        sa.Column("title_en", _text(), nullable=False),
        sa.Column("kind", _text(length=32), nullable=False),
        sa.Column("owner", _text(length=64), nullable=False),
        sa.Column("co_owners", sa.JSON(), nullable=False),
        sa.Column("recipient", _text(length=64), nullable=True),
        sa.Column("theme", _text(length=64), nullable=False),
        sa.Column("initiative", _text(), nullable=True),
        sa.Column("funding", _text(), nullable=True),
        sa.Column("deadline_text", _text(), nullable=False),
        sa.Column("interpreted_as", _text(), nullable=True),
        sa.Column("reading", _text(), nullable=True),
        sa.Column("register_deadline", _text(), nullable=False),
        sa.Column("register_status", _text(length=16), nullable=False),
        sa.Column("source_file", _text(), nullable=False),
        sa.Column("source_section", _text(), nullable=False),
        sa.Column("source_quote", _text(), nullable=False),
        sa.Column("depends_on", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["owner"], ["party.key"]),
        sa.ForeignKeyConstraint(["recipient"], ["party.key"]),
        sa.ForeignKeyConstraint(["theme"], ["theme.key"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_deliverable_owner", "deliverable", ["owner"])
    op.create_index("ix_deliverable_theme", "deliverable", ["theme"])
    op.create_table(
        "occurrence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deliverable_id", _text(length=128), nullable=False),
        sa.Column("key", _text(length=8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("precision", _text(length=16), nullable=False),
        sa.Column("baseline_window_start", sa.Date(), nullable=False),
        sa.Column("baseline_due", sa.Date(), nullable=False),
        sa.Column("status", _text(length=16), nullable=False),
        sa.Column("status_changed_at", UTCDateTime(), nullable=True),
        sa.Column("note", _text(), nullable=True),
        sa.Column("evidence_url", _text(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["deliverable_id"], ["deliverable.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("deliverable_id", "key", name="uq_occurrence_deliverable_key"),
    )
    op.create_index("ix_occurrence_deliverable_id", "occurrence", ["deliverable_id"])
    op.create_index("ix_occurrence_due", "occurrence", ["due"])
    op.create_index("ix_occurrence_status", "occurrence", ["status"])
    op.create_table(
        "history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", _text(length=128), nullable=False),
        sa.Column("action", _text(length=32), nullable=False),
        sa.Column("deliverable_id", _text(length=128), nullable=True),
        sa.Column("occurrence_key", _text(length=8), nullable=True),
        sa.Column("field", _text(length=64), nullable=True),
        sa.Column("old_value", _text(), nullable=True),
        sa.Column("new_value", _text(), nullable=True),
        sa.Column("note", _text(), nullable=True),
        sa.Column("evidence_url", _text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_history_deliverable_at", "history", ["deliverable_id", "at"])
    op.create_table(
        "meta",
        sa.Column("key", _text(length=64), nullable=False),
        sa.Column("value", _text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    _make_history_append_only()


def _make_history_append_only() -> None:
    """The history is evidence: the database itself refuses to change or delete it."""
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER history_no_{event.lower()} BEFORE {event} ON history "
                "BEGIN SELECT RAISE(ABORT, 'history is append-only'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION history_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'history is append-only'; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON history "
            "FOR EACH ROW EXECUTE FUNCTION history_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER IF EXISTS history_append_only ON history")
        op.execute("DROP FUNCTION IF EXISTS history_append_only()")
    for table in ("meta", "history", "occurrence", "deliverable", "theme", "party"):
        op.drop_table(table)
