"""A Slack Web API stand-in: a real HTTP server on loopback that slack-sdk's WebClient talks to.

::

    with SlackStandIn() as slack:                       # http://127.0.0.1:<free port>/api/
        slack.add_channel("kraeftplan")                 # → "C…", the bot a member
        slack.add_user("mette@example.dk")              # → "U…", reachable by DM
        client = WebClient(token=slack.token, base_url=slack.base_url)
        slack.script("chat.postMessage", Reply.error("is_archived"), Reply.rate_limited(1))
        ...
        slack.messages                                  # every message it accepted, in order
        slack.calls("chat.postMessage")                 # every request to a method it read, accepted or not

It answers like Slack: the bot token in ``Authorization: Bearer`` (else
``not_authed``/``invalid_auth``), form, multipart or JSON bodies, HTTP 200 with
``{"ok": false, "error": …}`` for refusals, and these methods: ``auth.test``,
``users.lookupByEmail``, ``users.info``, ``conversations.open``, ``views.open`` and ``chat.postMessage``
(``channel_not_found``, ``not_in_channel``, ``is_archived``, ``no_text``,
``msg_too_long`` over 40,000 characters, ``invalid_blocks`` with Slack's
``errors`` list for a header over 150 characters, a text over 3,000, more than
50 blocks, and other malformed blocks).

Per-method scripts (``Reply``), used once each in order before normal
answers resume (``outage(method, reply)`` answers every request with one
until it is lifted): an ``ok: false`` error, 429 with ``Retry-After``, any HTTP
status and body (a 500 from a gateway), dropping the connection after reading
the request, or hanging past the client's timeout; the last two either before
or after the message is recorded (``posted=True``: the client cannot tell).

With ``rate_limit=True`` it enforces Slack's special limit for
``chat.postMessage``, about one message per second per channel with short
bursts: a token bucket per channel (``rate`` per second, ``burst`` deep),
answering 429 with the whole seconds to wait in ``Retry-After``.

Interactivity as Slack does it: ``press(app_url, posted, user, action_id, …)``
POSTs a signed ``block_actions`` request to the app (forged, stale or
retried when asked), with a ``response_url`` back into the stand-in, whose
follow-ups are in ``responses``, and a ``trigger_id`` for ``views.open``
(spent after one use), whose modals are in ``views``; ``submit(app_url,
opened, user, values)`` POSTs the signed ``view_submission`` of one.

slack-sdk sends every request through ``HTTP(S)_PROXY`` when one is set, even
to loopback (it ignores ``NO_PROXY``): unset those variables in a test that
talks to the stand-in (``monkeypatch.delenv``), as tests/notify/test_slack.py does.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import math
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

HOST = "127.0.0.1"
DEFAULT_TOKEN = "xoxb-standin-0000-secret"

HEADER_LIMIT = 150
TEXT_OBJECT_LIMIT = 3000
FIELD_LIMIT = 2000
BLOCK_LIMIT = 50
CONTEXT_ELEMENT_LIMIT = 10
MESSAGE_TEXT_LIMIT = 40_000
BLOCK_TYPES = {"header", "section", "context", "divider", "actions", "image", "rich_text", "input", "file",
               "video", "markdown"}


@dataclass(frozen=True)
class Reply:
    """One scripted answer to one request."""

    kind: str  # "json" (any status and JSON body), "raw" (any status, any body), "drop" or "hang"
    status: int = 200
    body: Any = None  # a dict for "json", bytes for "raw"
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0  # how long to hang
    posted: bool = False  # drop/hang: record the message first, as if Slack had posted it

    @classmethod
    def error(cls, code: str, *, status: int = 200, headers: dict[str, str] | None = None,
              **extra: Any) -> Reply:
        """``{"ok": false, "error": code, **extra}``, as Slack refuses (HTTP 200 unless told otherwise)."""
        return cls("json", status, {"ok": False, "error": code, **extra}, tuple((headers or {}).items()))

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> Reply:
        return cls("json", 429, {"ok": False, "error": "ratelimited"}, (("Retry-After", str(retry_after)),))

    @classmethod
    def http(cls, status: int, body: bytes = b"<html><body><h1>Server Error</h1></body></html>",
               content_type: str = "text/html", headers: dict[str, str] | None = None) -> Reply:
        """Any HTTP status with any body, e.g. a load balancer's HTML 502 page."""
        return cls("raw", status, body, (("Content-Type", content_type), *(headers or {}).items()))

    @classmethod
    def drop(cls, *, posted: bool = False) -> Reply:
        """Read the whole request, then close the connection without a word."""
        return cls("drop", posted=posted)

    @classmethod
    def hang(cls, seconds: float, *, posted: bool = False) -> Reply:
        """Read the whole request, wait ``seconds`` (or until the stand-in stops), then answer ``ok`` if
        ``posted``, else close the connection: a message that was not posted stays unposted."""
        return cls("hang", seconds=seconds, posted=posted)


@dataclass(frozen=True)
class Request:
    """One request as the stand-in read it."""

    method: str  # the API method, e.g. "chat.postMessage"
    params: dict[str, Any]  # the body (JSON, form or multipart) and query, merged
    headers: dict[str, str]
    content_type: str
    at: float  # time.monotonic() when it was read


@dataclass(frozen=True)
class Posted:
    """One message the stand-in accepted."""

    channel: str  # the channel id
    ts: str
    text: str | None
    blocks: list[dict[str, Any]] | None
    params: dict[str, Any]  # everything that was sent
    at: float  # time.monotonic()


@dataclass
class Channel:
    id: str
    name: str | None
    member: bool = True  # the bot is in it
    archived: bool = False
    user: str | None = None  # a DM channel: the person


@dataclass
class User:
    id: str
    email: str
    bot: bool = False
    deleted: bool = False
    name: str = ""


@dataclass
class _Bucket:
    tokens: float
    updated: float


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def validate_blocks(blocks: Any) -> list[str]:
    """Slack's complaints about ``blocks``, worded like its ``errors`` list; empty when they are fine."""
    if not isinstance(blocks, list):
        return ["must be an array [json-pointer:/blocks]"]
    errors: list[str] = []
    if len(blocks) > BLOCK_LIMIT:
        errors.append(f"no more than {BLOCK_LIMIT} items allowed [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        where = f"/blocks/{index}"
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            errors.append(f"unsupported type: {block.get('type') if isinstance(block, dict) else block!r} "
                          f"[json-pointer:{where}/type]")
            continue
        if len(str(block.get("block_id", ""))) > 255:
            errors.append(f"must be less than 256 characters [json-pointer:{where}/block_id]")
        kind = block["type"]
        if kind == "header":
            errors += _text_errors(block.get("text"), f"{where}/text", HEADER_LIMIT, plain_only=True)
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                errors.append(f"must provide either text or fields [json-pointer:{where}]")
            if "text" in block:
                errors += _text_errors(block["text"], f"{where}/text", TEXT_OBJECT_LIMIT)
            fields = block.get("fields", [])
            if len(fields) > 10:
                errors.append(f"no more than 10 items allowed [json-pointer:{where}/fields]")
            for number, item in enumerate(fields):
                errors += _text_errors(item, f"{where}/fields/{number}", FIELD_LIMIT)
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                errors.append(f"must provide 1 to 25 items [json-pointer:{where}/elements]")
                continue
            action_ids = [element.get("action_id") for element in elements if isinstance(element, dict)]
            if len(set(action_ids)) != len(action_ids):
                errors.append(f"action_ids must be unique in a block [json-pointer:{where}/elements]")
            for number, element in enumerate(elements):
                at = f"{where}/elements/{number}"
                if not isinstance(element, dict) or element.get("type") != "button":
                    errors.append(f"unsupported element [json-pointer:{at}]")
                    continue
                errors += _text_errors(element.get("text"), f"{at}/text", 75, plain_only=True)
                if len(str(element.get("value", ""))) > 2000:
                    errors.append(f"must be less than 2001 characters [json-pointer:{at}/value]")
                if element.get("style") not in (None, "primary", "danger"):
                    errors.append(f"must be primary or danger [json-pointer:{at}/style]")
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                errors.append(f"must provide at least 1 item [json-pointer:{where}/elements]")
                continue
            if len(elements) > CONTEXT_ELEMENT_LIMIT:
                errors.append(f"no more than {CONTEXT_ELEMENT_LIMIT} items allowed [json-pointer:{where}/elements]")
            for number, element in enumerate(elements):
                if isinstance(element, dict) and element.get("type") == "image":
                    continue
                errors += _text_errors(element, f"{where}/elements/{number}", TEXT_OBJECT_LIMIT)
    return errors


def validate_view(view: Any) -> list[str]:
    """Slack's complaints about a modal: its type, title, submit and close (at most 24 characters), private
    metadata (at most 3,000), and its blocks (input blocks with a label and an element)."""
    if not isinstance(view, dict) or view.get("type") != "modal":
        return ["must be a modal [json-pointer:/view/type]"]
    errors = []
    for name in ("title", "submit", "close"):
        errors += _text_errors(view.get(name), f"/view/{name}", 24, plain_only=True)
    if len(str(view.get("private_metadata", ""))) > 3000:
        errors.append("must be less than 3001 characters [json-pointer:/view/private_metadata]")
    blocks = view.get("blocks")
    inputs = [block for block in blocks or [] if isinstance(block, dict) and block.get("type") == "input"]
    errors += validate_blocks([block for block in blocks or [] if block not in inputs])
    for index, block in enumerate(inputs):
        errors += _text_errors(block.get("label"), f"/view/blocks/{index}/label", 2000, plain_only=True)
        element = block.get("element")
        if not isinstance(element, dict) or element.get("type") not in ("plain_text_input", "url_text_input"):
            errors.append(f"unsupported element [json-pointer:/view/blocks/{index}/element]")
    return errors


def _text_errors(text: Any, where: str, limit: int, *, plain_only: bool = False) -> list[str]:
    if not isinstance(text, dict) or text.get("type") not in ("plain_text", "mrkdwn"):
        return [f"must be a text object [json-pointer:{where}]"]
    if plain_only and text["type"] != "plain_text":
        return [f"must be plain_text [json-pointer:{where}/type]"]
    errors = []
    value = text.get("text")
    if not isinstance(value, str) or not value:
        errors.append(f"must be more than 0 characters [json-pointer:{where}/text]")
    elif len(value) > limit:
        errors.append(f"must be less than {limit + 1} characters [json-pointer:{where}/text]")
    if text["type"] == "plain_text" and "verbatim" in text:
        errors.append(f"verbatim is not allowed for plain_text [json-pointer:{where}/verbatim]")
    if text["type"] == "mrkdwn" and "emoji" in text:
        errors.append(f"emoji is not allowed for mrkdwn [json-pointer:{where}/emoji]")
    return errors


class SlackStandIn:
    """See the module docstring. Thread-safe: the server answers each request on its own thread."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, rate_limit: bool = False, rate: float = 1.0,
                 burst: int = 3, clock: Callable[[], float] = time.monotonic):
        self.token = token
        self.rate_limit = rate_limit
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._outages: dict[str, Reply] = {}
        self._requests: list[Request] = []
        self._messages: list[Posted] = []
        self._responses: list[dict[str, Any]] = []
        self._views: list[dict[str, Any]] = []
        self._delays: dict[str, float] = {}
        self._channels: dict[str, Channel] = {}  # id → channel
        self._users: dict[str, User] = {}  # id → user
        self._buckets: dict[str, _Bucket] = {}
        self._ids = itertools.count(1)
        self._ts_base = int(time.time())
        self._ts_counter = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.rate_limited = 0  # 429s sent by the rate limit (not by scripts)

    # -- lifecycle

    def start(self) -> Self:
        standin = self

        class Handler(_Handler):
            pass

        Handler.standin = standin
        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.005},
                                        name="slack-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes hanging handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start the stand-in first"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/api/"

    # -- the workspace

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def add_channel(self, name: str, *, member: bool = True, archived: bool = False, private: bool = False,
                    id: str | None = None) -> str:
        """A channel named ``name`` (without "#"); returns its id (C… or, private, G…)."""
        channel = Channel(id or self._new_id("G" if private else "C"), name.lstrip("#"), member, archived)
        with self._lock:
            self._channels[channel.id] = channel
        return channel.id

    def add_user(self, email: str, *, bot: bool = False, deleted: bool = False, id: str | None = None,
                 name: str = "") -> str:
        user = User(id or self._new_id("U"), email, bot, deleted, name or email.split("@")[0].title())
        with self._lock:
            self._users[user.id] = user
        return user.id

    def script(self, method: str, *replies: Reply) -> None:
        """Answer the next requests to ``method`` with ``replies``, one each, in order."""
        with self._lock:
            self._scripts[method].extend(replies)

    # -- what happened

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def calls(self, method: str) -> list[Request]:
        return [request for request in self.requests if request.method == method]

    @property
    def messages(self) -> list[Posted]:
        with self._lock:
            return list(self._messages)

    def messages_in(self, channel: str) -> list[Posted]:
        """The messages accepted in ``channel`` (an id or a name, with or without "#")."""
        with self._lock:
            found = self._find_channel(channel)
            wanted = found.id if found else channel
            return [message for message in self._messages if message.channel == wanted]

    def dm_channel(self, email: str) -> str | None:
        with self._lock:
            for channel in self._channels.values():
                user = self._users.get(channel.user or "")
                if user is not None and user.email.lower() == email.lower():
                    return channel.id
        return None

    # -- answering (on the server's threads)

    def _find_channel(self, reference: str) -> Channel | None:
        if reference in self._channels:
            return self._channels[reference]
        name = reference.lstrip("#")
        return next((c for c in self._channels.values() if c.name == name and c.user is None), None)

    def outage(self, method: str, reply: Reply | None) -> None:
        """Answer every request to ``method`` with ``reply`` from now on (an outage of hours), until
        ``outage(method, None)``; scripted replies wait behind it."""
        with self._lock:
            if reply is None:
                self._outages.pop(method, None)
            else:
                self._outages[method] = reply

    def slow(self, method: str, seconds: float) -> None:
        """Answer every request to ``method`` as usual, but only after ``seconds`` (0: at once again)."""
        with self._lock:
            self._delays[method] = seconds

    def _next_script(self, method: str) -> Reply | None:
        with self._lock:
            if method in self._outages:
                return self._outages[method]
            queue = self._scripts.get(method)
            return queue.popleft() if queue else None

    def _record(self, request: Request) -> None:
        with self._lock:
            self._requests.append(request)

    def answer(self, request: Request) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, JSON body, headers) for one request, as Slack would answer it."""
        authorization = request.headers.get("authorization", "")
        token = authorization[len("Bearer "):] if authorization.startswith("Bearer ") else request.params.get("token")
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if token != self.token:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        handler = {
            "auth.test": self._auth_test,
            "users.lookupByEmail": self._lookup_by_email,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._post_message,
            "users.info": self._users_info,
            "views.open": self._views_open,
        }.get(request.method)
        if handler is None:
            return 404, {"ok": False, "error": "unknown_method", "req_method": request.method}, {}
        return handler(request)

    def _auth_test(self, request: Request) -> tuple[int, dict[str, Any], dict[str, str]]:
        return 200, {"ok": True, "url": "https://kraeftplan.slack.com/", "team": "Kræftplan V", "user": "tracker",
                     "team_id": "T00000001", "user_id": "U0000BOT1", "bot_id": "B0000BOT1"}, {}

    def _lookup_by_email(self, request: Request) -> tuple[int, dict[str, Any], dict[str, str]]:
        email = str(request.params.get("email", "")).lower()
        if not email:
            return 200, {"ok": False, "error": "invalid_arguments"}, {}
        with self._lock:
            user = next((u for u in self._users.values() if u.email.lower() == email), None)
        if user is None:
            return 200, {"ok": False, "error": "users_not_found"}, {}
        return 200, {"ok": True, "user": {"id": user.id, "is_bot": user.bot, "deleted": user.deleted,
                                          "profile": {"email": user.email}}}, {}

    def _users_info(self, request: Request) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            user = self._users.get(str(request.params.get("user", "")))
        if user is None:
            return 200, {"ok": False, "error": "user_not_found"}, {}
        return 200, {"ok": True, "user": {"id": user.id, "name": user.email.split("@")[0], "real_name": user.name,
                                          "deleted": user.deleted, "is_bot": user.bot,
                                          "profile": {"email": user.email, "real_name": user.name}}}, {}

    # -- interactivity: Slack POSTs a person's button press to the app, signed, and takes its follow-up

    @property
    def responses(self) -> list[dict[str, Any]]:
        """What the app posted to the response_urls it was given, in order."""
        with self._lock:
            return list(self._responses)

    @property
    def views(self) -> list[dict[str, Any]]:
        """The modals the app opened (``views.open``), in order, each with its ``trigger_id`` and ``view``."""
        with self._lock:
            return list(self._views)

    def press(self, app_url: str, posted: Posted, user: str, action_id: str, *, block_id: str | None = None,
              signing_secret: str, timestamp: int | None = None, retry: int | None = None,
              signature: str | None = None, action_ts: str | None = None,
              blocks: list[dict[str, Any]] | None = None) -> int:
        """POST a ``block_actions`` request to ``app_url``, as Slack does when ``user`` presses the button
        ``action_id`` in ``posted`` (the first such button, or the one in ``block_id``); the HTTP status.

        ``blocks`` is the message as it stands after the app updated it (a follow-up's blocks). Signed with
        ``signing_secret`` at ``timestamp`` (now by default); ``signature`` forges one, ``retry`` sends
        X-Slack-Retry-Num as a redelivery does (with the same ``action_ts``).
        """
        shown = posted.blocks if blocks is None else blocks
        button, block = next((element, candidate) for candidate in shown or []
                             if candidate.get("type") == "actions" and block_id in (None, candidate.get("block_id"))
                             for element in candidate["elements"] if element["action_id"] == action_id)
        response_id = self._new_id("R")
        payload = {
            "type": "block_actions", "user": {"id": user}, "api_app_id": "A0000APP1",
            "team": {"id": "T00000001"}, "container": {"type": "message", "message_ts": posted.ts,
                                                       "channel_id": posted.channel},
            "channel": {"id": posted.channel}, "trigger_id": f"{response_id}.trigger",
            "response_url": f"http://{HOST}:{self.port}/response/{response_id}",
            "message": {"ts": posted.ts, "text": posted.text, "blocks": shown},
            "actions": [{"action_id": action_id, "block_id": block["block_id"], "value": button["value"],
                         "type": "button", "action_ts": action_ts or f"{time.time():.6f}"}],
        }
        status, _body = self._deliver(app_url, payload, signing_secret=signing_secret, timestamp=timestamp,
                                      retry=retry, signature=signature)
        return status

    def submit(self, app_url: str, opened: dict[str, Any], user: str, values: dict[str, str], *,
               signing_secret: str, timestamp: int | None = None, retry: int | None = None,
               signature: str | None = None) -> tuple[int, dict[str, Any] | None]:
        """POST a ``view_submission``, as Slack does when ``user`` sends the modal ``opened`` (one of
        ``views``) with ``values`` by block id; the HTTP status and the JSON the app answered (its
        ``response_action``), or None for an empty answer (the modal closes)."""
        view = opened["view"]
        state = {}
        for block in view["blocks"]:
            if block.get("type") == "input":
                element = block["element"]
                state[block["block_id"]] = {element["action_id"]: {
                    "type": element["type"], "value": values.get(block["block_id"]) or None}}
        payload = {
            "type": "view_submission", "user": {"id": user}, "api_app_id": "A0000APP1",
            "team": {"id": "T00000001"}, "trigger_id": f"{self._new_id('R')}.trigger",
            "view": {**view, "id": opened["id"], "state": {"values": state}},
        }
        status, body = self._deliver(app_url, payload, signing_secret=signing_secret, timestamp=timestamp,
                                     retry=retry, signature=signature)
        return status, json.loads(body) if body.strip() else None

    def _deliver(self, app_url: str, payload: dict[str, Any], *, signing_secret: str, timestamp: int | None,
                 retry: int | None, signature: str | None) -> tuple[int, bytes]:
        """POST ``payload`` as Slack does: form-encoded, signed ``v0:{timestamp}:{body}``."""
        body = urlencode({"payload": json.dumps(payload)}).encode("utf-8")
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac.new(signing_secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": stamp,
                   "X-Slack-Signature": signature or "v0=" + digest.hexdigest()}
        if retry is not None:
            headers["X-Slack-Retry-Num"], headers["X-Slack-Retry-Reason"] = str(retry), "http_timeout"
        request = urllib.request.Request(app_url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def _views_open(self, request: Request) -> tuple[int, dict[str, Any], dict[str, str]]:
        """``views.open``: a modal for the person whose press carried the trigger (spent after one use)."""
        trigger, view = str(request.params.get("trigger_id") or ""), request.params.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                return 200, {"ok": False, "error": "invalid_arguments"}, {}
        with self._lock:
            spent = any(opened["trigger_id"] == trigger for opened in self._views)
        if not trigger.endswith(".trigger") or spent:
            return 200, {"ok": False, "error": "expired_trigger_id"}, {}
        errors = validate_view(view)
        if errors:
            return 200, {"ok": False, "error": "invalid_arguments",
                         "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]}}, {}
        opened = {"id": self._new_id("V"), "trigger_id": trigger, "view": view}
        with self._lock:
            self._views.append(opened)
        return 200, {"ok": True, "view": {"id": opened["id"], **view}}, {}

    def _conversations_open(self, request: Request) -> tuple[int, dict[str, Any], dict[str, str]]:
        users = [u for u in str(request.params.get("users", "")).split(",") if u]
        if len(users) != 1:
            return 200, {"ok": False, "error": "invalid_arguments" if not users else "not_enough_users"}, {}
        with self._lock:
            user = self._users.get(users[0])
            if user is None:
                return 200, {"ok": False, "error": "user_not_found"}, {}
            if user.bot:
                return 200, {"ok": False, "error": "cannot_dm_bot"}, {}
            if user.deleted:
                return 200, {"ok": False, "error": "user_disabled"}, {}
            channel = next((c for c in self._channels.values() if c.user == user.id), None)
            if channel is None:
                channel = Channel(self._new_id("D"), None, user=user.id)
                self._channels[channel.id] = channel
        return 200, {"ok": True, "channel": {"id": channel.id}}, {}

    def _post_message(self, request: Request) -> tuple[int, dict[str, Any], dict[str, str]]:
        params = request.params
        with self._lock:
            channel = self._find_channel(str(params.get("channel", "")))
        if channel is None:
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        if channel.archived:
            return 200, {"ok": False, "error": "is_archived"}, {}
        if not channel.member:
            return 200, {"ok": False, "error": "not_in_channel"}, {}
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError:
                return 200, {"ok": False, "error": "invalid_blocks_format"}, {}
        text = params.get("text")
        if blocks is not None:
            errors = validate_blocks(blocks)
            if errors:
                return 200, {"ok": False, "error": "invalid_blocks", "errors": errors,
                             "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]}}, {}
        elif not params.get("attachments") and not text:
            return 200, {"ok": False, "error": "no_text"}, {}
        if isinstance(text, str) and len(text) > MESSAGE_TEXT_LIMIT:
            return 200, {"ok": False, "error": "msg_too_long"}, {}
        if self.rate_limit:
            wait = self._take_token(channel.id)
            if wait:
                with self._lock:
                    self.rate_limited += 1
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
        return 200, self._accept(channel, request), {}

    def _take_token(self, channel_id: str) -> int:
        """0 when a message may go to the channel now, else the whole seconds until one may."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.setdefault(channel_id, _Bucket(float(self.burst), now))
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0
            return max(1, math.ceil((1 - bucket.tokens) / self.rate))

    def _accept(self, channel: Channel, request: Request) -> dict[str, Any]:
        params = request.params
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        with self._lock:
            ts = f"{self._ts_base}.{next(self._ts_counter):06d}"
            self._messages.append(Posted(channel.id, ts, params.get("text"), blocks, dict(params), self.clock()))
        return {"ok": True, "channel": channel.id, "ts": ts,
                "message": {"type": "message", "text": params.get("text", ""), "ts": ts, "bot_id": "B0000BOT1"}}

    def post_as_accepted(self, request: Request) -> None:
        """Record ``request`` (a chat.postMessage) as posted, whatever the answer will be."""
        with self._lock:
            channel = self._find_channel(str(request.params.get("channel", "")))
        if channel is not None:
            self._accept(channel, request)


def _parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        return {}
    if kind == "application/json":
        value = json.loads(body.decode("utf-8"))
        return value if isinstance(value, dict) else {"_json": value}
    if kind == "multipart/form-data":
        message = message_from_bytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body,
                                     policy=policy.HTTP)
        params: dict[str, Any] = {}
        for part in message.iter_parts():  # type: ignore[attr-defined]
            name = part.get_param("name", header="content-disposition")
            if name:
                params[name] = part.get_payload(decode=True).decode("utf-8")
        return params
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))


class _Handler(BaseHTTPRequestHandler):
    standin: SlackStandIn
    protocol_version = "HTTP/1.1"
    server_version = "SlackStandIn/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read what happened from the stand-in, not from stderr

    def do_GET(self) -> None:  # http.server's naming
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        standin = self.standin
        split = urlsplit(self.path)
        if split.path.startswith("/response/") and self.command == "POST":  # an app's follow-up to a press
            length = int(self.headers.get("Content-Length") or 0)
            with standin._lock:
                standin._responses.append(json.loads(self.rfile.read(length) or b"{}"))
            self._send_raw(200, b"ok", {"Content-Type": "text/plain"})
            return
        if not split.path.startswith("/api/"):  # not the Web API at all: a plain web server's 404
            self._send_raw(404, b"<html><body>Not Found</body></html>", {"Content-Type": "text/html"})
            return
        method = split.path[len("/api/"):]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "application/x-www-form-urlencoded")
        try:
            params = _parse_body(content_type, body)
        except (ValueError, UnicodeDecodeError):
            self._send(200, {"ok": False, "error": "invalid_json" if "json" in content_type else "invalid_form_data"},
                       {})
            return
        params.update(parse_qsl(split.query))
        request = Request(method, params, {k.lower(): v for k, v in self.headers.items()}, content_type,
                          standin.clock())
        standin._record(request)

        reply = standin._next_script(method)
        if reply is None:
            standin._stopping.wait(standin._delays.get(method, 0))  # a slow Slack, still answering
            status, payload, headers = standin.answer(request)
            self._send(status, payload, headers)
            return
        if reply.kind == "json":
            self._send(reply.status, reply.body, dict(reply.headers))
        elif reply.kind == "raw":
            self._send_raw(reply.status, reply.body, dict(reply.headers))
        elif reply.kind == "drop":
            if reply.posted:
                standin.post_as_accepted(request)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif reply.kind == "hang":
            if reply.posted:
                standin.post_as_accepted(request)
            standin._stopping.wait(reply.seconds)
            if reply.posted:
                posted = standin.messages[-1] if standin.messages else None
                try:
                    self._send(200, {"ok": True, "channel": posted.channel if posted else None,
                                     "ts": posted.ts if posted else None}, {})
                except OSError:
                    pass  # the client gave up long ago
            self.close_connection = True

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        self._send_raw(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                       {"Content-Type": "application/json; charset=utf-8", **headers})

    def _send_raw(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def running_standin(**options: Any) -> Iterator[SlackStandIn]:
    """A started stand-in, stopped afterwards; ``options`` as for ``SlackStandIn``."""
    with SlackStandIn(**options) as standin:
        yield standin
