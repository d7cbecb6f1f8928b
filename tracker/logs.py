"""How the long-running processes log: one line per event, as text or as JSON, with no secret in it.

``--log-format json`` (or ``TRACKER_LOG_FORMAT=json``) writes one JSON object
per line, for platforms that collect logs: ``time`` (UTC, ISO 8601),
``level``, ``logger``, ``message``, and the event's fields when it has them
(``outbox_key``, ``occurrence``, ``message_key``). Feed tokens are redacted
from every record by ``tracker.web.RedactFeedTokens``, whatever the format;
tokens and passwords are never put in a log call in the first place.
"""

from __future__ import annotations

import json
import logging
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


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure(log_format: str) -> None:
    """Log INFO and above to standard error in ``log_format``, feed tokens redacted."""
    from tracker.web import RedactFeedTokens

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    handler.addFilter(RedactFeedTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
