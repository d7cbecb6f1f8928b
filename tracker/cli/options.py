"""What several commands share: the parameter types, the options, and the few steps every command takes.

Nothing here imports SQLAlchemy or the features at module level: `tracker
--help` and `tracker validate` must not pay for them (bench/cli_startup.py).
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import click

from tracker.i18n import _, current_language

DEFAULT_PORT = 8000
DEFAULT_CLOCK_INTERVAL = 60.0  # seconds between the clock's ticks


class DateType(click.ParamType):
    """A day as Danes write it too: 2026-12-31, 31/12/2026, 31.12.2026, 31-12-2026 (tracker.deadlines.parse_day)."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        from tracker.deadlines import parse_day
        from tracker.errors import DeadlineError

        try:
            return parse_day(value)
        except DeadlineError:
            self.fail(_("{value!r} is not a day; write it as 2026-12-31, 31/12/2026, 31.12.2026 or 31-12-2026.")
                      .format(value=value), param, ctx)


DATE = DateType()


class StatusType(click.ParamType):
    """A status in Danish or English, in any case, words joined by "-", "_" or a space (Status.parse)."""

    name = "STATUS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from tracker.model import Status

        if isinstance(value, Status):
            return value
        try:
            return Status.parse(value)
        except ValueError:
            forms = ", ".join(f"{status.label} ({status.value})" for status in Status)
            self.fail(_("{value!r} is not a status. Write one of: {forms}.").format(value=value, forms=forms),
                      param, ctx)

    def shell_complete(self, ctx: click.Context, param: click.Parameter,
                       incomplete: str) -> list[click.shell_completion.CompletionItem]:
        from click.shell_completion import CompletionItem

        from tracker.model import Status

        # The key and, in Danish, the words joined by "_" (færdig, i_gang): what Status.parse takes, without a
        # space the shell would split on.
        words = {status.value: status.label for status in Status}
        if current_language() == "da":
            words.update({status.label.replace(" ", "_"): status.value for status in Status})
        return [CompletionItem(word, help=help_text) for word, help_text in words.items()
                if word.casefold().startswith(incomplete.casefold())]


STATUS = StatusType()


class DateTimeType(click.ParamType):
    name = "DATETIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.fail(_("{value!r} is not a date and time; write it as YYYY-MM-DDTHH:MM, e.g. 2026-06-30T09:00 "
                        "(the plan's time zone unless it has an offset).").format(value=value), param, ctx)
        if moment.tzinfo is None:
            from tracker.clock import plan_zone

            moment = moment.replace(tzinfo=plan_zone())
        return moment


def database_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--database", "database_url", envvar="DATABASE_URL", metavar="URL",
        help="SQLAlchemy URL of the database (env DATABASE_URL). Default: SQLite at "
             "$TRACKER_HOME/tracker.db or ~/.local/share/tracker/tracker.db.",
    )(function)


def register_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--register", "register_path", envvar="TRACKER_REGISTER", metavar="PATH",
        type=click.Path(dir_okay=False),
        help="The register file (env TRACKER_REGISTER). Default: the one shipped with tracker.",
    )(function)


def today_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--today", type=DATE, metavar="DATE",
        help="See the plan as of this day (YYYY-MM-DD) instead of today in Europe/Copenhagen.",
    )(function)


def by_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--by", "actor", metavar="NAME", help="Who makes the change (default: the user running the command).",
    )(function)


def occurrence_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--occurrence", "year", type=int, metavar="YEAR", help="Which year's occurrence of a recurring deliverable.",
    )(function)


def member_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--member", metavar="PARTY", shell_complete=complete_keys("party"),
        help="One member's own part of a deliverable every member delivers (e.g. region-nordjylland).",
    )(function)


contacts_option = click.option("--contacts", "contacts_path", envvar="TRACKER_CONTACTS", metavar="PATH",
                               type=click.Path(dir_okay=False), help="The contacts file (env TRACKER_CONTACTS).")


def actor_name(name: str | None) -> str:
    """Who makes a change: --by, else the user running the command."""
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # no user name in a bare container; still attribute the change
        return f"uid:{os.getuid()}"


def complete_keys(kind: str) -> Callable[[click.Context, click.Parameter, str], list[Any]]:
    """Shell completion of the keys of ``kind`` ("deliverable", "party" or "theme"), read from the database, each
    with its name as the help the shell shows (zsh and fish do)."""

    def complete(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem
        from sqlalchemy.exc import SQLAlchemyError

        from tracker.errors import TrackerError
        from tracker.i18n import current_language
        from tracker.store.db import read_session
        from tracker.store.queries import completion_keys

        try:
            with read_session(open_existing(ctx.params.get("database_url"))) as session:
                keys = completion_keys(session, kind, english=current_language() == "en")
        except (TrackerError, SQLAlchemyError, OSError):
            return []  # no database yet, or an older one: nothing to offer, and never a traceback in the shell
        return [CompletionItem(key, help=name) for key, name in keys if key.startswith(incomplete)]

    return complete


def open_existing(database_url: str | None) -> Any:
    """The database, which must have this version's schema (SchemaError says how to get it)."""
    from tracker.store.db import check_schema, open_engine

    engine = open_engine(database_url)
    check_schema(engine)
    return engine


def write(database_url: str | None, change: Callable[[Any], Any]) -> Any:
    """Run ``change(session)`` in one write transaction on an existing database; its result."""
    from tracker.store.db import write_session

    engine = open_existing(database_url)
    with write_session(engine) as session:
        return change(session)


def terminal_width() -> int:
    """Clip titles to a terminal's width; print them whole into a pipe or a file."""
    import shutil

    if not sys.stdout.isatty():
        return 100_000
    return max(80, shutil.get_terminal_size((120, 24)).columns)


def echo_table(views: list[Any], today: date) -> None:
    from tracker.output import render_table

    click.echo(render_table(views, today, width=terminal_width()))


def base_url(host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> str:
    """TRACKER_BASE_URL, else the address `tracker serve` listens on."""
    from tracker.urls import check_base_url

    configured = os.environ.get("TRACKER_BASE_URL", "").strip()
    if not configured:
        return f"http://{host}:{port}"
    try:
        return check_base_url(configured)
    except ValueError:
        raise click.UsageError(_(
            "TRACKER_BASE_URL={url!r} is not an absolute http(s) address. Set it to the public address of "
            "the web process, e.g. https://tracker.example.dk"
        ).format(url=configured)) from None


def log_format() -> str:
    """--log-format (or TRACKER_LOG_FORMAT) of the command being run."""
    context = click.get_current_context(silent=True)
    return ((context.find_root().obj or {}) if context else {}).get("log_format", "text")


def check_url(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """A click callback: ``value`` is a full http(s) URL, or None."""
    if value is None:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(_("give a full http(s) URL, e.g. https://example.org/report.pdf"))
    return value


def required_text(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A click callback: a required text (a note, a reason) must say something."""
    if value is not None and not value.strip():
        raise click.BadParameter(_("it is empty; say why in a few words"), param=param)
    return value


def echo_warnings(problems: list[str]) -> None:
    for problem in problems:
        click.echo(_("Warning: {problem}").format(problem=problem), err=True)
