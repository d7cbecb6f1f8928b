"""Calendar feeds: feed create, list, revoke, export."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import click

from tracker.cli.app import cli
from tracker.cli.options import (actor_name, base_url, by_option, complete_keys, database_option, open_existing,
                                  write)
from tracker.i18n import _


@cli.group()
def feed() -> None:
    """Calendar feeds: create (prints a secret address), list, revoke, export as files."""


@feed.command("create")
@click.option("--name", required=True, help="A short name: lower-case letters, digits, '.', '_', '-'.")
@click.option("--party", "parties", multiple=True, metavar="PARTY", shell_complete=complete_keys("party"),
              help="Occurrences this party is responsible or co-responsible for; repeat for several.")
@click.option("--theme", "themes", multiple=True, metavar="THEME", shell_complete=complete_keys("theme"),
              help="Occurrences under this theme (e.g. anbefaling-7); repeat for several.")
@click.option("--overdue", "overdue_only", is_flag=True, help="Only overdue occurrences.")
@click.option("--alarm", metavar="BEFORE", help="Add a reminder this long before the due day: 7d, 2w, 12h.")
@click.option("--language", type=click.Choice(["da", "en"]), default="da", show_default=True,
              help="Language of the events' text.")
@by_option
@database_option
def feed_create(name: str, parties: tuple[str, ...], themes: tuple[str, ...], overdue_only: bool,
                alarm: str | None, language: str, actor: str | None, database_url: str | None) -> None:
    """Create a feed and print its secret address (shown only this once).

    With no --party and no --theme the feed has the whole plan; with several,
    an occurrence is in it when any of them matches.
    """
    from tracker.calendar.source import definition
    from tracker.store.feeds import create_feed
    from tracker.urls import feed_urls

    address = base_url()

    def create(session: Any) -> tuple[Any, str]:
        row, token = create_feed(
            session, name, parties=list(parties), themes=list(themes), overdue_only=overdue_only, alarm=alarm,
            language=language, actor=actor_name(actor), now=datetime.now(timezone.utc))
        return definition(row), token

    created, token = write(database_url, create)
    url, webcal = feed_urls(address, token)
    click.echo(_("Created the feed {name}. Subscribe with one of these addresses:").format(name=created.name))
    click.echo(f"  {webcal}")
    click.echo(f"  {url}")
    click.echo(_("As a file (tracker feed export): {filename}").format(filename=created.export_filename))
    click.echo(_("Anyone with the address can read the feed. It is shown only now; if it is lost or leaks, "
                 "revoke the feed and create a new one."), err=True)
    if not address.startswith("https://"):
        click.echo(_("Note: the address is not https. Set TRACKER_BASE_URL to the public https address of the "
                     "web process, so the token does not travel in clear text."), err=True)


@feed.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked feeds.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@database_option
def feed_list(include_revoked: bool, as_json: bool, database_url: str | None) -> None:
    """List the feeds (never their addresses: only their holders have those)."""
    from tracker.calendar.source import load_feeds
    from tracker.output import render_grid
    from tracker.store.db import read_session
    from tracker.store.feeds import feed_as_json

    with read_session(open_existing(database_url)) as session:
        records = [feed_as_json(row) for row in load_feeds(session, include_revoked=include_revoked)]
    if as_json:
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    if not records:
        click.echo(_("No feeds yet. Create one with `tracker feed create --name NAME`."))
        return
    headers = [_("Name"), _("Shows"), _("Alarm"), _("Language"), _("Created"), _("Revoked")]
    click.echo(render_grid(headers, [[
        r["name"], _describe_selection(r["parties"], r["themes"], r["overdue_only"]), r["alarm"] or "–",
        r["language"], _local_day(r["created_at"]), _local_day(r["revoked_at"]),
    ] for r in records]))


def _local_day(moment: str | None) -> str:
    """An ISO instant as its day in the plan's time zone (a feed made at 00:14 in Copenhagen is of that day)."""
    from tracker.clock import plan_zone

    return datetime.fromisoformat(moment).astimezone(plan_zone()).date().isoformat() if moment else "–"


def _describe_selection(parties: list[str], themes: list[str], overdue_only: bool) -> str:
    scope = ", ".join(parties + themes) or _("the whole plan")
    return _("{scope}, overdue only").format(scope=scope) if overdue_only else scope


@feed.command("revoke")
@click.argument("name")
@database_option
def feed_revoke(name: str, database_url: str | None) -> None:
    """Stop a feed's address working, at once, also in the running web process."""
    from tracker.store.feeds import revoke_feed

    write(database_url, lambda session: revoke_feed(session, name, now=datetime.now(timezone.utc)))
    click.echo(_("The feed {name} is revoked; its address now answers 404.").format(name=name))


@feed.command("export")
@click.argument("directory", type=click.Path(file_okay=False))
@database_option
def feed_export(directory: str, database_url: str | None) -> None:
    """Write every feed as an .ics file into DIRECTORY, for a static web server.

    Each file is replaced in one step, so a reader never sees half a file;
    unchanged files are left alone and revoked feeds' files are removed.
    `tracker serve --export-dir DIR` keeps the folder current.
    """
    from pathlib import Path

    from tracker.calendar.service import FeedService

    report = FeedService(open_existing(database_url), base_url()).export(Path(directory), datetime.now(timezone.utc))
    click.echo(_("Exported to {directory}: {written} written, {unchanged} unchanged, {removed} removed.").format(
        directory=directory, written=len(report.written), unchanged=len(report.unchanged),
        removed=len(report.removed)))
