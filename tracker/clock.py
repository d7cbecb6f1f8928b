"""The plan's clock: which day it is in Europe/Copenhagen (or TRACKER_TIMEZONE).

Every piece of time logic takes ``now`` as an argument; this is where an
instant becomes the plan's day, so a server in UTC never shows an event one
day off around midnight.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

PLAN_TIMEZONE = "Europe/Copenhagen"


def plan_zone() -> ZoneInfo:
    return ZoneInfo(os.environ.get("TRACKER_TIMEZONE", PLAN_TIMEZONE))


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def plan_today(now: datetime | None = None) -> date:
    """Today's date in the plan's time zone, not the machine's."""
    moment = now if now is not None else utc_now()
    return moment.astimezone(plan_zone()).date()
