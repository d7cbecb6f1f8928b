"""The `tracker` command line: the only place errors become exit codes.

Commands import what they use inside their bodies, so `tracker --help` and
`tracker validate` never pay for SQLAlchemy (see bench/cli_startup.py).
A ``TrackerError`` becomes its message and exit code 1; ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import sys
from datetime import date, datetime, timezone
from collections.abc import Iterator
from typing import Any, Callable

import click

from tracker.clock import plan_today
from tracker.errors import TrackerError
from tracker.i18n import _, ngettext, set_language

DEFAULT_PORT = 8000
DEFAULT_CLOCK_INTERVAL = 60.0  # seconds between the clock's ticks


class DateType(click.ParamType):
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(_("{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-06-30.").format(value=value),
                      param, ctx)


DATE = DateType()


class TrackerGroup(click.Group):
    """Turns TrackerErrors into a message and exit code 1, with no traceback unless --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TrackerError as error:
            if ctx.find_root().params.get("debug"):
                raise
            raise click.ClickException(error.message) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as error:  # a bug: say so in one line, never a traceback unless asked for
            if ctx.find_root().params.get("debug"):
                raise
            raise click.ClickException(_(
                "tracker failed unexpectedly ({error}); a change in progress was not saved. This is a bug: run the "
                "command again with --debug for the details, and report them."
            ).format(error=f"{type(error).__name__}: {error}"[:300])) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order they are defined, which is the order of a day's work


def _database_option(function: Callable) -> Callable:
    return click.option(
        "--database", "database_url", envvar="DATABASE_URL", metavar="URL",
        help="SQLAlchemy URL of the database (env DATABASE_URL). Default: SQLite at "
             "$TRACKER_HOME/tracker.db or ~/.local/share/tracker/tracker.db.",
    )(function)


def _register_option(function: Callable) -> Callable:
    return click.option(
        "--register", "register_path", envvar="TRACKER_REGISTER", metavar="PATH",
        type=click.Path(dir_okay=False),
        help="The register file (env TRACKER_REGISTER). Default: the one shipped with tracker.",
    )(function)


def _today_option(function: Callable) -> Callable:
    return click.option(
        "--today", type=DATE, metavar="DATE",
        help="See the plan as of this day (YYYY-MM-DD) instead of today in Europe/Copenhagen.",
    )(function)


def _by_option(function: Callable) -> Callable:
    return click.option(
        "--by", "actor", metavar="NAME", help="Who makes the change (default: the user running the command).",
    )(function)


def _occurrence_option(function: Callable) -> Callable:
    return click.option(
        "--occurrence", "year", type=int, metavar="YEAR", help="Which year's occurrence of a recurring deliverable.",
    )(function)


_CONTACTS_OPTION = click.option("--contacts", "contacts_path", envvar="TRACKER_CONTACTS", metavar="PATH",
                                type=click.Path(dir_okay=False), help="The contacts file (env TRACKER_CONTACTS).")


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return getpass.getuser()
    except Exception:  # no user name in a bare container; still attribute the change
        return f"uid:{os.getuid()}"


@click.group(cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--lang", type=click.Choice(["da", "en"]), envvar="TRACKER_LANG",
              help="Language of messages: da (default) or en (env TRACKER_LANG).")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of short messages.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", envvar="TRACKER_LOG_FORMAT",
              show_default=True, help="How the service logs: text, or one JSON object per line (env "
              "TRACKER_LOG_FORMAT).")
@click.version_option(package_name="kraeftplan-tracker", prog_name="tracker")
@click.pass_context
def cli(ctx: click.Context, lang: str | None, debug: bool, log_format: str) -> None:
    """Track the deliverables and deadlines of Kræftplan V (Denmark's Cancer Plan V).

    The register (tracker/deliverables.toml) says what is due when; the database
    remembers status, re-plans and history. Start with `tracker run`.
    """
    set_language(lang)
    ctx.obj = {"log_format": log_format}


@cli.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def validate(path: str | None) -> None:
    """Check the register as a whole and report every problem with its line.

    PATH defaults to $TRACKER_REGISTER, else the register shipped with tracker.
    Exits 1 when there is any problem.
    """
    from tracker.register import load_register

    register = load_register(path or os.environ.get("TRACKER_REGISTER") or None)
    occurrences = sum(len(d.occurrences()) for d in register.deliverables.values())
    click.echo(_("The register {path} is valid: {deliverables} deliverables ({occurrences} occurrences), "
                 "{parties} parties, {themes} themes.").format(
        path=register.path, deliverables=len(register.deliverables), occurrences=occurrences,
        parties=len(register.parties), themes=len(register.themes)))


def _sync(register_path: str | None, database_url: str | None, actor: str,
          allow_removals: bool = False) -> tuple[Any, Any, Any]:
    """Validate, migrate and sync; returns (register, engine, report)."""
    from tracker.register import load_register
    from tracker.store.db import open_engine, write_session
    from tracker.store.migrate import upgrade
    from tracker.store.sync import sync_register

    register = load_register(register_path)  # before touching the database: a bad register changes nothing
    engine = open_engine(database_url)
    upgrade(engine)
    with write_session(engine) as session:
        report = sync_register(session, register, now=datetime.now(timezone.utc), actor=actor,
                               allow_removals=allow_removals)
    return register, engine, report


def _echo_sync_report(report: Any, engine: Any) -> None:
    where = engine.url.render_as_string(hide_password=True)
    for warning in report.warnings:
        click.echo(_("Warning: {problem}").format(problem=warning), err=True)
    if not report.changed:
        click.echo(_("The database {url} already matches the register; nothing changed.").format(url=where))
        return
    click.echo(_("Synced the register into {url}: {added} added, {updated} updated, {replanned} re-planned, "
                 "{archived} archived, {restored} restored, {renamed} renamed, {unchanged} unchanged; "
                 "{parties} parties and {themes} themes changed; {history} changes in the history.").format(
        url=where, added=len(report.added), updated=len(report.updated), replanned=len(report.replanned),
        archived=len(report.archived), restored=len(report.restored), renamed=len(report.renamed),
        unchanged=report.unchanged, parties=report.parties, themes=report.themes, history=report.history))


@cli.command()
@_register_option
@_database_option
@_by_option
@click.option("--allow-removals", is_flag=True,
              help="Archive however many deliverables the register no longer has (else more than 3, or a tenth "
                   "of the plan, at once is refused as a register cut off).")
def sync(register_path: str | None, database_url: str | None, actor: str | None, allow_removals: bool) -> None:
    """Load the register into the database.

    Idempotent: running it twice changes nothing. Atomic: a register with any
    problem changes nothing. Keeps status and history; a changed due day is a
    re-plan (the baseline stays); a deliverable gone from the register is
    archived, not deleted, and one with renamed_from keeps the old one's
    status and history. A sync that would archive more than 3 deliverables
    (or a tenth of the plan) at once is refused unless --allow-removals.
    """
    _register, engine, report = _sync(register_path, database_url, _actor(actor) if actor else "register",
                                      allow_removals)
    _echo_sync_report(report, engine)


@cli.command()
@_register_option
@_database_option
@_today_option
@click.option("--days", default=90, show_default=True, help="How far ahead to show what is due.")
@click.option("--once", is_flag=True, help="Sync, send what is due and show the overview, then exit.")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="TRACKER_HOST",
              help="Interface the web process listens on (env TRACKER_HOST).")
@click.option("--port", type=int, default=DEFAULT_PORT, envvar="PORT", show_default=True,
              help="Port the web process listens on (env PORT).")
@click.option("--interval", type=click.FloatRange(min=1), default=DEFAULT_CLOCK_INTERVAL, show_default=True,
              envvar="TRACKER_CLOCK_INTERVAL", metavar="SECONDS", help="Seconds between the clock's ticks.")
@_CONTACTS_OPTION
def run(register_path: str | None, database_url: str | None, today: date | None, days: int, once: bool,
        host: str, port: int, interval: float, contacts_path: str | None) -> None:
    """The whole service on one machine: sync the register, show what needs attention, then serve and send.

    Shows what is overdue and what is due in the next DAYS days, then runs the
    web process (calendar feeds, /healthz) and the clock (reminders and alerts:
    Slack and e-mail when configured, else printed here) in this one process
    until Ctrl-C or SIGTERM. This is the embedded default: SQLite, nothing to
    configure. With --once it sends what is due and exits; with --today it
    only shows that day's overview (nothing is sent: the day is for looking).
    """
    from tracker.clock import utc_now
    from tracker.store.db import read_session
    from tracker.store.queries import ListFilter, list_occurrences

    register, engine, report = _sync(register_path, database_url, "register")
    _echo_sync_report(report, engine)
    if today is None and once:
        _echo_sweep(_sweeper(register, engine, contacts_path).sweep(utc_now()))
    shown = today or plan_today()
    with read_session(engine) as session:
        overdue = list_occurrences(session, shown, ListFilter(overdue=True))
        upcoming = list_occurrences(session, shown, ListFilter(upcoming_days=days))
    click.echo()
    click.secho(_("Overdue as of {day} ({count}):").format(day=shown.isoformat(), count=len(overdue)), bold=True)
    _echo_table(overdue, shown)
    click.echo()
    click.secho(_("Due in the next {days} days ({count}):").format(days=days, count=len(upcoming)), bold=True)
    _echo_table(upcoming, shown)
    if once or today is not None:
        return
    access = _dashboard_access()
    _log_events()
    clock = _clock(register, register_path, engine, contacts_path, interval)
    click.echo()
    click.echo(_("Serving on {url} (the dashboard is at {url}/; feeds: `tracker feed create`), sending what falls "
                 "due every {interval:g} s. Stop with Ctrl-C.").format(url=_base_url(host, port), interval=interval))
    with _ticking(clock, interval):
        _serve(engine, host, port, access)


def _echo_table(views: list[Any], today: date) -> None:
    from tracker.output import render_table

    click.echo(render_table(views, today, width=_terminal_width()))


def _terminal_width() -> int:
    """Clip titles to a terminal's width; print them whole into a pipe or a file."""
    import shutil

    if not sys.stdout.isatty():
        return 100_000
    return max(80, shutil.get_terminal_size((120, 24)).columns)


def _open_existing(database_url: str | None) -> Any:
    from tracker.store.db import check_schema, open_engine

    engine = open_engine(database_url)
    check_schema(engine)
    return engine


@cli.command("list")
@_database_option
@_today_option
@click.option("--owner", metavar="PARTY", help="Only this responsible party (a party key, e.g. sst).")
@click.option("--status", "statuses", multiple=True, metavar="STATUS",
              type=click.Choice(["not_started", "in_progress", "at_risk", "done", "cancelled"]),
              help="Only this status; repeat for several.")
@click.option("--theme", metavar="THEME", help="Only this theme (e.g. anbefaling-7).")
@click.option("--overdue", is_flag=True, help="Only overdue occurrences.")
@click.option("--upcoming", type=click.IntRange(min=0), metavar="DAYS",
              help="Only open occurrences due within DAYS days from today.")
@click.option("--due-before", type=DATE, metavar="DATE", help="Only due before this day.")
@click.option("--due-after", type=DATE, metavar="DATE", help="Only due after this day.")
@click.option("--all", "include_archived", is_flag=True, help="Include archived deliverables.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: a list with one object per occurrence.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV with the same fields as --json.")
def list_command(database_url: str | None, today: date | None, owner: str | None, statuses: tuple[str, ...],
                 theme: str | None, overdue: bool, upcoming: int | None, due_before: date | None,
                 due_after: date | None, include_archived: bool, as_json: bool, as_csv: bool) -> None:
    """List occurrences of deliverables, ordered by due day."""
    from tracker.model import Status
    from tracker.store.db import read_session
    from tracker.store.queries import ListFilter, list_occurrences

    if as_json and as_csv:
        raise click.UsageError(_("Choose one of --json and --csv."))
    today = today or plan_today()
    where = ListFilter(owner=owner, statuses=tuple(Status(s) for s in statuses), theme=theme, overdue=overdue,
                       upcoming_days=upcoming, due_before=due_before, due_after=due_after,
                       include_archived=include_archived)
    engine = _open_existing(database_url)
    with read_session(engine) as session:
        views = list_occurrences(session, today, where)
    if as_json:
        import json

        click.echo(json.dumps([v.as_json() for v in views], ensure_ascii=False, indent=2))
    elif as_csv:
        from tracker.output import render_csv

        click.echo(render_csv(views), nl=False)
    else:
        _echo_table(views, today)


@cli.command()
@click.argument("deliverable_id", metavar="ID")
@_database_option
@_today_option
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
def show(deliverable_id: str, database_url: str | None, today: date | None, as_json: bool) -> None:
    """Show a deliverable: every field, its occurrences, history and source quote."""
    from tracker.output import detail_as_json, render_detail
    from tracker.store.db import read_session
    from tracker.store.queries import show_deliverable

    today = today or plan_today()
    engine = _open_existing(database_url)
    with read_session(engine) as session:
        detail = show_deliverable(session, deliverable_id, today)
        if as_json:
            import json

            click.echo(json.dumps(detail_as_json(detail), ensure_ascii=False, indent=2))
        else:
            click.echo(render_detail(detail, today))


def _write(database_url: str | None, change: Callable[[Any], Any]) -> Any:
    from tracker.store.db import write_session

    engine = _open_existing(database_url)
    with write_session(engine) as session:
        return change(session)


def _check_url(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(_("give a full http(s) URL, e.g. https://example.org/report.pdf"))
    return value


@cli.command()
@click.argument("deliverable_id", metavar="ID")
@click.argument("status", type=click.Choice(["not_started", "in_progress", "at_risk", "done", "cancelled"]))
@_occurrence_option
@click.option("--note", required=True, metavar="TEXT", help="Why the status changes (required).")
@_by_option
@click.option("--evidence", metavar="URL", callback=_check_url, help="A link to the evidence, e.g. the report.")
@_database_option
def status(deliverable_id: str, status: str, year: int | None, note: str, actor: str | None,
           evidence: str | None, database_url: str | None) -> None:
    """Set the status of a deliverable (or of one year's occurrence with --occurrence).

    STATUS is one of not_started, in_progress, at_risk, done, cancelled.
    Changes that make no sense (done back to not_started, say) are refused.
    """
    from tracker.model import Status
    from tracker.store.operations import change_status

    new_status = Status(status)
    changed_year = _write(database_url, lambda session: change_status(
        session, deliverable_id, new_status, note=note, actor=_actor(actor), now=datetime.now(timezone.utc),
        year=year, evidence_url=evidence).year)
    label = f"{deliverable_id} ({changed_year})" if changed_year else deliverable_id
    click.echo(_("{label} is now {status}.").format(label=label, status=new_status.label))


@cli.command()
@click.argument("deliverable_id", metavar="ID")
@click.argument("deadline")
@click.option("--reason", required=True, metavar="TEXT", help="Why the deadline moves (required).")
@_occurrence_option
@_by_option
@_database_option
def replan(deliverable_id: str, deadline: str, reason: str, year: int | None, actor: str | None,
           database_url: str | None) -> None:
    """Move a deliverable to a new DEADLINE, keeping the baseline so slippage shows.

    DEADLINE takes every form the register does: "2026-09-30", "Q3 2026",
    "andet halvår 2026", "medio 2027", "årligt fra 2027 til og med 2030", …
    """
    from tracker.deadlines import parse_deadline
    from tracker.store.operations import replan as replan_deliverable

    parse_deadline(deadline)  # a bad deadline is reported before the database is opened
    _write(database_url, lambda session: replan_deliverable(
        session, deliverable_id, deadline, reason=reason, actor=_actor(actor), now=datetime.now(timezone.utc),
        year=year))
    click.echo(_("{id} is re-planned to {deadline!r}.").format(id=deliverable_id, deadline=deadline))


@cli.command()
@click.argument("deliverable_id", metavar="ID")
@click.argument("text")
@_occurrence_option
@_by_option
@_database_option
def note(deliverable_id: str, text: str, year: int | None, actor: str | None, database_url: str | None) -> None:
    """Add a note to a deliverable (or to one year's occurrence)."""
    from tracker.store.operations import add_note

    if not text.strip():
        raise click.BadParameter(_("the note is empty"), param_hint="TEXT")
    _write(database_url, lambda session: add_note(
        session, deliverable_id, text, actor=_actor(actor), now=datetime.now(timezone.utc), year=year))
    click.echo(_("Noted on {id}.").format(id=deliverable_id))



def _base_url(host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> str:
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


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="TRACKER_HOST",
              help="Interface to listen on (env TRACKER_HOST; 0.0.0.0 on a platform).")
@click.option("--port", type=int, default=DEFAULT_PORT, envvar="PORT", show_default=True,
              help="Port to listen on (env PORT).")
@click.option("--export-dir", type=click.Path(file_okay=False), envvar="TRACKER_FEED_DIR", metavar="DIR",
              help="Also keep this folder's .ics files current (env TRACKER_FEED_DIR).")
@click.option("--export-interval", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              metavar="SECONDS", help="How often to look for changes to export.")
@_database_option
def serve(host: str, port: int, export_dir: str | None, export_interval: float, database_url: str | None) -> None:
    """Serve the dashboard and the calendar feeds over HTTP (uvicorn) until stopped.

    The dashboard is at / (public without notes, or behind
    TRACKER_DASHBOARD_AUTH); feeds are at /feeds/TOKEN.ics (see `tracker feed
    create`); /healthz says whether the database answers. Changes made with
    the CLI show at the next request. Feed tokens never appear in the access log.
    """
    access = _dashboard_access()
    _serve(_open_existing(database_url), host, port, access, export_dir, export_interval)


def _dashboard_access() -> Any:
    """TRACKER_DASHBOARD_AUTH, read before anything starts: a bad setting stops the command."""
    from tracker.dashboard.access import VARIABLE, parse_access

    return parse_access(os.environ.get(VARIABLE))


def _serve(engine: Any, host: str, port: int, access: Any, export_dir: str | None = None,
           export_interval: float = 10.0) -> None:
    """Run the web process in this thread until SIGTERM or Ctrl-C (uvicorn handles both)."""
    import signal
    from pathlib import Path

    import uvicorn

    from tracker.calendar.service import FeedService
    from tracker.web import create_app, log_config

    service = FeedService(engine, _base_url(host, port))
    service.refresh(datetime.now(timezone.utc))  # fail now, with a message, rather than at the first request
    app = create_app(service, export_dir=Path(export_dir) if export_dir else None, poll_seconds=export_interval,
                     access=access)
    # uvicorn shuts down gracefully on SIGTERM and Ctrl-C, then raises the signal again with the handler it
    # found installed. Found the default, that kills the process before the clock (in `run`) can finish its
    # message and give its lease up; found these, the caller's clean-up runs and the exit is 0.
    previous = {number: signal.signal(number, lambda _number, _frame: None) for number in (signal.SIGTERM,
                                                                                        signal.SIGINT)}
    try:
        uvicorn.run(app, host=host, port=port, log_config=log_config(_log_format()), server_header=False,
                    proxy_headers=True)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)



def _clock(register: Any, register_path: str | None, engine: Any, contacts_path: str | None,
           interval: float) -> Any:
    """The clock with its lease taken and the register synced; ClockBusyError when another clock runs."""
    from datetime import timedelta

    from tracker.service.clock import Clock
    from tracker.service.lease import ClockLease

    # The lease outlives a few missed ticks, and a dead clock blocks a new one for a minute at least.
    lease = ClockLease(engine, ttl=timedelta(seconds=max(3 * interval, 60)))
    clock = Clock(engine, _sweeper(register, engine, contacts_path), lease, register_path=register_path)
    clock.start()
    return clock


def _log_format() -> str:
    context = click.get_current_context(silent=True)
    return ((context.find_root().obj or {}) if context else {}).get("log_format", "text")


def _log_events() -> None:
    """One line per event on standard error, for a long-running process (uvicorn sets up its own)."""
    from tracker.logs import configure

    configure(_log_format())


@contextlib.contextmanager
def _ticking(clock: Any, interval: float) -> Iterator[None]:
    """Tick ``clock`` on a background scheduler for the duration; on the way out, finish the message in flight,
    stop, and give the lease up."""
    from tracker.service.clock import build_scheduler

    scheduler = build_scheduler(clock, interval)
    scheduler.start()
    try:
        yield
    finally:
        clock.stop()
        scheduler.shutdown(wait=True)
        clock.close()


@cli.command("clock")
@click.option("--interval", type=click.FloatRange(min=1), default=DEFAULT_CLOCK_INTERVAL, show_default=True,
              envvar="TRACKER_CLOCK_INTERVAL", metavar="SECONDS", help="Seconds between ticks (env "
              "TRACKER_CLOCK_INTERVAL).")
@_CONTACTS_OPTION
@_register_option
@_database_option
def clock_command(interval: float, contacts_path: str | None, register_path: str | None,
                  database_url: str | None) -> None:
    """Run the clock until SIGTERM or Ctrl-C: re-sync the register when it changes, send what is due.

    Only one clock may run against a database; a second one exits at once and
    names the first. On SIGTERM the message being sent is finished, the rest
    is left for the next clock, and the command exits 0.
    """
    import signal
    import threading

    from tracker.register import load_register

    _log_events()
    engine = _open_existing(database_url)
    clock = _clock(load_register(register_path), register_path, engine, contacts_path, interval)
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda _number, _frame: stop.set())
    click.echo(_("The clock runs against {url} every {interval:g} s. Stop it with Ctrl-C or SIGTERM.").format(
        url=engine.url.render_as_string(hide_password=True), interval=interval), err=True)
    with _ticking(clock, interval):
        while not stop.wait(1):
            pass
    click.echo(_("The clock stopped."), err=True)


@cli.group()
def feed() -> None:
    """Calendar feeds: create (prints a secret address), list, revoke, export as files."""


@feed.command("create")
@click.option("--name", required=True, help="A short name: lower-case letters, digits, '.', '_', '-'.")
@click.option("--party", "parties", multiple=True, metavar="PARTY",
              help="Occurrences this party is responsible or co-responsible for; repeat for several.")
@click.option("--theme", "themes", multiple=True, metavar="THEME",
              help="Occurrences under this theme (e.g. anbefaling-7); repeat for several.")
@click.option("--overdue", "overdue_only", is_flag=True, help="Only overdue occurrences.")
@click.option("--alarm", metavar="BEFORE", help="Add a reminder this long before the due day: 7d, 2w, 12h.")
@click.option("--language", type=click.Choice(["da", "en"]), default="da", show_default=True,
              help="Language of the events' text.")
@_by_option
@_database_option
def feed_create(name: str, parties: tuple[str, ...], themes: tuple[str, ...], overdue_only: bool,
                alarm: str | None, language: str, actor: str | None, database_url: str | None) -> None:
    """Create a feed and print its secret address (shown only this once).

    With no --party and no --theme the feed has the whole plan; with several,
    an occurrence is in it when any of them matches.
    """
    from tracker.urls import feed_urls
    from tracker.calendar.source import definition
    from tracker.store.feeds import create_feed

    base_url = _base_url()

    def create(session: Any) -> tuple[Any, str]:
        row, token = create_feed(
            session, name, parties=list(parties), themes=list(themes), overdue_only=overdue_only, alarm=alarm,
            language=language, actor=_actor(actor), now=datetime.now(timezone.utc))
        return definition(row), token

    created, token = _write(database_url, create)
    url, webcal = feed_urls(base_url, token)
    click.echo(_("Created the feed {name}. Subscribe with one of these addresses:").format(name=created.name))
    click.echo(f"  {webcal}")
    click.echo(f"  {url}")
    click.echo(_("As a file (tracker feed export): {filename}").format(filename=created.export_filename))
    click.echo(_("Anyone with the address can read the feed. It is shown only now; if it is lost or leaks, "
                 "revoke the feed and create a new one."), err=True)
    if not base_url.startswith("https://"):
        click.echo(_("Note: the address is not https. Set TRACKER_BASE_URL to the public https address of the "
                     "web process, so the token does not travel in clear text."), err=True)


@feed.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked feeds.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_database_option
def feed_list(include_revoked: bool, as_json: bool, database_url: str | None) -> None:
    """List the feeds (never their addresses: only their holders have those)."""
    import json

    from tracker.calendar.source import load_feeds
    from tracker.output import render_grid
    from tracker.store.db import read_session

    engine = _open_existing(database_url)
    with read_session(engine) as session:
        rows = load_feeds(session, include_revoked=include_revoked)
    records: list[dict[str, Any]] = [{
        "name": row.name, "parties": row.parties, "themes": row.themes, "overdue_only": row.overdue_only,
        "alarm": row.alarm, "language": row.language, "created_by": row.created_by,
        "created_at": row.created_at.isoformat(), "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    } for row in rows]
    if as_json:
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    if not records:
        click.echo(_("No feeds yet. Create one with `tracker feed create --name NAME`."))
        return
    headers = [_("Name"), _("Shows"), _("Alarm"), _("Language"), _("Created"), _("Revoked")]
    table = [[
        r["name"],
        _describe_selection(r["parties"], r["themes"], r["overdue_only"]),
        r["alarm"] or "–", r["language"], r["created_at"][:10], (r["revoked_at"] or "–")[:10],
    ] for r in records]
    click.echo(render_grid(headers, table))


def _describe_selection(parties: list[str], themes: list[str], overdue_only: bool) -> str:
    scope = ", ".join(parties + themes) or _("the whole plan")
    return _("{scope}, overdue only").format(scope=scope) if overdue_only else scope


@feed.command("revoke")
@click.argument("name")
@_database_option
def feed_revoke(name: str, database_url: str | None) -> None:
    """Stop a feed's address working, at once, also in the running web process."""
    from tracker.store.feeds import revoke_feed

    _write(database_url, lambda session: revoke_feed(session, name, now=datetime.now(timezone.utc)))
    click.echo(_("The feed {name} is revoked; its address now answers 404.").format(name=name))


@feed.command("export")
@click.argument("directory", type=click.Path(file_okay=False))
@_database_option
def feed_export(directory: str, database_url: str | None) -> None:
    """Write every feed as an .ics file into DIRECTORY, for a static web server.

    Each file is replaced in one step, so a reader never sees half a file;
    unchanged files are left alone and revoked feeds' files are removed.
    `tracker serve --export-dir DIR` keeps the folder current.
    """
    from pathlib import Path

    from tracker.calendar.service import FeedService

    engine = _open_existing(database_url)
    report = FeedService(engine, _base_url()).export(Path(directory), datetime.now(timezone.utc))
    click.echo(_("Exported to {directory}: {written} written, {unchanged} unchanged, {removed} removed.").format(
        directory=directory, written=len(report.written), unchanged=len(report.unchanged),
        removed=len(report.removed)))


@cli.group()
def notify() -> None:
    """Reminders, overdue alerts, escalations and digests (Slack, e-mail, or the console)."""


@notify.command("preview")
@click.option("--from", "start", type=DATE, metavar="DATE", help="First day (default: today).")
@click.option("--to", "end", type=DATE, metavar="DATE", help="Last day (default: 30 days after --from).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per message and recipient.")
@_CONTACTS_OPTION
@_register_option
@_database_option
def notify_preview(start: date | None, end: date | None, as_json: bool, contacts_path: str | None,
                   register_path: str | None, database_url: str | None) -> None:
    """List every message the policy would send from --from to --to: when, to whom, why. Sends nothing.

    The plan is taken as it is now: a status changed later changes what is sent.
    Slack is used when SLACK_BOT_TOKEN is set, e-mail when SMTP_URL is; with
    neither, messages are printed to the console.
    """
    from datetime import timedelta

    from tracker.clock import plan_zone
    from tracker.notify.contacts import load_contacts
    from tracker.notify.message import notice_record
    from tracker.notify.planner import bundle, plan_notices
    from tracker.notify.settings import channel_names
    from tracker.notify.source import load_changes, load_party_names, load_subjects
    from tracker.register import load_register
    from tracker.store.db import read_session

    start = start or plan_today()
    end = end or start + timedelta(days=30)
    if end < start:
        raise click.BadParameter(_("--to is before --from."), param_hint="--to")
    register = load_register(register_path)
    engine = _open_existing(database_url)
    zone = plan_zone()
    with read_session(engine) as session:
        subjects = load_subjects(session)
        names = load_party_names(session)
        changes = load_changes(session, datetime.combine(start - timedelta(days=7), datetime.min.time(), zone))
    contacts = load_contacts(contacts_path, set(names))
    plan = plan_notices(subjects, register.policy, contacts, channel_names(), start, end)
    for problem in plan.problems:
        click.echo(_("Warning: {problem}").format(problem=problem), err=True)
    messages = bundle(plan.notices, subjects, changes, names, register.policy, zone, _base_url())
    by_bundle = {(m.channel, m.recipient, m.at.date()): m for m in messages}
    records = []
    for notice in plan.notices:
        message = by_bundle[(notice.channel, notice.recipient, notice.day)]
        subject = notice.subject
        records.append(notice_record(
            message.at, message, key=notice.key, kind=notice.kind, step=notice.step,
            deliverable_id=subject.deliverable_id if subject else None, occurrence=subject.year if subject else None,
            recipient=notice.recipient, language=notice.language, reason=notice.reason))
    if not as_json and not messages:
        click.echo(_("No messages from {start} to {end}.").format(start=start, end=end))
        return
    _echo_records(records, as_json)


def _echo_records(records: list[dict], as_json: bool) -> None:
    """`notify preview` and `simulate`: the records as JSON, or one block per message with a line per notice."""
    import json

    if as_json:
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    by_message: dict[str, list[dict]] = {}
    for record in records:
        by_message.setdefault(record["message"], []).append(record)
    for notices in by_message.values():
        first = notices[0]
        at = datetime.fromisoformat(first["at"]).isoformat(timespec="minutes")
        click.echo(f"{at}  {first['channel']}  {first['recipient']}")
        click.echo(f"  {first['subject']}")
        for record in notices:
            what = (record["id"] + (f" ({record['occurrence']})" if record["occurrence"] else "")
                    if record["id"] else _("the week's overview"))
            click.echo(f"    {record['kind']:<10} {what}  — {record['reason']}")
    count = len(by_message)
    click.echo(ngettext("{count} message.", "{count} messages.", count).format(count=count))


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


def _sweeper(register: Any, engine: Any, contacts_path: str | None) -> Any:
    """A Sweeper over the database, with the register's policy, the contacts and the configured channels."""
    from tracker.notify.contacts import load_contacts
    from tracker.notify.settings import build_channels
    from tracker.notify.source import load_party_names
    from tracker.notify.sweep import Sweeper
    from tracker.store.db import read_session

    with read_session(engine) as session:
        parties = set(load_party_names(session))
    contacts = load_contacts(contacts_path, parties)
    from tracker.calendar.attachments import EventAttachments

    base_url = _base_url()
    return Sweeper(engine, register.policy, contacts, build_channels(), base_url=base_url,
                   calendar=EventAttachments(base_url))


def _echo_sweep(report: Any) -> None:
    for problem in report.problems:
        click.echo(_("Warning: {problem}").format(problem=problem), err=True)
    skipped = sum(report.skipped.values())
    click.echo(_("Sweep: {messages} messages sent ({sent} notices, {late} late), {skipped} skipped, {retrying} to "
                 "retry, {failed} failed, {unknown} unknown.").format(
        messages=report.messages, sent=report.sent, late=report.late, skipped=skipped, retrying=report.retrying,
        failed=len(report.failed), unknown=len(report.unknown)), err=True)
    if report.fallbacks:
        click.echo(_("{count} notices went by e-mail instead of Slack.").format(count=report.fallbacks), err=True)
    if report.in_flight:
        click.echo(_("{count} notices are being sent by another process.").format(count=report.in_flight), err=True)
    for line in report.failed:
        click.echo(_("Failed: {line}").format(line=line), err=True)
    for line in report.unknown:
        click.echo(_("Unknown (may have arrived): {line}").format(line=line), err=True)
    for line in report.unreported:
        click.echo(_("Reached nobody, and the coordinators could not be told: {line}").format(line=line), err=True)


@notify.command("run")
@click.option("--now", type=DateTimeType(), help="Sweep as of this instant (default: now), e.g. to replay a day.")
@_CONTACTS_OPTION
@_register_option
@_database_option
def notify_run(now: datetime | None, contacts_path: str | None, register_path: str | None,
               database_url: str | None) -> None:
    """Send what is due now, once: one sweep of the outbox.

    Plans the days since the last sweep, skips what no longer makes sense,
    sends the rest bundled per recipient, and records every outcome. Exits
    with 1 when a message failed or may not have arrived (see `notify log`).
    """
    from tracker.clock import utc_now

    from tracker.register import load_register

    sweeper = _sweeper(load_register(register_path), _open_existing(database_url), contacts_path)
    report = sweeper.sweep(now or utc_now())
    _echo_sweep(report)
    if not report.ok:
        sys.exit(1)


def _skip_reason(code: str | None) -> str | None:
    """Why a row was skipped (``tracker.notify.outbox``'s reasons), for people."""
    return {
        "not_called_for": _("no longer called for (done, cancelled, withdrawn, re-planned or re-routed)"),
        "superseded": _("a later step of the same series went out instead"),
        "expired": _("too late to be useful (a reminder after the due day, a digest after its week)"),
    }.get(code or "")


@notify.command("log")
@click.option("--failed", is_flag=True, help="Only messages that failed or may not have arrived.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="How many rows to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per outbox row.")
@_database_option
def notify_log(failed: bool, limit: int, as_json: bool, database_url: str | None) -> None:
    """What was sent, skipped, failed or is waiting, newest first."""
    import json

    from tracker.notify.outbox import recent
    from tracker.store.db import read_session

    engine = _open_existing(database_url)
    with read_session(engine) as session:
        rows = recent(session, problems_only=failed, limit=limit)
    if as_json:
        fields = ("key", "state", "kind", "step", "deliverable_id", "occurrence_year", "channel", "recipient",
                  "language", "reason", "attempts", "message_key", "provider_id", "error_code", "error", "late")
        records = []
        for row in rows:
            record = {name: getattr(row, name) for name in fields}
            for name in ("due_at", "next_attempt_at", "sent_at", "updated_at"):
                value = getattr(row, name)
                record[name] = value.isoformat() if value else None
            records.append(record)
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(_("No failed messages.") if failed else _("The outbox is empty."))
        return
    from tracker.clock import plan_zone

    zone = plan_zone()
    for row in rows:
        when = (row.sent_at or row.updated_at).astimezone(zone).isoformat(sep=" ", timespec="minutes")
        click.echo(f"{when}  {row.state:<8} {row.key}")
        reason = _skip_reason(row.error_code) if row.state == "skipped" else None
        if reason:
            click.echo("    " + reason)
        elif row.error:
            click.echo("    " + row.error.replace("\n", " "))
        if row.state == "pending" and row.next_attempt_at:
            click.echo("    " + _("next attempt {at} (attempt {attempt})").format(
                at=row.next_attempt_at.astimezone(zone).isoformat(sep=" ", timespec="minutes"),
                attempt=row.attempts + 1))
        if row.message_key and row.state in ("failed", "unknown"):
            click.echo("    " + _("message {key}").format(key=row.message_key))


@notify.command("retry")
@click.argument("key")
@_database_option
def notify_retry(key: str, database_url: str | None) -> None:
    """Send a failed or unknown message again at the next sweep.

    KEY is a notice's key or a whole message's (both in `notify log --failed`).
    For an unknown message, this is your word that it did not arrive.
    """
    from tracker.clock import utc_now
    from tracker.notify.outbox import retry

    rows = _write(database_url, lambda session: retry(session, key, utc_now()))
    click.echo(ngettext("{count} notice will be sent again at the next sweep (`tracker notify run`).",
                        "{count} notices will be sent again at the next sweep (`tracker notify run`).",
                        len(rows)).format(count=len(rows)))


@cli.command("simulate")
@click.option("--from", "start", type=DATE, required=True, metavar="DATE", help="First simulated day.")
@click.option("--to", "end", type=DATE, required=True, metavar="DATE", help="Last simulated day.")
@click.option("--restart-every", type=click.IntRange(min=1), metavar="DAYS",
              help="Stop the clock and start a new one every DAYS days, as restarts would.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: the objects of `notify preview --json`.")
@_CONTACTS_OPTION
@_register_option
def simulate_command(start: date, end: date, restart_every: int | None, as_json: bool, contacts_path: str | None,
                     register_path: str | None) -> None:
    """Run the real clock over simulated days against a throwaway database; print every message it sends.

    The register is taken as it is; the channels (those configured, else the
    console) are replaced by recorders, so nothing is sent. Each message is
    shown with the simulated instant it went out.
    """
    from tracker.clock import plan_zone
    from tracker.notify.contacts import load_contacts
    from tracker.notify.settings import channel_names
    from tracker.register import load_register
    from tracker.service.simulate import simulate

    if end < start:
        raise click.BadParameter(_("--to is before --from."), param_hint="--to")
    register = load_register(register_path)
    contacts = load_contacts(contacts_path, set(register.parties))
    notices = simulate(register_path, contacts, channel_names(), start, end, zone=plan_zone(),
                       base_url=_base_url(), restart_every=restart_every)
    _echo_records([notice.record() for notice in notices], as_json)


@cli.command("report")
@click.option("--as-of", "as_of_day", type=DATE, metavar="DATE", help="The report's day (default: today).")
@click.option("--since", type=DATE, metavar="DATE",
              help="List the changes since this day (default: the day after the last report written with "
                   "--output for the same party, else a year before --as-of).")
@click.option("--format", "report_format", type=click.Choice(["md", "csv", "html"]), default="md",
              show_default=True, help="Markdown, CSV, or HTML that prints on A4.")
@click.option("--party", metavar="PARTY", help="Only this responsible party (a party key, e.g. regionerne).")
@click.option("--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write here instead of printing; the report then counts as issued: the next one lists the "
                   "changes since.")
@_database_option
def report_command(as_of_day: date | None, since: date | None, report_format: str, party: str | None,
                   output: str | None, database_url: str | None) -> None:
    """The status of every deliverable as of a day: overdue first, by theme and party, slippage, changes.

    For the yearly written status to Sundhedsstyrelsen and the yearly report to
    the ministry. Statuses and due days are as they were at the end of the
    day: later changes are undone from the history.
    """
    from datetime import time, timedelta

    from sqlmodel import select

    from tracker.clock import plan_zone
    from tracker.i18n import current_language
    from tracker.report import RENDERERS, Report, as_of, changes_between, history_begins
    from tracker.store.db import read_session
    from tracker.store.queries import ListFilter, closest_ids, list_occurrences
    from tracker.store.reports import last_report, record_report
    from tracker.store.tables import HistoryRow, PartyRow, ThemeRow

    day = as_of_day or plan_today()
    if since is not None and since > day:
        raise click.BadParameter(_("--since is after --as-of."), param_hint="--since")
    zone = plan_zone()
    end = datetime.combine(day + timedelta(days=1), time(0), zone)  # the end of the report's day
    engine = _open_existing(database_url)
    with read_session(engine) as session:
        parties = {row.key: (row.name, row.name_en) for row in session.exec(select(PartyRow))}
        if party and party not in parties:
            from tracker.errors import UnknownIdError

            suggestions = closest_ids(party, list(parties))
            raise UnknownIdError(_("No party has the key {key!r}.").format(key=party) + (
                _(" Did you mean: {ids}?").format(ids=", ".join(suggestions)) if suggestions else ""), suggestions)
        if since is None:
            last = last_report(session, party)
            if last is not None and last.day < day:
                since = last.day + timedelta(days=1)  # the last report showed its own day to the end
                click.echo(_("Changes since the last report (as of {day}).").format(day=last.day.isoformat()),
                           err=True)
            elif last is not None and last.day == day and last.since is not None:
                since = last.since  # the same report again, in another format: the same changes
                click.echo(_("Changes as in the report already written as of {day}.").format(day=day.isoformat()),
                           err=True)
            else:  # a year before; from a leap day, the 28th of February
                since = day.replace(year=day.year - 1, day=min(day.day, 28) if day.month == 2 else day.day)
        themes = {row.key: (row.number, row.topic, row.topic_en) for row in session.exec(select(ThemeRow))}
        views = list_occurrences(session, day, ListFilter(owner=party))
        history = list(session.exec(select(HistoryRow)))
    begins = history_begins(history)
    report = Report(as_of=day, since=since, party=parties[party][0] if party else None,
                    history_begins=begins.astimezone(zone).date() if begins else None,
                    entries=as_of(views, history, end, day),
                    changes=[change for change in changes_between(
                        history, datetime.combine(since, time(0), zone), end)
                        if not party or change.label.split(" ")[0] in {view.id for view in views}],
                    themes=themes, parties=parties)
    text = RENDERERS[report_format](report, current_language() == "en")
    if output:
        from pathlib import Path

        from tracker.calendar.export import write_atomically

        from tracker.store.db import write_session

        try:
            write_atomically(Path(output), text.encode("utf-8"))
        except OSError as error:
            raise click.ClickException(_("Cannot write the report to {path}: {error}. Check that the folder exists "
                                         "and that you may write to it; nothing was written.")
                                       .format(path=output, error=error.strerror or error)) from None
        with write_session(engine) as session:
            record_report(session, party, day, since, datetime.now(timezone.utc))
        click.echo(_("Wrote the report to {path}.").format(path=output), err=True)
    else:
        click.echo(text, nl=False)


@cli.group()
def config() -> None:
    """The settings this deployment runs with (from the environment)."""


@config.command("check")
@click.option("--offline", is_flag=True, help="Do not ask Slack and the SMTP server whether they answer.")
def config_check(offline: bool) -> None:
    """Say what is set, what is missing for which feature, and whether Slack and SMTP answer. Shows no secret.

    Exits 1 when a setting has a problem.
    """
    from tracker.service.config import PROBLEM, check

    findings = check(reach_services=not offline)
    labels = {"ok": _("ok"), "default": _("default"), "missing": _("not set"), "problem": _("PROBLEM")}
    width = max(len(finding.setting) for finding in findings)
    for finding in findings:
        line = f"{finding.setting:<{width}}  {labels[finding.state]:<9} {finding.shown}"
        click.echo(line.rstrip() + (f"  — {finding.note}" if finding.note else ""))
    if any(finding.state == PROBLEM for finding in findings):
        sys.exit(1)


@cli.group()
def db() -> None:
    """Database maintenance: schema migrations."""


@db.command("upgrade")
@_database_option
def db_upgrade(database_url: str | None) -> None:
    """Create or migrate the schema to this version (Alembic); safe to repeat."""
    from tracker.store.db import open_engine
    from tracker.store.migrate import upgrade

    engine = open_engine(database_url)
    upgrade(engine)
    click.echo(_("The database {url} is at the current schema.").format(
        url=engine.url.render_as_string(hide_password=True)))


def main() -> None:
    cli(prog_name="tracker")

