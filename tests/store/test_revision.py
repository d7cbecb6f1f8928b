"""The change markers a long-running process polls: every change moves them, nothing else does."""

from __future__ import annotations

from tests.conftest import Tracker
from tracker.store import revision
from tracker.store.db import open_engine


def _markers(url: str) -> revision.Revisions:
    with open_engine(url).connect() as connection:
        return revision.read(connection)


def test_every_plan_change_moves_the_plan_marker_and_nothing_else_does(database_url: str, small_register) -> None:
    tracker = Tracker(database_url, small_register)
    tracker.ok("sync")
    seen = [_markers(database_url)]
    assert seen[0].plan not in ("", "0")  # the first sync changed the plan

    tracker.ok("sync")  # an unchanged register writes no history and moves nothing
    assert _markers(database_url) == seen[-1]
    tracker.ok("list")
    assert _markers(database_url) == seen[-1]

    for command in (
        ("status", "senfoelgeklinikker", "in_progress", "--note", "started"),
        ("note", "evaluering", "a note"),
        ("replan", "evaluering", "Q2 2029", "--reason", "moved"),
    ):
        tracker.ok(*command)
        now = _markers(database_url)
        assert now.plan not in {marker.plan for marker in seen}, command
        assert now.feeds == seen[-1].feeds, command
        seen.append(now)


def test_creating_and_revoking_a_feed_moves_the_feeds_marker_only(database_url: str, small_register) -> None:
    tracker = Tracker(database_url, small_register)
    tracker.ok("sync")
    before = _markers(database_url)
    tracker.ok("feed", "create", "--name", "alle")
    created = _markers(database_url)
    assert created.plan == before.plan and created.feeds != before.feeds
    tracker.ok("feed", "revoke", "alle")
    revoked = _markers(database_url)
    assert revoked.plan == before.plan and revoked.feeds not in (before.feeds, created.feeds)


def test_a_failed_change_leaves_the_markers_alone(sqlite_url: str, small_register) -> None:
    tracker = Tracker(sqlite_url, small_register)
    tracker.ok("sync")
    before = _markers(sqlite_url)
    tracker.fails("status", "senfoelgeklinikker", "not_started", "--note", "same status")
    tracker.fails("feed", "create", "--name", "x", "--party", "nobody")
    assert _markers(sqlite_url) == before
