"""The yearly status report: tracker report."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import click

from tracker.cli.app import cli
from tracker.cli.options import DATE, complete_keys, database_option, open_existing, register_option
from tracker.clock import plan_today
from tracker.i18n import _


@cli.command("report")
@click.option("--as-of", "as_of_day", type=DATE, metavar="DATE", help="The report's day (default: today).")
@click.option("--since", type=DATE, metavar="DATE",
              help="List the changes since this day (default: the day after the last report written with "
                   "--output for the same party, else a year before --as-of).")
@click.option("--format", "report_format", type=click.Choice(["md", "csv", "html"]), default="md",
              show_default=True, help="Markdown, CSV, or HTML that prints on A4.")
@click.option("--party", metavar="PARTY", shell_complete=complete_keys("party"),
              help="Only this responsible party (a party key, e.g. regionerne).")
@click.option("--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write here instead of printing; the report then counts as issued: the next one lists the "
                   "changes since.")
@register_option
@database_option
def report_command(as_of_day: date | None, since: date | None, report_format: str, party: str | None,
                   output: str | None, register_path: str | None, database_url: str | None) -> None:
    """The status of every deliverable as of a day: overdue first, by theme and party, slippage, changes.

    For the yearly written status to Sundhedsstyrelsen and the yearly report to
    the ministry. Statuses and due days are as they were at the end of the
    day: later changes are undone from the history. Each item shows its latest
    update and who made it; each status round of the register (its latest by
    the day) shows, per party, the items with no update received in it.
    """
    from pathlib import Path

    from tracker.calendar.export import write_atomically
    from tracker.clock import plan_zone
    from tracker.i18n import current_language
    from tracker.register import load_register
    from tracker.report import RENDERERS, assemble
    from tracker.store.db import read_session, write_session
    from tracker.store.reports import record_report

    day = as_of_day or plan_today()
    if since is not None and since > day:
        raise click.BadParameter(_("--since is after --as-of."), param_hint="--since")
    engine = open_existing(database_url)
    with read_session(engine) as session:
        assembled = assemble(session, day, since, party, plan_zone(), load_register(register_path).policy)
    report = assembled.report
    if assembled.since_from == "last":
        # The last report showed its own day to the end: the changes start the day after it.
        click.echo(_("Changes since the last report (as of {day}).").format(
            day=(report.since - timedelta(days=1)).isoformat()), err=True)
    elif assembled.since_from == "same":
        click.echo(_("Changes as in the report already written as of {day}.").format(day=day.isoformat()), err=True)
    text = RENDERERS[report_format](report, current_language() == "en")
    if not output:
        click.echo(text, nl=False)
        return
    try:
        write_atomically(Path(output), text.encode("utf-8"))
    except OSError as error:
        raise click.ClickException(_("Cannot write the report to {path}: {error}. Check that the folder exists "
                                     "and that you may write to it; nothing was written.")
                                   .format(path=output, error=error.strerror or error)) from None
    with write_session(engine) as session:
        record_report(session, party, day, report.since, datetime.now(timezone.utc))
    click.echo(_("Wrote the report to {path}.").format(path=output), err=True)
