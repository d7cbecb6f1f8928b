"""The plan's clock: which day it is in Europe/Copenhagen, the plan's time zone.

Every piece of time logic takes ``now`` as an argument; this is where an
instant becomes the plan's day, so a server in UTC never shows an event one
day off around midnight.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

# The one source of the plan's time zone. The register states it (its ``timezone``, checked to be this one), and
# nothing else may move it: a deadline "inden udgangen af 2027" ends at midnight in Denmark wherever the server
# runs, and every day a user reads is a Danish day.
PLAN_TIMEZONE = "Europe/Copenhagen"
_PLAN_ZONE = ZoneInfo(PLAN_TIMEZONE)


def plan_zone() -> ZoneInfo:
    return _PLAN_ZONE


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def plan_today(now: datetime | None = None) -> date:
    """Today's date in the plan's time zone, not the machine's."""
    moment = now if now is not None else utc_now()
    return moment.astimezone(plan_zone()).date()
