"""`tracker config check`: every setting, what is missing for what, whether Slack and SMTP answer; no secret shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Tracker
from tests.notify.slack_standin import SlackStandIn
from tests.notify.smtp_server import SmtpServer

PASSWORD = "hemmeligt-pw"

# The test server takes a password over unencrypted loopback on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def test_a_working_deployment_checks_out_and_shows_no_secret(sqlite_url: str, small_register: Path,
                                                             tmp_path: Path) -> None:
    tracker = Tracker(sqlite_url, small_register)
    tracker.ok("sync")
    contacts = tmp_path / "contacts.toml"
    contacts.write_text('[party.sst]\nemail = ["sst@example.org"]\n', encoding="utf-8")
    with SlackStandIn() as slack, SmtpServer(credentials=("tracker", PASSWORD)) as smtp:
        env = {"SLACK_BOT_TOKEN": slack.token, "SLACK_API_URL": slack.base_url,
               "SMTP_URL": smtp.url(user="tracker", password=PASSWORD), "SMTP_FROM": "kraeftplan@example.dk",
               "TRACKER_CONTACTS": str(contacts), "TRACKER_BASE_URL": "https://tracker.example.dk"}
        output = tracker.ok("config", "check", env=env).output
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
