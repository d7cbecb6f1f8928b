"""Reminders and alerts by hand: notify preview, run, log, retry."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import Any

import click

from tracker.cli.app import cli
from tracker.cli.options import (
    DATE,
    DateTimeType,
    base_url,
    contacts_option,
    database_option,
    echo_warnings,
    open_existing,
    register_option,
    write,
)
from tracker.clock import plan_today
from tracker.i18n import _, ngettext


@cli.group()
def notify() -> None:
    """Reminders, overdue alerts, escalations and digests (Slack, e-mail, or the console)."""


@notify.command("preview")
@click.option("--from", "start", type=DATE, metavar="DATE", help="First day (default: today).")
@click.option("--to", "end", type=DATE, metavar="DATE", help="Last day (default: 30 days after --from).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per message and recipient.")
@contacts_option
@register_option
@database_option
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
    from tracker.notify.preview import party_keys, preview
    from tracker.notify.settings import channel_names
    from tracker.register import load_register
    from tracker.store.db import read_session

    start = start or plan_today()
    end = end or start + timedelta(days=30)
    if end < start:
        raise click.BadParameter(_("--to is before --from."), param_hint="--to")
    register = load_register(register_path)
    with read_session(open_existing(database_url)) as session:
        contacts = load_contacts(contacts_path, party_keys(session))
        result = preview(session, register.policy, contacts, channel_names(), start, end, plan_zone(), base_url())
    echo_warnings(result.problems)
    if not as_json and not result.messages:
        click.echo(_("No messages from {start} to {end}.").format(start=start, end=end))
        return
    echo_records(result.records, as_json, texts=True)


def echo_records(records: list[dict[str, Any]], as_json: bool, texts: bool = False) -> None:
    """`notify preview` and `simulate`: the records as JSON, or one block per message with a line per notice;
    with ``texts``, each message as its recipient reads it too."""
    if as_json:
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    from tracker.notify.message import kind_words, reason_words

    by_message: dict[str, list[dict[str, Any]]] = {}
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
            click.echo(f"    {kind_words(record['kind']):<10} {what}  — {reason_words(record['reason'])}")
        if texts:
            click.echo("")
            click.echo("\n".join(f"    │ {line}".rstrip() for line in first["text"].splitlines()))
            click.echo("")
    count = len(by_message)
    click.echo(ngettext("{count} message.", "{count} messages.", count).format(count=count))


def echo_sweep(report: Any) -> None:
    """What one sweep did, on standard error."""
    echo_warnings(report.problems)
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
@contacts_option
@register_option
@database_option
def notify_run(now: datetime | None, contacts_path: str | None, register_path: str | None,
               database_url: str | None) -> None:
    """Send what is due now, once: one sweep of the outbox.

    Plans the days since the last sweep, skips what no longer makes sense,
    sends the rest bundled per recipient, and records every outcome. Exits
    with 1 when a message failed or may not have arrived (see `notify log`).
    """
    from tracker.clock import utc_now
    from tracker.service.process import make_sweeper
    from tracker.store.sync import policy_of

    engine = open_existing(database_url)
    sweeper = make_sweeper(policy_of(register_path, engine), engine, contacts_path, base_url())
    report = sweeper.sweep(now or utc_now())
    echo_sweep(report)
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
@database_option
def notify_log(failed: bool, limit: int, as_json: bool, database_url: str | None) -> None:
    """What was sent, skipped, failed or is waiting, newest first."""
    from tracker.clock import plan_zone
    from tracker.notify.outbox import recent, row_as_json
    from tracker.store.db import read_session

    with read_session(open_existing(database_url)) as session:
        rows = recent(session, problems_only=failed, limit=limit)
    if as_json:
        click.echo(json.dumps([row_as_json(row) for row in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(_("No failed messages.") if failed else _("The outbox is empty."))
        return
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
@database_option
def notify_retry(key: str, database_url: str | None) -> None:
    """Send a failed or unknown message again at the next sweep.

    KEY is a notice's key or a whole message's (both in `notify log --failed`).
    For an unknown message, this is your word that it did not arrive.
    """
    from tracker.clock import utc_now
    from tracker.notify.outbox import retry

    rows = write(database_url, lambda session: retry(session, key, utc_now()))
    click.echo(ngettext("{count} notice will be sent again at the next sweep (`tracker notify run`).",
                        "{count} notices will be sent again at the next sweep (`tracker notify run`).",
                        len(rows)).format(count=len(rows)))
