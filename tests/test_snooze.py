"""`tracker snooze`: a coordinator pauses an owner's reminders and alerts until a day, with a reason, and resumes
them; the history says who and why; bad input is refused with the fix."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from freezegun import freeze_time

from tests.conftest import Tracker

CPH = ZoneInfo("Europe/Copenhagen")


def test_a_pause_is_recorded_shown_and_lifted(tracker: Tracker) -> None:
    with freeze_time(datetime(2026, 7, 2, 10, tzinfo=CPH)):
        tracker.ok("sync")
        said = tracker.ok("snooze", "senfoelgeklinikker", "--until", "2026-08-01", "--reason",
                          "Venter på ministeriets svar.", "--by", "Karin").output
        assert "until 2026-08-01" in said and "escalations and the digest go on" in said
        shown = json.loads(tracker.ok("show", "senfoelgeklinikker", "--json").output)
        (entry,) = [h for h in shown["history"] if h["action"] == "snoozed"]
        assert (entry["new"], entry["note"], entry["actor"]) == ("2026-08-01", "Venter på ministeriets svar.", "Karin")
        tracker.lang = "da"
        assert "påmindelser til ejeren udsat til 1. august 2026" in tracker.ok("show", "senfoelgeklinikker").output
        tracker.lang = "en"
        assert "resumed" not in tracker.ok("show", "senfoelgeklinikker").output
        assert "again" in tracker.ok("snooze", "senfoelgeklinikker", "--clear").output
        assert "reminders to the owner resumed" in tracker.ok("show", "senfoelgeklinikker").output
        assert "is not paused: there is nothing to resume" in tracker.fails("snooze", "senfoelgeklinikker",
                                                                             "--clear").output
        tracker.ok("status", "senfoelgeklinikker", "in_progress", "--note", "I gang.")
        tracker.ok("status", "senfoelgeklinikker", "done", "--note", "Leveret.")
        assert "nothing to pause" in tracker.fails("snooze", "senfoelgeklinikker", "--until", "2026-08-01",
                                                   "--reason", "x").output


def usage_error(tracker: Tracker, *args: str) -> str:
    result = tracker(*args)
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    return result.output


def test_a_pause_needs_a_later_day_and_a_reason(tracker: Tracker) -> None:
    with freeze_time(datetime(2026, 7, 2, 10, tzinfo=CPH)):
        tracker.ok("sync")
        assert "or --clear to resume" in usage_error(tracker, "snooze", "senfoelgeklinikker")
        assert "or --clear to resume" in usage_error(tracker, "snooze", "senfoelgeklinikker", "--clear", "--until",
                                                     "2026-08-01")
        assert "say why it waits" in usage_error(tracker, "snooze", "senfoelgeklinikker", "--until", "2026-08-01")
        assert "is not after today (2026-07-02)" in usage_error(
            tracker, "snooze", "senfoelgeklinikker", "--until", "2026-07-02", "--reason", "x")
        unknown = tracker.fails("snooze", "senfoelgeklinik", "--until", "2026-08-01", "--reason", "x").output
        assert "senfoelgeklinikker" in unknown  # the closest id is suggested
        assert "Traceback" not in unknown
