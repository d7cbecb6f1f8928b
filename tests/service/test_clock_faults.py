"""The clock meets a damaged register and a dead predecessor, and keeps sending.

Before issue 13: a register that made the loader raise (deep nesting, a list
of lists) failed every tick before its sweep, so nothing was sent and the log
filled with a traceback a tick; a half-saved register archived most of the
plan and its messages were lost for good; and after a kill -9 every message
the dead clock had claimed waited out the outbox's 15-minute lease.
"""

from __future__ import annotations

import io
import logging
import os
import re
import signal
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlmodel import Session, select

from tests.conftest import Tracker
from tests.notify.slack_standin import Reply, SlackStandIn
from tracker.notify.console import SEPARATOR, ConsoleChannel
from tracker.notify.contacts import Contacts, Reach
from tracker.policy import PolicySet
from tracker.notify.slack import SlackChannel
from tracker.notify.sweep import Sweeper
from tracker.register import default_register_path
from tracker.service.clock import Clock
from tracker.service.lease import ClockLease
from tracker.store.db import open_engine
from tracker.store.tables import DeliverableRow, OutboxRow

CPH = ZoneInfo("Europe/Copenhagen")
ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("english")


def rows(engine, **where: object) -> list[OutboxRow]:
    with Session(engine) as session:
        query = select(OutboxRow).order_by(OutboxRow.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxRow, name) == value)
        return list(session.exec(query))


def active_deliverables(engine) -> int:
    with Session(engine) as session:
        return len([row for row in session.exec(select(DeliverableRow)) if row.archived_at is None])


class Desk:
    """An in-process clock over a register file on a frozen clock, printing its messages into a buffer.

    ``with Desk(...) as desk``: time stands at ``start`` and moves only by ``desk.tick_at(moment)``.
    """

    def __init__(self, database_url: str, register: Path, start: datetime):
        self.engine = open_engine(database_url)
        self.stream = io.StringIO()
        self.moment = start
        sweeper = Sweeper(self.engine, PolicySet(), Contacts(language="en"), {"console": ConsoleChannel(self.stream)},
                          base_url="https://tracker.example.dk", zone=CPH)
        self.clock = Clock(self.engine, sweeper, ClockLease(self.engine, ttl=timedelta(minutes=3), holder="desk"),
                           register_path=str(register), now=lambda: self.moment)

    def __enter__(self) -> Desk:
        self._freezer = freeze_time(self.moment)
        self._frozen = self._freezer.start()
        self.clock.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._freezer.stop()

    def tick_at(self, moment: datetime, ticks: int = 1) -> None:
        self.moment = moment
        self._frozen.move_to(moment)
        for _tick in range(ticks):
            self.clock.tick()

    def messages(self) -> list[str]:
        return [block.strip() for block in self.stream.getvalue().split(SEPARATOR) if block.strip()]


def test_a_register_that_cannot_be_read_is_logged_once_per_change_and_the_clock_keeps_sending(
        database_url: str, small_register: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    register = tmp_path / "deliverables.toml"
    text = small_register.read_text(encoding="utf-8")
    register.write_text(text, encoding="utf-8")
    Tracker(database_url, register).ok("sync")
    caplog.set_level(logging.INFO, logger="tracker")
    with Desk(database_url, register, datetime(2026, 6, 22, 9, 30, tzinfo=CPH)) as desk:
        # Thousands of nested tables (once a RecursionError in every tick), then a list of lists (a TypeError).
        register.write_text(text + "\nx = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n", encoding="utf-8")
        desk.tick_at(datetime(2026, 6, 23, 9, 30, tzinfo=CPH), ticks=5)
        assert any("due in 7 days" in message for message in desk.messages()), "the sweep went on"
        register.write_text(text.replace('depends_on = ["senfoelgeklinikker"]', 'depends_on = [["a"]]'),
                            encoding="utf-8")
        desk.tick_at(datetime(2026, 6, 23, 9, 40, tzinfo=CPH), ticks=5)
    problems = [record for record in caplog.records if "has problems" in record.getMessage()]
    assert len(problems) == 2  # once for each version of the file, not once a tick
    assert "nested more than" in problems[0].getMessage() and "expected a list of str" in problems[1].getMessage()
    assert not any(record.exc_info for record in caplog.records), "no traceback in the log"
    assert all("failed" not in record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR
               and "has problems" not in record.getMessage())
    assert sum(len(record.getMessage()) for record in caplog.records) < 20_000


def test_a_half_saved_register_never_archives_the_plan_and_nothing_is_lost(
        database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    register = tmp_path / "deliverables.toml"
    whole = default_register_path().read_text(encoding="utf-8")
    register.write_text(whole, encoding="utf-8")
    Tracker(database_url, register).ok("sync")
    caplog.set_level(logging.INFO, logger="tracker")
    with Desk(database_url, register, datetime(2026, 12, 1, 9, 30, tzinfo=CPH)) as desk:
        desk.tick_at(desk.moment)
        starts = [match.start() for match in re.finditer(r"^\[\[deliverable\]\]$", whole, flags=re.MULTILINE)]
        register.write_text(whole[: starts[30]], encoding="utf-8")  # a partial save: 30 of them
        for day in (2, 3, 4):
            desk.tick_at(datetime(2026, 12, day, 9, 30, tzinfo=CPH), ticks=2)
        assert active_deliverables(desk.engine) == len(starts)
        refusals = [r for r in caplog.records if "not syncing the register" in r.getMessage()]
        assert len(refusals) == 1 and "--allow-removals" in refusals[0].getMessage()
        register.write_text(whole, encoding="utf-8")
        desk.tick_at(datetime(2026, 12, 7, 9, 30, tzinfo=CPH))
    assert active_deliverables(desk.engine) == len(starts)
    skipped = rows(desk.engine, state="skipped", error_code="not_called_for")
    assert skipped == [], "nothing was withdrawn, so nothing was skipped as no longer called for"


def test_a_deliverable_back_in_the_register_gets_what_it_missed_while_away(
        database_url: str, small_register: Path, tmp_path: Path) -> None:
    register = tmp_path / "deliverables.toml"
    text = small_register.read_text(encoding="utf-8")
    register.write_text(text, encoding="utf-8")
    Tracker(database_url, register).ok("sync")
    clinics = text.index('[[deliverable]]\nid = "senfoelgeklinikker"')
    following = text.index("[[deliverable]]", clinics + 10)
    with Desk(database_url, register, datetime(2026, 6, 19, 9, 30, tzinfo=CPH)) as desk:
        desk.tick_at(desk.moment)
        away = (text[:clinics] + text[following:]).replace('depends_on = ["senfoelgeklinikker"]\n', "")
        register.write_text(away, encoding="utf-8")  # one gone: within the bound
        for day in (22, 23, 24):  # the 7-day reminder falls on the 23rd, while it is away
            desk.tick_at(datetime(2026, 6, day, 9, 30, tzinfo=CPH))
        assert active_deliverables(desk.engine) == 2
        assert not rows(desk.engine, deliverable_id="senfoelgeklinikker", step="7d")
        register.write_text(text, encoding="utf-8")
        desk.tick_at(datetime(2026, 6, 25, 9, 30, tzinfo=CPH))
    reminders = rows(desk.engine, deliverable_id="senfoelgeklinikker", step="7d")
    assert {row.recipient for row in reminders} == {"regionerne", "sst"}
    assert all(row.state == "sent" and row.late for row in reminders)
    late = [m for m in desk.messages() if "Late-effects clinics" in m and "due in 5 days" in m]
    assert len(late) == 2 and all("Sent late: this message was due 23 June 2026 at 09:00." in m for m in late)


# -- a clock killed with kill -9, and the one that takes over -----------------------------------------------

def test_a_clock_taking_over_from_a_killed_one_sends_its_claimed_messages_at_once(
        small_register: Path, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    tracker = Tracker(database_url, small_register)
    tracker.ok("sync")
    contacts = tmp_path / "contacts.toml"
    contacts.write_text('language = "en"\n[party.regionerne]\nslack = ["#regionerne"]\n\n[party.sst]\n'
                        'slack = ["#sst"]\n\n[coordinators]\nslack = ["#koordinering"]\n', encoding="utf-8")
    with SlackStandIn() as slack:
        for name in ("regionerne", "sst", "koordinering"):
            slack.add_channel(name)
        # After two weeks without a clock, the overdue items each have an alert due (as in test_clock.py).
        from tests.service.test_clock import Deployment

        deployment = Deployment(tmp_path, small_register, slack)
        deployment.database_url = database_url
        deployment.env["DATABASE_URL"] = database_url
        deployment.env["TRACKER_CONTACTS"] = str(contacts)
        deployment.after_downtime()
        slack.script("chat.postMessage", Reply.hang(120, posted=True))  # the first message never gets its answer
        process = deployment.start("clock", "--interval", "1")
        try:
            deadline = time.monotonic() + 60
            while not slack.messages and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.05)
            assert slack.messages, process.communicate(timeout=5)[0].decode()
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.wait(timeout=30)
        engine = open_engine(database_url)
        held = [row for row in rows(engine) if row.state != "skipped"]  # superseded weekly steps
        assert {row.state for row in held} == {"sending", "claimed"}
        (holder,) = {row.claimed_by for row in held}
        assert holder.startswith(f"{os.uname().nodename}:{process.pid}:")  # host:pid:start, as its lease
        (sending,) = {row.message_key for row in held if row.state == "sending"}
        # The new clock starts once the dead one's lease (a minute) is over: long before the outbox's 15 minutes.
        now = datetime.now(timezone.utc) + timedelta(seconds=61)
        sweeper = Sweeper(engine, PolicySet(), Contacts(
            parties={"regionerne": Reach(slack=("#regionerne",)), "sst": Reach(slack=("#sst",))},
            coordinators=Reach(slack=("#koordinering",), language="en")),
            {"slack": SlackChannel(slack.token, slack.base_url, timeout=2)}, base_url="https://tracker.example.dk")
        clock = Clock(engine, sweeper, ClockLease(engine, ttl=timedelta(minutes=1), holder="vm-2:1"),
                      register_path=str(small_register), now=lambda: now)
        clock.start()
        clock.tick()
        report = clock.last_report
        claimed = {row.key for row in held if row.state == "claimed"}
        after = {row.key: row for row in rows(engine)}
        assert claimed and all(after[key].state == "sent" for key in claimed)  # at once, not in 15 minutes
        assert {row.state for row in after.values() if row.message_key == sending} == {"unknown"}
        assert report.sent >= len(claimed)
        (problem,) = slack.messages_in("koordinering")
        assert "may not have arrived" in problem.text and sending in problem.text
        assert "It was about:" in problem.text  # names the deliverables, so a coordinator can decide to retry
        posted_to = [post.channel for post in slack.messages]
        assert len(posted_to) == len(set(posted_to)), "a message was sent twice"
