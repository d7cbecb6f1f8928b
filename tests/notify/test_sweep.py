"""The outbox and the sweep: each message once, on time or marked late, and every failure accounted for.

The plan is the small test register synced into a real database (SQLite and
PostgreSQL); messages go through real channels: the console into a buffer,
the Slack stand-in and aiosmtpd on loopback. Only ``now`` is chosen by the
tests, as every sweep takes it as an argument.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlmodel import Session, select

from tests.conftest import Tracker
from tests.notify.slack_standin import Reply, SlackStandIn
from tests.notify.smtp_server import SmtpServer
from tracker.calendar.attachments import EventAttachments
from tracker.i18n import set_language, using_language
from tracker.notify import outbox
from tracker.notify.console import SEPARATOR, ConsoleChannel
from tracker.notify.contacts import Contacts, Reach, load_contacts
from tracker.notify.email import EmailChannel
from tracker.policy import PolicySet
from tracker.notify.slack import SlackChannel
from tracker.notify.sweep import Sweeper
from tracker.store.db import open_engine
from tracker.store.tables import OutboxRow

CPH = ZoneInfo("Europe/Copenhagen")
BASE = "https://tracker.example.dk"
SENDER = "Kræftplan V <opfoelgning@kraeftplan.example>"
# senfoelgeklinikker (regionerne, co-owner sst) is due 30 June 2026; regional-status each 31 March.
CLINICS_DUE = date(2026, 6, 30)


def at(day: date, hour: int = 9, minute: int = 30) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CPH)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    set_language("en")
    yield
    set_language(None)


@pytest.fixture
def plan(database_url: str, small_register: Path) -> Iterator[Tracker]:
    tracker = Tracker(database_url, small_register)
    tracker.ok("sync")
    yield tracker


class Desk:
    """A sweeper over one database with a given set of channels, and a look at its outbox."""

    def __init__(self, database_url: str, contacts: Contacts, channels: dict, answers_on_slack: bool = False,
                 answers_by_email: bool = False):
        self.engine = open_engine(database_url)
        self.sweeper = Sweeper(self.engine, PolicySet(), contacts, channels, base_url=BASE, zone=CPH,
                               calendar=EventAttachments(BASE), answers_on_slack=answers_on_slack,
                               answers_by_email=answers_by_email)

    def sweep(self, now: datetime):
        with using_language("en"):  # the operator's language: errors and the console's headers
            return self.sweeper.sweep(now)

    def rows(self, **where: object) -> list[OutboxRow]:
        with Session(self.engine) as session:
            query = select(OutboxRow).order_by(OutboxRow.id)
            for name, value in where.items():
                query = query.where(getattr(OutboxRow, name) == value)
            return list(session.exec(query))

    def states(self) -> dict[str, str]:
        return {row.key: row.state for row in self.rows()}


def console_messages(stream: io.StringIO) -> list[str]:
    return [block.strip() for block in stream.getvalue().split(SEPARATOR) if block.strip()]


@pytest.fixture
def console(plan: Tracker) -> tuple[Desk, io.StringIO]:
    stream = io.StringIO()
    return Desk(plan.database_url, Contacts(language="en"), {"console": ConsoleChannel(stream)}), stream


# -- planning and sending once -----------------------------------------------------------------------------------

def test_a_sweep_sends_what_is_due_once_and_a_second_sweep_sends_nothing(console) -> None:
    desk, stream = console
    report = desk.sweep(at(date(2026, 6, 23)))  # the 7-day reminder for the clinics
    assert (report.messages, report.sent, report.late) == (2, 2, 0)  # the owner and the co-owner
    messages = console_messages(stream)
    assert len(messages) == 2 and all("due in 7 days (30 June 2026)" in m for m in messages)
    assert {row.recipient for row in desk.rows()} == {"regionerne", "sst"}
    assert {row.state for row in desk.rows()} == {"sent"}
    again = desk.sweep(at(date(2026, 6, 23), 15))
    assert (again.planned, again.messages) == (0, 0) and len(console_messages(stream)) == 2


def test_nothing_goes_out_before_the_send_time_and_a_first_sweep_does_not_plan_the_past(console) -> None:
    desk, stream = console
    assert desk.sweep(at(date(2026, 6, 23), 8, 59)).messages == 0
    assert desk.rows() == [] and stream.getvalue() == ""
    # 09:00 in Copenhagen is 07:00 UTC in summer: the same instant written in UTC counts the same.
    report = desk.sweep(datetime(2026, 6, 23, 7, 0, tzinfo=ZoneInfo("UTC")))
    assert report.messages == 2


def test_messages_go_out_on_working_days_only(console) -> None:
    desk, stream = console
    desk.sweep(at(date(2026, 6, 1), 9, 0))
    sent_days = set()
    for offset in range(60):
        day = date(2026, 6, 1) + timedelta(days=offset)
        for hour in (7, 9, 13, 23):
            if desk.sweep(at(day, hour, 5)).messages:
                sent_days.add((day, hour))
    assert sent_days, "June and July have reminders and alerts for the clinics"
    assert all(hour == 9 and day.weekday() < 5 for day, hour in sent_days)
    assert (date(2026, 6, 29), 9) in sent_days  # the 1-day reminder
    assert (date(2026, 7, 1), 9) in sent_days  # the first overdue alert
    keys = [row.key for row in desk.rows()]
    assert len(keys) == len(set(keys))
    assert all(row.state == "sent" and not row.late for row in desk.rows())


def test_after_downtime_the_latest_useful_message_goes_out_once_marked_late(console) -> None:
    desk, stream = console

    def clinics() -> dict[str, str]:
        return {row.key.split("/console/")[0].split("/", 2)[2] + "/" + row.recipient: row.state
                for row in desk.rows(deliverable_id="senfoelgeklinikker")}

    desk.sweep(at(date(2026, 5, 1)))
    assert clinics() == {"reminder/60d@2026-06-30/regionerne": "sent", "reminder/60d@2026-06-30/sst": "sent"}
    # Down from 1 May to Friday 26 June: the 30-, 14- and 7-day reminders were missed.
    report = desk.sweep(at(date(2026, 6, 26), 11))
    assert clinics() == {
        "reminder/60d@2026-06-30/regionerne": "sent", "reminder/60d@2026-06-30/sst": "sent",
        "reminder/30d@2026-06-30/regionerne": "skipped", "reminder/30d@2026-06-30/sst": "skipped",
        "reminder/14d@2026-06-30/regionerne": "skipped", "reminder/14d@2026-06-30/sst": "skipped",
        "reminder/7d@2026-06-30/regionerne": "sent", "reminder/7d@2026-06-30/sst": "sent",
    }
    assert {row.error_code for row in desk.rows(deliverable_id="senfoelgeklinikker", state="skipped")} == {
        "superseded"}
    assert all(row.late for row in desk.rows(deliverable_id="senfoelgeklinikker", step="7d"))
    (late,) = [m for m in console_messages(stream) if "console/sst/" in m.splitlines()[0] and "4 days" in m]
    assert "Sent late: this message was due 23 June 2026 at 09:00." in late
    assert "due in 4 days (30 June 2026)" in late  # written as of the day it goes out
    # Down again until after the due day: the 1-day reminder makes no sense any more.
    report = desk.sweep(at(date(2026, 7, 2), 10, 30))
    assert report.skipped["expired"] == 2
    states = clinics()
    assert states["reminder/1d@2026-06-30/regionerne"] == "skipped"
    assert states["overdue/1@2026-06-30/regionerne"] == "sent"
    assert desk.sweep(at(date(2026, 7, 2), 14)).sent == 0


def test_done_stops_every_message_not_yet_sent(plan: Tracker, console) -> None:
    desk, stream = console
    desk.sweep(at(date(2026, 6, 23)))
    plan.ok("status", "senfoelgeklinikker", "done", "--note", "Alle klinikker er åbnet.")
    for offset in range(1, 40):
        desk.sweep(at(date(2026, 6, 23) + timedelta(days=offset)))
    about_clinics = [m for m in console_messages(stream) if "/deliverables/senfoelgeklinikker" in m]
    assert len(about_clinics) == 2  # the 7-day reminders before it was done; the weekly digest lists what is open
    assert all(row.day <= date(2026, 6, 23) for row in desk.rows(deliverable_id="senfoelgeklinikker"))
    assert len(console_messages(stream)) > 2, "the other deliverables' messages went on"


def test_a_replanned_occurrence_starts_its_reminders_over(plan: Tracker, console) -> None:
    desk, stream = console
    desk.sweep(at(date(2026, 6, 23)))
    plan.ok("replan", "senfoelgeklinikker", "medio 2026", "--reason", "Forsinket byggeri.")  # due 31 July
    desk.sweep(at(date(2026, 6, 24)))
    for offset in range(1, 45):
        desk.sweep(at(date(2026, 6, 24) + timedelta(days=offset)))
    keys = {row.key for row in desk.rows(recipient="regionerne", state="sent")}
    assert "senfoelgeklinikker/-/reminder/7d@2026-06-30/console/regionerne" in keys
    assert "senfoelgeklinikker/-/reminder/7d@2026-07-31/console/regionerne" in keys
    assert not any("overdue" in key and "@2026-06-30" in key for key in keys)


# -- Slack, e-mail, and what happens when they fail ----------------------------------------------------------------

CONTACTS = Contacts(
    parties={"regionerne": Reach(slack=("#regionerne",), email=("regioner@example.org",)),
             "sst": Reach(email=("sst@example.org",), language="da")},
    coordinators=Reach(slack=("#koordinering",), language="en"),
    taskforce=Reach(slack=("#taskforce",)),
)


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        for name in ("regionerne", "koordinering", "taskforce"):
            standin.add_channel(name)
        yield standin


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def providers(slack: SlackStandIn, smtp: SmtpServer) -> dict:
    return {"slack": SlackChannel(slack.token, slack.base_url, timeout=2),
            "email": EmailChannel.from_url(smtp.url(), SENDER, timeout=5)}



def test_slack_and_email_carry_the_messages_and_the_email_has_the_occurrence_as_ics(
        plan: Tracker, slack: SlackStandIn, smtp: SmtpServer) -> None:
    desk = Desk(plan.database_url, CONTACTS, providers(slack, smtp))
    report = desk.sweep(at(date(2026, 6, 23)))
    assert report.ok and report.messages == 2
    (post,) = slack.messages_in("regionerne")
    assert "Late-effects clinics established" not in post.text  # the party reads Danish
    assert "Senfølgeklinikker etableret" in post.text
    (mail,) = smtp.received
    parsed = mail.parsed()
    assert mail.rcpt_tos == ["sst@example.org"] and "Kræftplan V" in parsed["Subject"]
    (attachment,) = [part for part in parsed.iter_attachments() if part.get_content_type() == "text/calendar"]
    calendar = Calendar.from_ical(attachment.get_content())
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == "senfoelgeklinikker@kraeftplan-v.tracker"
    assert event.decoded("DTSTART") == CLINICS_DUE
    row = desk.rows(channel="email")[0]
    assert row.provider_id == parsed["Message-ID"]


def test_a_transient_failure_is_retried_with_backoff_then_given_up_and_reported(
        plan: Tracker, slack: SlackStandIn, smtp: SmtpServer) -> None:
    desk = Desk(plan.database_url, CONTACTS, providers(slack, smtp))
    slack.script("chat.postMessage", Reply.http(503))
    now = at(date(2026, 6, 23))
    report = desk.sweep(now)
    assert report.retrying == 1 and report.ok
    (row,) = desk.rows(channel="slack")
    assert row.state == "pending" and row.next_attempt_at == now + timedelta(minutes=1)
    assert desk.sweep(now + timedelta(seconds=30)).messages == 0  # not before the backoff
    assert desk.sweep(now + timedelta(minutes=2)).sent == 1
    assert len(slack.messages_in("regionerne")) == 1
    assert desk.rows(channel="slack")[0].state == "sent"
    posted_before = len(slack.messages_in("regionerne"))

    # The next reminder meets an outage that outlasts every retry.
    # (Monday: the task force's digest meets the same outage.)
    slack.script("chat.postMessage", *[Reply.http(503)] * (2 * outbox.MAX_ATTEMPTS))
    now = at(date(2026, 6, 29))
    waits = []
    for _attempt in range(outbox.MAX_ATTEMPTS):
        report = desk.sweep(now)
        (row,) = desk.rows(channel="slack", deliverable_id="senfoelgeklinikker", step="1d")
        if row.state == "pending":
            waits.append(row.next_attempt_at - now)
            now = row.next_attempt_at
    assert waits == [outbox.backoff(n) for n in range(1, outbox.MAX_ATTEMPTS)]
    assert row.state == "failed" and "gave up after 6 attempts" in row.error
    assert report.failed and not report.ok
    assert len(slack.messages_in("regionerne")) == posted_before
    (problem,) = slack.messages_in("koordinering")  # both failures, in one message
    assert problem.text.startswith("Cancer Plan V: 2 messages could not be delivered")
    assert "#regionerne" in problem.text and "#taskforce" in problem.text and "tracker notify retry" in problem.text


def test_a_permanent_slack_failure_goes_by_email_instead_and_the_coordinators_hear_of_it(
        plan: Tracker, slack: SlackStandIn, smtp: SmtpServer) -> None:
    (regions,) = [c for c in slack._channels.values() if c.name == "regionerne"]
    regions.archived = True
    desk = Desk(plan.database_url, CONTACTS, providers(slack, smtp))
    report = desk.sweep(at(date(2026, 6, 23)))
    assert report.fallbacks == 1 and len(report.failed) == 1
    states = desk.states()
    assert states["senfoelgeklinikker/-/reminder/7d@2026-06-30/slack/#regionerne"] == "failed"
    assert states["senfoelgeklinikker/-/reminder/7d@2026-06-30/email/regioner@example.org"] == "sent"
    assert sorted(m.rcpt_tos[0] for m in smtp.received) == ["regioner@example.org", "sst@example.org"]
    (problem,) = slack.messages_in("koordinering")
    assert "is_archived" in problem.text and "sent by e-mail to regioner@example.org instead" in problem.text
    assert desk.rows(channel="slack", state="failed")[0].error_code == "is_archived"
    # Nothing more later that day: the failure is recorded, the fallback sent, the report delivered.
    assert desk.sweep(at(date(2026, 6, 23), 15)).messages == 0


def test_an_unknown_outcome_is_never_resent_by_itself_only_by_a_coordinator(
        plan: Tracker, slack: SlackStandIn, smtp: SmtpServer) -> None:
    desk = Desk(plan.database_url, CONTACTS, providers(slack, smtp))
    slack.script("chat.postMessage", Reply.drop(posted=True))
    report = desk.sweep(at(date(2026, 6, 23)))
    assert len(report.unknown) == 1 and report.fallbacks == 0
    (row,) = desk.rows(channel="slack", kind="reminder")
    assert row.state == "unknown"
    (problem,) = slack.messages_in("koordinering")
    assert "may not have arrived" in problem.text
    for hour in (10, 11, 15):
        assert desk.sweep(at(date(2026, 6, 23), hour)).messages == 0
    assert len(slack.messages_in("regionerne")) == 1  # the one the stand-in took before it hung up
    result = plan.ok("notify", "retry", row.message_key)
    assert "1 notice will be sent again" in result.output
    assert desk.sweep(at(date(2026, 6, 23), 16)).sent == 1
    assert len(slack.messages_in("regionerne")) == 2
    assert desk.rows(channel="slack", kind="reminder")[0].state == "sent"


# -- two sweeps at once ------------------------------------------------------------------------------------------

def test_two_sweeps_racing_on_one_database_send_each_message_once(plan: Tracker) -> None:
    streams = [io.StringIO() for _ in range(4)]
    desks = [Desk(plan.database_url, Contacts(), {"console": ConsoleChannel(stream)}) for stream in streams]
    start = threading.Barrier(len(desks))
    errors: list[BaseException] = []

    def run(desk: Desk) -> None:
        try:
            for offset in range(0, 45):
                day = date(2026, 6, 20) + timedelta(days=offset)
                start.wait(timeout=60)
                desk.sweep(at(day))
        except BaseException as error:  # reported below, with the thread's own traceback
            errors.append(error)
            start.abort()

    threads = [threading.Thread(target=run, args=(desk,)) for desk in desks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    messages = [message for stream in streams for message in console_messages(stream)]
    keys = [message.splitlines()[0].rsplit(" ", 1)[1] for message in messages]
    assert len(keys) == len(set(keys)), "a message was sent twice"
    sent = desks[0].rows(state="sent")
    assert len(sent) == len(desks[0].rows()) and len({row.message_key for row in sent}) == len(keys)
    assert {"senfoelgeklinikker/-/reminder/7d@2026-06-30/console/regionerne",
            "senfoelgeklinikker/-/overdue/1@2026-06-30/console/regionerne"} <= {row.key for row in sent}


# -- a process killed between the send and its record -------------------------------------------------------------

def test_a_sweep_killed_while_sending_leaves_one_unknown_and_nothing_sent_twice(
        plan: Tracker, slack: SlackStandIn, small_register: Path, tmp_path: Path) -> None:
    slack.add_channel("sst")
    contacts = tmp_path / "contacts.toml"
    contacts.write_text('[party.regionerne]\nslack = ["#regionerne"]\n\n[party.sst]\nslack = ["#sst"]\n\n'
                        '[coordinators]\nslack = ["#koordinering"]\nlanguage = "en"\n', encoding="utf-8")
    environment = {name: value for name, value in os.environ.items() if "proxy" not in name.lower()}
    environment.update(DATABASE_URL=plan.database_url, TRACKER_REGISTER=str(small_register),
                       TRACKER_CONTACTS=str(contacts), SLACK_BOT_TOKEN=slack.token, SLACK_API_URL=slack.base_url)
    # Slack takes the first message (to #regionerne), then keeps the connection open without answering.
    slack.script("chat.postMessage", Reply.hang(120, posted=True))
    command = [sys.executable, "-c", "from tracker.cli import main; main()", "notify", "run", "--now",
               "2026-06-23T09:30"]
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not slack.messages_in("regionerne") and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert slack.messages_in("regionerne"), process.communicate(timeout=5)[0].decode()
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    desk = Desk(plan.database_url, load_contacts(contacts),
                {"slack": SlackChannel(slack.token, slack.base_url, timeout=2)})
    assert {row.recipient: row.state for row in desk.rows()} == {"#regionerne": "sending", "#sst": "claimed"}

    # Restarted within the lease: the dead sweep's rows are left alone.
    soon = desk.sweep(at(date(2026, 6, 23), 9, 40))
    assert soon.messages == 0 and soon.in_flight == 2
    # After the lease: the message that may have arrived is unknown, the one that certainly did not goes out.
    later = desk.sweep(at(date(2026, 6, 23), 9, 50))
    assert len(later.unknown) == 1 and later.messages == 2  # the reminder to #sst, the report to the coordinators
    assert {row.recipient: row.state for row in desk.rows(kind="reminder")} == {"#regionerne": "unknown",
                                                                                "#sst": "sent"}
    assert len(slack.messages_in("regionerne")) == 1 and len(slack.messages_in("sst")) == 1
    (problem,) = slack.messages_in("koordinering")
    assert "was being sent when tracker stopped" in problem.text
    for hour in (11, 14):
        assert desk.sweep(at(date(2026, 6, 23), hour)).messages == 0
    assert len(slack.messages_in("regionerne")) == 1


# -- the commands ------------------------------------------------------------------------------------------------

def test_notify_run_log_and_retry_from_the_command_line(plan: Tracker, slack: SlackStandIn, tmp_path: Path) -> None:
    result = plan.ok("notify", "run", "--now", "2026-06-23T09:30")
    assert "Sweep: 2 messages sent (2 notices, 0 late)" in result.output
    assert "senfoelgeklinikker" in result.output  # printed: neither Slack nor SMTP is configured
    assert "Sweep: 0 messages sent" in plan.ok("notify", "run", "--now", "2026-06-23T10:00").output
    records = json.loads(plan.ok("notify", "log", "--json").output)
    assert {record["state"] for record in records} == {"sent"} and len(records) == 2
    assert {"key", "state", "kind", "channel", "recipient", "due_at", "sent_at", "error"} <= set(records[0])
    assert records[0]["due_at"] == "2026-06-23T07:00:00+00:00"
    assert "No failed messages." in plan.ok("notify", "log", "--failed").output

    refused = plan.fails("notify", "retry", records[0]["key"])
    assert "only failed and unknown messages can be sent again" in refused.output
    unknown = plan.fails("notify", "retry", "senfoelgeklinikker/-/reminder/7d")
    assert "No message in the outbox has the key" in unknown.output and "notify log --failed" in unknown.output

    # Slack configured, and the party's channel does not exist: the sweep fails, says so, and exits 1.
    contacts = tmp_path / "contacts.toml"
    contacts.write_text('[party.regionerne]\nslack = ["#findes-ikke"]\n', encoding="utf-8")
    slack_env = {"SLACK_BOT_TOKEN": slack.token, "SLACK_API_URL": slack.base_url, "TRACKER_CONTACTS": str(contacts)}
    failed = plan.fails("notify", "run", "--now", "2026-06-29T09:30", env=slack_env)
    assert "Failed: " in failed.output and "channel_not_found" in failed.output
    log = plan.ok("notify", "log", "--failed").output
    assert "failed" in log and "#findes-ikke" in log and "message slack/#findes-ikke/2026-06-29/" in log
    assert slack.token not in failed.output + log


def test_notify_run_refuses_bad_settings_before_sending_anything(plan: Tracker) -> None:
    missing_sender = plan.fails("notify", "run", "--now", "2026-06-23T09:30", env={"SMTP_URL": "smtp://127.0.0.1:25"})
    assert "SMTP_FROM" in missing_sender.output
    bad_url = plan.fails("notify", "run", env={"SMTP_URL": "smtp://u:hemmelig@", "SMTP_FROM": "a@example.org"})
    assert "SMTP_URL" in bad_url.output and "hemmelig" not in bad_url.output
    not_a_time = plan("notify", "run", "--now", "i morgen")
    assert not_a_time.exit_code == 2 and "YYYY-MM-DDTHH:MM" in not_a_time.output
    assert plan.ok("notify", "log").output.strip() == "The outbox is empty."
