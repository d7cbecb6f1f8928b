"""Feeds: which events a calendar shows, what it is called, and the VCALENDAR around them.

Pure. A feed is whole-plan (no parties, no themes), per party, per theme,
personal (several parties and themes: an event belongs when any of them
matches), and any of these may be narrowed to overdue occurrences. A member of
a collective party ("region-nordjylland" of "regionerne") finds in its own
calendars its own part of each per-member occurrence, titled with its own status.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from tracker import __version__
from tracker.calendar import rfc5545
from tracker.i18n import _, using_language
from tracker.model import OccurrenceView, PlanNames

PRODID = f"-//Kraeftplan V//tracker {__version__}//DA"
# How often subscribers should fetch. Outlook and Apple honour these; Google
# fetches on its own schedule (every few hours) whatever the feed says.
REFRESH_INTERVAL = "PT1H"



@dataclass(frozen=True)
class FeedSelection:
    parties: frozenset[str] = frozenset()
    themes: frozenset[str] = frozenset()
    overdue_only: bool = False

    def admits(self, event: OccurrenceView) -> bool:
        if self.overdue_only and not event.overdue:
            return False
        if event.member is not None:
            # A member's own part is in that member's calendars only: the collective's, the themes' and the whole
            # plan's show the whole occurrence once, with how far the members have come.
            return event.member in self.parties
        if not self.parties and not self.themes:
            return True
        return not self.parties.isdisjoint(event.parties) or event.theme in self.themes


@dataclass(frozen=True)
class FeedDefinition:
    """A configured feed as the renderer needs it (from a ``feed`` row, without its token)."""

    name: str
    token_hash: str
    selection: FeedSelection = field(default_factory=FeedSelection)
    language: str = "da"
    alarm: str | None = None
    created_at: datetime | None = None
    # Coordinators' notes are in every token feed; the dashboard's public calendars leave them out.
    notes: bool = True

    @property
    def export_filename(self) -> str:
        """The file ``tracker feed export`` writes: the name, plus part of the token's hash.

        The hash part keeps the file's address as hard to guess as the web
        feed's (a directory listing aside); the name alone would not be.
        """
        return f"{self.name}-{self.token_hash[:32]}.ics"


def calendar_title(feed: FeedDefinition, names: PlanNames) -> tuple[str, str]:
    """X-WR-CALNAME and X-WR-CALDESC: which feed this is, in the feed's language."""
    english = feed.language == "en"
    selection = feed.selection
    with using_language(feed.language):
        plan = _("Cancer Plan V")
        party_names = [names.party(key, english) for key in sorted(selection.parties)]
        theme_names = [names.theme(key, english) for key in sorted(selection.themes)]
        if not party_names and not theme_names:
            name, scope = plan, _("every deliverable in the implementation agreement")
        elif len(party_names) == 1 and not theme_names:
            name, scope = f"{plan} – {party_names[0]}", _("the deliverables {party} is responsible for").format(
                party=party_names[0])
        elif len(theme_names) == 1 and not party_names:
            name, scope = f"{plan} – {theme_names[0]}", _("the deliverables under {theme}").format(
                theme=theme_names[0])
        else:
            name = f"{plan} – {feed.name}"
            scope = _("the deliverables of {selection}").format(selection="; ".join(party_names + theme_names))
        if selection.overdue_only:
            name = _("{name} (overdue)").format(name=name)
            scope = _("overdue among {scope}").format(scope=scope)
        description = _("Deadlines and status for {scope}, kept current by the Cancer Plan V task force.").format(
            scope=scope)
    return name, description


def render_calendar(feed: FeedDefinition, names: PlanNames, events: Iterable[bytes]) -> bytes:
    """The whole feed in UTF-8: the calendar's properties, then the already rendered VEVENT blocks.

    Bytes, not text: joining megabytes of cached, encoded events is a copy;
    joining str would be a copy at four bytes per character plus an encode.
    """
    name, description = calendar_title(feed, names)
    header = rfc5545.content_lines([
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"NAME:{rfc5545.escape_text(name)}",
        f"X-WR-CALNAME:{rfc5545.escape_text(name)}",
        f"DESCRIPTION:{rfc5545.escape_text(description)}",
        f"X-WR-CALDESC:{rfc5545.escape_text(description)}",
        "X-WR-TIMEZONE:Europe/Copenhagen",
        f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH_INTERVAL}",
        f"X-PUBLISHED-TTL:{REFRESH_INTERVAL}",
    ])
    return b"".join((header.encode("utf-8"), *events, b"END:VCALENDAR\r\n"))


def render_attachment(events: Iterable[bytes]) -> bytes:
    """A calendar of already rendered VEVENTs to attach to an e-mail: PUBLISH, to add, not a meeting request."""
    header = rfc5545.content_lines(["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
                                    "METHOD:PUBLISH"])
    return b"".join((header.encode("utf-8"), *events, b"END:VCALENDAR\r\n"))
