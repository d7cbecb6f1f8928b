"""After a change, the feed service reads only what changed: the history says which deliverables did.

Every test compares the bytes a long-running service serves after the change
with those of a service started afresh on the same database: reading less
must never show less.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.calendar.support import ACTOR, BASE_URL, SYNC_NOW, make_feed, new_engine, set_status
from tracker.calendar.service import FeedService
from tracker.model import Status
from tracker.register import load_register, parse_register
from tracker.store.db import write_session
from tracker.store.operations import replan
from tracker.store.sync import sync_register

LATER = SYNC_NOW + timedelta(hours=2)  # the same day in Copenhagen


def served(service: FeedService, token: str, now=LATER) -> bytes:
    rendered = service.feed_for_token(token, now)
    assert rendered is not None
    return rendered.body


def fresh(engine: Engine, token: str, now=LATER) -> bytes:
    return served(FeedService(engine, BASE_URL), token, now)


@pytest.fixture
def shipped(database_url: str) -> Engine:
    engine = new_engine(database_url, None)
    yield engine
    engine.dispose()


def test_a_status_change_reads_that_deliverable_alone(plan_engine: Engine) -> None:
    token = make_feed(plan_engine, "hele-planen")
    service = FeedService(plan_engine, BASE_URL)
    before = served(service, token, SYNC_NOW)
    assert service.last_read is None  # the first refresh reads the whole plan

    set_status(plan_engine, "senfoelgeklinikker", Status.IN_PROGRESS, LATER, note="I gang <nu>")
    after = served(service, token)
    assert service.last_read == {"senfoelgeklinikker"}
    assert after != before and after == fresh(plan_engine, token)
    assert "I gang <nu>".encode() in after

    served(service, token)  # nothing changed since: nothing read, the same bytes
    assert service.last_read == {"senfoelgeklinikker"} and served(service, token) == after


def test_what_is_counted_from_a_changed_deliverable_is_read_with_it(shipped: Engine) -> None:
    """The template is due before the regions' first status: re-planning the status moves the template's basis."""
    token = make_feed(shipped, "hele-planen")
    service = FeedService(shipped, BASE_URL)
    served(service, token, SYNC_NOW)
    with write_session(shipped) as session:
        replan(session, "regional-status-til-sst", "én gang årligt fra andet kvartal 2026 og til og med 2030",
               reason="Aftalt på mødet", actor=ACTOR, now=LATER)
    after = served(service, token)
    assert {"regional-status-til-sst", "sst-skabelon-regional-status"} <= service.last_read
    assert len(service.last_read) < 10
    assert after == fresh(shipped, token)


def test_a_changed_party_name_reads_the_whole_plan(plan_engine: Engine, small_register: Path) -> None:
    token = make_feed(plan_engine, "hele-planen")
    service = FeedService(plan_engine, BASE_URL)
    served(service, token, SYNC_NOW)
    register = load_register(small_register)
    raw = small_register.read_bytes()
    party = next(iter(register.parties.values()))
    changed = parse_register(raw.replace(f'name = "{party.name}"'.encode(), b'name = "Omd\xc3\xb8bt part"', 1))
    with write_session(plan_engine) as session:
        assert sync_register(session, changed, LATER).changed
    after = served(service, token)
    assert service.last_read is None
    assert after == fresh(plan_engine, token)


def test_a_new_day_reads_the_whole_plan(plan_engine: Engine) -> None:
    token = make_feed(plan_engine, "hele-planen")
    service = FeedService(plan_engine, BASE_URL)
    served(service, token, SYNC_NOW)
    set_status(plan_engine, "senfoelgeklinikker", Status.IN_PROGRESS, LATER)
    tomorrow = SYNC_NOW + timedelta(days=1)
    assert served(service, token, tomorrow) == fresh(plan_engine, token, tomorrow)
    assert service.last_read is None
