"""A year of the shipped plan, day by day: the right messages on the right days, each once.

The clock is frozen at each sweep (freezegun), so the status changes made
through the CLI in between happen on the plan's days too. With Slack and Teams (the
stand-ins) and e-mail (aiosmtpd) configured, 2027 must bring exactly the
notices the policy calls for, bundled one message per recipient and day, on
working days at nine, none twice, none after an occurrence is done; without
them the console must show the same messages.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlmodel import Session, select

from tests.conftest import Tracker
from tests.notify.slack_standin import SlackStandIn
from tests.notify.smtp_server import SmtpServer
from tests.notify.teams_standin import TeamsStandIn
from tracker.calendar.attachments import EventAttachments
from tracker.i18n import using_language
from tracker.notify.console import SEPARATOR, ConsoleChannel
from tracker.notify.contacts import Contacts, Reach
from tracker.notify.email import EmailChannel
from tracker.notify.planner import plan_notices
from tracker.notify.slack import SlackChannel
from tracker.notify.teams import TeamsChannel
from tracker.notify.webhooks import teams_handle
from tracker.notify.source import load_subjects
from tracker.notify.sweep import Sweeper
from tracker.workdays import is_working_day
from tracker.register import load_register
from tracker.store.db import open_engine
from tracker.store.tables import OutboxRow

CPH = ZoneInfo("Europe/Copenhagen")
YEAR = 2027
CONTACTS = Contacts(
    parties={
        "sst": Reach(slack=("#sst",)),
        "regionerne": Reach(slack=("kontakt@regionerne.example",)),  # a person: a direct message
        "danske-regioner": Reach(email=("kraeftplan@regioner.example",), language="en"),
        "digital-sundhed-danmark": Reach(slack=("#dsd",), email=("dsd@example.org",)),  # Slack comes first
        "kl": Reach(email=("kraeftplan@kl.example",)),
    },
    coordinators=Reach(slack=("#koordinering",)),
    taskforce=Reach(email=("taskforce@example.org",)),
)
# Done during the year: after these days nothing more is said about them.
DONE = {
    ("pro-vaerktoejer-digital-sundhed-danmark", None): date(2027, 11, 15),  # between its reminders
    ("regional-status-til-sst", 2027): date(2027, 4, 20),  # overdue and escalated by then
}


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        for name in ("sst", "dsd", "koordinering"):
            standin.add_channel(name)
        standin.add_user("kontakt@regionerne.example")
        yield standin


@pytest.fixture
def teams() -> Iterator[TeamsStandIn]:
    with TeamsStandIn() as standin:
        yield standin


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def live_a_year(database_url: str, channels: dict,
                contacts: Contacts = CONTACTS) -> tuple[Sweeper, list[OutboxRow], dict[date, list]]:
    """Sync the shipped plan, then sweep three times a day through YEAR, closing DONE on their days.

    Returns the sweeper, every outbox row, and the notices the policy called
    for, planned day by day from the plan as it stood that morning.
    """
    tracker = Tracker(database_url)
    # One frozen clock for the whole year, moved along: entering freeze_time scans every loaded module.
    clock = freeze_time(datetime(YEAR - 1, 12, 31, 12, tzinfo=CPH))
    frozen = clock.start()
    try:
        return _year(tracker, frozen, channels, contacts)
    finally:
        clock.stop()


def _year(tracker: Tracker, frozen, channels: dict,
          contacts: Contacts) -> tuple[Sweeper, list[OutboxRow], dict[date, list]]:
    database_url = tracker.database_url
    tracker.ok("sync")
    engine = open_engine(database_url)
    register = load_register()
    sweeper = Sweeper(engine, register.policy, contacts, channels, base_url="https://tracker.example.dk", zone=CPH,
                      calendar=EventAttachments("https://tracker.example.dk"))
    routes = tuple(name for name in ("slack", "teams", "email") if name in channels)
    expected: dict[date, list] = {}
    plan_from = date(YEAR, 1, 1)

    def expect(until: date) -> None:
        """What the plan as it stands calls for from ``plan_from`` to ``until``."""
        with Session(engine) as session:
            subjects = load_subjects(session, plan_from)
        for notice in plan_notices(subjects, register.policy, contacts, routes, plan_from, until).notices:
            expected.setdefault(notice.day, []).append(notice)

    day = plan_from
    while day.year == YEAR:
        for (deliverable_id, year), done_on in DONE.items():
            if day == done_on:  # at eight, before the day's messages
                expect(day - timedelta(days=1))
                plan_from = day
                frozen.move_to(datetime.combine(day, datetime.min.time(), CPH) + timedelta(hours=8))
                occurrence = ["--occurrence", str(year)] if year else []
                tracker.ok("status", deliverable_id, "done", *occurrence, "--note", "Afleveret.")
        for hour in (7, 9, 16):
            moment = datetime.combine(day, datetime.min.time(), CPH).replace(hour=hour, minute=5)
            frozen.move_to(moment)
            with using_language("en"):
                report = sweeper.sweep(moment)
            assert report.ok, (moment, report.failed, report.unknown)
            assert hour == 9 or report.messages == 0, f"{report.messages} messages at {moment}"
        day += timedelta(days=1)
    expect(date(YEAR, 12, 31))
    with Session(engine) as session:
        rows = list(session.exec(select(OutboxRow).order_by(OutboxRow.id)))
    return sweeper, rows, expected


def test_a_year_of_the_shipped_plan_over_slack_teams_and_email_then_on_the_console(
        sqlite_url: str, tmp_path: Path, slack: SlackStandIn, smtp: SmtpServer, teams: TeamsStandIn) -> None:
    # Region Nordjylland is on Teams: its own parts of the per-region commitments reach its channel's webhook.
    webhook = teams.add_webhook("nordjylland")
    contacts = replace(CONTACTS, parties={**CONTACTS.parties, "region-nordjylland": Reach(
        teams=(webhook,), email=("kraeftplan@rn.example",), prefer=("teams", "email"))})
    providers = {"slack": SlackChannel(slack.token, slack.base_url, timeout=5),
                 "teams": TeamsChannel(contacts.webhooks(), timeout=5),
                 "email": EmailChannel.from_url(smtp.url(), "Kræftplan V <kraeftplan@example.dk>", timeout=10)}
    _sweeper, rows, expected = live_a_year(sqlite_url, providers, contacts)

    # Exactly the notices the policy called for, each once, each sent on its day (a working day), none late.
    wanted = {notice.key: day for day, notices in expected.items() for notice in notices}
    assert len(wanted) == sum(len(notices) for notices in expected.values()), "a key planned twice"
    assert {row.key: row.day for row in rows} == wanted
    assert all(row.state == "sent" and not row.late for row in rows)
    assert all(is_working_day(row.day) and row.sent_at.astimezone(CPH).date() == row.day for row in rows)
    kinds = Counter(row.kind for row in rows)
    assert set(kinds) == {"reminder", "overdue", "escalation", "confirm", "digest", "round"}, kinds
    assert kinds["digest"] == 52  # one per ISO week of 2027, on the Monday or the working day after it

    # Nothing about an occurrence once it is done.
    for (deliverable_id, year), done_on in DONE.items():
        about = [row for row in rows if (row.deliverable_id, row.occurrence_year) == (deliverable_id, year)]
        assert about and all(row.day < done_on for row in about)

    # One message per recipient and day; the providers got each message once.
    messages = {row.message_key: (row.channel, row.recipient, row.day) for row in rows}
    assert len(set(messages.values())) == len(messages)
    by_channel = Counter(channel for channel, _recipient, _day in messages.values())
    assert len(slack.messages) == by_channel["slack"]
    assert by_channel["teams"] > 0 and len(teams.cards("nordjylland")) == by_channel["teams"]
    assert {row.recipient for row in rows if row.channel == "teams"} == {teams_handle(webhook)}
    assert all(row.member == "region-nordjylland" for row in rows if row.channel == "teams")
    assert len(smtp.received) == by_channel["email"]
    assert len({mail.parsed()["Message-ID"] for mail in smtp.received}) == len(smtp.received)
    for mail in smtp.received:  # dated when the frozen clock said it was sent: nine on a working day
        sent = parsedate_to_datetime(mail.parsed()["Date"]).astimezone(CPH)
        assert (sent.hour, sent.minute) == (9, 5) and is_working_day(sent.date())

    # Without Slack and SMTP, the console shows the same messages to the same people on the same days.
    stream = io.StringIO()
    _sweeper, console_rows, _expected = live_a_year(f"sqlite:///{tmp_path / 'console.db'}",
                                                    {"console": ConsoleChannel(stream)}, contacts)

    def addressed(row: OutboxRow) -> tuple[str, date]:
        return row.key.replace(f"/{row.channel}/{row.recipient}", f"/{row.recipient}"), row.day

    assert {addressed(row) for row in console_rows} == {addressed(row) for row in rows}
    printed = [block for block in stream.getvalue().split(SEPARATOR) if block.strip()]
    assert len(printed) == len({row.message_key for row in console_rows}) == len(messages)
