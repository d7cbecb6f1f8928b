"""The long-running processes: the clock (APScheduler) that sweeps the outbox, and how it is run.

- ``lease``: only one clock runs against a database, by a lease in ``meta``;
  its heartbeat is what ``/healthz`` reports.
- ``clock``: one tick re-syncs the register when the file changed, sweeps the
  outbox, and beats; ``build_scheduler`` runs ticks on APScheduler.
"""
