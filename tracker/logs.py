"""How the long-running processes log: one line per event, as text or as JSON, with no secret in it.

``--log-format json`` (or ``TRACKER_LOG_FORMAT=json``) writes one JSON object
per line, for platforms that collect logs: ``time`` (UTC, ISO 8601),
``level``, ``logger``, ``message``, and the event's fields when it has them
(``outbox_key``, ``occurrence``, ``message_key``). Tokens are redacted from
every record by ``RedactTokens``, whatever the logger and the format: the
whole secret part of a feed or answer address (``/feeds/[token]``, in any
case), and any path segment or query value shaped like a token. Tokens and
passwords are never put in a log call in the first place; this is the net
under that rule, for what clients send (a token in the wrong place, a path in
capitals).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone
from typing import Any

FORMATS = ("text", "json")
# The fields an event may carry (``log.info(..., extra={...})``), copied into the JSON object.
EVENT_FIELDS = ("outbox_key", "occurrence", "message_key")
TEXT_FORMAT = "%(levelname)s:     %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in EVENT_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


# Everything after /feeds/ or /answer/ up to the query: "/feeds//TOKEN.ics" and "/FEEDS/TOKEN" must not slip
# through either (a proxy may fold the case, the router may not match, the token is still live).
_SECRET_PATH = re.compile(r"(?i)(/(?:feeds|answer)/)[^?#\s\"']*")
# What a token looks like: 128 bits or more of URL-safe base64 (secrets.token_urlsafe) as a path segment, a
# query value or a bare query. The plan's own ids are slugs (lower case, single hyphens) and stay readable.
# A run may carry percent escapes ("%43" for "C"), and stand after any separator a client may send ("?TOKEN",
# "&TOKEN", ";TOKEN").
_TOKEN_SHAPED = re.compile(r"(?<=[/=?&;])(?:[A-Za-z0-9_-]|%[0-9A-Fa-f]{2}){22,}")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
REDACTED = "[token]"


def redact(text: str) -> str:
    """``text`` with every secret address part and every token-shaped segment or value replaced by [token]."""
    text = _SECRET_PATH.sub(lambda match: match.group(1) + REDACTED, text)
    return _TOKEN_SHAPED.sub(lambda match: match.group() if _SLUG.fullmatch(match.group()) else REDACTED, text)


class RedactTokens(logging.Filter):
    """Redacts tokens (``redact``) in every record's message and arguments, whatever logger or format carries it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: redact(value) if isinstance(value, str) else value
                           for key, value in record.args.items()}
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure(log_format: str) -> None:
    """Log INFO and above to standard error in ``log_format``, tokens redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
