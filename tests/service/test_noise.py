"""The noise budget: messages per recipient and week, the quiet weeks counted, over the budget flagged."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.conftest import Tracker
from tracker.service.noise import Sent, noise

CPH = ZoneInfo("Europe/Copenhagen")


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CPH)


def test_messages_are_counted_per_week_with_the_quiet_weeks_and_over_the_budget_flagged() -> None:
    monday = date(2026, 3, 23)  # the week before summer time begins (Sunday 29 March)
    sent = [Sent(at(monday), "slack", "#sst", "m1"), Sent(at(monday), "slack", "#sst", "m1"),  # two items, one message
            Sent(at(monday + timedelta(days=2)), "slack", "#sst", "m2"),
            Sent(at(monday + timedelta(days=6), 23), "slack", "#sst", "m3"),  # Sunday 23:00 CEST: still that week
            Sent(at(monday + timedelta(days=14)), "email", "kl@example.org", "m4")]
    sst, kl = noise(sent, monday, monday + timedelta(days=27), budget=2, zone=CPH)
    assert (sst.recipient, sst.messages, sst.notices, sst.max_per_week, sst.weeks_over, sst.max_per_day) == (
        "#sst", 3, 4, 3, 1, 1)
    assert sst.median_per_week == 0.0  # four weeks, three of them quiet
    assert (kl.messages, kl.max_per_week, kl.weeks_over) == (1, 1, 0)


def test_simulate_reports_the_noise_budget_per_recipient(sqlite_url: str) -> None:
    tracker = Tracker(sqlite_url)
    text = tracker.ok("simulate", "--from", "2026-06-01", "--to", "2026-07-31", "--per-recipient").output
    assert "Messages per recipient and week (budget: 2 a week):" in text and "median" in text
    report = json.loads(tracker.ok("simulate", "--from", "2026-06-01", "--to", "2026-07-31", "--per-recipient",
                                   "--json").output)
    assert report["max_messages_per_week"] == 2 and report["recipients"]
    first = report["recipients"][0]
    assert {"channel", "recipient", "messages", "notices", "median_per_week", "max_per_week", "weeks_over_budget",
            "max_per_day"} <= set(first)
    assert first["messages"] == max(r["messages"] for r in report["recipients"])
    tracker.lang = "da"
    assert "Beskeder pr. modtager og uge" in tracker.ok("simulate", "--from", "2026-06-01", "--to", "2026-06-30",
                                                         "--per-recipient").output
