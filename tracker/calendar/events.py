"""One calendar event per occurrence: what it says, and its iCalendar text.

Pure: an event renders one ``OccurrenceView``, the plan's read model (read by
``tracker.store.queries.load_plan``), here with the ``ics`` package, with ``rfc5545`` closing the gaps
``ics`` leaves. The event's identity (UID) and its revision (SEQUENCE,
LAST-MODIFIED) are separate from its content: ``EventState`` carries the
revision, kept in the database so every process and every restart agrees.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import ics

from tracker.calendar import rfc5545
from tracker.feed_rules import Alarm
from tracker.i18n import _, format_day, format_due, using_language
from tracker.model import MemberPart, OccurrenceView, Status
from tracker.urls import deliverable_url

# UIDs are "<deliverable id>[/<year>][/<member>]@" this domain: stable for as long as the
# register keeps the id, and unique among every calendar a subscriber has. A member's own part of a per-member
# occurrence is an event of its own (its UID names the member), so a subscriber to both the collective's feed and
# the member's never has one UID with two contents.
UID_DOMAIN = "kraeftplan-v.tracker"

# All-day events with no alarm are reminders of a day, not appointments: they
# must not block the subscriber's time.
_FREE = ("TRANSP:TRANSPARENT", "X-MICROSOFT-CDO-BUSYSTATUS:FREE")


def event_uid(deliverable_id: str, year: int | None, member: str | None = None) -> str:
    # Party keys are never bare years, so "/2026" and "/region-nordjylland" cannot be mistaken for each other.
    return f"{deliverable_id}{'' if year is None else f'/{year}'}{'' if member is None else f'/{member}'}@{UID_DOMAIN}"


def uid_of(view: OccurrenceView) -> str:
    """The occurrence's event UID (a member's part's: with the member's key): by the first id its deliverable had,
    so a renamed one updates in place."""
    return event_uid(view.calendar_id or view.deliverable_id, view.year, view.member)


def feed_events(views: Iterable[OccurrenceView]) -> list[OccurrenceView]:
    """What the feeds publish: every occurrence, each per-member one followed by each member's own part (which only
    that member's calendars show, ``FeedSelection.admits``)."""
    return [event for view in views for event in (view, *view.parts())]


# What an event shows, and which feeds it is in, of the plan's read model: the fingerprint covers these and
# nothing else, so a change to, say, the baseline day or the precision does not make every subscriber fetch the
# event again. (The same values, in the same shape, as before the read model was one: an upgrade raises no
# event's SEQUENCE.)
RENDERED_FIELDS = ("deliverable_id", "year", "title", "title_en", "owner", "owner_name", "owner_name_en",
                   "co_owner_names", "co_owner_names_en", "theme", "deadline_text", "window_start", "due", "status",
                   "overdue", "withdrawn", "note", "source_section", "source_quote")


def fingerprint(view: OccurrenceView) -> str:
    """A digest of what the event shows: it changes exactly when the rendered event would."""
    # Not dataclasses.asdict: it deep-copies every field, and this runs for every occurrence at every refresh.
    values: dict[str, object] = {name: getattr(view, name) for name in RENDERED_FIELDS}
    values["uid"] = uid_of(view)
    values["parties"] = sorted(view.parties)
    if view.basis is not None:  # only where there is one: the other events' fingerprints stay as they were
        values["basis"] = view.basis
    if view.per_member:  # the whole shows each member's status (a member's part shows only its own)
        values["members"] = [(part.key, part.status, part.overdue, part.name, part.name_en) for part in view.members]
    encoded = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class EventState:
    """The revision subscribers have of an event: SEQUENCE and the instant it last changed."""

    sequence: int
    changed_at: datetime


def summary(content: OccurrenceView, language: str) -> str:
    """A title that reads at a glance in a month view, with its status marked."""
    with using_language(language):
        title = content.title if language == "da" else content.title_en
        # Which occurrence, whose part, how far the members have come: "Senfølgeklinikker etableret (3/5)", "…
        # (Region Nordjylland)" (the status mark that follows is the member's own).
        said = [str(content.year)] if content.year is not None else []
        if content.member is not None:
            said.append(content.owner_label(language == "en"))
        elif (progress := content.progress) is not None:
            said.append(progress.short())
        if said:
            title = f"{title} ({', '.join(said)})"
        if content.withdrawn:
            return _("Withdrawn: {title}").format(title=title)
        if content.status is Status.CANCELLED:
            return _("Cancelled: {title}").format(title=title)
        if content.status is Status.DONE:
            return _("✓ Done: {title}").format(title=title)
        if content.overdue:
            return _("⏰ Overdue: {title}").format(title=title)
        if content.status is Status.AT_RISK:
            return _("⚠ At risk: {title}").format(title=title)
        return title


def description(content: OccurrenceView, language: str, base_url: str, notes: bool = True) -> str:
    """The event's notes: who, the deadline in the source's words and as a day, status, source.

    Without ``notes``, the coordinators' latest note is left out (the public calendars).
    """
    with using_language(language):
        english = language == "en"
        owner = content.owner_name_en if english else content.owner_name
        co_owners = content.co_owner_names_en if english else content.co_owner_names
        lines = [_("Responsible: {party}").format(party=owner)]
        if content.member is not None:
            lines.append(_("Its own part: every member delivers its own, and the deliverable is done when all "
                           "have."))
        if co_owners:
            lines.append(_("Also responsible: {parties}").format(parties=", ".join(co_owners)))
        due = format_due(content.due)
        if content.window_start is not None and content.window_start != content.due:
            due = _("{due} (window from {start})").format(due=due, start=format_day(content.window_start))
        lines.append(_("Deadline: “{text}”, read as {due}").format(text=content.deadline_text, due=due))
        if content.basis is not None:
            lines.append(_("Counted from: {basis}").format(basis=content.basis.text(content.due, english)))
        status = content.status.label
        if content.overdue:
            status = _("{status}, overdue").format(status=status)
        if content.withdrawn:
            status = _("{status}, no longer in the register").format(status=status)
        lines.append(_("Status: {status}").format(status=status))
        if content.per_member and (progress := content.progress) is not None:
            lines.append(_("Members done: {progress}").format(progress=progress.text()))
            lines.extend(f"– {part.label(english)}: {_member_status(part)}" for part in content.members)
        if content.note and notes:
            lines.append(_("Latest note: {note}").format(note=content.note))
        lines.append("")
        lines.append(_("Source, {section}: “{quote}”").format(section=content.source_section,
                                                              quote=content.source_quote))
        lines.append("")
        lines.append(deliverable_url(base_url, content.deliverable_id))
        return "\n".join(lines)


def _member_status(part: MemberPart) -> str:
    return _("{status}, overdue").format(status=part.status.label) if part.overdue else part.status.label


def render_event(content: OccurrenceView, state: EventState, *, language: str, base_url: str,
                 alarm: Alarm | None = None, notes: bool = True) -> str:
    """The VEVENT as folded, CRLF-terminated physical lines."""
    event = ics.Event(
        name=rfc5545.clean_text(summary(content, language)),
        description=rfc5545.clean_text(description(content, language, base_url, notes)),
        uid=uid_of(content),
        created=state.changed_at,
        last_modified=state.changed_at,
    )
    event.status = "CANCELLED" if content.cancelled else "CONFIRMED"
    if content.due is None:
        raise ValueError(f"{content.deliverable_id} is undated: the feeds leave undated commitments out")
    own = [
        # ics converts all-day dates through UTC; the due day is written from
        # the calendar day itself, with the exclusive end the day after.
        f"DTSTART;VALUE=DATE:{rfc5545.date_value(content.due)}",
        f"DTEND;VALUE=DATE:{rfc5545.date_value(content.due + timedelta(days=1))}",
        f"SEQUENCE:{state.sequence}",
        # URL is a URI, not TEXT: ics would escape its commas.
        f"URL:{rfc5545.clean_text(deliverable_url(base_url, content.deliverable_id))}",
        *_FREE,
    ]
    # ics joins its lines with CRLF; str.splitlines would also split on
    # U+2028 and other separators that are legal inside TEXT.
    lines = event.serialize().split("\r\n")
    end = lines.pop()  # END:VEVENT
    lines.extend(own)
    if alarm is not None and not content.cancelled and content.status is not Status.DONE:
        lines.extend(("BEGIN:VALARM", "ACTION:DISPLAY", f"TRIGGER:{alarm.trigger}",
                      f"DESCRIPTION:{rfc5545.escape_text(summary(content, language))}", "END:VALARM"))
    lines.append(end)
    return rfc5545.content_lines(lines)
