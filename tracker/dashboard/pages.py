"""The dashboard's pages: the plan at a glance at ``/``, one page per deliverable at ``/deliverables/ID``, and one
per collective party at ``/members/KEY``: its per-member deliverables against its members.

Rendered on the server from Jinja templates (HTML autoescaping on, so
register text is escaped wherever it lands, SVG included) with one local
stylesheet and no script: the page works offline and on a locked-down wall
screen, and the Content-Security-Policy says so. Read-only: every route is
GET or HEAD. Danish unless ``?lang=en``; the choice is carried in every link.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from tracker.clock import plan_today, plan_zone
from tracker.dashboard.access import REALM, Access
from tracker.dashboard.views import (LISTED, SOON_DAYS, TIMELINE_ROWS, FilterError, Filters, collectives_shown,
                                     member_matrix, members_said, page_of, parse_filters, tally, tally_by,
                                     theme_timeline, timeline)
from tracker.errors import TrackerError, UnknownIdError
from tracker.i18n import LANGUAGES, _, format_day, format_due, ngettext, signed_days, using_language
from tracker.model import STANDINGS, Status, change_text, history_note, kind_label, standing, standing_label
from tracker.store import revision
from tracker.store.db import read_session, translate_errors
from tracker.model import MemberPart, OccurrenceView, PlanNames
from tracker.store.queries import load_plan, show_deliverable
from tracker.store.tables import HistoryRow
from tracker.urls import calendar_urls, members_url

log = logging.getLogger("tracker.web")

# No script, no frames, nothing from elsewhere: the policy enforces in the browser what the templates promise.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Statuses change during a meeting: revalidate every time. Vary, because the view depends on who asks.
    "Cache-Control": "private, no-cache",
    "Vary": "Authorization",
}


@dataclass(frozen=True)
class Viewer:
    """Who is looking: the public sees no notes, evidence or names of who changed what."""

    public: bool
    language: str

    @property
    def english(self) -> bool:
        return self.language == "en"


def guard(request: Request, access: Access | None) -> Viewer | Response:
    """The viewer, or the 401 that makes a browser ask for the credential."""
    language = request.query_params.get("lang", "da")
    language = language if language in LANGUAGES else "da"
    if access is None:
        return Viewer(public=True, language=language)
    if access.admits(request.headers.get("authorization")):
        return Viewer(public=False, language=language)
    with using_language(language):
        text = _("The dashboard needs the task force's user name and password (or token).")
    return PlainTextResponse(text + "\n", status_code=401, headers={
        "WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"', **SECURITY_HEADERS})


@dataclass(frozen=True)
class Snapshot:
    views: list[OccurrenceView]
    names: PlanNames


def load_snapshot(engine: Engine, today: date) -> Snapshot:
    with read_session(engine) as session:
        plan = load_plan(session, today, include_archived=False)
    return Snapshot(views=plan.views, names=plan.names)


class SnapshotCache:
    """The plan as the pages show it, read again only when the plan changed (its revision marker) or the day did:
    the front page of a large plan then costs its summary, not a read of every occurrence per request."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.Lock()
        self._cached: tuple[tuple[str, date], Snapshot] | None = None

    def get(self, today: date) -> Snapshot:
        return self.keyed(today)[1]

    def keyed(self, today: date) -> tuple[tuple[str, date], Snapshot]:
        """The snapshot with what it is of: the plan's revision and the day."""
        with translate_errors(self.engine), self.engine.connect() as connection:
            key = (revision.read(connection).plan, today)
        with self._lock:
            if self._cached is None or self._cached[0] != key:
                self._cached = (key, load_snapshot(self.engine, today))
            return self._cached


class Summaries:
    """What the front page shows, worked out from the plan (counts, timeline, lists, the page of the table), by
    what it depends on: the plan's revision and day, the viewer and the query. The page is rendered from it at
    every request (it says when it was shown); the plan's thousands of occurrences are not counted again until it
    changes. Bounded, since anyone may vary the query."""

    SIZE = 64

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[Any, ...], tuple[dict[str, Any], int]] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> tuple[dict[str, Any], int] | None:
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
            return kept

    def put(self, key: tuple[Any, ...], summary: tuple[dict[str, Any], int]) -> None:
        with self._lock:
            self._kept[key] = summary
            self._kept.move_to_end(key)
            while len(self._kept) > self.SIZE:
                self._kept.popitem(last=False)


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("tracker.dashboard", "templates"),
        autoescape=True,  # every template is HTML (with inline SVG): escape everything not marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(_=_, ngettext=ngettext, format_day=format_day, format_due=format_due,
                               signed_days=signed_days, history_note=history_note,
                               standing_label=standing_label, kind_label=kind_label,
                               standing=standing, members_said=members_said, members_path=_members_path,
                               STANDINGS=STANDINGS, Status=Status)
    return environment


class Dashboard:
    def __init__(self, engine: Engine, *, access: Access | None, base_url: str,
                 clock: Callable[[], datetime]):
        self.engine = engine
        self.access = access
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.templates = _environment()
        self.snapshots = SnapshotCache(engine)
        self.summaries = Summaries()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.board, methods=["GET", "HEAD"]),
            Route("/deliverables/{ident}", self.deliverable, methods=["GET", "HEAD"]),
            Route("/members/{party}", self.members, methods=["GET", "HEAD"]),
            Mount("/static", app=StaticFiles(packages=[("tracker.dashboard", "static")]), name="static"),
        ]

    # -- rendering ---------------------------------------------------------------------------------------------------

    def _render(self, template: str, viewer: Viewer, request: Request, **context: Any) -> str:
        def link(path: str, **query: Any) -> str:
            """A link within the dashboard that keeps the language."""
            params = {key: value for key, value in query.items() if value not in (None, "", False)}
            if viewer.english:
                params["lang"] = "en"
            return path + ("?" + urlencode(params) if params else "")

        other = "da" if viewer.english else "en"
        switch = dict(request.query_params)
        switch.pop("lang", None)
        if other == "en":
            switch["lang"] = "en"
        now = self.clock().astimezone(plan_zone())
        with using_language(viewer.language):
            return self.templates.get_template(template).render(
                viewer=viewer, link=link, now=now,
                switch_url=request.url.path + ("?" + urlencode(switch) if switch else ""),
                switch_label="English" if other == "en" else "Dansk", switch_language=other,
                status_cell=_status_cell, member_status=_member_status, overdue_by=_overdue_by,
                change_text=_change_text, web_url=_web_url, zone=plan_zone(), **context)

    def calendar_urls(self, kind: str, key: str, viewer: Viewer) -> tuple[str, str]:
        """A party's or theme's calendar: its http(s) address and the webcal:// twin calendar apps subscribe to."""
        return calendar_urls(self.base_url, kind, key, viewer.english)

    def _page(self, body: str, status_code: int = 200) -> Response:
        return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)

    def _unavailable(self, error: TrackerError, viewer: Viewer) -> Response:
        log.error("cannot show the dashboard: %s", error.message)
        with using_language(viewer.language):
            text = _("The dashboard is unavailable for a moment (the database does not answer); try again later.")
        return PlainTextResponse(text + "\n", status_code=503, headers={"Retry-After": "60", **SECURITY_HEADERS})

    # -- routes ------------------------------------------------------------------------------------------------------

    async def board(self, request: Request) -> Response:
        viewer = guard(request, self.access)
        if isinstance(viewer, Response):
            return viewer
        now = self.clock()
        today = plan_today(now)
        try:
            revision_key, snapshot = await run_in_threadpool(self.snapshots.keyed, today)
        except TrackerError as error:
            return self._unavailable(error, viewer)
        key = (revision_key, viewer, tuple(sorted(request.query_params.multi_items())))
        summary = self.summaries.get(key)
        if summary is None:
            summary = await run_in_threadpool(self._board_summary, request, viewer, snapshot, today)
            self.summaries.put(key, summary)
        context, status_code = summary
        body = await run_in_threadpool(lambda: self._render("board.html", viewer, request, **context))
        return self._page(body, status_code)

    def _board_summary(self, request: Request, viewer: Viewer, snapshot: Snapshot,
                       today: date) -> tuple[dict[str, Any], int]:
        """The front page's context, and its status code (400 for a filter it cannot read)."""
        names = snapshot.names
        english = viewer.english
        error = None
        # Labels built here (statuses, themes) are text the page shows: in the viewer's language, not the process's.
        with using_language(viewer.language):
            try:
                filters = parse_filters(request.query_params, names)
            except FilterError as problem:
                filters, error = Filters(), str(problem)
            shown = [view for view in snapshot.views if filters.admits(view)]
            drawn = len({view.deliverable_id for view in shown if view.due is not None})
            # A large plan (or a large part of one) is summarised: the timeline by theme, and the overdue and the
            # coming deadlines listed; the table is paged either way.
            summarised = drawn > TIMELINE_ROWS
            undated = [view for view in shown if view.undated]
            overdue = [view for view in shown if view.overdue]
            soon = [view for view in shown if view.open and not view.overdue and view.due is not None
                    and 0 <= (view.due - today).days <= SOON_DAYS]
            context = dict(
                summarised=summarised,
                themes_timeline=theme_timeline(shown, today, names, english) if summarised else None,
                overdue_listed=overdue[:LISTED], overdue_count=len(overdue),
                soon_listed=soon[:LISTED], soon_count=len(soon), soon_days=SOON_DAYS,
                undated_count=len(undated),
                page=page_of(shown, request.query_params.get("page")),
                today=today, names=names, filters=filters, error=error,
                total=tally(snapshot.views),
                by_party=tally_by(snapshot.views, lambda view: view.parties,
                                  lambda key: names.party(key, english).lower()),
                by_theme=tally_by(snapshot.views, lambda view: (view.theme,), names.theme_order),
                timeline=timeline(shown, today, english) if not summarised else None,
                undated=undated[:LISTED],
                collectives=collectives_shown(snapshot.views, names),
                shown_count=len(shown), all_count=len(snapshot.views),
                deliverable_count=len({view.deliverable_id for view in snapshot.views}),
                party_name=lambda key: names.party(key, english),
                theme_name=lambda key: names.theme(key, english),
                party_choices=sorted(((key, names.party(key, english)) for key in names.parties),
                                     key=lambda choice: choice[1].lower()),
                theme_choices=[(key, names.theme(key, english)) for key in sorted(names.themes,
                                                                                  key=names.theme_order)],
                status_choices=[(status.value, status.label) for status in Status],
                overdue_choices=[("1", _("Only overdue")), ("0", _("Not overdue"))],
                overdue_chosen={None: "", True: "1", False: "0"}[filters.overdue],
            )
        return context, 400 if error else 200

    async def deliverable(self, request: Request) -> Response:
        viewer = guard(request, self.access)
        if isinstance(viewer, Response):
            return viewer
        ident = request.path_params["ident"]
        today = plan_today(self.clock())

        def load() -> Any:
            with read_session(self.engine) as session:
                return show_deliverable(session, ident, today)

        try:
            detail = await run_in_threadpool(load)
        except UnknownIdError as unknown:
            with using_language(viewer.language):
                message = _("No deliverable has the id {id!r}.").format(id=ident)
            body = await run_in_threadpool(self._render, "missing.html", viewer, request, message=message,
                                           suggestions=unknown.suggestions)
            return self._page(body, 404)
        except TrackerError as error:
            return self._unavailable(error, viewer)
        row = detail.deliverable
        names = detail.names
        with using_language(viewer.language):
            calendars = [(names.party(key, viewer.english), "party", key) for key in [row.owner, *row.co_owners]]
            calendars.append((names.theme(row.theme, viewer.english), "theme", row.theme))
        feeds = [(label, *self.calendar_urls(kind, key, viewer)) for label, kind, key in calendars]
        body = await run_in_threadpool(self._render, "deliverable.html", viewer, request, detail=detail, row=row,
                                       today=today, names=names, feeds=feeds)
        return self._page(body)

    async def members(self, request: Request) -> Response:
        """A collective party's per-member deliverables, a row per occurrence and a column per member; 404 for a
        party that has no members."""
        viewer = guard(request, self.access)
        if isinstance(viewer, Response):
            return viewer
        key = request.path_params["party"]
        today = plan_today(self.clock())
        try:
            snapshot = await run_in_threadpool(self.snapshots.get, today)
        except TrackerError as error:
            return self._unavailable(error, viewer)
        names = snapshot.names
        members = names.members.get(key)
        if not members:
            with using_language(viewer.language):
                message = (_("{party} has no members, so it has no page per member.")
                           .format(party=names.party(key, viewer.english)) if key in names.parties
                           else _("No party has the key {key!r}.").format(key=key))
                if names.members:
                    message += " " + _("Pages per member: {parties}.").format(parties=", ".join(
                        f"{names.party(collective, viewer.english)} ({_members_path(collective)})"
                        for collective in names.members))
            body = await run_in_threadpool(self._render, "missing.html", viewer, request, message=message,
                                           suggestions=())
            return self._page(body, 404)
        matrix = member_matrix(snapshot.views, key, members)
        body = await run_in_threadpool(self._render, "members.html", viewer, request, matrix=matrix, today=today,
                                       names=names, party=names.party(key, viewer.english))
        return self._page(body)


def _change_text(entry: HistoryRow) -> str:
    """One history row in words, without its note (the template shows that only to the task force)."""
    occurrence = f" ({entry.occurrence_key})" if entry.occurrence_key else ""
    return change_text(entry.action, entry.old_value, entry.new_value, entry.field) + occurrence


def _web_url(url: str | None) -> bool:
    """Only http(s) links are made clickable: a javascript: URL in the history must stay text."""
    return bool(url) and urlsplit(url).scheme in ("http", "https")


def _members_path(collective: str) -> str:
    return members_url("", collective)


def _overdue_by(view: OccurrenceView, today: date) -> str:
    """"overdue by 146 days", counted from the occurrence's due day; "" for one that is not overdue."""
    if view.due is None or today <= view.due:
        return ""
    days = (today - view.due).days
    return ngettext("overdue by {days} day", "overdue by {days} days", days).format(days=days)


def _member_status(view: OccurrenceView, part: MemberPart, today: date) -> str:
    """A member's part as its row in the members' table says it: overdue by how many days, as the occurrence."""
    if part.overdue and (late := _overdue_by(view, today)):
        return f"{late} ({part.status.label})"
    return part.status.label


def _status_cell(view: OccurrenceView, today: date) -> str:
    """The status as `tracker list` shows it: overdue says by how many days, and per member how many are done
    ("i gang 3/5")."""
    progress = f" {view.progress.short()}" if view.per_member and view.progress is not None else ""
    if view.overdue and (late := _overdue_by(view, today)):
        return f"{late} ({view.status.label}{progress})"
    return view.status.label + progress
