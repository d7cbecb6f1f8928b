"""Running the service: run (everything in one process), serve, clock, simulate."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import click

from tracker.cli.app import cli
from tracker.cli.options import (
    DATE,
    DEFAULT_CLOCK_INTERVAL,
    DEFAULT_PORT,
    base_url,
    contacts_option,
    database_option,
    echo_table,
    log_format,
    open_existing,
    register_option,
    today_option,
)
from tracker.cli.plan import sync_register_file
from tracker.clock import plan_today
from tracker.i18n import _, ngettext

_HOST = click.option("--host", default="127.0.0.1", show_default=True, envvar="TRACKER_HOST",
                     help="Interface the web process listens on (env TRACKER_HOST; 0.0.0.0 on a platform).")
_PORT = click.option("--port", type=int, default=DEFAULT_PORT, envvar="PORT", show_default=True,
                     help="Port the web process listens on (env PORT).")


def _log_events() -> None:
    """One line per event on standard error, for a long-running process (uvicorn sets up its own)."""
    from tracker.logs import configure

    configure(log_format())


@cli.command()
@register_option
@database_option
@today_option
@click.option("--days", default=90, show_default=True, help="How far ahead to show what is due.")
@click.option("--once", is_flag=True, help="Sync, send what is due and show the overview, then exit.")
@_HOST
@_PORT
@click.option("--interval", type=click.FloatRange(min=1), default=DEFAULT_CLOCK_INTERVAL, show_default=True,
              envvar="TRACKER_CLOCK_INTERVAL", metavar="SECONDS", help="Seconds between the clock's ticks.")
@contacts_option
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
    from tracker.service.process import make_sweeper, start_clock, ticking
    from tracker.store.db import read_session
    from tracker.store.queries import ListFilter, list_occurrences
    from tracker.web import dashboard_access, serve

    from tracker.cli.notify import echo_sweep

    register, engine = sync_register_file(register_path, database_url, "register")
    if today is None and once:
        echo_sweep(make_sweeper(register, engine, contacts_path, base_url()).sweep(utc_now()))
    shown = today or plan_today()
    with read_session(engine) as session:
        overdue = list_occurrences(session, shown, ListFilter(overdue=True))
        upcoming = list_occurrences(session, shown, ListFilter(upcoming_days=days))
    click.echo()
    click.secho(_("Overdue as of {day} ({count}):").format(day=shown.isoformat(), count=len(overdue)), bold=True)
    echo_table(overdue, shown)
    click.echo()
    click.secho(_("Due in the next {days} days ({count}):").format(days=days, count=len(upcoming)), bold=True)
    echo_table(upcoming, shown)
    if once or today is not None:
        return
    access = dashboard_access()
    _log_events()
    clock = start_clock(register, register_path, engine, contacts_path, interval, base_url())
    click.echo()
    click.echo(_("Serving on {url} (the dashboard is at {url}/; feeds: `tracker feed create`), sending what falls "
                 "due every {interval:g} s. Stop with Ctrl-C.").format(url=base_url(host, port), interval=interval))
    with ticking(clock, interval):
        serve(engine, host, port, base_url(host, port), access, log_format())


@cli.command()
@_HOST
@_PORT
@click.option("--export-dir", type=click.Path(file_okay=False), envvar="TRACKER_FEED_DIR", metavar="DIR",
              help="Also keep this folder's .ics files current (env TRACKER_FEED_DIR).")
@click.option("--export-interval", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              metavar="SECONDS", help="How often to look for changes to export.")
@database_option
def serve(host: str, port: int, export_dir: str | None, export_interval: float, database_url: str | None) -> None:
    """Serve the dashboard and the calendar feeds over HTTP (uvicorn) until stopped.

    The dashboard is at / (public without notes, or behind
    TRACKER_DASHBOARD_AUTH); feeds are at /feeds/TOKEN.ics (see `tracker feed
    create`); /healthz says whether the database answers. Changes made with
    the CLI show at the next request. Feed tokens never appear in the access log.
    """
    from tracker import web

    access = web.dashboard_access()
    web.serve(open_existing(database_url), host, port, base_url(host, port), access, log_format(), export_dir,
              export_interval)


@cli.command("clock")
@click.option("--interval", type=click.FloatRange(min=1), default=DEFAULT_CLOCK_INTERVAL, show_default=True,
              envvar="TRACKER_CLOCK_INTERVAL", metavar="SECONDS", help="Seconds between ticks (env "
              "TRACKER_CLOCK_INTERVAL).")
@contacts_option
@register_option
@database_option
def clock_command(interval: float, contacts_path: str | None, register_path: str | None,
                  database_url: str | None) -> None:
    """Run the clock until SIGTERM or Ctrl-C: re-sync the register when it changes, send what is due.

    Only one clock may run against a database; a second one exits at once and
    names the first. On SIGTERM the message being sent is finished, the rest
    is left for the next clock, and the command exits 0.
    """
    from tracker.register import load_register
    from tracker.service.process import start_clock, tick_until_signalled

    _log_events()
    engine = open_existing(database_url)
    clock = start_clock(load_register(register_path), register_path, engine, contacts_path, interval, base_url())
    click.echo(_("The clock runs against {url} every {interval:g} s. Stop it with Ctrl-C or SIGTERM.").format(
        url=engine.url.render_as_string(hide_password=True), interval=interval), err=True)
    tick_until_signalled(clock, interval)
    click.echo(_("The clock stopped."), err=True)


@cli.command("simulate")
@click.option("--from", "start", type=DATE, required=True, metavar="DATE", help="First simulated day.")
@click.option("--to", "end", type=DATE, required=True, metavar="DATE", help="Last simulated day.")
@click.option("--restart-every", type=click.IntRange(min=1), metavar="DAYS",
              help="Stop the clock and start a new one every DAYS days, as restarts would.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: the objects of `notify preview --json`.")
@click.option("--per-recipient", is_flag=True,
              help="Print only the noise budget: messages per recipient and week, against max_messages_per_week.")
@click.option("--answer-rounds", type=click.FloatRange(0, 1), default=0.0, metavar="SHARE",
              help="Simulated owners answer done to this share of the status rounds' questions (0.5: every other "
                   "one), an hour after each is asked.")
@contacts_option
@register_option
def simulate_command(start: date, end: date, restart_every: int | None, as_json: bool, per_recipient: bool,
                     answer_rounds: float, contacts_path: str | None, register_path: str | None) -> None:
    """Run the real clock over simulated days against a throwaway database; print every message it sends.

    The register is taken as it is; the channels (those configured, else the
    console) are replaced by recorders, so nothing is sent. Each message is
    shown with the simulated instant it went out, and at the end the noise
    budget: per recipient, messages per week (median and most), and who gets
    more than the policy's max_messages_per_week.
    """
    from tracker.clock import plan_zone
    from tracker.notify.contacts import load_contacts
    from tracker.notify.settings import channel_names
    from tracker.register import load_register
    from tracker.service.noise import Sent, noise
    from tracker.service.simulate import simulate

    from tracker.cli.notify import echo_records

    if end < start:
        raise click.BadParameter(_("--to is before --from."), param_hint="--to")
    register = load_register(register_path)
    contacts = load_contacts(contacts_path, set(register.parties))
    simulation = simulate(register_path, contacts, channel_names(), start, end, zone=plan_zone(),
                          base_url=base_url(), restart_every=restart_every, answer_rounds=answer_rounds)
    notices = simulation.notices
    budget = register.policy.default.max_messages_per_week
    recipients = noise([Sent(n.at, n.row.channel, n.row.recipient, n.message.key) for n in notices], start, end,
                       budget, plan_zone())
    if per_recipient and as_json:
        click.echo(json.dumps({"max_messages_per_week": budget, "recipients": [r.as_json() for r in recipients]},
                              ensure_ascii=False, indent=2))
        return
    if not per_recipient:
        echo_records([notice.record() for notice in notices], as_json)
        if as_json:
            return
        click.echo("")
    if answer_rounds:
        click.echo(ngettext("Simulated owners answered done to {count} status-round question.",
                            "Simulated owners answered done to {count} status-round questions.",
                            len(simulation.answers)).format(count=len(simulation.answers)))
    echo_noise(recipients, budget)


def echo_noise(recipients: list[Any], budget: int) -> None:
    """The noise budget as a table: a line per recipient, flagged when over the budget in any week."""
    click.echo(_("Messages per recipient and week (budget: {budget} a week):").format(budget=budget))
    width = max((len(f"{r.channel} {r.recipient}") for r in recipients), default=10)
    for r in recipients:
        flag = ngettext("  over budget in {weeks} week", "  over budget in {weeks} weeks", r.weeks_over).format(
            weeks=r.weeks_over) if r.weeks_over else ""
        click.echo(_("  {route}  {messages:>5} messages, {notices:>5} notices; a week: median {median:g}, most "
                     "{most}; a day: most {day}").format(
            route=f"{r.channel} {r.recipient}".ljust(width), messages=r.messages, notices=r.notices,
            median=r.median_per_week, most=r.max_per_week, day=r.max_per_day) + flag)
    over = sum(1 for r in recipients if r.weeks_over)
    click.echo(ngettext("{count} recipient over the budget.", "{count} recipients over the budget.", over).format(
        count=over))
