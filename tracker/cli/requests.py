"""`tracker requests`: owners' requests for a new deadline, and the coordinators' decisions."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import click

from tracker.cli.app import cli
from tracker.cli.options import actor_name, by_option, database_option, open_existing, required_text, write
from tracker.clock import plan_zone
from tracker.i18n import _


@cli.group("requests", invoke_without_command=True)
@click.option("--all", "include_decided", is_flag=True, help="Include the requests already decided.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: a list with one object per request.")
@database_option
@click.pass_context
def requests_group(ctx: click.Context, include_decided: bool, as_json: bool, database_url: str | None) -> None:
    """Owners' requests for a new deadline, made from their messages: the pending ones, oldest first.

    `tracker requests approve N` re-plans as asked (the baseline stays);
    `tracker requests reject N --reason TEXT` says no.
    """
    if ctx.invoked_subcommand is not None:
        return
    from tracker.store.db import read_session
    from tracker.store.requests import list_requests, request_as_json

    with read_session(open_existing(database_url)) as session:
        rows = list_requests(session, include_decided)
        if as_json:
            click.echo(json.dumps([request_as_json(row) for row in rows], ensure_ascii=False, indent=2))
            return
        if not rows:
            click.echo(_("No requests waiting."))
        for row in rows:
            what = row.deliverable_id + (f" ({row.year})" if row.year else "")
            when = row.requested_at.astimezone(plan_zone()).strftime("%Y-%m-%d %H:%M")
            click.echo(_("{number}. {what}: new deadline {deadline!r}, asked by {who} {when}: {reason}").format(
                number=row.id, what=what, deadline=row.deadline_text, who=row.requested_by, when=when,
                reason=row.reason) + ("" if row.state == "pending" else f" [{row.state}]"))


@requests_group.command("approve")
@click.argument("number", type=int, metavar="N")
@by_option
@database_option
def approve_command(number: int, actor: str | None, database_url: str | None) -> None:
    """Approve request N: the deadline moves as asked, with the requester and reason in the history."""
    from tracker.store.requests import approve

    def decide(session: Any) -> tuple[str, str]:  # what to say, read while the row is in its session
        row = approve(session, number, actor=actor_name(actor), now=datetime.now(timezone.utc))
        return row.deliverable_id, row.deadline_text

    deliverable_id, deadline = write(database_url, decide)
    click.echo(_("Request {number} is approved: {id} is re-planned to {deadline!r}.").format(
        number=number, id=deliverable_id, deadline=deadline))


@requests_group.command("reject")
@click.argument("number", type=int, metavar="N")
@click.option("--reason", required=True, metavar="TEXT", callback=required_text, help="Why not.")
@by_option
@database_option
def reject_command(number: int, reason: str, actor: str | None, database_url: str | None) -> None:
    """Reject request N; the deadline stays, the reason goes in the history."""
    from tracker.store.requests import reject

    write(database_url, lambda session: reject(session, number, reason=reason, actor=actor_name(actor),
                                               now=datetime.now(timezone.utc)))
    click.echo(_("Request {number} is rejected.").format(number=number))
