"""Opening the database: where it is, how it is locked, and what its errors mean.

SQLite is the embedded default; ``DATABASE_URL`` points at PostgreSQL (or
another SQLite file) instead. Every database error a user can cause becomes a
``StoreError`` whose message names the database (never its password) and the
fix.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlmodel import Session

from tracker.errors import DatabaseLockedError, SchemaError, StoreError
from tracker.i18n import _

# The newest migration in migrations/versions. A test checks that it is
# Alembic's head, so commands can check the schema without importing Alembic.
SCHEMA_REVISION = "0011_members"

# How long a write waits for the service to release SQLite's lock before
# giving up with a message. Long enough for any sweep, short enough for a person.
DEFAULT_LOCK_TIMEOUT_SECONDS = 10.0


# Set once per process start: a container restarted as pid 1 on the same host is another process all the same,
# and must not mistake the dead one's lease and claims for its own.
_STARTED = secrets.token_hex(3)


def this_process() -> str:
    """``host:pid:start``: how a row names the process that holds it (the clock's lease, an outbox claim)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_STARTED}"


def default_sqlite_path() -> Path:
    """``$TRACKER_HOME/tracker.db``, else ``$XDG_DATA_HOME/tracker/tracker.db`` (~/.local/share)."""
    home = os.environ.get("TRACKER_HOME")
    if home:
        return Path(home) / "tracker.db"
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "tracker" / "tracker.db"


def resolve_url(url: str | None = None) -> str:
    """The SQLAlchemy URL to use: ``url``, else the default SQLite file.

    Platform-style ``postgres://`` and plain ``postgresql://`` URLs use psycopg 3.
    """
    if not url:
        return f"sqlite:///{default_sqlite_path()}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def display_url(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL is shown by its scheme only
        return url.split(":", 1)[0] + ":…"


def open_engine(url: str | None = None, lock_timeout: float | None = None) -> Engine:
    """An engine for ``url`` (see ``resolve_url``), with tracker's connection settings."""
    resolved = resolve_url(url)
    try:
        parsed = make_url(resolved)
    except Exception:
        raise StoreError(_(
            "The database URL {url} cannot be read. Use sqlite:///PATH or "
            "postgresql://USER:PASSWORD@HOST/NAME in DATABASE_URL."
        ).format(url=display_url(resolved))) from None
    if lock_timeout is None:
        lock_timeout = float(os.environ.get("TRACKER_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT_SECONDS))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(resolved, parsed.database, lock_timeout)
    try:
        return create_engine(resolved, pool_pre_ping=True)
    except Exception as error:  # e.g. a driver that is not installed
        raise StoreError(_("Cannot use the database {url}: {error}").format(
            url=display_url(resolved), error=error)) from None


def _sqlite_engine(url: str, database: str | None, lock_timeout: float) -> Engine:
    if database and database != ":memory:":
        path = Path(database)
        if url == f"sqlite:///{default_sqlite_path()}":
            path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": lock_timeout})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin,
        # so a write can take the lock up front (BEGIN IMMEDIATE) and either do
        # all of its work or none of it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(lock_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        mode = connection.get_execution_options().get("tracker_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def translate_errors(engine: Engine) -> Iterator[None]:
    """Turn driver errors into StoreErrors that say what to do."""
    url = engine.url.render_as_string(hide_password=True)
    try:
        yield
    except OperationalError as error:
        raise _operational_error(engine, url, error) from None
    except ProgrammingError as error:
        raise StoreError(_("The database {url} refused a query ({error}). Run `tracker db upgrade`.")
                         .format(url=url, error=_first_line(error))) from None
    except DBAPIError as error:
        raise StoreError(_("The database {url} failed: {error}").format(url=url, error=_first_line(error))) from None


def _first_line(error: Exception) -> str:
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__


def _operational_error(engine: Engine, url: str, error: OperationalError) -> StoreError:
    detail = _first_line(error)
    if engine.dialect.name == "sqlite":
        if "locked" in detail or "busy" in detail:
            return DatabaseLockedError(_(
                "The database {url} is locked by another process, most likely the running tracker "
                "service. Nothing was changed. Try again in a moment; if it stays locked, check "
                "for a stuck `tracker` process."
            ).format(url=url))
        if "unable to open" in detail or "readonly" in detail or "disk I/O" in detail:
            return StoreError(_(
                "Cannot open the database file {url} ({detail}). Check that its folder exists and "
                "is writable, or point DATABASE_URL at another file (sqlite:///PATH)."
            ).format(url=url, detail=detail))
        if "no such table" in detail:
            return SchemaError(_("The database {url} has no tracker tables yet. Run `tracker sync` first.")
                               .format(url=url))
    return StoreError(_("Cannot use the database {url}: {detail}. Check DATABASE_URL and that the server runs.")
                      .format(url=url, detail=detail))


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at, or None when it has no tracker schema."""
    with translate_errors(engine), engine.connect() as connection:
        has_table = engine.dialect.has_table(connection, "alembic_version")
        if not has_table:
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def check_schema(engine: Engine) -> None:
    """Raise SchemaError unless the database is at this version's schema."""
    revision = current_revision(engine)
    url = engine.url.render_as_string(hide_password=True)
    if revision is None:
        raise SchemaError(_("The database {url} has no tracker tables yet. Run `tracker sync` to create "
                            "them and load the register.").format(url=url))
    if revision != SCHEMA_REVISION:
        raise SchemaError(_("The database {url} is at schema {found}, this tracker expects {expected}. "
                            "Run `tracker db upgrade` (or upgrade tracker if the database is newer).")
                          .format(url=url, found=revision, expected=SCHEMA_REVISION))


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with translate_errors(engine), Session(engine) as session:
        yield session


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction takes the write lock first and commits all or nothing."""
    immediate = engine.execution_options(tracker_begin="IMMEDIATE") if engine.dialect.name == "sqlite" else engine
    with translate_errors(engine), Session(immediate) as session:
        with session.begin():
            yield session


def upsert_insert(session: Session) -> Any:
    """The dialect's ``insert`` construct, which has ``on_conflict_do_nothing`` on PostgreSQL and SQLite alike."""
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
