"""tracker: deadlines and deliverables of Kræftplan V, followed up.

The public surface is the ``tracker`` command (``tracker.cli``) and the
register format (docs/register.md). Modules:

- ``deadlines``  "første halvår af 2026" → a window of days (pure)
- ``policy``     when who hears about what: the register's ``[policy]`` (pure)
- ``urls``       every address tracker hands out: deliverable pages, feeds, calendars (pure)
- ``feed_rules`` what a calendar feed is: its name, its token's hash, its alarm (pure)
- ``register``   deliverables.toml → validated domain objects (pure)
- ``model``      the domain types and status rules (pure)
- ``store``      database tables, migrations, sync and coordinators' changes
- ``output``     tables, CSV and JSON for the CLI
- ``calendar``   iCalendar feeds: events, feeds, the cache and the export
- ``notify``     reminders, alerts, escalations and digests: the policy, the outbox, Slack and e-mail
- ``service``    the clock (APScheduler), its lease, the simulation, ``config check``
- ``report``     the yearly status report as of a day (Markdown, CSV, HTML for A4)
- ``dashboard``  the plan at a glance: counts, the SVG timeline, the table, a page per deliverable
- ``web``        the ASGI app that serves the feeds and the dashboard
- ``cli``        the command line, a module per group of commands; the only place errors become exit codes

The layers, each importing only from those below it, are a contract in
pyproject.toml that `lint-imports` checks in CI (README, "the layers").
"""

__all__: list[str] = []
__version__ = "0.2.0"
