"""Change markers: how a long-running process notices what another process changed.

The web process caches rendered feeds. It must see a status change made with
the CLI at the next request, without re-reading the plan on every request, so
every transaction that changes the plan (each goes through ``HistoryWriter``)
or the set of feeds stamps a new random value on a marker row in ``meta``. A
reader compares one short primary-key read against the value it rendered from.
A random value rather than a counter: it needs no read-modify-write, and two
concurrent writers still each leave a value nobody has seen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, update
from sqlmodel import Session, col

from tracker.store.tables import MetaRow

PLAN = "plan_revision"
FEEDS = "feeds_revision"


def bump(session: Session, marker: str, now: datetime) -> None:
    """Give ``marker`` a new value inside the caller's transaction."""
    session.execute(update(MetaRow).where(col(MetaRow.key) == marker).values(value=uuid.uuid4().hex, updated_at=now))


@dataclass(frozen=True)
class Revisions:
    plan: str
    feeds: str


# Built once: this runs on every feed request, and its cost is most of a 304's.
_READ = f"SELECT key, value FROM meta WHERE key IN ('{PLAN}', '{FEEDS}')"


def read(connection: Connection) -> Revisions:
    """The current markers, in one primary-key read."""
    rows: dict[str, str] = {key: value for key, value in connection.exec_driver_sql(_READ).all()}
    return Revisions(plan=rows.get(PLAN, ""), feeds=rows.get(FEEDS, ""))
