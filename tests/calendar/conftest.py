"""Fixtures for the calendar tests: the small register in a database, and the process time zone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.calendar.support import copied_engine, new_engine
from tests.conftest import FIXTURES


@pytest.fixture(scope="session")
def small_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the small register synced at SYNC_NOW, copied by each test that needs it."""
    path = tmp_path_factory.mktemp("template") / "small.db"
    new_engine(f"sqlite:///{path}", FIXTURES / "register_small.toml").dispose()
    return path


@pytest.fixture
def plan_engine(database_url: str, small_register: Path, small_template: Path) -> Iterator[Engine]:
    """The small register synced at SYNC_NOW into a fresh database (SQLite, then PostgreSQL)."""
    if database_url.startswith("sqlite"):
        engine = copied_engine(database_url, small_template)
    else:
        engine = new_engine(database_url, small_register)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_plan(sqlite_url: str, small_template: Path) -> Iterator[Engine]:
    """The small register in SQLite, for tests whose subject is the rendering, not the database."""
    engine = copied_engine(sqlite_url, small_template)
    yield engine
    engine.dispose()


# (TZ value or None for unset, the UTC offset that proves it took effect in January)
PROCESS_ZONES = {
    "unset": (None, None),
    "UTC": ("UTC", 0),
    "America/Los_Angeles": ("America/Los_Angeles", -8),
    "Pacific/Kiritimati": ("Pacific/Kiritimati", 14),
}


@pytest.fixture(params=list(PROCESS_ZONES))
def process_tz(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The process runs with TZ set (or unset), as a server in another zone would; TRACKER_TIMEZONE is unset."""
    value, offset = PROCESS_ZONES[request.param]
    if value is None:
        monkeypatch.delenv("TZ", raising=False)
    else:
        monkeypatch.setenv("TZ", value)
    time.tzset()
    if offset is not None:
        local = datetime(2026, 1, 15, 12, 0).astimezone()
        assert local.utcoffset().total_seconds() == offset * 3600, "TZ did not take effect"
    yield request.param
    monkeypatch.undo()
    time.tzset()
