"""The web process: an ASGI app (Starlette, run by uvicorn) that serves the calendar feeds and the dashboard.

The dashboard's pages (``tracker.dashboard``) are at ``/`` and
``/deliverables/ID``, and a party's or theme's calendar, guarded as the
dashboard is, at ``/calendar/party/KEY.ics`` and ``/calendar/theme/KEY.ics``.

``GET /feeds/<token>.ics`` answers with the feed the token opens, or with the
same 404 as any path that does not exist: an unknown, revoked or malformed
token is indistinguishable from a typo. Responses carry ``ETag`` and
``Last-Modified`` and answer conditional requests with 304, which is most of
what calendar clients send. The database is read once per request (the change
markers); feeds are rendered only when the plan changed.

Tokens never reach a log: uvicorn's access and error logs go through
``tracker.logs.RedactTokens``, and nothing here logs a path.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.background import BackgroundTask
from starlette.routing import Route

from tracker.calendar.feeds import FeedSelection
from tracker.calendar.renderer import RenderedFeed
from tracker.calendar.service import FeedService
from tracker.clock import utc_now
from tracker.dashboard.access import Access
from tracker.dashboard.answer import AnswerPage
from tracker.dashboard.pages import Dashboard, Viewer, guard
from tracker.errors import StoreError, TrackerError
from tracker.i18n import _, using_language
from tracker.notify.interactions import SlackInteractions

log = logging.getLogger("tracker.web")


def _not_found() -> Response:
    # Starlette's own answer to a path no route matches, byte for byte.
    return PlainTextResponse("Not Found", status_code=404)


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(timezone.utc).replace(microsecond=0), usegmt=True)


def is_not_modified(headers: Any, rendered: RenderedFeed) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present; else If-Modified-Since."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        candidates = [tag.strip() for tag in if_none_match.split(",")]
        return "*" in candidates or any(tag.removeprefix("W/") == rendered.etag for tag in candidates)
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False  # an unreadable date is ignored, as the RFC says
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        return rendered.last_modified.replace(microsecond=0) <= since
    return False


def create_app(service: FeedService, *, clock: Callable[[], datetime] = utc_now,
               export_dir: Path | None = None, poll_seconds: float = 10.0, access: Access | None = None,
               interactions: SlackInteractions | None = None,
               language_of: Callable[[str], str] | None = None) -> Starlette:
    """The ASGI app. With ``export_dir``, it also keeps that folder's .ics files current.

    ``access`` guards the dashboard and its calendars (``tracker.dashboard.access``);
    the token feeds and /healthz are never behind it.
    """

    async def feed(request: Request) -> Response:
        filename: str = request.path_params["filename"]
        if not filename.endswith(".ics"):
            return _not_found()
        try:
            rendered = await run_in_threadpool(service.feed_for_token, filename[:-4], clock(),
                                               request.query_params.get("alarm"))
        except ValueError:
            return PlainTextResponse(_("The alarm must be a number and a unit, e.g. ?alarm=7d (days), 2w (weeks) "
                                       "or 12h (hours).") + "\n", status_code=400)
        except StoreError as error:
            log.error("cannot serve a feed: %s", error.message)
            return PlainTextResponse(_("The calendar is unavailable for a moment; try again later.") + "\n",
                                     status_code=503, headers={"Retry-After": "60"})
        if rendered is None:
            return _not_found()
        return _feed_response(request, rendered)

    async def calendar(request: Request) -> Response:
        """A party's or a theme's deadlines, linked from the dashboard and guarded as it is."""
        viewer = guard(request, access)
        if isinstance(viewer, Response):
            return viewer
        kind, filename = request.path_params["kind"], request.path_params["filename"]
        key = filename.removesuffix(".ics")
        if kind not in ("party", "theme") or key == filename:
            return _not_found()
        try:
            rendered = await run_in_threadpool(_public_feed, service, kind, key, viewer, clock())
        except StoreError as error:
            log.error("cannot serve a calendar: %s", error.message)
            with using_language(viewer.language):
                text = _("The calendar is unavailable for a moment; try again later.")
            return PlainTextResponse(text + "\n", status_code=503, headers={"Retry-After": "60"})
        return _not_found() if rendered is None else _feed_response(request, rendered)

    async def healthz(_request: Request) -> Response:
        """200 when the database answers, with when the clock last ticked; 503 when it does not.

        The clock's age is reported, not judged: a web process may run where
        no clock does (several web processes, one clock), and the platform's
        monitoring knows what age is too old for its interval.
        """
        now = clock()
        try:
            await run_in_threadpool(service.refresh, now)
            beat = await run_in_threadpool(_last_beat, service)
            notify = await run_in_threadpool(_notify_health, service, now)
        except TrackerError as error:
            log.error("health check failed: %s", error.message)
            return JSONResponse({"status": "unavailable", "database": "unavailable"}, status_code=503)
        return JSONResponse({
            "status": "ok", "database": "ok",
            "clock": {"last_tick": beat.isoformat() if beat else None,
                      "age_seconds": round((now - beat).total_seconds()) if beat else None},
            "notify": notify,
        })

    async def slack_interaction(request: Request) -> Response:
        """Slack's button presses (``tracker.notify.interactions``): answered at once, the message updated after."""
        if interactions is None:
            return _not_found()
        body = await request.body()
        reply = await run_in_threadpool(interactions.handle, body, request.headers)
        after = BackgroundTask(_run_each, reply.after) if reply.after else None
        if reply.body is not None:
            return JSONResponse(reply.body, status_code=reply.status, background=after)
        return Response(status_code=reply.status, background=after)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(_keep_exported(service, export_dir, clock, poll_seconds)) if export_dir else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    dashboard = Dashboard(service.engine, access=access, base_url=service.renderer.base_url, clock=clock)
    answer_page = AnswerPage(service.engine, dashboard.templates, clock=clock,
                             language_of=language_of or (lambda _party: "da"))
    return Starlette(
        routes=[
            Route("/feeds/{filename}", feed, methods=["GET", "HEAD"]),
            Route("/calendar/{kind}/{filename}", calendar, methods=["GET", "HEAD"]),
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/slack/interactions", slack_interaction, methods=["POST"]),
            *answer_page.routes(),
            *dashboard.routes(),
        ],
        lifespan=lifespan,
    )


def _feed_response(request: Request, rendered: RenderedFeed) -> Response:
    headers = {
        "ETag": rendered.etag,
        "Last-Modified": _http_date(rendered.last_modified),
        # Revalidate every time: a 304 is cheap, a stale deadline is not.
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if is_not_modified(request.headers, rendered):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type="text/calendar; charset=utf-8", headers=headers)


def _public_feed(service: FeedService, kind: str, key: str, viewer: Viewer, now: datetime) -> RenderedFeed | None:
    """The calendar of one known party or theme (None for any other key); notes only for the task force."""
    service.refresh(now)
    names = service.renderer.names
    if key not in (names.parties if kind == "party" else names.themes):
        return None
    selection = FeedSelection(parties=frozenset({key})) if kind == "party" else FeedSelection(themes=frozenset({key}))
    return service.public_feed(selection, viewer.language, not viewer.public, now)


def _last_beat(service: FeedService) -> datetime | None:
    from tracker.store.heartbeat import last_beat
    from tracker.store.db import translate_errors

    with translate_errors(service.engine), service.engine.connect() as connection:
        return last_beat(connection)


def _notify_health(service: FeedService, now: datetime) -> dict[str, object]:
    from tracker.notify.outbox import health
    from tracker.store.db import read_session

    with read_session(service.engine) as session:
        return health(session, now)


async def _keep_exported(service: FeedService, directory: Path, clock: Callable[[], datetime],
                         poll_seconds: float) -> None:
    """Rewrite the export folder whenever the plan, the day or the feeds changed."""
    exported_generation: int | None = None
    while True:
        try:
            await run_in_threadpool(service.refresh, clock())
            if service.generation != exported_generation:
                generation = service.generation
                report = await run_in_threadpool(service.export, directory, clock())
                exported_generation = generation
                if report.written or report.removed:
                    log.info("exported feeds to %s: %d written, %d removed", directory, len(report.written),
                             len(report.removed))
        except TrackerError as error:
            log.error("cannot export the feeds: %s", error.message)
        await asyncio.sleep(poll_seconds)


def slack_interactions(engine: Any, environ: Any = None) -> SlackInteractions | None:
    """Answers from Slack's buttons, when the app has both its bot token and its signing secret."""
    import os

    env = os.environ if environ is None else environ
    secret, token = env.get("SLACK_SIGNING_SECRET", "").strip(), env.get("SLACK_BOT_TOKEN", "").strip()
    if not secret or not token:
        return None
    from tracker.notify.contacts import load_contacts
    from tracker.notify.preview import party_keys
    from tracker.notify.slack import SlackChannel
    from tracker.store.db import read_session

    with read_session(engine) as session:
        contacts = load_contacts(env.get("TRACKER_CONTACTS") or None, party_keys(session))
    slack = SlackChannel(token, env.get("SLACK_API_URL") or None)
    return SlackInteractions(engine, signing_secret=secret, contacts=contacts, slack=slack, clock=utc_now)


def _run_each(steps: Any) -> None:
    """What an interaction does after Slack has its answer: open a modal, update the message."""
    for step in steps:
        step()


def _languages(engine: Any) -> Callable[[str], str]:
    """Each party's language, from the contacts file (Danish where it has none), for the answer page."""
    import os

    from tracker.notify.contacts import load_contacts
    from tracker.notify.preview import party_keys
    from tracker.store.db import read_session

    with read_session(engine) as session:
        contacts = load_contacts(os.environ.get("TRACKER_CONTACTS") or None, party_keys(session))
    return lambda party: contacts.reach(party).language


def dashboard_access() -> Access | None:
    """TRACKER_DASHBOARD_AUTH, read before anything starts: a bad setting stops the command."""
    import os

    from tracker.dashboard.access import VARIABLE, parse_access

    return parse_access(os.environ.get(VARIABLE))


def serve(engine: Any, host: str, port: int, base_url: str, access: Access | None, log_format: str,
          export_dir: str | None = None, export_interval: float = 10.0) -> None:
    """Run the web process in this thread until SIGTERM or Ctrl-C (uvicorn handles both)."""
    import signal

    import uvicorn

    service = FeedService(engine, base_url)
    service.refresh(datetime.now(timezone.utc))  # fail now, with a message, rather than at the first request
    app = create_app(service, export_dir=Path(export_dir) if export_dir else None, poll_seconds=export_interval,
                     access=access, interactions=slack_interactions(engine), language_of=_languages(engine))
    # uvicorn shuts down gracefully on SIGTERM and Ctrl-C, then raises the signal again with the handler it
    # found installed. Found the default, that kills the process before the clock (in `run`) can finish its
    # message and give its lease up; found these, the caller's clean-up runs and the exit is 0.
    previous = {number: signal.signal(number, lambda _number, _frame: None) for number in (signal.SIGTERM,
                                                                                        signal.SIGINT)}
    try:
        uvicorn.run(app, host=host, port=port, log_config=log_config(log_format), server_header=False,
                    proxy_headers=True)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def log_config(log_format: str = "text") -> dict[str, Any]:
    """uvicorn's logging configuration with the token filter on its access and error logs; JSON lines if asked."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": "tracker.logs.RedactTokens"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_tokens")
    if log_format == "json":
        for name in config["formatters"]:
            config["formatters"][name] = {"()": "tracker.logs.JsonFormatter"}
    config["loggers"]["tracker"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
