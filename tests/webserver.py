"""The web process on a loopback port, for its tests: a real `tracker serve` process, or its app in a thread.

``start_server`` runs `tracker serve` as a user would; ``serving`` runs the
same app (``tracker.web.create_app``) under uvicorn in a thread of the test
process, with the clock fixed where the test says, fetched over real HTTP.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.conftest import FIXTURES, free_port
from tracker.calendar.service import FeedService
from tracker.dashboard.access import Access
from tracker.store.db import open_engine
from tracker.web import create_app

TRACKER = Path(sys.executable).parent / "tracker"
SMALL_REGISTER = FIXTURES / "register_small.toml"
STARTUP_SECONDS = 20.0
POLL_SECONDS = 0.02


def wait_for(condition: Callable[[], object], what: str, timeout: float = 10.0) -> object:
    """Poll ``condition`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(POLL_SECONDS)


@dataclass
class Server:
    """One `tracker serve` process and where its output goes."""

    process: subprocess.Popen
    base_url: str
    stdout: Path
    stderr: Path
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.base_url, timeout=10.0)

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return self.client.get(path, **kwargs)  # type: ignore[arg-type]

    def head(self, path: str, **kwargs: object) -> httpx.Response:
        return self.client.head(path, **kwargs)  # type: ignore[arg-type]

    def log(self) -> str:
        """Everything the process wrote so far: the access log is on stdout, the rest on stderr."""
        return self.stdout.read_text(encoding="utf-8", errors="replace") + \
            self.stderr.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def server_environment(database_url: str, base_url: str, register: Path) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items()
                   if key != "DATABASE_URL" and not key.startswith("TRACKER_")}
    environment.update(DATABASE_URL=database_url, TRACKER_REGISTER=str(register),
                       TRACKER_BASE_URL=base_url, PYTHONUNBUFFERED="1")
    return environment


def start_server(database_url: str, directory: Path, *extra: str, public_url: str | None = None,
                 env: dict[str, str] | None = None, register: Path = SMALL_REGISTER) -> Server:
    """Start `tracker serve` on a free loopback port and wait until /healthz answers ok.

    TRACKER_BASE_URL is the server's own address unless ``public_url`` says
    otherwise; ``env`` adds to (or overrides) the server's environment.
    """
    for _attempt in range(3):  # a free port can be taken between choosing and binding it
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        stdout, stderr = directory / f"serve-{port}.out", directory / f"serve-{port}.err"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(
                [str(TRACKER), "serve", "--host", "127.0.0.1", "--port", str(port), *extra],
                env={**server_environment(database_url, public_url or base_url, register), **(env or {})},
                stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        server = Server(process, base_url, stdout, stderr)
        deadline = time.monotonic() + STARTUP_SECONDS
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if server.get("/healthz").status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            time.sleep(POLL_SECONDS)
        server.stop()
        if "address already in use" not in server.log().lower():
            pytest.fail(f"`tracker serve` did not come up (exit {process.returncode}):\n{server.log()}")
    pytest.fail("`tracker serve` found no free port in three attempts")


@contextmanager
def serving(database_url: str, now: datetime, access: Access | None = None,
            base_url: str | None = None, interactions: object = None) -> Iterator[str]:
    """uvicorn on a free loopback port serving the web app; yields its base URL. ``interactions``: a
    ``SlackInteractions``, or a function of the engine that makes one."""
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    engine = open_engine(database_url)
    service = FeedService(engine, base_url or address)
    if callable(interactions):
        interactions = interactions(engine)
    app = create_app(service, clock=lambda: now, access=access, interactions=interactions)  # type: ignore[arg-type]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield address
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()
