"""Golden feeds: representative feeds compared byte for byte with tests/golden/*.ics.

Each scenario syncs the small register (tests/fixtures/register_small.toml)
into a fresh database at SYNC_NOW, makes coordinator changes at fixed
instants, and serves one feed through ``FeedService`` at a fixed ``now`` with
the base URL ``BASE_URL``. Every scenario runs on SQLite and two also on
PostgreSQL: both must give the same bytes.

To regenerate after an intended change in the output::

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/calendar/test_golden.py

then look at ``git diff tests/golden`` and read every changed line: the files
are the reference for what subscribers receive (CRLF line ends, 75-octet
folding, TEXT escaping, Danish text). The PRODID carries the tracker version,
so a version bump regenerates them too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.calendar.support import (
    BASE_URL,
    EVAL,
    SENF,
    SMALL_UIDS,
    SYNC_NOW,
    UTC,
    copied_engine,
    events,
    make_feed,
    new_engine,
    parse_feed,
    sequence,
    set_status,
    status_uid,
)
from tracker.calendar.service import FeedService
from tracker.model import Status
from tracker.register import load_register
from tracker.store.db import write_session
from tracker.store.sync import sync_register

GOLDEN = Path(__file__).resolve().parents[1] / "golden"

MARCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MAY = datetime(2026, 5, 4, 11, 30, tzinfo=UTC)
JUNE = datetime(2026, 6, 1, 7, 15, tzinfo=UTC)
JULY = datetime(2026, 7, 15, 8, 0, tzinfo=UTC)
# Copenhagen midnight starting 1 April 2027 (CEST): the 2027 status, due 31 March, turns overdue.
APRIL_2027 = datetime(2027, 3, 31, 22, 0, tzinfo=UTC)

DONE_NOTE = "Alle fem regioner har åbnet klinik; se rapporten, side 3 — “Senfølger”, bilag A\\B."
RISK_NOTE = "Data fra 2026 mangler,\nafventer RKKP."
CANCEL_NOTE = "Erstattet af en national evaluering."


def changed_plan(engine: Engine, service: FeedService) -> None:
    """The coordinators' year: a co-owned deliverable done, one yearly report at risk, the evaluation cancelled.

    The service refreshes after each change, as the web process would at the
    next request, so each change gets its own SEQUENCE and LAST-MODIFIED.
    """
    service.refresh(SYNC_NOW)
    set_status(engine, "senfoelgeklinikker", Status.DONE, MARCH, note=DONE_NOTE)
    service.refresh(MARCH)
    set_status(engine, "regional-status", Status.AT_RISK, MAY, year=2027, note=RISK_NOTE)
    service.refresh(MAY)
    set_status(engine, "evaluering", Status.CANCELLED, JUNE, note=CANCEL_NOTE)
    service.refresh(JUNE)


def danish_party_feed(engine: Engine, register: Path, tmp_path: Path) -> bytes:
    """Regionerne's feed in July 2026: co-owned done, recurring, overdue (2026 status) and cancelled events."""
    token = make_feed(engine, "regionerne", parties=["regionerne"])
    service = FeedService(engine, BASE_URL)
    changed_plan(engine, service)
    calendar_body = service.feed_for_token(token, JULY).body  # type: ignore[union-attr]
    found = events(parse_feed(calendar_body))
    assert set(found) == SMALL_UIDS
    assert str(found[status_uid(2026)]["SUMMARY"]).startswith("⏰ Forsinket: ")
    assert str(found[EVAL]["STATUS"]) == "CANCELLED"
    assert [sequence(found[uid]) for uid in (SENF, status_uid(2026), status_uid(2027), status_uid(2028), EVAL)] \
        == [1, 1, 1, 0, 1]
    return calendar_body


def english_feed_with_alarm(engine: Engine, register: Path, tmp_path: Path) -> bytes:
    """The whole plan in English with a 7-day alarm, same state and day as the Danish feed."""
    token = make_feed(engine, "plan-en", language="en", alarm="7d")
    service = FeedService(engine, BASE_URL)
    changed_plan(engine, service)
    body = service.feed_for_token(token, JULY).body  # type: ignore[union-attr]
    found = events(parse_feed(body))
    with_alarm = {uid for uid, event in found.items() if event.walk("VALARM")}
    assert with_alarm == {status_uid(2026), status_uid(2027), status_uid(2028)}  # not the done or the cancelled
    return body


def overdue_only_feed(engine: Engine, register: Path, tmp_path: Path) -> bytes:
    """Overdue occurrences of the whole plan, the moment the 2027 status turns overdue."""
    token = make_feed(engine, "forsinkede", overdue_only=True)
    service = FeedService(engine, BASE_URL)
    changed_plan(engine, service)
    just_before = service.feed_for_token(token, APRIL_2027 - timedelta(seconds=1)).body  # type: ignore[union-attr]
    assert set(events(parse_feed(just_before))) == {status_uid(2026)}
    body = service.feed_for_token(token, APRIL_2027).body  # type: ignore[union-attr]
    assert set(events(parse_feed(body))) == {status_uid(2026), status_uid(2027)}
    return body


def english_theme_feed_with_withdrawn(engine: Engine, register: Path, tmp_path: Path) -> bytes:
    """A theme feed in English after the register dropped the evaluation: it stays, withdrawn (cancelled)."""
    token = make_feed(engine, "tema-7-en", themes=["anbefaling-7"], language="en")
    service = FeedService(engine, BASE_URL)
    service.refresh(SYNC_NOW)
    text = register.read_text(encoding="utf-8")
    trimmed = text[:text.index('[[deliverable]]\nid = "evaluering"')]
    smaller = tmp_path / "register.toml"
    smaller.write_text(trimmed, encoding="utf-8")
    with write_session(engine) as session:
        sync_register(session, load_register(smaller), MAY)
    body = service.feed_for_token(token, JUNE).body  # type: ignore[union-attr]
    withdrawn = events(parse_feed(body))[EVAL]
    assert str(withdrawn["STATUS"]) == "CANCELLED" and str(withdrawn["SUMMARY"]).startswith("Withdrawn: ")
    return body


SCENARIOS: dict[str, Callable[[Engine, Path, Path], bytes]] = {
    "da-party-regionerne.ics": danish_party_feed,
    "en-whole-plan-alarm-7d.ics": english_feed_with_alarm,
    "da-overdue-only.ics": overdue_only_feed,
    "en-theme-withdrawn.ics": english_theme_feed_with_withdrawn,
}


# Every scenario on SQLite; on PostgreSQL the two whose bytes depend most on stored revisions (sequences,
# LAST-MODIFIED read back as timestamptz, a day turning over): the same bytes must come out.
ON_POSTGRES = ("da-party-regionerne.ics", "da-overdue-only.ics")
CASES = [pytest.param(name, "sqlite", id=f"sqlite-{name}") for name in SCENARIOS] + [
    pytest.param(name, "postgresql", id=f"postgresql-{name}", marks=pytest.mark.postgres) for name in ON_POSTGRES]


@pytest.mark.parametrize(("filename", "backend"), CASES)
def test_feed_matches_its_golden_file(filename: str, backend: str, request: pytest.FixtureRequest,
                                      small_register: Path, small_template: Path, tmp_path: Path) -> None:
    if backend == "sqlite":
        engine = copied_engine(request.getfixturevalue("sqlite_url"), small_template)
    else:
        engine = new_engine(request.getfixturevalue("postgres_url"), small_register)
    try:
        body = SCENARIOS[filename](engine, small_register, tmp_path)
    finally:
        engine.dispose()
    path = GOLDEN / filename
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(body)
    assert path.is_file(), f"{path} is missing: run with UPDATE_GOLDEN=1 to create it, then review it"
    expected = path.read_bytes()
    if body != expected:
        # Show the first differing physical line rather than two walls of bytes.
        for number, (got, want) in enumerate(zip(body.split(b"\r\n"), expected.split(b"\r\n")), start=1):
            assert got == want, f"{filename} line {number} differs (UPDATE_GOLDEN=1 regenerates)"
        assert body == expected, f"{filename} differs in length (UPDATE_GOLDEN=1 regenerates)"
