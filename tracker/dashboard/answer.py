"""The answer page: an e-mail's or a Teams card's recipient answers it at /answer/TOKEN, without logging in.

The token in the address is the credential (``tracker.store.answers``):
random, kept hashed, bound to the message, its recipient and its items, and
expiring. A GET only shows the page and never changes anything, because mail
scanners (Microsoft 365 Safe Links and the like) open every link before the
person does. The form submits by POST with a CSRF token (a cookie and the
same value in the form, compared in constant time), at most a few times a
minute per token; the page is server-rendered, needs no script, and sends no
Referer that could carry the token elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

import jinja2
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from tracker.clock import plan_zone
from tracker.errors import AnswerError, TrackerError
from tracker.i18n import LANGUAGES, _, format_day, format_due, using_language
from tracker.model import VIA_EMAIL, VIA_TEAMS, Status, is_overdue
from tracker.store import answers
from tracker.store.db import read_session, write_session
from tracker.store.tables import AnswerRow, DeliverableRow, MemberStatusRow, OccurrenceRow, PartyRow

log = logging.getLogger(__name__)

CSRF_COOKIE = "tracker_answer_csrf"
MAX_BODY = 16_384  # a status, a note and a link: a form bigger than this is not one of ours
MAX_NOTE = 2_000
RATE = (10, 600.0)  # at most 10 answers per token in 10 minutes
CHOICES = (Status.DONE, Status.IN_PROGRESS, Status.AT_RISK)
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    # The address holds the token: it must not travel to a linked site in a Referer header.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}


class RateLimit:
    """At most ``count`` events per key in ``seconds`` (in this process: the web process is small)."""

    def __init__(self, count: int, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.count, self.seconds, self.clock = count, seconds, clock
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - self.seconds:
                events.popleft()
            if len(events) >= self.count:
                return False
            events.append(now)
            return True


class AnswerPage:
    def __init__(self, engine: Engine, templates: jinja2.Environment, *, clock: Callable[[], datetime],
                 language_of: Callable[[str], str] = lambda _party: "da"):
        self.engine = engine
        self.templates = templates
        self.clock = clock
        self.language_of = language_of  # a party's language, from the contacts file
        self.limit = RateLimit(*RATE)

    def routes(self) -> list[BaseRoute]:
        return [Route("/answer/{token}", self.page, methods=["GET", "HEAD", "POST"])]

    async def page(self, request: Request) -> Response:
        token = request.path_params["token"]
        if request.method == "POST":
            body = await request.body()
            return await run_in_threadpool(self._post, request, token, body)
        return await run_in_threadpool(self._get, request, token)

    # -- GET: show, never change

    def _get(self, request: Request, token: str) -> Response:
        now = self.clock()
        try:
            with read_session(self.engine) as session:
                answer = answers.open_answer(session, token, now)
                language = self._language(request, answer)
                rows = self._items(session, answer)
        except AnswerError as error:
            return self._error(request, error.message, 404)
        csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        # Which item the page came back to after an answer, and what was done with it (the redirect says).
        shown = {done: int(value) if (value := request.query_params.get(done, "")).isdigit() else None
                 for done in ("answered", "confirmed", "requested", "snoozed")}
        response = self._render("answer.html", language, status=200, items=rows, csrf=csrf, recipient=answer.recipient,
                                status_round=any(row["in_round"] for row in rows), **shown,
                                action=request.url.path + (f"?lang={language}" if language == "en" else ""))
        response.set_cookie(CSRF_COOKIE, csrf, max_age=3600, path="/answer/", httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    # -- POST: the answer, once

    def _post(self, request: Request, token: str, body: bytes) -> Response:
        now = self.clock()
        if len(body) > MAX_BODY:
            return self._error(request, _("The answer is too long."), 413)
        if not self.limit.allow(hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()):
            return self._error(request, _("Too many answers in a short time: wait a few minutes and try again."),
                               429)
        try:
            form = {key: values[0] for key, values in parse_qs(body.decode("utf-8"), max_num_fields=10).items()}
        except (UnicodeDecodeError, ValueError):
            return self._error(request, _("The answer could not be read; open the page again and send it."), 400)
        cookie = request.cookies.get(CSRF_COOKIE, "")
        field = form.get("csrf", "")
        if not cookie or not hmac.compare_digest(cookie.encode(), field.encode()):
            return self._error(request, _("The page had expired. Open it again from the message and send your "
                                          "answer once more."), 403)
        if form.get("kind") == "replan":
            return self._request(request, token, form, cookie, now)
        if form.get("kind") == "snooze":
            return self._snooze(request, token, form, cookie, now)
        if form.get("kind") == "confirm":
            return self._confirm(request, token, form, cookie, now)
        status_text, note = form.get("status", ""), form.get("note", "").strip()[:MAX_NOTE] or None
        evidence = form.get("evidence", "").strip() or None
        if not form.get("item", "").isdigit() or (status_text and status_text not in {s.value for s in CHOICES}):
            return self._error(request, _("The answer could not be read; open the page again and send it."), 400)
        if evidence and (not evidence.lower().startswith(("https://", "http://")) or len(evidence) > 500):
            return self._error(request, _("The link to the evidence must be a web address (https://…)."), 400)
        if not status_text and not note:
            return self._error(request, _("Choose a status or write a note."), 400)
        index = int(form["item"])
        # The same form sent twice (a double click, a reload) is one answer.
        click = "page:" + hashlib.sha256(f"{cookie}|{index}|{status_text}|{note}|{evidence}".encode()).hexdigest()

        def apply(session: Session, answer: AnswerRow) -> str | None:
            applied = answers.apply(session, answer, index, status=Status(status_text) if status_text else None,
                                    note=note, evidence_url=evidence, actor=_actor(answer),
                                    click=click, now=now)
            log.info("answered on the answer page: item %d of message %s", index, answer.message_key)
            return "confirmed" if applied.confirmed else None

        return self._answered(request, token, now, "answered", index, apply)

    def _request(self, request: Request, token: str, form: dict[str, str], cookie: str, now: datetime) -> Response:
        """A request for a new deadline: pending until the coordinators decide (`tracker requests`)."""
        deadline, reason = form.get("deadline", "").strip()[:200], form.get("reason", "").strip()[:MAX_NOTE]
        if not form.get("item", "").isdigit():
            return self._error(request, _("The answer could not be read; open the page again and send it."), 400)
        index = int(form["item"])
        click = "page:" + hashlib.sha256(f"{cookie}|{index}|replan|{deadline}|{reason}".encode()).hexdigest()

        def apply(session: Session, answer: AnswerRow) -> None:
            answers.request_replan(session, answer, index, deadline, reason, actor=_actor(answer),
                                   click=click, now=now, via=answer.channel,
                                   # A Teams card went to a channel, not a person: its party hears the outcome.
                                   requester_email=answer.recipient if answer.channel == "email" else None)

        return self._answered(request, token, now, "requested", index, apply, invalid=400)

    def _snooze(self, request: Request, token: str, form: dict[str, str], cookie: str, now: datetime) -> Response:
        """"Udsæt 2 uger" / "4 uger": no reminders or alerts to the owner until then; the coordinators still hear."""
        weeks = form.get("weeks", "")
        if not form.get("item", "").isdigit() or weeks not in ("2", "4"):
            return self._error(request, _("The answer could not be read; open the page again and send it."), 400)
        index = int(form["item"])
        click = "page:" + hashlib.sha256(f"{cookie}|{index}|snooze|{weeks}".encode()).hexdigest()

        def apply(session: Session, answer: AnswerRow) -> None:
            answers.snooze(session, answer, index, int(weeks) * 7, actor=_actor(answer),
                           click=click, today=now.astimezone(plan_zone()).date(), now=now)

        return self._answered(request, token, now, "snoozed", index, apply)

    def _confirm(self, request: Request, token: str, form: dict[str, str], cookie: str, now: datetime) -> Response:
        """A status round's "Uændret": the item stands as the message told it."""
        if not form.get("item", "").isdigit():
            return self._error(request, _("The answer could not be read; open the page again and send it."), 400)
        index = int(form["item"])
        # A double click is one answer; a press on the page reloaded after the status changed is another.
        shown = form.get("shown", "")[:32]
        click = "page:" + hashlib.sha256(f"{cookie}|{index}|confirm|{shown}".encode()).hexdigest()

        def apply(session: Session, answer: AnswerRow) -> None:
            answers.confirm(session, answer, index, actor=_actor(answer), click=click, now=now)
            log.info("confirmed on the answer page: item %d of message %s", index, answer.message_key)

        return self._answered(request, token, now, "confirmed", index, apply)

    def _answered(self, request: Request, token: str, now: datetime, shown: str, index: int,
                  apply: Callable[[Session, AnswerRow], str | None], *, invalid: int = 409) -> Response:
        """``apply`` the answer in one transaction, in the answer's language, then back to the page, which says
        what was done (``shown=index`` in its address, or what ``apply`` returns instead of ``shown``); or the
        page saying why not (409: the answer is refused; ``invalid`` for another error)."""
        try:
            with write_session(self.engine) as session:
                answer = answers.open_answer(session, token, now)
                language = self._language(request, answer)
                with using_language(language):
                    shown = apply(session, answer) or shown
        except AnswerError as error:
            return self._error(request, error.message, 409)
        except TrackerError as error:
            return self._error(request, error.message, invalid)
        query = {shown: str(index), **({"lang": "en"} if language == "en" else {})}
        return RedirectResponse(request.url.path + "?" + urlencode(query), status_code=303, headers=HEADERS)

    # -- helpers

    def _language(self, request: Request, answer: AnswerRow) -> str:
        asked = request.query_params.get("lang", "")
        return asked if asked in LANGUAGES else self.language_of(answer.party)

    def _items(self, session: Session, answer: AnswerRow) -> list[dict[str, Any]]:
        """Each item as it is now (it may have changed since the message): title, due day and status."""
        shown = []
        today = self.clock().astimezone(plan_zone()).date()
        in_round = answers.asked_in_round(session, answer)
        for index, item in enumerate(answers.items_of(answer)):
            deliverable = session.get(DeliverableRow, item.deliverable_id)
            occurrence = None if deliverable is None else session.exec(select(OccurrenceRow).where(
                col(OccurrenceRow.deliverable_id) == deliverable.id,
                col(OccurrenceRow.key) == ("" if item.year is None else str(item.year)))).first()
            if deliverable is None or occurrence is None:
                continue
            try:
                status = answers.current_status(session, item, occurrence)  # a member's part: the member's own
            except TrackerError:
                continue
            member = session.get(PartyRow, item.member) if item.member else None
            part = session.exec(select(MemberStatusRow).where(
                col(MemberStatusRow.occurrence_id) == occurrence.id,
                col(MemberStatusRow.member) == item.member)).first() if item.member else None
            shown.append({"index": index, "deliverable": deliverable, "occurrence": occurrence, "year": item.year,
                          "status": status, "closed": status.is_closed,
                          "member": (member.name_en if self.language_of(answer.party) == "en" else member.name)
                          if member is not None else item.member,
                          "snoozed_until": part.snoozed_until if part is not None else None,
                          "changed": occurrence.due != item.due or occurrence.archived_at is not None,
                          "overdue": is_overdue(occurrence.due, status, today),
                          "in_round": (item.deliverable_id, item.year) in in_round})
        return shown

    def _error(self, request: Request, message: str, status: int) -> Response:
        asked = request.query_params.get("lang", "")
        return self._render("answer_error.html", asked if asked in LANGUAGES else "da", status=status,
                            message=message)

    def _render(self, template: str, language: str, *, status: int, **context: Any) -> HTMLResponse:
        with using_language(language):
            text = self.templates.get_template(template).render(
                language=language, choices=CHOICES, format_day=format_day, format_due=format_due,
                now=self.clock().astimezone(plan_zone()), **context)
        return HTMLResponse(text, status_code=status, headers=HEADERS)


def _actor(answer: AnswerRow) -> str:
    """Who answered, as the history records it: the address the message went to, and how it came."""
    return answer.recipient + (VIA_TEAMS if answer.channel == "teams" else VIA_EMAIL)
