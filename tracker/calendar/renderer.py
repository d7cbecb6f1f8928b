"""Rendering feeds from cached events: one change re-renders only the events it touches.

``FeedRenderer`` holds the plan's events as of the last ``update`` and, per
event, its text for each (language, alarm) a feed has asked for. A feed is the
join of its events' cached text, kept until the plan next changes. ``update``
compares fingerprints and revisions, so after a status change exactly one
event is rendered again and every feed is re-joined from cached text.

Not thread-safe on its own: ``tracker.calendar.service`` serialises access.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from tracker.calendar.events import EventState, fingerprint, render_event, uid_of
from tracker.calendar.feeds import FeedDefinition, render_calendar
from tracker.feed_rules import Alarm, parse_alarm
from tracker.model import OccurrenceView, PlanNames


@dataclass(frozen=True)
class RenderedFeed:
    body: bytes
    etag: str  # a strong validator, quoted as HTTP wants it
    last_modified: datetime
    event_count: int


# How many different alarm offsets are kept rendered at once. ``?alarm=`` is
# chosen by subscribers, so without a bound anyone holding one token could
# make the cache grow by one copy of the plan per offset.
MAX_CACHED_ALARMS = 8


class FeedRenderer:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self._events: dict[str, OccurrenceView] = {}
        self._fingerprints: dict[str, str] = {}
        self._states: dict[str, EventState] = {}
        self._order: list[str] = []
        self._order_index: set[str] = set()
        self._order_due: dict[str, object] = {}
        self._names = PlanNames()
        self._texts: dict[tuple[str, str, Alarm | None, bool], bytes] = {}
        self._feeds: dict[tuple[FeedDefinition, Alarm | None], RenderedFeed] = {}
        self._last_change: datetime | None = None
        self._alarms: OrderedDict[Alarm, None] = OrderedDict()

    def update(self, events: Iterable[OccurrenceView], states: Mapping[str, EventState],
               names: PlanNames | None = None, fingerprints: Mapping[str, str] | None = None) -> set[str]:
        """Take the plan as it is now; returns the UIDs whose events changed (or appeared or went).

        ``fingerprints`` saves computing them again when the caller has them.
        """
        incoming = {uid_of(event): event for event in events}
        changed = set(self._events) - set(incoming)
        current: dict[str, str] = {}
        for uid, event in incoming.items():
            if fingerprints is not None:
                current[uid] = fingerprints[uid]
            elif self._events.get(uid) is event:
                current[uid] = self._fingerprints[uid]
            else:
                current[uid] = fingerprint(event)
            if current[uid] != self._fingerprints.get(uid) or states[uid] != self._states.get(uid):
                changed.add(uid)
        names_changed = names is not None and names != self._names
        if not changed and not names_changed:
            return set()
        for key in [key for key in self._texts if key[0] in changed]:
            del self._texts[key]
        self._events = incoming
        self._fingerprints = current
        self._states = {uid: states[uid] for uid in incoming}
        if names is not None:
            self._names = names
        self._sort()
        self._last_change = max((state.changed_at for state in self._states.values()), default=None)
        self._feeds.clear()
        return changed

    def replace(self, deliverable_ids: Collection[str], events: Iterable[OccurrenceView],
                states: Mapping[str, EventState], fingerprints: Mapping[str, str]) -> set[str]:
        """Take these deliverables' events as they are now, every other event as it was: what a refresh after
        a few changes hands over instead of the whole plan. Returns the UIDs whose events changed."""
        wanted = set(deliverable_ids)
        incoming = {uid_of(event): event for event in events}
        gone = {uid for uid, event in self._events.items() if event.deliverable_id in wanted} - set(incoming)
        changed = set(gone)
        for uid, event in incoming.items():
            if fingerprints[uid] != self._fingerprints.get(uid) or states[uid] != self._states.get(uid):
                changed.add(uid)
        if not changed:
            return set()
        for key in [key for key in self._texts if key[0] in changed]:
            del self._texts[key]
        for uid in gone:
            del self._events[uid], self._fingerprints[uid], self._states[uid]
        for uid in changed - gone:
            self._events[uid], self._fingerprints[uid], self._states[uid] = \
                incoming[uid], fingerprints[uid], states[uid]
        if gone or any(uid not in self._order_index for uid in changed) or any(
                self._events[uid].due_order != self._order_due[uid] for uid in changed - gone):
            self._sort()
        moments = [self._states[uid].changed_at for uid in changed - gone]
        if moments:
            self._last_change = max(moment for moment in (self._last_change, *moments) if moment is not None)
        self._feeds.clear()
        return changed

    def _sort(self) -> None:
        events = self._events
        self._order = sorted(events, key=lambda uid: (events[uid].due_order, uid))
        self._order_index = set(self._order)
        self._order_due = {uid: events[uid].due_order for uid in self._order}

    def followers_of(self, deliverable_ids: Collection[str]) -> set[str]:
        """The deliverables whose events show one of these as what their deadline is counted from."""
        return {event.deliverable_id for event in self._events.values()
                if event.basis is not None and event.basis.target in deliverable_ids}

    @property
    def names(self) -> PlanNames:
        return self._names

    def render(self, feed: FeedDefinition, alarm: Alarm | None = None) -> RenderedFeed:
        """The feed's bytes, joined from cached event text; rendered again only after a change."""
        if alarm is None and feed.alarm:
            alarm = parse_alarm(feed.alarm)
        if alarm is not None:
            self._remember_alarm(alarm)
        cached = self._feeds.get((feed, alarm))
        if cached is not None:
            return cached
        texts = [self._event_text(uid, feed.language, alarm, feed.notes)
                 for uid in self._order if feed.selection.admits(self._events[uid])]
        body = render_calendar(feed, self._names, texts)
        # Any change anywhere in the plan moves Last-Modified: an event that
        # left this feed changed it too, and If-Modified-Since must not say otherwise.
        moments = [moment for moment in (self._last_change, feed.created_at) if moment is not None]
        rendered = RenderedFeed(
            body=body,
            etag='"' + hashlib.sha256(body).hexdigest()[:40] + '"',
            last_modified=max(moments) if moments else datetime.fromtimestamp(0).astimezone(),
            event_count=len(texts),
        )
        self._feeds[(feed, alarm)] = rendered
        return rendered

    def _remember_alarm(self, alarm: Alarm) -> None:
        self._alarms[alarm] = None
        self._alarms.move_to_end(alarm)
        while len(self._alarms) > MAX_CACHED_ALARMS:
            evicted, _ = self._alarms.popitem(last=False)
            for key in [key for key in self._texts if key[2] == evicted]:
                del self._texts[key]
            for feed_key in [feed_key for feed_key in self._feeds if feed_key[1] == evicted]:
                del self._feeds[feed_key]

    def _event_text(self, uid: str, language: str, alarm: Alarm | None, notes: bool) -> bytes:
        key = (uid, language, alarm, notes)
        text = self._texts.get(key)
        if text is None:
            text = render_event(self._events[uid], self._states[uid], language=language, base_url=self.base_url,
                                alarm=alarm, notes=notes).encode("utf-8")
            self._texts[key] = text
        return text
