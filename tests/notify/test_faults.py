"""The fault suite: each fault a channel meets in production is a row, and nothing goes unheard.

One configuration (a party on Slack with an e-mail address, a party on e-mail
only, the coordinators and the task force on Slack and e-mail), real channels
(the Slack stand-in and aiosmtpd on loopback), a real database. Each row
injects one fault, sweeps until nothing is left to retry, and says what
reached whom. Every row also checks the invariants:

- nothing lost: every notice the policy called for was delivered, by its own
  route or by an e-mail in its place, or is recorded as unknown or failed and
  reported to the coordinators;
- nothing twice: no notice is delivered on two routes, no message is posted
  or mailed twice;
- the coordinators always hear of a failure, by e-mail when Slack as a whole
  does not work, and what reaches nobody at all is counted as undeliverable.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import Session, select

from tests.conftest import Tracker
from tests.notify.slack_standin import Reply, SlackStandIn
from tests.notify.smtp_server import SmtpServer
from tracker.calendar.attachments import EventAttachments
from tracker.i18n import using_language
from tracker.notify import outbox
from tracker.notify.contacts import Contacts, Reach
from tracker.notify.email import EmailChannel
from tracker.policy import PolicySet
from tracker.notify.slack import SlackChannel
from tracker.notify.sweep import Sweeper, SweepReport
from tracker.store.db import open_engine
from tracker.store.tables import OutboxRow

CPH = ZoneInfo("Europe/Copenhagen")
BASE = "https://tracker.example.dk"
SENDER = "Kræftplan V <opfoelgning@kraeftplan.example>"
# Monday 29 June 2026: the clinics' 1-day reminder (regionerne, co-owner sst), the weekly overdue alert for the
# 2026 regional status, and the task force's digest.
MONDAY = datetime(2026, 6, 29, 9, 30, tzinfo=CPH)

CONTACTS = Contacts(
    parties={"regionerne": Reach(slack=("#regionerne",), email=("regioner@example.org",), language="en"),
             "sst": Reach(email=("sst@example.org",), language="en")},
    coordinators=Reach(slack=("#koordinering",), email=("koordinator@example.org",), language="en"),
    taskforce=Reach(slack=("#taskforce",), email=("taskforce@example.org",), language="en"),
    language="en",
)


pytestmark = pytest.mark.usefixtures("english")


@dataclass
class World:
    slack: SlackStandIn
    smtp: SmtpServer
    database_url: str
    token: str = ""  # the bot token tracker is configured with (the stand-in's own unless a fault changes it)
    slack_timeout: float = 2.0

    def sweeper(self) -> Sweeper:
        channels = {"slack": SlackChannel(self.token or self.slack.token, self.slack.base_url,
                                          timeout=self.slack_timeout, max_wait=2),
                    "email": EmailChannel.from_url(self.smtp.url(), SENDER, timeout=2)}
        return Sweeper(open_engine(self.database_url), PolicySet(), CONTACTS, channels, base_url=BASE, zone=CPH,
                       calendar=EventAttachments(BASE))

    def rows(self) -> list[OutboxRow]:
        with Session(open_engine(self.database_url)) as session:
            return list(session.exec(select(OutboxRow).order_by(OutboxRow.id)))

    def slack_posts(self) -> dict[str, list[str]]:
        names = {channel.id: channel.name for channel in self.slack._channels.values()}
        posts: dict[str, list[str]] = {}
        for post in self.slack.messages:
            posts.setdefault(f"#{names[post.channel]}", []).append(post.text or "")
        return posts

    def mails(self) -> dict[str, list[str]]:
        mails: dict[str, list[str]] = {}
        for mail in self.smtp.received:
            parsed = mail.parsed()
            body = parsed.get_body(preferencelist=("plain",))
            for recipient in mail.rcpt_tos:
                mails.setdefault(recipient, []).append(f"{parsed['Subject']}\n{body.get_content() if body else ''}")
        return mails


@pytest.fixture
def world(database_url: str, small_register: Path) -> Iterator[World]:
    Tracker(database_url, small_register).ok("sync")
    with SlackStandIn() as slack, SmtpServer() as smtp:
        for name in ("regionerne", "koordinering", "taskforce"):
            slack.add_channel(name)
        yield World(slack, smtp, database_url)


def sweep_until_quiet(world: World, now: datetime = MONDAY, limit: int = 12) -> list[SweepReport]:
    """Sweep at ``now``, then at each retry's time, until nothing waits for a retry."""
    sweeper = world.sweeper()
    reports = []
    for _round in range(limit):
        with using_language("en"):
            reports.append(sweeper.sweep(now))
        waiting = [row.next_attempt_at for row in world.rows() if row.state == outbox.PENDING and row.next_attempt_at]
        if not waiting:
            return reports
        now = max(now, min(waiting))
    pytest.fail("the retries never ended")


# -- the faults ------------------------------------------------------------------------------------------------

def token_refused(world: World) -> None:
    world.token = "xoxb-revoked-0000"


def slack_down_for_hours(world: World) -> None:
    world.slack.outage("chat.postMessage", Reply.http(503))


def rate_limited_once(world: World) -> None:
    world.slack.script("chat.postMessage", Reply.rate_limited(1))


def slack_hangs_past_the_timeout(world: World) -> None:
    world.slack_timeout = 0.5
    world.slack.script("chat.postMessage", Reply.hang(5, posted=True))  # the first message: #regionerne


def party_channel_missing(world: World) -> None:
    world.slack._channels = {key: channel for key, channel in world.slack._channels.items()
                             if channel.name != "regionerne"}


def coordinators_channel_archived_too(world: World) -> None:
    party_channel_missing(world)
    next(c for c in world.slack._channels.values() if c.name == "koordinering").archived = True


def smtp_421(world: World) -> None:
    world.smtp.script.mail_reply = "421 4.3.2 Service shutting down"


def smtp_451_then_recovers(world: World) -> None:
    world.smtp.script.rcpt_reply = "451 4.3.0 Try again later"
    world.slack.script("chat.postMessage")  # nothing scripted: Slack works


def smtp_550_for_everyone(world: World) -> None:
    world.smtp.script.rcpt_reply = "550 5.1.1 No such user"


def smtp_drops_after_data(world: World) -> None:
    world.smtp.script.drop_after_data = True


def nothing_works(world: World) -> None:
    token_refused(world)
    smtp_550_for_everyone(world)


@dataclass(frozen=True)
class Row:
    fault: Callable[[World], None]
    slack: set[str]  # the Slack channels that received at least one message
    email: set[str]  # the addresses that received at least one e-mail
    coordinators_read: str = ""  # what the coordinators' report says (on Slack or by e-mail, as ``told_by``)
    told_by: str = ""  # "slack" or "email": how the coordinators hear of the failure; "" when nothing failed
    unreported: bool = False  # some message reached nobody, and nobody could be told
    states: dict[str, int] = field(default_factory=dict)  # outbox rows by final state (a subset)
    recover: Callable[[World], None] | None = None  # lift the fault part-way, as an outage ends


ROWS = {
    "no fault": Row(lambda world: None, slack={"#regionerne", "#taskforce"}, email={"sst@example.org"}),
    "Slack refuses the token": Row(
        token_refused, slack=set(),
        email={"regioner@example.org", "sst@example.org", "taskforce@example.org", "koordinator@example.org"},
        coordinators_read="did not accept the bot token (invalid_auth)", told_by="email"),
    "Slack answers 503 for hours": Row(
        slack_down_for_hours, slack=set(),
        email={"regioner@example.org", "sst@example.org", "taskforce@example.org", "koordinator@example.org"},
        coordinators_read="gave up after 6 attempts", told_by="email"),
    "Slack rate limits once": Row(rate_limited_once, slack={"#regionerne", "#taskforce"}, email={"sst@example.org"}),
    "Slack hangs past the client's timeout": Row(
        slack_hangs_past_the_timeout, slack={"#regionerne", "#taskforce", "#koordinering"},
        email={"sst@example.org"}, coordinators_read="may not have arrived", told_by="slack",
        states={"unknown": 2}),
    "the party's channel is gone": Row(
        party_channel_missing, slack={"#taskforce", "#koordinering"},
        email={"regioner@example.org", "sst@example.org"}, coordinators_read="channel_not_found", told_by="slack"),
    "and the coordinators' channel is archived": Row(
        coordinators_channel_archived_too, slack={"#taskforce"},
        email={"regioner@example.org", "sst@example.org", "koordinator@example.org"},
        coordinators_read="channel_not_found", told_by="email"),
    "SMTP 421 at MAIL, for hours": Row(
        smtp_421, slack={"#regionerne", "#taskforce", "#koordinering"}, email=set(),
        coordinators_read="gave up after 6 attempts", told_by="slack", states={"failed": 1}),
    "SMTP 451 at RCPT, then the server recovers": Row(
        smtp_451_then_recovers, slack={"#regionerne", "#taskforce"}, email={"sst@example.org"},
        recover=lambda world: setattr(world.smtp.script, "rcpt_reply", None)),
    "SMTP 550 at RCPT": Row(
        smtp_550_for_everyone, slack={"#regionerne", "#taskforce", "#koordinering"}, email=set(),
        coordinators_read="550 5.1.1", told_by="slack", states={"failed": 1}),
    "SMTP drops the connection after DATA": Row(
        smtp_drops_after_data, slack={"#regionerne", "#taskforce", "#koordinering"}, email={"sst@example.org"},
        coordinators_read="may not have arrived", told_by="slack", states={"unknown": 1}),
    "nothing works": Row(
        nothing_works, slack=set(), email=set(), unreported=True),
}


@pytest.mark.parametrize("case", list(ROWS), ids=list(ROWS))
def test_a_fault_and_who_hears_what(world: World, case: str, caplog: pytest.LogCaptureFixture) -> None:
    row = ROWS[case]
    row.fault(world)
    caplog.set_level(logging.ERROR, logger="tracker")
    if row.recover is not None:  # one sweep meets the fault, then it passes
        with using_language("en"):
            reports = [world.sweeper().sweep(MONDAY)]
        assert reports[0].retrying
        row.recover(world)
        reports += sweep_until_quiet(world, max(r.next_attempt_at or MONDAY for r in world.rows()))
    else:
        reports = sweep_until_quiet(world)
    posts, mails = world.slack_posts(), world.mails()
    assert set(posts) == row.slack, posts.keys()
    assert set(mails) == row.email, mails.keys()

    # The coordinators hear of every failure, by the route the row names.
    told = {"slack": posts.get("#koordinering", []), "email": mails.get("koordinator@example.org", [])}
    if row.told_by:
        assert told[row.told_by] and any(row.coordinators_read in text for text in told[row.told_by]), told
    else:
        assert not told["slack"] and not told["email"]
    failed_or_unknown = [r for r in world.rows() if r.state in (outbox.FAILED, outbox.UNKNOWN) and r.kind != "problem"]
    unreported = [line for report in reports for line in report.unreported]
    assert bool(unreported) == row.unreported, unreported
    if failed_or_unknown and not unreported:
        assert row.told_by, "a failure nobody was told of"
    if unreported:
        assert "undeliverable" in caplog.text  # logged at ERROR, with what failed
        assert not any(report.ok for report in reports[:1])

    # Nothing twice: no message posted or mailed twice, no notice delivered on two routes.
    for channel, texts in posts.items():
        assert len(texts) == len(set(texts)), f"a message was posted twice to {channel}"
    for address, texts in mails.items():
        assert len(texts) == len(set(texts)), f"a message was mailed twice to {address}"
    delivered = Counter(r.replaces or r.key for r in world.rows() if r.state == outbox.SENT)
    assert all(count == 1 for count in delivered.values()), delivered

    # Nothing lost: every notice ended delivered (itself or by a fallback), unknown, or failed and reported.
    replaced = {r.replaces for r in world.rows() if r.replaces and r.state == outbox.SENT}
    for r in world.rows():
        assert r.state in (outbox.SENT, outbox.FAILED, outbox.UNKNOWN, outbox.SKIPPED), (r.key, r.state)
        if r.state == outbox.FAILED and r.key not in replaced and r.kind != "problem":
            assert row.told_by or row.unreported, r.key
    states = Counter(r.state for r in world.rows() if r.kind != "problem" and not r.replaces)
    for state, count in row.states.items():
        assert states[state] == count, states

    # /healthz counts the notices that reached none of their recipients, by their route or an e-mail instead.
    with Session(open_engine(world.database_url)) as session:
        health = outbox.health(session, MONDAY + timedelta(days=1))
    assert health["undeliverable"] == sum(1 for r in world.rows() if r.state == outbox.FAILED and r.key not in replaced)
    assert health["unknown"] == sum(1 for r in world.rows() if r.state == outbox.UNKNOWN)


def test_with_slack_refusing_the_token_the_coordinators_get_an_email_on_the_same_sweep(world: World) -> None:
    token_refused(world)
    (report,) = [world.sweeper().sweep(MONDAY)]
    assert not report.ok and report.fallbacks >= 2 and not report.unreported
    mails = world.mails()
    (mail,) = mails["koordinator@example.org"]
    assert "could not be delivered" in mail and "SLACK_BOT_TOKEN" in mail
    assert "It was sent by e-mail to regioner@example.org instead." in mail
    assert "Late-effects clinics established" in mail  # names what the message was about
    assert mails["taskforce@example.org"]  # the digest, by e-mail


def test_what_reaches_nobody_shows_in_healthz_and_notify_run_exits_1(world: World, small_register: Path,
                                                                      tmp_path: Path) -> None:
    from tests.webserver import serving

    nothing_works(world)
    contacts = tmp_path / "contacts.toml"
    contacts.write_text('language = "en"\n[party.regionerne]\nslack = ["#regionerne"]\nemail = ["r@example.org"]\n'
                        '[coordinators]\nslack = ["#koordinering"]\nemail = ["k@example.org"]\n', encoding="utf-8")
    tracker = Tracker(world.database_url, small_register)
    env = {"SLACK_BOT_TOKEN": "xoxb-revoked-0000", "SLACK_API_URL": world.slack.base_url,
           "SMTP_URL": world.smtp.url(), "SMTP_FROM": SENDER, "TRACKER_CONTACTS": str(contacts)}
    result = tracker.fails("notify", "run", "--now", "2026-06-29T09:30", env=env)
    assert "Failed: " in result.output and "invalid_auth" in result.output
    assert "Reached nobody, and the coordinators could not be told: " in result.output
    assert "xoxb-revoked-0000" not in result.output
    with serving(world.database_url, MONDAY + timedelta(hours=1)) as base:
        health = httpx.get(f"{base}/healthz", timeout=10).json()
    assert health["status"] == "ok" and health["notify"]["undeliverable"] >= 1
    assert health["notify"]["window_days"] == 7
    # A week later the alarm has cleared by itself: the coordinators have had a week to act on it.
    with serving(world.database_url, MONDAY + timedelta(days=8)) as base:
        assert httpx.get(f"{base}/healthz", timeout=10).json()["notify"]["undeliverable"] == 0


def test_a_report_on_a_message_that_may_have_arrived_says_so_and_names_what_it_was_about(world: World) -> None:
    slack_hangs_past_the_timeout(world)
    sweep_until_quiet(world)
    (report,) = world.slack_posts()["#koordinering"]
    subject, _blank, first, *rest = report.splitlines()
    assert subject == "Cancer Plan V: 1 message may not have arrived"
    assert "could not be delivered" not in report
    assert first.startswith("The message “Cancer Plan V: 1 overdue deadline, 1 deadline coming up” to #regionerne (slack) "
                            "may not have arrived")
    assert "tracker notify retry slack/#regionerne/2026-06-29/" in report
    assert "It was about:" in rest
    assert any(line.startswith("• Late-effects clinics established: due tomorrow") for line in rest)
