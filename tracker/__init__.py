"""tracker: deadlines and deliverables of Kræftplan V, followed up.

The public surface is the ``tracker`` command (``tracker.cli``) and the
register format (docs/register.md). Modules:

- ``deadlines``  "første halvår af 2026" → a window of days (pure)
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
- ``cli``        the command line; the only place errors become exit codes
"""

__all__: list[str] = []
__version__ = "0.2.0"
