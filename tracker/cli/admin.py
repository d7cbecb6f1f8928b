"""The deployment: config check, db upgrade."""

from __future__ import annotations

import sys

import click

from tracker.cli.app import cli
from tracker.cli.options import database_option
from tracker.i18n import _


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
@database_option
def db_upgrade(database_url: str | None) -> None:
    """Create or migrate the schema to this version (Alembic); safe to repeat."""
    from tracker.store.db import open_engine
    from tracker.store.migrate import upgrade

    engine = open_engine(database_url)
    upgrade(engine)
    click.echo(_("The database {url} is at the current schema.").format(
        url=engine.url.render_as_string(hide_password=True)))
