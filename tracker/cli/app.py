"""The root `tracker` group: the language, --debug, the log format, and errors into exit codes."""

from __future__ import annotations

import gettext
import inspect
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

from tracker.errors import TrackerError
from tracker.i18n import DEFAULT_LANGUAGE, DOMAIN, LANGUAGES, LOCALE_DIR, N_, _, set_language

# The order `tracker --help` lists the commands in: the order of a coordinator's day.
ORDER = ("validate", "sync", "run", "list", "show", "parties", "themes", "status", "replan", "note", "snooze",
         "requests",
         "serve", "clock", "feed", "notify", "simulate", "report", "config", "db")


def _commands(command: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, f"{path} {name}")


def _original(item: click.Command | click.Parameter, name: str) -> str | None:
    """The English text of ``item``'s ``name`` (help or short_help), as the code wrote it, kept on first sight."""
    store: dict[str, str | None] = item.__dict__.setdefault("_tracker_english", {})
    if name not in store:
        text = getattr(item, name, None)
        store[name] = inspect.cleandoc(text) if text else None
    return store[name]


def help_texts(root: click.Command) -> Iterator[tuple[str, str]]:
    """(where, English text) of every --help text under ``root``: the catalogue's messages of the command line."""
    for path, command in _commands(root, "tracker"):
        where = path.replace(" ", "/")  # a catalogue's locations are separated by spaces
        for name in ("help", "short_help"):
            if text := _original(command, name):
                yield f"{where}:{name}", text
        for param in command.params:
            if text := _original(param, "help"):
                yield f"{where}/{param.name}:help", text
            if metavar := _original(param, "metavar"):
                yield f"{where}/{param.name}:metavar", metavar


def localize(root: click.Command) -> None:
    """Every --help text under ``root`` in the current language.

    click reads them from docstrings and ``help=`` when the modules are
    imported, before the language is known; a command line has one language,
    so they are translated once, at the start of each invocation.
    """
    for _path, command in _commands(root, "tracker"):
        # click (8.1.8 on) keeps the --help option it made the first time, with its help in that invocation's
        # language; let it make one in this invocation's (several run in one process under test).
        command._help_option = None
        command.options_metavar = _(N_("[OPTIONS]"))
        if isinstance(command, click.Group):
            command.subcommand_metavar = _(N_("COMMAND [ARGS]..."))
        for name in ("help", "short_help"):
            if text := _original(command, name):
                setattr(command, name, _(text))
        for param in command.params:
            if isinstance(param, click.Option) and (text := _original(param, "help")):
                param.help = _(text)
            if metavar := _original(param, "metavar"):  # DATE → DATO, as --help shows what to type
                param.metavar = _(metavar)


def requested_language(args: Sequence[str]) -> str:
    """The language of an invocation, known before click parses it: --lang, else TRACKER_LANG, else Danish."""
    chosen = os.environ.get("TRACKER_LANG", "").strip().lower()[:2]
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and index + 1 < len(args):
            chosen = args[index + 1]
        elif arg.startswith("--lang="):
            chosen = arg.partition("=")[2]
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


@contextmanager
def click_speaks(language: str) -> Iterator[None]:
    """click's own messages ("Usage:", "Error: …", "Missing option") in ``language`` for the block.

    click asks the standard library's gettext, which reads the process's
    text domain and the LANGUAGE variable: point both at tracker's catalogue
    for the invocation and put them back after (tests run many in one process).
    """
    previous_domain, previous_language = gettext.textdomain(), os.environ.get("LANGUAGE")
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = language
    try:
        yield
    finally:
        gettext.textdomain(previous_domain)
        if previous_language is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = previous_language


class TrackerGroup(click.Group):
    """Speaks the invocation's language, and turns TrackerErrors into a message and exit code 1, with no
    traceback unless --debug."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        arguments = list(sys.argv[1:] if args is None else args)
        language = requested_language(arguments)
        set_language(language)
        with click_speaks(language):
            localize(self)
            return super().main(arguments, prog_name, complete_var, standalone_mode, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TrackerError as error:
            if ctx.find_root().params.get("debug"):
                raise
            raise click.ClickException(error.message) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt, SystemExit):
            raise
        except BrokenPipeError:
            raise  # the reader went away (`tracker notify preview | head`): click's main ends quietly, exit 1
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
