"""Shared fixtures: real SQLite files, a real PostgreSQL server, and the CLI.

PostgreSQL comes from Debian's packages (`apt-get install postgresql`); the
tests start a throwaway cluster of their own on loopback and create a fresh
database for every test. Without the server binaries the PostgreSQL tests skip
on a laptop, but fail when ``CI`` is set: there they must run.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tracker.i18n import set_language

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees the developer's database, register, language or terminal settings."""
    for name in ("DATABASE_URL", "TRACKER_REGISTER", "TRACKER_LANG", "TRACKER_HOME", "TRACKER_TIMEZONE",
                 "TRACKER_LOCK_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    # slack-sdk would send even requests to the Slack stand-in on loopback through a configured proxy.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    set_language(None)
    yield
    set_language(None)


@pytest.fixture
def english() -> Iterator[None]:
    """Messages in English for the test's duration (``pytestmark = pytest.mark.usefixtures("english")``)."""
    set_language("en")
    yield
    set_language(None)


@pytest.fixture
def small_register() -> Path:
    """A small register with a one-off, a recurring and a dependent deliverable."""
    return FIXTURES / "register_small.toml"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tracker.db'}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_bindir() -> str | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(candidate, "initdb")):
            return candidate
    initdb = shutil.which("initdb")
    return os.path.dirname(os.path.realpath(initdb)) if initdb else None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The base URL of a PostgreSQL server on loopback, started for this test session."""
    external = os.environ.get("TRACKER_TEST_POSTGRES_URL")
    if external:
        yield external.rstrip("/") + "/"
        return
    bindir = _postgres_bindir()
    if bindir is None:
        _unavailable("no initdb found; install Debian's postgresql package")
    base = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
    # initdb refuses to run as root; CI runs as root, so the cluster belongs to
    # the postgres user that Debian's package creates.
    run_as: list[str] = []
    if os.geteuid() == 0:
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(base, "postgres", "postgres")
    data = base / "data"
    port = free_port()

    def run(*args: str) -> None:
        subprocess.run(run_as + list(args), check=True, capture_output=True, timeout=120)

    try:
        run(f"{bindir}/initdb", "-D", str(data), "-U", "tracker", "--auth=trust", "-E", "UTF8", "--no-locale")
        run(f"{bindir}/pg_ctl", "-D", str(data), "-l", str(base / "server.log"), "-w", "-t", "60", "-o",
            f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off -c full_page_writes=off", "start")
    except (subprocess.CalledProcessError, FileNotFoundError) as error:
        output = getattr(error, "stderr", b"") or b""
        _unavailable(f"could not start a cluster: {error} {output.decode(errors='replace')}")
    try:
        yield f"postgresql+psycopg://tracker@127.0.0.1:{port}/"
    finally:
        subprocess.run(run_as + [f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = postgres_server.replace("postgresql+psycopg://", "postgresql://") + "postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server + name
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes this runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


class Tracker:
    """Runs `tracker` in-process with a given database, as a coordinator would type it."""

    def __init__(self, database_url: str, register: Path | None = None, lang: str = "en"):
        self.database_url = database_url
        self.register = register
        self.lang = lang
        self.runner = CliRunner()

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        from tracker.cli import cli

        environment = {"DATABASE_URL": self.database_url}
        if self.register is not None:
            environment["TRACKER_REGISTER"] = str(self.register)
        environment.update(env or {})
        result = self.runner.invoke(cli, ["--lang", self.lang, *args], env=environment, catch_exceptions=False)
        set_language(None)
        return result

    def ok(self, *args: str, env: dict[str, str] | None = None) -> Result:
        result = self(*args, env=env)
        assert result.exit_code == 0, f"tracker {' '.join(args)} failed ({result.exit_code}):\n{result.output}"
        return result

    def fails(self, *args: str, env: dict[str, str] | None = None) -> Result:
        result = self(*args, env=env)
        assert result.exit_code == 1, f"tracker {' '.join(args)} should exit 1, got {result.exit_code}:\n" \
                                      f"{result.output}"
        assert "Traceback" not in result.output
        return result


@pytest.fixture
def tracker(sqlite_url: str, small_register: Path) -> Tracker:
    """`tracker` on a fresh SQLite file with the small register."""
    return Tracker(sqlite_url, small_register)


@pytest.fixture
def synced(tracker: Tracker) -> Tracker:
    tracker.ok("sync")
    return tracker
