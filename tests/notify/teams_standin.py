"""A Teams Workflows webhook stand-in: a real HTTP server on loopback that takes Adaptive Cards as Teams does.

::

    with TeamsStandIn() as teams:
        url = teams.add_webhook("regioner")        # http://127.0.0.1:<port>/workflows/<id>/…/invoke?…&sig=<sig>
        teams.script("regioner", Reply.status(429, retry_after=1), Reply.status(503))
        teams.outage("regioner", Reply.status(404))  # every post, until teams.lift("regioner")
        ...
        teams.cards("regioner")                    # every card it accepted, in order

It answers as a flow's trigger does: 202 Accepted for a card it takes; 401
for a wrong or missing ``sig``; 404 for a path no flow has; 413 for a body
over 28 KB; 400 with an error body for one that is not JSON or not a message
with an Adaptive Card whose elements have what the schema requires
(``TextBlock.text``, ``FactSet.facts`` of title and value strings,
``Container.items``, ``ActionSet.actions``, ``Action.OpenUrl.title`` and an
absolute ``url``; version 1.4 or 1.5). Scripted replies are used once each,
in order, before normal answers resume: any status (with ``Retry-After``), or
dropping the connection before or after the card is recorded.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SIZE_LIMIT = 28 * 1024
VERSIONS = ("1.4", "1.5")
ELEMENTS = {"TextBlock", "FactSet", "Container", "ColumnSet", "Column", "ActionSet", "Image"}
ACTIONS = {"Action.OpenUrl"}


@dataclass(frozen=True)
class Reply:
    status_code: int = 202
    retry_after: float | None = None
    drop: bool = False
    posted: bool = False  # with drop: whether the card was recorded before the connection went

    @classmethod
    def status(cls, code: int, retry_after: float | None = None) -> Reply:
        return cls(status_code=code, retry_after=retry_after)

    @classmethod
    def dropped(cls, posted: bool) -> Reply:
        return cls(drop=True, posted=posted)


class CardError(ValueError):
    """What is wrong with a posted body, as the flow's 400 says it."""


def _check_element(element: Any, where: str) -> None:
    if not isinstance(element, dict) or element.get("type") not in ELEMENTS | ACTIONS:
        raise CardError(f"{where}: unknown element {element!r:.80}")
    kind = element["type"]
    if kind == "TextBlock" and not isinstance(element.get("text"), str):
        raise CardError(f"{where}: TextBlock without text")
    if kind == "FactSet":
        facts = element.get("facts")
        if not isinstance(facts, list) or not all(isinstance(fact, dict) and isinstance(fact.get("title"), str)
                                                  and isinstance(fact.get("value"), str) for fact in facts):
            raise CardError(f"{where}: FactSet facts need title and value strings")
    if kind in ("Container", "Column"):
        _check_list(element.get("items"), f"{where}.items")
    if kind == "ColumnSet":
        _check_list(element.get("columns", []), f"{where}.columns")
    if kind == "ActionSet":
        _check_actions(element.get("actions"), f"{where}.actions")
    if kind == "Action.OpenUrl":
        url = element.get("url")
        if not isinstance(element.get("title"), str) or not isinstance(url, str) or \
                urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise CardError(f"{where}: Action.OpenUrl needs a title and an absolute url")


def _check_list(items: Any, where: str) -> None:
    if not isinstance(items, list):
        raise CardError(f"{where} must be a list")
    for index, item in enumerate(items):
        _check_element(item, f"{where}[{index}]")


def _check_actions(actions: Any, where: str) -> None:
    if not isinstance(actions, list):
        raise CardError(f"{where} must be a list")
    for index, action in enumerate(actions):
        if not isinstance(action, dict) or action.get("type") not in ACTIONS:
            raise CardError(f"{where}[{index}]: not an action a webhook card can carry")
        _check_element(action, f"{where}[{index}]")


def validate(body: bytes) -> dict[str, Any]:
    """The card in ``body``; CardError saying what Teams would refuse."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise CardError(f"not JSON: {error}") from None
    if not isinstance(payload, dict) or payload.get("type") != "message":
        raise CardError("the body must be a message: {\"type\": \"message\", \"attachments\": […]}")
    attachments = payload.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        raise CardError("a message needs attachments")
    attachment = attachments[0]
    if not isinstance(attachment, dict) or attachment.get("contentType") != "application/vnd.microsoft.card.adaptive":
        raise CardError("attachments[0] is not an Adaptive Card")
    card = attachment.get("content")
    if not isinstance(card, dict) or card.get("type") != "AdaptiveCard" or card.get("version") not in VERSIONS:
        raise CardError("content must be an AdaptiveCard of version 1.4 or 1.5")
    _check_list(card.get("body"), "body")
    if "actions" in card:
        _check_actions(card["actions"], "actions")
    return card


class TeamsStandIn:
    def __init__(self) -> None:
        self._flows: dict[str, tuple[str, str]] = {}  # path → (name, sig)
        self._urls: dict[str, str] = {}
        self._cards: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._outages: dict[str, Reply] = {}
        self.posts: list[tuple[str, int]] = []  # (name or path, the status answered), every post in order
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                standin._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> TeamsStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add_webhook(self, name: str) -> str:
        path = f"/workflows/{secrets.token_hex(8)}/triggers/manual/paths/invoke"
        sig = secrets.token_urlsafe(16)
        self._flows[path] = (name, sig)
        self._urls[name] = f"{self.base}{path}?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={sig}"
        return self._urls[name]

    def script(self, name: str, *replies: Reply) -> None:
        self._scripts[name].extend(replies)

    def outage(self, name: str, reply: Reply) -> None:
        self._outages[name] = reply

    def lift(self, name: str) -> None:
        self._outages.pop(name, None)

    def cards(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._cards[name])

    def _answer(self, handler: BaseHTTPRequestHandler, status: int, text: str = "",
                retry_after: float | None = None) -> None:
        body = json.dumps({"error": {"code": str(status), "message": text}}).encode() if text else b""
        handler.send_response(status)
        if retry_after is not None:
            handler.send_header("Retry-After", f"{retry_after:g}")
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        flow = self._flows.get(parts.path)
        if flow is None:
            self.posts.append((parts.path, 404))
            return self._answer(handler, 404, "The workflow was not found.")
        name, sig = flow
        if parse_qs(parts.query).get("sig") != [sig]:
            self.posts.append((name, 401))
            return self._answer(handler, 401, "The provided signature is not valid.")
        with self._lock:
            reply = self._outages.get(name) or (self._scripts[name].popleft() if self._scripts[name] else None)
        if reply is not None and reply.drop:
            if reply.posted:
                self._record(name, body)
            self.posts.append((name, 0))
            handler.close_connection = True
            handler.connection.shutdown(2)
            return None
        if reply is not None and reply.status_code != 202:
            self.posts.append((name, reply.status_code))
            return self._answer(handler, reply.status_code, f"scripted {reply.status_code}", reply.retry_after)
        if len(body) > SIZE_LIMIT:
            self.posts.append((name, 413))
            return self._answer(handler, 413, f"The request body is {len(body)} bytes; the limit is {SIZE_LIMIT}.")
        try:
            self._record(name, body)
        except CardError as error:
            self.posts.append((name, 400))
            return self._answer(handler, 400, str(error))
        self.posts.append((name, 202))
        return self._answer(handler, 202)

    def _record(self, name: str, body: bytes) -> None:
        card = validate(body)
        with self._lock:
            self._cards[name].append(card)
