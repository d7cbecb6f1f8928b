"""The feeds as a long-running process serves them: current at every call, rendered only on change.

Each call starts with one primary-key read of the change markers
(``tracker.store.revision``). When neither they nor the plan's day moved,
the cached bytes are served as they are. When the plan changed, the history
since the last row read says which deliverables did: only they are read
again, their events' revisions reconciled and their events rendered
(``FeedRenderer.replace``). A new day, a change to no one deliverable (a
party's name) or a rename reads the whole plan again. When the set of feeds changed (a feed created or
revoked), the feed definitions are read again, so a revoked token stops
working at its next request.
"""

from __future__ import annotations

import hmac
import threading
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from tracker.calendar.events import feed_events, fingerprint, uid_of
from tracker.calendar.export import ExportReport, export
from tracker.calendar.feeds import FeedDefinition, FeedSelection
from tracker.calendar.renderer import FeedRenderer, RenderedFeed
from tracker.calendar.source import changes_since, definition, last_history_id, load_feeds, load_plan, reconcile
from tracker.clock import plan_today
from tracker.feed_rules import TOKEN_PATTERN, Alarm, hash_token, parse_alarm
from tracker.store import revision
from tracker.store.db import read_session, translate_errors



class FeedService:
    def __init__(self, engine: Engine, base_url: str):
        self.engine = engine
        self.renderer = FeedRenderer(base_url)
        self._lock = threading.Lock()
        self._plan_seen: tuple[str, date] | None = None
        self._feeds_seen: str | None = None
        self._feeds: list[FeedDefinition] = []
        self._history_seen: int | None = None  # the last history row the cached plan reflects
        # What the last refresh of the plan read: these deliverables, or None for the whole plan (for the logs,
        # the benchmark and the tests that hold the refresh to reading no more than changed).
        self.last_read: frozenset[str] | None = None
        # Goes up whenever a refresh re-read anything: the exporter writes
        # files only when it moved since its last run.
        self.generation = 0

    def refresh(self, now: datetime) -> bool:
        """Bring the cache up to the database and the day; True when anything was re-read."""
        today = plan_today(now)
        with translate_errors(self.engine), self.engine.connect() as connection:
            markers = revision.read(connection)
        with self._lock:
            refreshed = False
            if self._plan_seen != (markers.plan, today):
                if self._plan_seen is not None and self._plan_seen[1] == today and self._history_seen is not None:
                    self._refresh_changed(today, now)
                else:
                    self._refresh_all(today, now)
                self._plan_seen = (markers.plan, today)
                refreshed = True
            if self._feeds_seen != markers.feeds:
                with read_session(self.engine) as session:
                    self._feeds = [definition(row) for row in load_feeds(session)]
                self._feeds_seen = markers.feeds
                refreshed = True
            if refreshed:
                self.generation += 1
            return refreshed

    def _refresh_all(self, today: date, now: datetime) -> None:
        """Read the whole plan: at start, on a new day (overdue moves), and after a change to more than its rows."""
        with read_session(self.engine) as session:
            history_seen = last_history_id(session)  # first: a change committed meanwhile is read again next time
            plan = load_plan(session, today)
        events = feed_events(plan.views)
        fingerprints = {uid_of(event): fingerprint(event) for event in events}
        states = reconcile(self.engine, events, fingerprints, now)
        self.renderer.update(events, {uid: state for uid, (_, state) in states.items()}, plan.names, fingerprints)
        self._history_seen = history_seen
        self.last_read = None

    def _refresh_changed(self, today: date, now: datetime) -> None:
        """Read only the deliverables the history changed since the last read (and those whose deadlines are
        counted from them), so the request after one status change costs what rendering that one event costs."""
        with read_session(self.engine) as session:
            changes = changes_since(session, self._history_seen or 0)
            if changes.everything:
                wanted = None
            else:
                wanted = set(changes.deliverable_ids) | self.renderer.followers_of(changes.deliverable_ids)
                plan = load_plan(session, today, deliverable_ids=wanted) if wanted else None
        if wanted is None:
            self._refresh_all(today, now)
            return
        if plan is not None:
            events = feed_events(plan.views)
            fingerprints = {uid_of(event): fingerprint(event) for event in events}
            states = reconcile(self.engine, events, fingerprints, now, only_these=True)
            self.renderer.replace(wanted, events, {uid: state for uid, (_, state) in states.items()}, fingerprints)
        self._history_seen = changes.last_id
        self.last_read = frozenset(wanted)

    @property
    def feeds(self) -> list[FeedDefinition]:
        """The feeds that are not revoked, as of the last refresh."""
        return list(self._feeds)

    def find(self, token: str) -> FeedDefinition | None:
        """The live feed this token opens, or None; the same work whichever way it fails.

        The token's hash is compared with every live feed's in constant time
        and without stopping at a match, so neither the comparison nor the
        loop tells an attacker how close a guess came.
        """
        if not TOKEN_PATTERN.fullmatch(token):
            return None
        presented = hash_token(token)
        found = None
        for feed in self._feeds:
            if hmac.compare_digest(feed.token_hash, presented):
                found = feed
        return found

    def render(self, feed: FeedDefinition, alarm: Alarm | None = None) -> RenderedFeed:
        with self._lock:
            return self.renderer.render(feed, alarm)

    def feed_for_token(self, token: str, now: datetime, alarm: str | None = None) -> RenderedFeed | None:
        """Refresh, then the feed's bytes; None for any token that opens nothing.

        A bad ``alarm`` raises ValueError, but only for a token that opens a
        feed: to anyone else every answer is the same "not found".
        """
        self.refresh(now)
        feed = self.find(token)
        if feed is None:
            return None
        return self.render(feed, parse_alarm(alarm) if alarm else None)

    def public_feed(self, selection: FeedSelection, language: str, notes: bool, now: datetime) -> RenderedFeed:
        """Refresh, then a feed of one party's or one theme's deadlines, as the dashboard links to it."""
        self.refresh(now)
        name = "-".join(sorted(selection.parties | selection.themes)) or "plan"
        return self.render(FeedDefinition(name=name, token_hash="", selection=selection, language=language,
                                          notes=notes))

    def export(self, directory: Path, now: datetime) -> ExportReport:
        """Write every live feed to ``directory`` and remove revoked feeds' files."""
        self.refresh(now)
        with read_session(self.engine) as session:
            revoked = [definition(row) for row in load_feeds(session, include_revoked=True) if row.revoked_at]
        return export(directory, [(feed, self.render(feed)) for feed in self.feeds], revoked)
