"""The clock and the processes: ticks, the one-clock lease, SIGTERM, `tracker run`, and the Procfile.

In-process tests drive ``Clock.tick`` with a frozen clock (freezegun) and the
real APScheduler. The process tests start real `tracker` processes (and
honcho for the Procfile) against a SQLite file, the Slack stand-in and
loopback ports. Those run on the real clock, so their database is prepared
as after a two-week downtime (``Deployment.after_downtime``): the open,
overdue occurrences of the small register have a weekly alert due in it,
sent late by the first tick, on any day at any hour.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from freezegun import freeze_time
from sqlmodel import Session, select

from tests.conftest import Tracker, free_port
from tests.notify.slack_standin import Reply, SlackStandIn
from tracker.errors import ClockBusyError
from tracker.notify.console import ConsoleChannel
from tracker.notify.outbox import write_planned_through
from tracker.notify.contacts import Contacts
from tracker.policy import PolicySet
from tracker.notify.sweep import Sweeper
from tracker.service.clock import Clock, build_scheduler
from tracker.service.lease import HEARTBEAT, LEASE, ClockLease
from tracker.store.db import open_engine
from tracker.store.tables import MetaRow, OutboxRow

CPH = ZoneInfo("Europe/Copenhagen")
ROOT = Path(__file__).resolve().parents[2]


def meta(engine, key: str) -> str | None:
    with Session(engine) as session:
        row = session.get(MetaRow, key)
        return row.value if row else None


def rows(engine) -> list[OutboxRow]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxRow).order_by(OutboxRow.id)))


@pytest.fixture
def synced_engine(database_url: str, small_register: Path):
    Tracker(database_url, small_register).ok("sync")
    engine = open_engine(database_url)
    yield engine
    engine.dispose()


def make_clock(engine, small_register: Path, moment: list[datetime], holder: str = "test-clock") -> Clock:
    sweeper = Sweeper(engine, PolicySet(), Contacts(language="en"), {"console": ConsoleChannel(open(os.devnull, "w"))},
                      base_url="https://tracker.example.dk", zone=CPH)
    lease = ClockLease(engine, ttl=timedelta(minutes=3), holder=holder)
    return Clock(engine, sweeper, lease, register_path=str(small_register), now=lambda: moment[0])


# -- in process ----------------------------------------------------------------------------------------------------

def test_a_tick_after_downtime_catches_up_once(synced_engine, small_register: Path) -> None:
    moment = [datetime(2026, 6, 23, 9, 30, tzinfo=CPH)]
    clock = make_clock(synced_engine, small_register, moment)
    with freeze_time(moment[0]) as frozen:
        clock.start()
        clock.tick()
        assert clock.last_report.messages == 2  # the 7-day reminders for the clinics
        # Down for nine days, over the due day: one tick sends what is still useful, once, late.
        moment[0] = datetime(2026, 7, 2, 11, 0, tzinfo=CPH)
        frozen.move_to(moment[0])
        clock.tick()
        first = clock.last_report
        assert first.late == first.sent > 0 and first.skipped["expired"] == 2  # the 1-day reminders
        clock.tick()
        assert clock.last_report.messages == 0
    assert meta(synced_engine, HEARTBEAT) == moment[0].isoformat()
    clock.close()
    assert meta(synced_engine, LEASE) == ""


def test_the_scheduler_runs_ticks_missed_during_downtime_once_however_late(synced_engine, small_register) -> None:
    ticks: list[float] = []
    clock = make_clock(synced_engine, small_register, [datetime.now(timezone.utc)])
    clock.tick = lambda: ticks.append(time.monotonic())  # count runs: the job's settings are what is tested
    scheduler = build_scheduler(clock, interval_seconds=60)
    scheduler.start(paused=True)
    try:
        # As if the process had been suspended for ten intervals: APScheduler's default grace of one
        # second would drop the run; coalescing must run it once, not ten times.
        scheduler.get_job("tracker.tick").modify(next_run_time=datetime.now(timezone.utc) - timedelta(minutes=10))
        scheduler.resume()
        deadline = time.monotonic() + 5
        while not ticks and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)
        assert len(ticks) == 1
        job = scheduler.get_job("tracker.tick")
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
        assert job.next_run_time > datetime.now(timezone.utc)
    finally:
        scheduler.shutdown(wait=True)


def test_a_second_clock_refuses_to_start_and_names_the_first(synced_engine, small_register: Path) -> None:
    moment = [datetime(2026, 6, 23, 9, 30, tzinfo=CPH)]
    first = make_clock(synced_engine, small_register, moment, holder="vm-1:4242")
    first.start()
    second = make_clock(synced_engine, small_register, moment, holder="vm-2:77")
    with pytest.raises(ClockBusyError, match="vm-1:4242"):
        second.start()
    # A dead clock's lease runs out: then another may start, and the old one stops at its next tick.
    moment[0] += timedelta(minutes=4)
    second.start()
    first.tick()
    assert first.stopped and first.last_report is None


def test_a_clock_picks_up_a_changed_register_at_its_next_tick(synced_engine, small_register: Path,
                                                               tmp_path: Path) -> None:
    register = tmp_path / "register.toml"
    shutil.copy(small_register, register)
    moment = [datetime(2026, 6, 23, 9, 30, tzinfo=CPH)]
    clock = make_clock(synced_engine, register, moment)
    clock.start()
    text = register.read_text(encoding="utf-8")
    register.write_text(text.replace('title = "Evaluering af forsøgsordningen"',
                                     'title = "Evaluering af forsøgsordningen med kølehætter"'), encoding="utf-8")
    clock.tick()
    show = Tracker(str(synced_engine.url), register).ok("show", "evaluering").output
    assert "med kølehætter" in show
    register.write_text(text + "\n[[deliverable]]\nid = 'broken'\n", encoding="utf-8")
    clock.tick()  # a broken register is logged and the plan kept as it was
    assert clock.last_report is not None and not clock.stopped


# -- processes -----------------------------------------------------------------------------------------------------

class Deployment:
    """A prepared database, contacts, a Slack stand-in and the environment a platform would give."""

    def __init__(self, tmp_path: Path, small_register: Path, slack: SlackStandIn):
        self.database_url = f"sqlite:///{tmp_path / 'tracker.db'}"
        contacts = tmp_path / "contacts.toml"
        contacts.write_text('[party.regionerne]\nslack = ["#regionerne"]\n\n[party.sst]\nslack = ["#sst"]\n\n'
                            '[coordinators]\nslack = ["#koordinering"]\n', encoding="utf-8")
        self.port = free_port()
        self.env = {name: value for name, value in os.environ.items() if "proxy" not in name.lower()}
        self.env.update(DATABASE_URL=self.database_url, TRACKER_REGISTER=str(small_register),
                        TRACKER_CONTACTS=str(contacts), SLACK_BOT_TOKEN=slack.token, SLACK_API_URL=slack.base_url,
                        TRACKER_HOST="127.0.0.1", PORT=str(self.port), TRACKER_CLOCK_INTERVAL="1",
                        TRACKER_LANG="en",
                        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        self.slack = slack
        self.tracker = Tracker(self.database_url, small_register)

    def prepare(self) -> None:
        """Schema, plan, and a last planned day in the past (see the module docstring)."""
        self.tracker.ok("sync")
        self.after_downtime()

    def after_downtime(self) -> None:
        """The last planned day: fifteen days before the real today, as after two weeks without a clock.

        These processes run on the real clock, whatever the day and hour. The
        overdue alerts repeat weekly, so the fourteen days the first sweep
        plans hold at least one for each open, overdue occurrence, however
        the weekly cycle falls and whether today's send time has come.
        """
        today = datetime.now(ZoneInfo("Europe/Copenhagen")).date()
        engine = self.engine()
        try:
            with Session(engine) as session:
                write_planned_through(session, today - timedelta(days=15), datetime.now(timezone.utc))
                session.commit()
        finally:
            engine.dispose()

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", "from tracker.cli import main; main()", *args], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)

    def engine(self):
        return open_engine(self.database_url)


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        for name in ("regionerne", "sst", "koordinering"):
            standin.add_channel(name)
        yield standin


@pytest.fixture
def deployment(tmp_path: Path, small_register: Path, slack: SlackStandIn) -> Deployment:
    return Deployment(tmp_path, small_register, slack)


def wait_for(condition, seconds: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process exited early:\n{process.stdout.read().decode()}")
        time.sleep(0.05)
    raise AssertionError("timed out")



def stop(process: subprocess.Popen) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    return process.returncode, output.decode()


def test_sigterm_finishes_the_message_in_flight_and_gives_the_rest_back(deployment: Deployment) -> None:
    deployment.prepare()
    deployment.slack.script("chat.postMessage", Reply.hang(3, posted=True))  # Slack takes three seconds to answer
    clock = deployment.start("clock")
    try:
        wait_for(lambda: deployment.slack.messages_in("regionerne"), 30, clock)
        code, output = stop(clock)
    finally:
        clock.kill()
    assert code == 0, output
    engine = deployment.engine()
    states = {row.recipient: row.state for row in rows(engine)}
    assert states == {"#regionerne": "sent", "#sst": "pending"}, output  # finished, and given back unsent
    assert meta(engine, LEASE) == ""  # released: the next clock starts at once
    assert deployment.slack.messages_in("sst") == []
    settings = {name: deployment.env[name] for name in ("TRACKER_CONTACTS", "SLACK_BOT_TOKEN", "SLACK_API_URL")}
    assert "Sweep: 1 messages sent" in deployment.tracker.ok("notify", "run", env=settings).output
    assert len(deployment.slack.messages_in("regionerne")) == 1 and len(deployment.slack.messages_in("sst")) == 1


def test_a_second_clock_process_exits_at_once_naming_the_first(deployment: Deployment) -> None:
    deployment.prepare()
    first = deployment.start("clock")
    try:
        engine = deployment.engine()
        wait_for(lambda: meta(engine, HEARTBEAT), 30, first)
        second = deployment.start("clock")
        output, _ = second.communicate(timeout=30)
        assert second.returncode == 1
        assert "Another clock already runs" in output.decode() and f":{first.pid}" in output.decode()
        code, first_output = stop(first)
        assert code == 0, first_output
    finally:
        first.kill()


def test_tracker_run_answers_on_its_port_within_seconds_and_sends_what_is_due(deployment: Deployment) -> None:
    deployment.prepare()
    started = time.monotonic()
    process = deployment.start("run")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{deployment.port}", timeout=2) as client:
            def healthy() -> bool:
                try:
                    return client.get("/healthz").status_code == 200
                except httpx.TransportError:
                    return False

            wait_for(healthy, 15, process)
            assert time.monotonic() - started < 15
            wait_for(lambda: client.get("/healthz").json()["clock"]["last_tick"] is not None, 15, process)
        wait_for(lambda: deployment.slack.messages_in("regionerne") and deployment.slack.messages_in("sst"), 15,
                 process)
        code, output = stop(process)
        assert code == 0, output
        assert "Serving on http://127.0.0.1:" in output
    finally:
        process.kill()


def test_the_procfile_runs_as_a_whole(deployment: Deployment, tmp_path: Path) -> None:
    honcho = shutil.which("honcho", path=deployment.env["PATH"])
    if honcho is None:
        if os.environ.get("CI"):
            pytest.fail("honcho is required in CI (the test extra installs it)")
        pytest.skip("honcho is not installed")
    procfile = ROOT / "Procfile"
    release = subprocess.run([honcho, "-f", str(procfile), "-d", str(ROOT), "start", "release"], env=deployment.env,
                             capture_output=True, timeout=120)
    assert release.returncode == 0, release.stdout.decode() + release.stderr.decode()
    deployment.after_downtime()
    token = deployment.tracker.ok("feed", "create", "--name", "alle").output
    feed_path = next(word for word in token.split() if "/feeds/" in word).split("127.0.0.1:8000", 1)[-1]
    processes = subprocess.Popen([honcho, "-f", str(procfile), "-d", str(ROOT), "start", "web", "clock"],
                                 env=deployment.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{deployment.port}", timeout=2) as client:
            def served() -> bool:
                try:
                    return client.get(feed_path).status_code == 200
                except httpx.TransportError:
                    return False

            wait_for(served, 30, processes)
            assert b"BEGIN:VCALENDAR" in client.get(feed_path).content
        wait_for(lambda: deployment.slack.messages_in("regionerne") and deployment.slack.messages_in("sst"), 30,
                 processes)
        _code, output = stop(processes)  # honcho itself answers SIGTERM with 143
        assert "web.1 stopped (rc=0)" in output and "clock.1 stopped (rc=0)" in output, output
        assert "sweep at" in output and "Uvicorn running" in output  # both processes, one log
    finally:
        processes.kill()


def test_the_clock_logs_one_json_line_per_event_with_its_keys_and_no_secret(deployment: Deployment) -> None:
    deployment.prepare()
    clock = deployment.start("--log-format", "json", "clock")
    try:
        wait_for(lambda: deployment.slack.messages_in("regionerne") and deployment.slack.messages_in("sst"), 30, clock)
        time.sleep(0.5)
        code, output = stop(clock)
    finally:
        clock.kill()
    assert code == 0, output
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    sent = [event for event in events if event["message"].startswith("sent ")]
    occurrences = {row.key: f"{row.deliverable_id}/{row.occurrence_year or '-'}" for row in rows(deployment.engine())
                   if row.state == "sent"}  # an earlier alert of a series, due in the same downtime, is superseded
    assert occurrences
    assert {event["outbox_key"]: event["occurrence"] for event in sent} == occurrences
    assert all({"time", "level", "logger", "message", "message_key"} <= set(event) for event in sent)
    assert deployment.slack.token not in output
