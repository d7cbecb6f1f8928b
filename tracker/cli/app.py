"""The root `tracker` group: the language, --debug, the log format, and errors into exit codes."""

from __future__ import annotations

from typing import Any

import click

from tracker.errors import TrackerError
from tracker.i18n import _, set_language

# The order `tracker --help` lists the commands in: the order of a coordinator's day.
ORDER = ("validate", "sync", "run", "list", "show", "parties", "themes", "status", "replan", "note", "serve", "clock",
         "feed", "notify", "simulate", "report", "config", "db")


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
        return sorted(self.commands, key=lambda name: ORDER.index(name) if name in ORDER else len(ORDER))


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


def main() -> None:
    cli(prog_name="tracker")
