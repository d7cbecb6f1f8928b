"""Requests for a new deadline reach the coordinators, and the outcome reaches the one who asked.

``replan_request`` learns whose item it is (``party``), how to reach the one
who asked (``requester_email`` and ``requested_via``: "slack" or "email"),
and when the sweep queued the message to the coordinators (``announced_at``)
and the one telling the requester the outcome (``told_at``). A request still
pending is announced at the next sweep (the coordinators have not had it by
message); one decided before counts as told, so nobody hears of it months
late. The address of one asked from the answer page is in ``requested_by``
("… via e-mail").

``interaction`` keys are kept as the SHA-256 of the click from now on: a
Slack press's id holds the button's value, which holds the answer token, and
tokens are kept only hashed. The keys already there are hashed in place.

Revision ID: 0007_request_messages
Revises: 0006_replan_requests
Create Date: 2026-12-02
"""

import hashlib

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from tracker.store.tables import UTCDateTime

revision = "0007_request_messages"
down_revision = "0006_replan_requests"
branch_labels = None
depends_on = None

_COLUMNS = ("party", "requester_email", "requested_via", "announced_at", "told_at")


def upgrade() -> None:
    with op.batch_alter_table("replan_request") as table:
        table.add_column(sa.Column("party", AutoString(length=64), nullable=True))
        table.add_column(sa.Column("requester_email", AutoString(length=255), nullable=True))
        table.add_column(sa.Column("requested_via", AutoString(length=16), nullable=True))
        table.add_column(sa.Column("announced_at", UTCDateTime(), nullable=True))
        table.add_column(sa.Column("told_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE replan_request SET announced_at = requested_at, told_at = decided_at "
               "WHERE state <> 'pending'")
    connection = op.get_bind()
    requests = sa.table("replan_request", sa.column("id", sa.Integer()), sa.column("requested_by", AutoString()),
                        sa.column("requester_email", AutoString()), sa.column("requested_via", AutoString()))
    for number, requested_by in connection.execute(sa.select(requests.c.id, requests.c.requested_by)).all():
        if requested_by.endswith(" via e-mail"):
            connection.execute(requests.update().where(requests.c.id == number).values(
                requester_email=requested_by[: -len(" via e-mail")], requested_via="email"))
    op.create_index("ix_replan_request_state", "replan_request", ["state"])
    interaction = sa.table("interaction", sa.column("key", AutoString()))
    for (key,) in connection.execute(sa.select(interaction.c.key)).all():
        if len(key) != 64 or not all(character in "0123456789abcdef" for character in key):
            connection.execute(interaction.update().where(interaction.c.key == key).values(
                key=hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()))


def downgrade() -> None:
    op.drop_index("ix_replan_request_state", table_name="replan_request")
    with op.batch_alter_table("replan_request") as table:
        for name in reversed(_COLUMNS):
            table.drop_column(name)
