"""The `tracker` command line: the only place errors become exit codes.

One module per group of commands, each a dozen lines that parse, call one
function of the layer that owns the work, and print:

- ``app``      the root group: --lang, --debug, --log-format; errors into exit codes
- ``options``  what several commands share: parameter types, options, the database
- ``plan``     validate, sync, list, show, status, replan, note
- ``service``  run, serve, clock, simulate
- ``feeds``    feed create, list, revoke, export
- ``notify``   notify preview, run, log, retry
- ``report``   report
- ``requests`` requests, approve, reject
- ``rounds``   round list, status, open
- ``admin``    config check, db upgrade

Commands import what they use inside their bodies, so `tracker --help` and
`tracker validate` never pay for SQLAlchemy (see bench/cli_startup.py). A
``TrackerError`` becomes its message and exit code 1; ``--debug`` shows the
traceback instead.
"""

# Each registers its commands.
from tracker.cli import admin, feeds, notify, plan, report, requests, rounds, service  # noqa: F401
from tracker.cli.app import cli, main

__all__ = ["cli", "main"]
