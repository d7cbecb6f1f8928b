"""The dashboard served by a real uvicorn on a loopback port, with the clock fixed where the test says.

The app is the one `tracker serve` runs (``tracker.web.create_app``), given a
fixed clock so that "overdue" and "today" do not depend on when the tests
run; uvicorn runs it in a thread of the test process and is fetched over
real HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import FIXTURES, Tracker
from tests.webserver import serving

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
# A day with overdue work in the small register: the clinics were due by the end of June 2026.
MEETING = datetime(2026, 11, 23, 10, 0, tzinfo=COPENHAGEN)
HOSTILE_TITLE = 'Evaluering <script>alert("x")</script> & <b>co</b>'
INTERNAL_NOTE = "Intern note: <i>budget</i> & tidsplan ændret"


@pytest.fixture
def hostile_register(tmp_path: Path) -> Path:
    """The small register with markup in a title, as a careless or hostile edit could put there."""
    text = (FIXTURES / "register_small.toml").read_text(encoding="utf-8")
    path = tmp_path / "register.toml"
    path.write_text(text.replace('title = "Evaluering af forsøgsordningen"',
                                 "title = '" + HOSTILE_TITLE + "'"), encoding="utf-8")
    return path


@pytest.fixture
def board(database_url: str, hostile_register: Path) -> str:
    """A synced database with some history: a status with an internal note, and a re-plan."""
    tracker = Tracker(database_url, hostile_register)
    tracker.ok("sync")
    tracker.ok("status", "regional-status", "in_progress", "--occurrence", "2026", "--note", INTERNAL_NOTE,
               "--evidence", "https://example.org/status.pdf", "--by", "Mette Koordinator")
    tracker.ok("replan", "evaluering", "2029-06-30", "--reason", "Ny tidsplan", "--by", "Mette Koordinator")
    return database_url


@pytest.fixture
def serve() -> Callable[..., object]:
    return serving


def get(base: str, path: str, **kwargs: object) -> httpx.Response:
    with httpx.Client(base_url=base, timeout=10) as client:
        return client.get(path, **kwargs)  # type: ignore[arg-type]
