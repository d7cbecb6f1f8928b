"""Alembic's environment: runs migrations on the connection tracker hands it.

tracker calls Alembic from ``tracker.store.migrate`` with an open connection
in ``config.attributes["connection"]``; there is no alembic.ini and no URL here.
"""

from alembic import context

from tracker.store.tables import SQLModel

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
