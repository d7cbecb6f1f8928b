"""Undated commitments, and the funding of each deliverable's initiative.

An occurrence of an undated commitment ("uden frist") has no window and no
due day until a re-plan dates it, so ``window_start``, ``due`` and their
baselines may be NULL; ``precision`` is then "undated". ``deliverable.funded``
holds the register's funding facts for the deliverable's initiative (the
years and amounts of Tabel 1, with the verbatim sentence), as JSON: the
register stays their source, the database a copy the read model can show.

Revision ID: 0010_undated_and_funding
Revises: 0009_status_rounds
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_undated_and_funding"
down_revision = "0009_status_rounds"
branch_labels = None
depends_on = None

_DAYS = ("window_start", "due", "baseline_window_start", "baseline_due")


def upgrade() -> None:
    with op.batch_alter_table("occurrence") as table:
        for name in _DAYS:
            table.alter_column(name, existing_type=sa.Date(), nullable=True)
    with op.batch_alter_table("deliverable") as table:
        table.add_column(sa.Column("funded", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    # Undated occurrences cannot be kept in the older schema: refuse rather than invent days for them.
    undated = op.get_bind().execute(sa.text("SELECT count(*) FROM occurrence WHERE due IS NULL")).scalar()
    if undated:
        raise RuntimeError(f"{undated} occurrences have no due day; date them (tracker replan) before downgrading")
    with op.batch_alter_table("deliverable") as table:
        table.drop_column("funded")
    with op.batch_alter_table("occurrence") as table:
        for name in _DAYS:
            table.alter_column(name, existing_type=sa.Date(), nullable=False)
