"""`tracker config check`: every setting, what is missing for what, whether Slack and SMTP answer; no secret shown."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import Tracker
from tests.notify.slack_standin import SlackStandIn
from tests.notify.smtp_server import SmtpServer
from tests.webserver import free_port, serving

PASSWORD = "hemmeligt-pw"

# The test server takes a password over unencrypted loopback on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def test_a_working_deployment_checks_out_and_shows_no_secret(sqlite_url: str, small_register: Path,
                                                             tmp_path: Path) -> None:
    tracker = Tracker(sqlite_url, small_register)
    tracker.ok("sync")
    contacts = tmp_path / "contacts.toml"
    contacts.write_text('[party.sst]\nemail = ["sst@example.org"]\n', encoding="utf-8")
    with SlackStandIn() as slack, SmtpServer(credentials=("tracker", PASSWORD)) as smtp, \
            serving(sqlite_url, datetime(2026, 12, 2, 9, tzinfo=UTC)) as web:  # on loopback: http will do
        env = {"SLACK_BOT_TOKEN": slack.token, "SLACK_API_URL": slack.base_url,
               "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
               "SMTP_URL": smtp.url(user="tracker", password=PASSWORD), "SMTP_FROM": "kraeftplan@example.dk",
               "TRACKER_CONTACTS": str(contacts), "TRACKER_BASE_URL": web}
        output = tracker.ok("config", "check", env=env).output
    assert "the web process answers there" in output and "8f742231" not in output
    assert "Slack answers: the workspace Kræftplan V, as tracker" in output
    assert "the SMTP server answers" in output and "250" in output
    assert "1 parties with contacts" in output and "3 deliverables, valid" in output
    assert slack.token not in output and PASSWORD not in output and "tracker:***@" in output
    assert "PROBLEM" not in output


def test_what_is_missing_is_said_and_what_is_wrong_fails(sqlite_url: str, small_register: Path) -> None:
    tracker = Tracker(sqlite_url, small_register)
    tracker.ok("sync")
    bare = tracker.ok("config", "check", "--offline").output
    assert "no Slack: set it" in bare and "no e-mail: set it" in bare and "reminders are printed" in bare
    with SlackStandIn(token="xoxb-the-right-one") as slack:
        broken = tracker.fails("config", "check", env={
            "SLACK_BOT_TOKEN": "xoxb-a-wrong-token", "SLACK_API_URL": slack.base_url,
            "TRACKER_TIMEZONE": "Mars/Olympus", "PORT": "http"}).output
    assert "SLACK_BOT_TOKEN" in broken and "invalid_auth" in broken and "xoxb-a-wrong-token" not in broken
    # One source of the plan's zone: the register's. The old setting is named so it gets removed.
    assert "Mars/Olympus" in broken and "no longer read" in broken and "must be a number" in broken
    unsynced = Tracker(f"sqlite:///{Path(sqlite_url[10:]).parent / 'empty.db'}", small_register)
    assert "Run `tracker sync`" in unsynced.fails("config", "check", "--offline").output


def test_answer_links_need_an_https_address_that_answers(sqlite_url: str, small_register: Path) -> None:
    tracker = Tracker(sqlite_url, small_register)
    tracker.ok("sync")
    with SmtpServer() as smtp:
        mail = {"SMTP_URL": smtp.url(), "SMTP_FROM": "kraeftplan@example.dk"}
        plain = tracker.fails("config", "check", "--offline",
                              env={**mail, "TRACKER_BASE_URL": "http://tracker.example.dk"}).output
        assert "must be https" in plain
        port = free_port()  # nothing listens there
        gone = tracker.fails("config", "check", env={**mail, "TRACKER_BASE_URL": f"http://127.0.0.1:{port}"}).output
        assert f"cannot reach http://127.0.0.1:{port}/healthz" in gone and "tracker serve" in gone
    with SlackStandIn() as slack:  # a web server, but not tracker's: its /healthz is a 404
        other = tracker.fails("config", "check", env={"TRACKER_BASE_URL": f"http://127.0.0.1:{slack.port}"}).output
        assert "answers HTTP 404, not as tracker's web process" in other
        half = tracker.fails("config", "check", "--offline", env={"SLACK_SIGNING_SECRET": "s" * 32}).output
        assert "SLACK_BOT_TOKEN is not: the buttons need both" in half
