"""The plan's commands: validate, sync, list, show, status, replan, note."""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime, timezone
from typing import Any

import click

from tracker.cli.app import cli
from tracker.cli.options import (
    DATE,
    STATUS,
    actor_name,
    complete_keys,
    by_option,
    check_url,
    database_option,
    echo_table,
    member_option,
    occurrence_option,
    open_existing,
    register_option,
    required_text,
    today_option,
    write,
)
from tracker.clock import plan_today
from tracker.i18n import _
from tracker.model import Status


@cli.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--coverage", is_flag=True,
              help="Also list every dated sentence of the sources the deliverables quote, and what tracks or skips it.")
@click.option("--sources", "sources_dir", envvar="TRACKER_SOURCES", metavar="DIR",
              type=click.Path(file_okay=False),
              help="Where the source documents are (env TRACKER_SOURCES). Default: ../shared/seeds beside the "
                   "checkout.")
@click.option("--json", "as_json", is_flag=True, help="With --coverage: print the sentences as JSON.")
def validate(path: str | None, coverage: bool, sources_dir: str | None, as_json: bool) -> None:
    """Check the register as a whole and report every problem with its line.

    PATH defaults to $TRACKER_REGISTER, else the register shipped with tracker.
    Exits 1 when there is any problem. With --coverage, also exits 1 when a
    dated sentence of a source is neither tracked by a deliverable nor
    skipped with a reason ([[skipped]] in the register).
    """
    from tracker.register import load_register

    register = load_register(path or os.environ.get("TRACKER_REGISTER") or None)
    occurrences = sum(len(d.occurrences()) for d in register.deliverables.values())
    if not (coverage and as_json):
        click.echo(_("The register {path} is valid: {deliverables} deliverables ({occurrences} occurrences), "
                     "{parties} parties, {themes} themes.").format(
            path=register.path, deliverables=len(register.deliverables), occurrences=occurrences,
            parties=len(register.parties), themes=len(register.themes)))
    if coverage:
        from tracker.cli.coverage import echo_coverage

        echo_coverage(register, sources_dir, as_json)


def sync_register_file(register_path: str | None, database_url: str | None, by: str,
                       allow_removals: bool = False, need_register: bool = True) -> tuple[Any, Any]:
    """Validate, migrate, sync and say what changed; (register, engine), the register None where not needed and
    the file is as last synced (``sync_file``)."""
    from tracker.store.sync import sync_file

    register, engine, report = sync_file(register_path, database_url, datetime.now(timezone.utc), by,
                                         allow_removals=allow_removals, need_register=need_register)
    where = engine.url.render_as_string(hide_password=True)
    for warning in report.warnings:
        click.echo(_("Warning: {problem}").format(problem=warning), err=True)
    if not report.changed:
        click.echo(_("The database {url} already matches the register; nothing changed.").format(url=where))
    else:
        click.echo(_("Synced the register into {url}: {added} added, {updated} updated, {replanned} re-planned, "
                     "{archived} archived, {restored} restored, {renamed} renamed, {unchanged} unchanged; "
                     "{parties} parties and {themes} themes changed; {history} changes in the history.").format(
            url=where, added=len(report.added), updated=len(report.updated), replanned=len(report.replanned),
            archived=len(report.archived), restored=len(report.restored), renamed=len(report.renamed),
            unchanged=report.unchanged, parties=report.parties, themes=report.themes, history=report.history))
    return register, engine


@cli.command()
@register_option
@database_option
@by_option
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
    sync_register_file(register_path, database_url, actor or "register", allow_removals, need_register=False)


@cli.command("list")
@database_option
@today_option
@click.option("--owner", metavar="PARTY", shell_complete=complete_keys("party"),
              help="Only this responsible party (a party key, e.g. sst).")
@click.option("--status", "statuses", multiple=True, metavar="STATUS", type=STATUS,
              help="Only this status (Danish or English, e.g. 'i gang' or in_progress); repeat for several.")
@click.option("--theme", metavar="THEME", shell_complete=complete_keys("theme"),
              help="Only this theme (e.g. anbefaling-7).")
@click.option("--overdue", is_flag=True, help="Only overdue occurrences.")
@click.option("--upcoming", type=click.IntRange(min=0), metavar="DAYS",
              help="Only open occurrences due within DAYS days from today.")
@click.option("--due-before", type=DATE, metavar="DATE", help="Only due before this day.")
@click.option("--due-after", type=DATE, metavar="DATE", help="Only due after this day.")
@click.option("--undated", is_flag=True, help="Only commitments with no deadline yet (\"uden frist\").")
@click.option("--all", "include_archived", is_flag=True, help="Include archived deliverables.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: a list with one object per occurrence.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV with the same fields as --json.")
def list_command(database_url: str | None, today: date | None, owner: str | None, statuses: tuple[Any, ...],
                 theme: str | None, overdue: bool, upcoming: int | None, due_before: date | None,
                 due_after: date | None, undated: bool, include_archived: bool, as_json: bool,
                 as_csv: bool) -> None:
    """List occurrences of deliverables, ordered by due day; those with no deadline yet come last."""
    from tracker.store.db import read_session
    from tracker.store.queries import ListFilter, check_filter, collector_paused, list_occurrences

    if as_json and as_csv:
        raise click.UsageError(_("Choose one of --json and --csv."))
    if undated and (overdue or upcoming is not None or due_before or due_after):
        raise click.UsageError(_("--undated lists what has no due day; it cannot be combined with --overdue, "
                                 "--upcoming, --due-before or --due-after."))
    today = today or plan_today()
    where = ListFilter(owner=owner, statuses=tuple(statuses), theme=theme, overdue=overdue,
                       upcoming_days=upcoming, due_before=due_before, due_after=due_after, undated=undated,
                       include_archived=include_archived)
    with read_session(open_existing(database_url)) as session:
        check_filter(session, where)
        # No form of the list shows what follow-on deadlines are counted from (`tracker show` does).
        views = list_occurrences(session, today, where, bases=False)
    with collector_paused():  # the rows are built and printed, never freed in between: nothing to collect
        if as_json:
            click.echo(json.dumps([v.as_json() for v in views], ensure_ascii=False, indent=2))
        elif as_csv:
            from tracker.output import render_csv

            click.echo(render_csv(views), nl=False)
        else:
            echo_table(views, today)


@cli.command()
@click.argument("deliverable_id", metavar="ID", shell_complete=complete_keys("deliverable"))
@database_option
@today_option
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
def show(deliverable_id: str, database_url: str | None, today: date | None, as_json: bool) -> None:
    """Show a deliverable: every field, its occurrences, history and source quote."""
    from tracker.output import detail_as_json, render_detail
    from tracker.store.db import read_session
    from tracker.store.queries import show_deliverable

    today = today or plan_today()
    with read_session(open_existing(database_url)) as session:
        detail = show_deliverable(session, deliverable_id, today)
        if as_json:
            click.echo(json.dumps(detail_as_json(detail), ensure_ascii=False, indent=2))
        else:
            click.echo(render_detail(detail, today))


@cli.command()
@click.argument("deliverable_id", metavar="ID", shell_complete=complete_keys("deliverable"))
@click.argument("status", type=STATUS)
@occurrence_option
@click.option("--note", required=True, metavar="TEXT", callback=required_text,
              help="Why the status changes.")
@by_option
@click.option("--evidence", metavar="URL", callback=check_url, help="A link to the evidence, e.g. the report.")
@member_option
@database_option
def status(deliverable_id: str, status: Any, year: int | None, note: str, actor: str | None,
           evidence: str | None, member: str | None, database_url: str | None) -> None:
    """Set the status of a deliverable (or of one year's occurrence with --occurrence).

    STATUS in Danish or English: ikke påbegyndt (not_started), i gang
    (in_progress), i risiko (at_risk), færdig (done), aflyst (cancelled).
    Changes that make no sense (done back to not_started, say) are refused.

    A deliverable every region delivers its own part of ("i alle regioner")
    has a status per member: --member region-nordjylland sets that region's,
    and the deliverable's follows from them ("3 af 5"). Without --member,
    every member's status becomes STATUS.
    """
    from tracker.store.operations import change_status

    new_status = status
    changed = write(database_url, lambda session: _status_said(change_status(
        session, deliverable_id, new_status, note=note, actor=actor_name(actor), now=datetime.now(timezone.utc),
        year=year, evidence_url=evidence, member=member)))
    changed_year, rolled = changed
    label = f"{deliverable_id} ({changed_year})" if changed_year else deliverable_id
    if member is not None:
        click.echo(_("{member}'s part of {label} is now {status}; {label} is {rolled}.").format(
            member=member, label=label, status=new_status.label, rolled=Status(rolled).label))
    else:
        click.echo(_("{label} is now {status}.").format(label=label, status=new_status.label))


def _status_said(occurrence: Any) -> tuple[int | None, str]:
    """What the command says after a status change, read inside its transaction: the year and the status now."""
    return occurrence.year, occurrence.status


@cli.command()
@click.argument("deliverable_id", metavar="ID", shell_complete=complete_keys("deliverable"))
@click.argument("deadline")
@click.option("--reason", required=True, metavar="TEXT", callback=required_text,
              help="Why the deadline moves.")
@occurrence_option
@by_option
@click.option("--yes", is_flag=True, help="Re-plan even to a day long past, or before the occurrence's window.")
@database_option
def replan(deliverable_id: str, deadline: str, reason: str, year: int | None, actor: str | None, yes: bool,
           database_url: str | None) -> None:
    """Move a deliverable to a new DEADLINE, keeping the baseline so slippage shows.

    DEADLINE takes every form the register does: "2026-09-30", "Q3 2026",
    "andet halvår 2026", "medio 2027", "årligt fra 2027 til og med 2030", …
    """
    from tracker.deadlines import parse_dated
    from tracker.store.db import read_session
    from tracker.store.operations import replan as replan_deliverable
    from tracker.store.operations import replan_concerns

    parse_dated(deadline)  # a bad deadline is reported before the database is opened
    with read_session(open_existing(database_url)) as session:
        concerns = replan_concerns(session, deliverable_id, deadline, plan_today(), year)
    if concerns and not yes:
        for concern in concerns:
            click.echo(concern, err=True)
        if not sys.stdin.isatty():
            raise click.ClickException(_("Nothing was changed. If this is what you mean, run it again with --yes."))
        click.confirm(_("Re-plan all the same?"), abort=True, err=True)
    write(database_url, lambda session: replan_deliverable(
        session, deliverable_id, deadline, reason=reason, actor=actor_name(actor), now=datetime.now(timezone.utc),
        year=year))
    click.echo(_("{id} is re-planned to {deadline!r}.").format(id=deliverable_id, deadline=deadline))


@cli.command()
@click.argument("deliverable_id", metavar="ID", shell_complete=complete_keys("deliverable"))
@click.argument("text")
@occurrence_option
@by_option
@member_option
@database_option
def note(deliverable_id: str, text: str, year: int | None, actor: str | None, member: str | None,
         database_url: str | None) -> None:
    """Add a note to a deliverable (or to one year's occurrence, or with --member to one member's part)."""
    from tracker.store.operations import add_note

    if not text.strip():
        raise click.BadParameter(_("the note is empty"), param_hint="TEXT")
    write(database_url, lambda session: add_note(
        session, deliverable_id, text, actor=actor_name(actor), now=datetime.now(timezone.utc), year=year,
        member=member))
    click.echo(_("Noted on {id}.").format(id=deliverable_id))


@cli.command()
@click.argument("deliverable_id", metavar="ID", shell_complete=complete_keys("deliverable"))
@click.option("--until", type=DATE, metavar="DATE", help="The first day the owner hears about it again.")
@click.option("--reason", metavar="TEXT", help="Why it waits (required with --until).")
@click.option("--clear", is_flag=True, help="Resume the owner's reminders and alerts now.")
@occurrence_option
@by_option
@member_option
@database_option
def snooze(deliverable_id: str, until: date | None, reason: str | None, clear: bool, year: int | None,
           actor: str | None, member: str | None, database_url: str | None) -> None:
    """Pause the owner's reminders and alerts about a deliverable until a day, with a reason; or resume them.

    The coordinators' escalation and the weekly digest go on, and say it is
    paused, by whom and why; the history records it.
    """
    from tracker.store.operations import snooze as pause

    if clear == (until is not None):
        raise click.UsageError(_("Give --until DATE and --reason TEXT to pause, or --clear to resume."))
    if until is not None and not (reason or "").strip():
        raise click.BadParameter(_("say why it waits"), param_hint="--reason")
    today = plan_today(datetime.now(timezone.utc))
    if until is not None and until <= today:
        raise click.BadParameter(_("{day} is not after today ({today}): a pause ends on a later day.").format(
            day=until.isoformat(), today=today.isoformat()), param_hint="--until")
    write(database_url, lambda session: pause(
        session, deliverable_id, until, reason=reason.strip() if reason and until else None,
        actor=actor_name(actor), now=datetime.now(timezone.utc), year=year, member=member))
    label = f"{deliverable_id} ({year})" if year else deliverable_id
    if member is not None:
        label = f"{label}, {member}"
    if until is None:
        click.echo(_("The owner hears about {label} again.").format(label=label))
    else:
        click.echo(_("The owner hears nothing about {label} until {day}; escalations and the digest go on.").format(
            label=label, day=until.isoformat()))



@cli.command()
@database_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON: key, name, name_en, kind.")
def parties(database_url: str | None, as_json: bool) -> None:
    """The responsible parties: the keys that --owner, --party and the contacts file take, with their names."""
    from sqlmodel import col, select

    from tracker.output import render_grid
    from tracker.store.db import read_session
    from tracker.store.tables import PartyRow

    with read_session(open_existing(database_url)) as session:
        rows = list(session.exec(select(PartyRow).where(col(PartyRow.archived_at).is_(None))
                                 .order_by(col(PartyRow.key))))
    if as_json:
        click.echo(json.dumps([{"key": r.key, "name": r.name, "name_en": r.name_en, "kind": r.kind} for r in rows],
                              ensure_ascii=False, indent=2))
        return
    click.echo(render_grid([_("Key"), _("Name"), _("Name (en)")], [[r.key, r.name, r.name_en] for r in rows]))


@cli.command()
@database_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON: key, number, topic, topic_en.")
def themes(database_url: str | None, as_json: bool) -> None:
    """The themes (the 11 recommendations): the keys that --theme takes, with their topics."""
    from sqlmodel import col, select

    from tracker.output import render_grid
    from tracker.store.db import read_session
    from tracker.store.tables import ThemeRow

    with read_session(open_existing(database_url)) as session:
        rows = list(session.exec(select(ThemeRow).where(col(ThemeRow.archived_at).is_(None))
                                 .order_by(col(ThemeRow.number))))
    if as_json:
        click.echo(json.dumps([{"key": r.key, "number": r.number, "topic": r.topic, "topic_en": r.topic_en}
                               for r in rows], ensure_ascii=False, indent=2))
        return
    click.echo(render_grid([_("Key"), _("No."), _("Topic"), _("Topic (en)")],
                           [[r.key, str(r.number), r.topic, r.topic_en] for r in rows]))
