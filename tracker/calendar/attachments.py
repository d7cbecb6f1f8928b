"""The occurrences of a message as an iCalendar object, for the .ics an e-mail attaches.

The notification sweep does not import the calendar (they are sibling
features): the service hands it an ``EventAttachments`` (see
``tracker.notify.message.CalendarAttacher``). The events are the feeds'
own, at the SEQUENCE subscribers last saw, so adding one from an e-mail
updates the same event a feed shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

from sqlmodel import Session, select

from tracker.calendar.events import EventState, render_event, uid_of
from tracker.calendar.feeds import render_attachment
from tracker.calendar.source import load_plan
from tracker.store.tables import CalendarEventRow


class EventAttachments:
    def __init__(self, base_url: str):
        self.base_url = base_url

    def for_claim(self, session: Session, today: date,
                  now: datetime) -> Callable[[Iterable[tuple[str, int | None]], str], bytes | None]:
        """The plan's events and their revisions, read once; then one attachment per message: its occurrences
        (deliverable id, year) in its language, or None when none of them is in the plan."""
        contents = {(event.deliverable_id, event.year): event for event in load_plan(session, today).views}
        states = {row.uid: EventState(sequence=row.sequence, changed_at=row.changed_at)
                  for row in session.exec(select(CalendarEventRow))}

        def attachment(occurrences: Iterable[tuple[str, int | None]], language: str) -> bytes | None:
            events = []
            for key in occurrences:
                content = contents.get(key)
                if content is None:
                    continue
                # An occurrence no feed has published yet is at its first revision.
                state = states.get(uid_of(content)) or EventState(sequence=0, changed_at=now)
                events.append(render_event(content, state, language=language, base_url=self.base_url)
                              .encode("utf-8"))
            return render_attachment(dict.fromkeys(events)) if events else None

        return attachment
