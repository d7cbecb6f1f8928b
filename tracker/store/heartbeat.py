"""The clock's heartbeat: when it last ticked, for /healthz on any web process.

Below the web process and the service, which both need it: the clock
records its beat with its lease (``tracker.service.lease``), the web reads it
here in one primary-key read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

HEARTBEAT = "clock_heartbeat"


def last_beat(connection: Connection) -> datetime | None:
    """When the clock last ticked, if ever."""
    value = connection.exec_driver_sql(f"SELECT value FROM meta WHERE key = '{HEARTBEAT}'").scalar()
    return datetime.fromisoformat(value) if value else None
