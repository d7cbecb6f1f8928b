"""The clock: every ``interval`` seconds, beat, re-sync the register if its file changed, sweep the outbox.

``Clock.tick()`` is one heartbeat and takes its instant from ``now`` (the
real clock by default; tests and ``tracker simulate`` give their own).
``build_scheduler`` runs ticks on an APScheduler 3 ``BackgroundScheduler``
with one job whose settings are deliberate:

- the job is added from code at every start, with a fixed id and
  ``replace_existing``, in the default memory job store: nothing is pickled
  into the database where a rename in the code would break it;
- ``max_instances=1``: a slow sweep (a Slack rate limit, an SMTP server that
  takes its time) is never overlapped by the next;
- ``coalesce=True`` and ``misfire_grace_time=None``: ticks missed while the
  process was suspended or a sweep ran long run once, however late, instead
  of APScheduler's default of silently dropping any run more than a second
  late. One late tick is all a catch-up needs: a sweep plans every day since
  the last one it planned.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from tracker.clock import utc_now
from tracker.errors import RegisterError, SyncRefusedError, TrackerError
from tracker.i18n import using_language
from tracker.notify.sweep import Sweeper, SweepReport
from tracker.register import default_register_path, load_register
from tracker.service.lease import ClockLease
from tracker.store.db import write_session
from tracker.store.sync import mark_synced, sync_register

log = logging.getLogger(__name__)

JOB_ID = "tracker.tick"


class Clock:
    def __init__(self, engine: Engine, sweeper: Sweeper, lease: ClockLease, *, register_path: str | None = None,
                 now: Callable[[], datetime] = utc_now):
        self.engine = engine
        self.sweeper = sweeper
        self.lease = lease
        # Its sweeps claim rows in the lease holder's name: the clock that takes over finds them by it.
        sweeper.holder = lease.holder
        self.register_path = Path(register_path) if register_path else default_register_path()
        self.now = now
        self._register_digest: str | None = None
        self.stopped = False
        self.last_report: SweepReport | None = None

    def start(self) -> None:
        """Take the lease (ClockBusyError if another clock has it) and sync the register."""
        now = self.now()
        dead = self.lease.acquire(now)
        if dead is not None:
            # Its lease ran out unreleased: that clock died. What it had claimed goes out at this clock's first
            # tick instead of waiting out the outbox's lease; what it was sending may have arrived, and is reported.
            recovered = self.sweeper.recover(dead.name, now)
            log.warning("took over from the clock %s (its lease ran out at %s without being released); %d "
                        "message(s) it was sending may have arrived and are reported to the coordinators",
                        dead.name, dead.until.isoformat(timespec="seconds"), len(recovered.unknown))
        self._resync(now)

    def tick(self) -> None:
        """One heartbeat (recorded with the lease's renewal). Never raises: a failing tick is logged, the next
        one tries again."""
        if self.stopped:
            return
        now = self.now()
        try:
            if not self.lease.renew(now):
                log.error("another clock took the lease; this one stops")
                self.stop()
                return
            try:
                self._resync(now)
            except TrackerError as error:  # the database, for instance: the sweep below says whether it works
                log.error("tick at %s: cannot sync the register: %s", now.isoformat(timespec="seconds"),
                          error.message)
            self.last_report = report = self.sweeper.sweep(now)
            if report.messages or report.failed or report.unknown or report.skipped or report.retrying:
                log.info("sweep at %s: %d messages (%d notices, %d late), %d skipped, %d to retry, %d failed, "
                         "%d unknown", now.isoformat(timespec="seconds"), report.messages, report.sent,
                         report.late, sum(report.skipped.values()), report.retrying, len(report.failed),
                         len(report.unknown))
        except TrackerError as error:
            log.error("tick at %s failed: %s", now.isoformat(timespec="seconds"), error.message)
        except Exception:  # a bug must not stop the heartbeat for good
            log.exception("tick at %s failed", now.isoformat(timespec="seconds"))

    def stop(self) -> None:
        """Let the sweep in flight finish its message, and tick no more (from any thread)."""
        self.stopped = True
        self.sweeper.stop()

    def close(self) -> None:
        """After the last tick: give the lease up, so a new clock can start at once."""
        self.lease.release(self.now())

    def _resync(self, now: datetime) -> None:
        """Sync the register into the database when the file's bytes changed since the last sync."""
        try:
            data = self.register_path.read_bytes()
        except OSError as error:
            log.error("cannot read the register %s: %s; keeping the plan as it is", self.register_path, error)
            return
        digest = hashlib.sha256(data).hexdigest()
        if digest == self._register_digest:
            return
        # Whatever goes wrong with this version of the file is logged once, not at every tick, and the sweep
        # goes on with the last good plan: a broken register must never stop the messages.
        self._register_digest = digest
        try:
            # The problems go to the log, the operator's, which is in English like every log line.
            with using_language("en"):
                register = load_register(str(self.register_path))
            with write_session(self.engine) as session:
                report = sync_register(session, register, now=now, actor="register")
                mark_synced(session, register, now)
        except RegisterError as error:
            log.error("the register %s has problems; keeping the plan as it is until they are fixed:\n%s",
                      self.register_path, error.message)
            return
        except SyncRefusedError as error:
            log.error("not syncing the register %s; keeping the plan as it is: %s", self.register_path,
                      error.message)
            return
        except TrackerError:
            self._register_digest = None  # the database, not the file: try again at the next tick
            raise
        except Exception:
            log.exception("reading the register %s failed unexpectedly; keeping the plan as it is",
                          self.register_path)
            return
        self.sweeper.policy = register.policy
        for warning in report.warnings:
            log.warning("%s", warning)
        if report.changed:
            log.info("synced the register %s: %d added, %d updated, %d re-planned, %d archived, %d restored, "
                     "%d renamed", self.register_path, len(report.added), len(report.updated),
                     len(report.replanned), len(report.archived), len(report.restored), len(report.renamed))


def build_scheduler(clock: Clock, interval_seconds: float) -> BackgroundScheduler:
    """A scheduler (not started) that ticks ``clock`` now and then every ``interval_seconds``."""
    scheduler = BackgroundScheduler(timezone=timezone.utc, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
    scheduler.add_job(clock.tick, "interval", seconds=interval_seconds, id=JOB_ID, name="tick",
                      replace_existing=True, next_run_time=datetime.now(timezone.utc))
    return scheduler
