"""The clock's process, wired: the sweeper and its channels, the clock with its lease, the scheduler.

What `tracker run` and `tracker clock` start (the web server they run is
``tracker.web.serve``), and how the clock stops: on SIGTERM or Ctrl-C the
message being sent is finished, the rest goes back to the outbox, the
lease is released and the process exits 0.
"""

from __future__ import annotations

import os

import contextlib
import signal
import threading
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import Engine

from tracker.calendar.attachments import EventAttachments
from tracker.model import Register
from tracker.policy import PolicySet
from tracker.notify.sweep import Sweeper
from tracker.service.clock import Clock, build_scheduler
from tracker.service.lease import ClockLease


def make_sweeper(register: Register | PolicySet, engine: Engine, contacts_path: str | None, base_url: str) -> Sweeper:
    """A Sweeper over the database, with the register's policy (or the policy given), the contacts and the
    configured channels."""
    policy = register if isinstance(register, PolicySet) else register.policy
    from tracker.notify.contacts import load_contacts
    from tracker.notify.settings import build_channels
    from tracker.notify.preview import party_keys
    from tracker.store.db import read_session

    with read_session(engine) as session:
        parties = party_keys(session)
    contacts = load_contacts(contacts_path, parties)
    return Sweeper(engine, policy, contacts, build_channels(contacts=contacts), base_url=base_url,
                   calendar=EventAttachments(base_url),
                   answers_on_slack=bool(os.environ.get("SLACK_SIGNING_SECRET", "").strip()),
                   # The answer page is on the web process: its address must be one owners can open.
                   answers_by_email=bool(os.environ.get("TRACKER_BASE_URL", "").strip()))


def start_clock(register: Register, register_path: str | None, engine: Engine, contacts_path: str | None,
                interval: float, base_url: str) -> Clock:
    """The clock with its lease taken and the register synced; ClockBusyError when another clock runs."""
    # The lease outlives a few missed ticks, and a dead clock blocks a new one for a minute at least.
    lease = ClockLease(engine, ttl=timedelta(seconds=max(3 * interval, 60)))
    clock = Clock(engine, make_sweeper(register, engine, contacts_path, base_url), lease,
                  register_path=register_path)
    clock.start()
    return clock


@contextlib.contextmanager
def ticking(clock: Clock, interval: float) -> Iterator[None]:
    """Tick ``clock`` on a background scheduler for the duration; on the way out, finish the message in flight,
    stop, and give the lease up."""
    scheduler = build_scheduler(clock, interval)
    scheduler.start()
    try:
        yield
    finally:
        clock.stop()
        scheduler.shutdown(wait=True)
        clock.close()


def tick_until_signalled(clock: Clock, interval: float) -> None:
    """Run the clock in this process until SIGTERM or Ctrl-C."""
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda _number, _frame: stop.set())
    with ticking(clock, interval):
        while not stop.wait(1):
            pass
