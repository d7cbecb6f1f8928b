"""``tracker simulate``: the real clock over simulated days, against a throwaway database.

The register is synced as it is into a fresh SQLite file; a ``Clock`` (the
same class the service runs, lease and register re-sync included) ticks at
midnight and at the policy's send time on every day from ``start`` to
``end``, with its ``now`` set to the simulated instant. The channels are
replaced by recorders that take every message and note the instant it was
sent. With ``restart_every``, the clock is closed and a new one started every
that many days, as a deployment restarting would: the outbox must make the
result the same. With ``answer_rounds``, simulated owners answer "done" to
that share of the status rounds' questions, an hour after each is asked,
through the same store operation the CLI uses: what they are sent afterwards
shows what answering spares them. ``actions`` are a coordinator's status
changes at given instants (a start marked done moves the deadlines that
follow it).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path

from sqlalchemy import event
from sqlmodel import Session, col, select

from tracker.model import Status
from tracker.notify.contacts import Contacts
from tracker.notify.message import Delivery, Message, notice_record
from tracker.notify.sweep import Sweeper
from tracker.register import load_register
from tracker.service.clock import Clock
from tracker.calendar.attachments import EventAttachments
from tracker.service.lease import ClockLease
from tracker.store.db import open_engine, write_session
from tracker.store.migrate import upgrade
from tracker.store.members import part
from tracker.store.operations import change_status, pick_occurrence
from tracker.store.queries import get_deliverable
from tracker.store.sync import sync_register
from tracker.store.tables import OutboxRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sent:
    at: datetime  # the simulated instant it went out
    message: Message


class Recorder:
    """A channel that takes every message, and remembers it with the simulated instant."""

    def __init__(self, name: str, sink: list[Sent], now: list[datetime]):
        self.name = name
        self.sink = sink
        self.now = now

    def send(self, message: Message) -> Delivery:
        self.sink.append(Sent(self.now[0], message))
        return Delivery(provider_id=f"simulated-{len(self.sink)}")


@dataclass(frozen=True)
class SimulatedNotice:
    """One notice as it went out in the simulation: the same fields as ``tracker notify preview --json``."""

    at: datetime
    row: OutboxRow
    message: Message

    def record(self) -> dict:
        row = self.row
        return notice_record(self.at, self.message, key=row.key, kind=row.kind, step=row.step,
                             deliverable_id=row.deliverable_id, occurrence=row.occurrence_year,
                             recipient=row.recipient, language=row.language, reason=row.reason)


@dataclass(frozen=True)
class SimulatedAnswer:
    """A simulated owner's answer "done" to one question of a status round."""

    at: datetime
    step: str  # the round notice's step that asked it: "sst-afrapportering-2026-12-31:open"
    deliverable_id: str
    occurrence: int | None
    party: str
    member: str | None = None  # a member's own part of a per-member occurrence: the member answered for it


@dataclass(frozen=True)
class Action:
    """A coordinator's status change at a simulated instant (``tracker status`` on that day)."""

    at: datetime
    deliverable_id: str
    status: Status
    year: int | None = None
    actor: str = "coordinator (simulated)"


@dataclass(frozen=True)
class Simulation:
    notices: list[SimulatedNotice]  # in the order they went out
    answers: list[SimulatedAnswer]  # in the order they were given


# How long after a round's question a simulated owner answers it: after the morning's messages, long before the
# next tick, so the answer is in place for everything planned from then on.
ANSWER_DELAY = timedelta(hours=1)


class RoundOwners:
    """Owners who answer "done" to ``share`` of the round questions they are asked.

    A question is one item in one round's opening message (an item told to an owner and its co-owners in one
    round is one question). The answered ones are spread evenly over the questions in the order they are asked
    (with a half, every other one), so a run is reproducible and no party is left out.
    """

    def __init__(self, share: float):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"share must be between 0 and 1, not {share}")
        self.share = share
        self.asked: set[tuple[str, str, int | None, str | None]] = set()
        self.answers: list[SimulatedAnswer] = []

    def answer(self, session: Session, now: datetime, since: datetime) -> None:
        """Answer the questions sent from ``since`` to ``now``, at ``now`` + ANSWER_DELAY."""
        rows = session.exec(select(OutboxRow).where(
            col(OutboxRow.kind) == "round", col(OutboxRow.state) == "sent", col(OutboxRow.sent_at) >= since,
            col(OutboxRow.step).endswith(":open")).order_by(col(OutboxRow.id)))
        for row in rows:
            question = (row.step, row.deliverable_id or "", row.occurrence_year, row.member)
            if not row.deliverable_id or question in self.asked:
                continue
            before = int(len(self.asked) * self.share)
            self.asked.add(question)
            if int(len(self.asked) * self.share) == before:
                continue  # not one of the share that answers
            deliverable = get_deliverable(session, row.deliverable_id)
            occurrence = pick_occurrence(session, deliverable, row.occurrence_year)
            told = part(session, occurrence, row.member) if row.member else occurrence  # a member answers its part
            if Status(told.status).is_closed:
                continue
            at = now + ANSWER_DELAY
            party = row.party or row.recipient
            change_status(session, row.deliverable_id, Status.DONE, note=None, actor=f"{party} (simulated owner)",
                          now=at, year=row.occurrence_year, member=row.member)
            self.answers.append(SimulatedAnswer(at, row.step, row.deliverable_id, row.occurrence_year, party,
                                                row.member))


def _ticks(day: date, send_at: time, zone: tzinfo) -> Iterator[datetime]:
    yield datetime.combine(day, time(0), zone)
    yield datetime.combine(day, send_at, zone)


def simulate(register_path: str | None, contacts: Contacts, channel_names: Iterable[str], start: date, end: date,
             *, zone: tzinfo, base_url: str, restart_every: int | None = None,
             answer_rounds: float = 0.0, actions: Iterable[Action] = ()) -> Simulation:
    """Every notice the clock sends from ``start`` to ``end``, and the simulated owners' answers. ``actions``
    are made at their instants and seen by the first tick after each (what follows a deliverable moves with
    it)."""
    owners = RoundOwners(answer_rounds)
    waiting = sorted(actions, key=lambda action: action.at)
    register = load_register(register_path)
    with tempfile.TemporaryDirectory(prefix="tracker-simulation-") as folder:
        engine = open_engine(f"sqlite:///{Path(folder) / 'simulation.db'}")

        @event.listens_for(engine, "connect")
        def _throwaway(dbapi_connection, _record):
            # Nothing here must survive a crash: skip the fsyncs that would make the simulation crawl.
            dbapi_connection.execute("PRAGMA synchronous = OFF")

        try:
            upgrade(engine)
            with write_session(engine) as session:
                sync_register(session, register, now=datetime.combine(start, time(0), zone), actor="register")
            now = [datetime.combine(start, time(0), zone)]
            sink: list[Sent] = []
            channels = {name: Recorder(name, sink, now) for name in (tuple(channel_names) or ("console",))}
            clocks = 0

            def new_clock() -> Clock:
                nonlocal clocks
                clocks += 1
                sweeper = Sweeper(engine, register.policy, contacts, channels, base_url=base_url, zone=zone,
                                  calendar=EventAttachments(base_url))
                lease = ClockLease(engine, ttl=timedelta(minutes=3), holder=f"simulation-{clocks}")
                clock = Clock(engine, sweeper, lease, register_path=register_path, now=lambda: now[0])
                clock.start()
                return clock

            clock = new_clock()
            day, days = start, 0
            while day <= end:
                if restart_every and days and days % restart_every == 0:
                    clock.close()
                    clock = new_clock()
                for instant in _ticks(day, register.policy.default.send_at, zone):
                    due = [action for action in waiting if action.at <= instant]
                    if due:  # made at its instant, seen by the first tick after it
                        with write_session(engine) as session:
                            for action in due:
                                change_status(session, action.deliverable_id, action.status, note=None,
                                              actor=action.actor, now=action.at, year=action.year)
                        waiting = waiting[len(due):]
                    since, now[0] = now[0], instant
                    clock.tick()
                    if answer_rounds:
                        with write_session(engine) as session:
                            owners.answer(session, instant, since)
                day += timedelta(days=1)
                days += 1
            clock.close()
            with Session(engine) as session:
                rows = list(session.exec(select(OutboxRow).where(col(OutboxRow.state) == "sent")))
        finally:
            engine.dispose()
    by_message: dict[str, list[OutboxRow]] = {}
    for row in rows:
        by_message.setdefault(row.message_key or "", []).append(row)
    notices = []
    for sent in sink:
        for row in sorted(by_message.get(sent.message.key, []), key=lambda r: r.key):
            notices.append(SimulatedNotice(at=sent.at, row=row, message=sent.message))
    return Simulation(notices, owners.answers)
