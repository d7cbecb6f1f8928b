"""Helpers for the calendar tests: a database with a register in it, feeds, and an independent reader.

Every feed a test produces is read back with ``icalendar`` and
``recurring_ical_events`` (libraries other than the ``ics`` package that
writes it), after checking the octets of each physical line.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import recurring_ical_events
from icalendar import Calendar, Event
from sqlalchemy.engine import Engine
from sqlmodel import select

from tracker.calendar.service import FeedService
from tracker.model import Status
from tracker.register import load_register
from tracker.store.db import open_engine, read_session, write_session
from tracker.store.feeds import create_feed
from tracker.store.migrate import upgrade
from tracker.store.operations import change_status
from tracker.store.sync import sync_register
from tracker.store.tables import CalendarEventRow

BASE_URL = "https://kraeftplan.example/tracker"
SYNC_NOW = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
ACTOR = "koordinator@example.dk"

SENF = "senfoelgeklinikker@kraeftplan-v.tracker"
EVAL = "evaluering@kraeftplan-v.tracker"


def status_uid(year: int) -> str:
    return f"regional-status/{year}@kraeftplan-v.tracker"


SMALL_UIDS = {SENF, EVAL, status_uid(2026), status_uid(2027), status_uid(2028)}


def new_engine(url: str, register: Path | str | None, now: datetime = SYNC_NOW) -> Engine:
    """A migrated database with ``register`` synced into it at ``now``."""
    engine = open_engine(url)
    upgrade(engine)
    with write_session(engine) as session:
        sync_register(session, load_register(register), now)
    return engine


def copied_engine(url: str, template: Path) -> Engine:
    """A SQLite database at ``url`` that starts as a copy of ``template`` (quicker than migrating and syncing)."""
    assert url.startswith("sqlite:///")
    shutil.copyfile(template, url.removeprefix("sqlite:///"))
    return open_engine(url)


def make_feed(engine: Engine, name: str, *, parties: Iterable[str] = (), themes: Iterable[str] = (),
              overdue_only: bool = False, alarm: str | None = None, language: str = "da",
              now: datetime = SYNC_NOW) -> str:
    with write_session(engine) as session:
        _, token = create_feed(session, name, parties=list(parties), themes=list(themes), overdue_only=overdue_only,
                               alarm=alarm, language=language, actor=ACTOR, now=now)
    return token


def set_status(engine: Engine, deliverable_id: str, status: Status, now: datetime, *, note: str = "Opdateret.",
               year: int | None = None) -> None:
    with write_session(engine) as session:
        change_status(session, deliverable_id, status, note=note, actor=ACTOR, now=now, year=year)


def stored_sequences(engine: Engine) -> dict[str, int]:
    with read_session(engine) as session:
        return {row.uid: row.sequence for row in session.exec(select(CalendarEventRow))}


def feed(service: FeedService, token: str, now: datetime, alarm: str | None = None) -> Calendar:
    rendered = service.feed_for_token(token, now, alarm)
    assert rendered is not None
    calendar = parse_feed(rendered.body)
    assert rendered.event_count == len(calendar.walk("VEVENT"))
    return calendar


def parse_feed(body: bytes) -> Calendar:
    """The feed read by icalendar, after checking CRLF, 75-octet lines and UTF-8 line by line."""
    assert body.endswith(b"\r\n")
    lines = body.split(b"\r\n")[:-1]
    for line in lines:
        assert len(line) <= 75, line
        assert b"\r" not in line and b"\n" not in line, line
        line.decode("utf-8")  # strict: no character split across physical lines
    calendar = Calendar.from_ical(body)
    assert calendar.name == "VCALENDAR"
    return calendar


def unescape(value: str) -> str:
    """TEXT unescaping (RFC 5545 §3.3.11), written independently of the code under test."""
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] in "nN" else m[1], value, flags=re.DOTALL)


def x_text(component: Calendar, name: str) -> str:
    """An X- property read as TEXT, its default type (icalendar leaves X- values escaped)."""
    return unescape(component[name].to_ical().decode("utf-8"))


def events(calendar: Calendar) -> dict[str, Event]:
    found = {}
    for event in calendar.walk("VEVENT"):
        uid = str(event["UID"])
        assert uid not in found, f"duplicate UID {uid}"
        found[uid] = event
    return found


def summary(calendar: Calendar, uid: str) -> str:
    return str(events(calendar)[uid]["SUMMARY"])


def sequence(event: Event) -> int:
    return int(event["SEQUENCE"])


def day_span(event: Event) -> tuple[date, date]:
    """DTSTART and DTEND, checked to be DATE values (all-day), not DATE-TIMEs."""
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert type(start) is date and type(end) is date, (start, end)
    assert event["DTSTART"].params.get("VALUE") == "DATE"
    return start, end


def instances_on(calendar: Calendar, day: date) -> set[str]:
    """The UIDs recurring_ical_events shows on ``day``."""
    return {str(event["UID"]) for event in recurring_ical_events.of(calendar).at(day)}


def all_instances(calendar: Calendar) -> list[Event]:
    return list(recurring_ical_events.of(calendar).between(date(2000, 1, 1), date(2100, 1, 1)))


def assert_all_day(calendar: Calendar, uid: str, due: date) -> None:
    """The event is the due day exactly: DTSTART that day, DTEND the next, and shown on that day only."""
    assert day_span(events(calendar)[uid]) == (due, due + timedelta(days=1))
    assert uid in instances_on(calendar, due)
    assert uid not in instances_on(calendar, due - timedelta(days=1))
    assert uid not in instances_on(calendar, due + timedelta(days=1))
