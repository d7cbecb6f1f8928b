"""The long-running processes, and the commands that look after them.

- ``lease``: only one clock runs against a database, by a lease in ``meta``;
  its heartbeat is what ``/healthz`` reports.
- ``clock``: one tick beats, re-syncs the register when the file changed and
  sweeps the outbox; ``build_scheduler`` runs ticks on APScheduler.
- ``simulate``: the same clock over simulated days, against a throwaway
  database, with recorders for channels (``tracker simulate``).
- ``config``: every setting checked, Slack and SMTP asked (``tracker config check``).
"""
