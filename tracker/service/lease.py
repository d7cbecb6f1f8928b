"""One clock per database: a lease in the ``meta`` table, renewed at every tick; and the clock's heartbeat.

Two clocks would each sweep, which the outbox survives (claims are exclusive)
but which doubles the work and the logs, so a second clock refuses to start and
names the holder. The lease is a row, not a PostgreSQL advisory lock, so it
works the same on SQLite and says who holds it. A clock that dies without
releasing it blocks a new one until the lease runs out (``ttl``, a few ticks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from tracker.errors import ClockBusyError
from tracker.i18n import _
from tracker.store.db import this_process, upsert_insert, write_session
from tracker.store.heartbeat import HEARTBEAT
from tracker.store.tables import MetaRow, table_of

LEASE = "clock_lease"


def _locked(session: Session, key: str, now: datetime) -> MetaRow:
    """The meta row ``key``, created empty if missing, locked until the transaction ends."""
    query = select(MetaRow).where(col(MetaRow.key) == key).with_for_update()
    row = session.exec(query).first()
    if row is None:  # the first clock on this database; two at once both insert-or-nothing, then lock
        session.execute(upsert_insert(session)(table_of(MetaRow)).values(key=key, value="", updated_at=now)
                        .on_conflict_do_nothing(index_elements=["key"]))
        row = session.exec(query).one()
    return row


@dataclass(frozen=True)
class Holder:
    name: str
    until: datetime


def _holder(row: MetaRow) -> Holder | None:
    if not row.value:
        return None
    data = json.loads(row.value)
    return Holder(name=data["holder"], until=datetime.fromisoformat(data["until"]))


@dataclass
class ClockLease:
    engine: Engine
    ttl: timedelta
    holder: str = ""

    def __post_init__(self) -> None:
        self.holder = self.holder or this_process()

    def acquire(self, now: datetime) -> Holder | None:
        """Take the lease, or raise ClockBusyError naming the clock that has it.

        Returns the clock whose lease ran out without being released (it died), so its unfinished work can be
        cleaned up at once; None when the lease was free or already this clock's.
        """
        with write_session(self.engine) as session:
            row = _locked(session, LEASE, now)
            current = _holder(row)
            if current is not None and current.name != self.holder and current.until > now:
                url = self.engine.url.render_as_string(hide_password=True)
                raise ClockBusyError(_(
                    "Another clock already runs against {url}: {holder}, its lease runs until {until}. Only one "
                    "clock may run; stop that one, or if it is gone, start this one again after its lease ends."
                ).format(url=url, holder=current.name, until=current.until.isoformat(timespec="seconds")))
            self._write(row, now)
            return current if current is not None and current.name != self.holder else None

    def renew(self, now: datetime) -> bool:
        """Extend the lease and record the heartbeat; False when another clock has taken it (this one must stop)."""
        with write_session(self.engine) as session:
            row = _locked(session, LEASE, now)
            current = _holder(row)
            if current is not None and current.name != self.holder:
                return False
            self._write(row, now)
            heartbeat = _locked(session, HEARTBEAT, now)
            heartbeat.value, heartbeat.updated_at = now.isoformat(), now
            session.add(heartbeat)
            return True

    def release(self, now: datetime) -> None:
        with write_session(self.engine) as session:
            row = _locked(session, LEASE, now)
            current = _holder(row)
            if current is not None and current.name == self.holder:
                row.value, row.updated_at = "", now
                session.add(row)

    def _write(self, row: MetaRow, now: datetime) -> None:
        row.value = json.dumps({"holder": self.holder, "until": (now + self.ttl).isoformat()})
        row.updated_at = now
