"""Renamed deliverables keep their history; claims name the process that holds them.

- ``deliverable.former_ids``: the ids a deliverable had before (``renamed_from``
  in the register). Its calendar events keep the first one's UID.
- The history's triggers: still no DELETE and no change to what a row says
  (when, who, what, the values, the note); its ``deliverable_id`` may move
  only to a deliverable that lists the old id among its ``former_ids``, which
  is what a rename does, and nothing else can.
- ``outbox.claimed_by``: the process (host:pid) that claimed a row, so a
  clock that takes over a dead clock's lease can give its rows back at once.

Revision ID: 0004_renames_and_claims
Revises: 0003_outbox
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0004_renames_and_claims"
down_revision = "0003_outbox"
branch_labels = None
depends_on = None

_text = AutoString
# Every column of a history row but the deliverable it belongs to.
_CONTENT = ("id", "at", "actor", "action", "occurrence_key", "field", "old_value", "new_value", "note",
            "evidence_url")


def upgrade() -> None:
    with op.batch_alter_table("deliverable") as table:
        table.add_column(sa.Column("former_ids", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("outbox") as table:
        table.add_column(sa.Column("claimed_by", _text(length=255), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER history_no_update")
        op.execute(
            f"CREATE TRIGGER history_no_update BEFORE UPDATE OF {', '.join(_CONTENT)} ON history "
            "BEGIN SELECT RAISE(ABORT, 'history is append-only'); END"
        )
        op.execute(
            "CREATE TRIGGER history_rename_only BEFORE UPDATE OF deliverable_id ON history "
            "WHEN NOT EXISTS (SELECT 1 FROM deliverable, json_each(deliverable.former_ids) "
            "WHERE deliverable.id = NEW.deliverable_id AND json_each.value = OLD.deliverable_id) "
            "BEGIN SELECT RAISE(ABORT, 'history is append-only'); END"
        )
    else:
        unchanged = " AND ".join(f"NEW.{column} IS NOT DISTINCT FROM OLD.{column}" for column in _CONTENT)
        op.execute(
            "CREATE OR REPLACE FUNCTION history_append_only() RETURNS trigger AS $$ "
            f"BEGIN IF TG_OP = 'UPDATE' AND {unchanged} AND EXISTS (SELECT 1 FROM deliverable "
            "WHERE deliverable.id = NEW.deliverable_id AND deliverable.former_ids::jsonb ? OLD.deliverable_id) "
            "THEN RETURN NEW; END IF; "
            "RAISE EXCEPTION 'history is append-only'; END $$ LANGUAGE plpgsql"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER history_rename_only")
        op.execute("DROP TRIGGER history_no_update")
        op.execute("CREATE TRIGGER history_no_update BEFORE UPDATE ON history "
                   "BEGIN SELECT RAISE(ABORT, 'history is append-only'); END")
    else:
        op.execute("CREATE OR REPLACE FUNCTION history_append_only() RETURNS trigger AS $$ "
                   "BEGIN RAISE EXCEPTION 'history is append-only'; END $$ LANGUAGE plpgsql")
    with op.batch_alter_table("outbox") as table:
        table.drop_column("claimed_by")
    with op.batch_alter_table("deliverable") as table:
        table.drop_column("former_ids")
