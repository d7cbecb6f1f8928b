"""What a calendar feed is, below the store that keeps feeds: its name, how its token is kept, its alarm. Pure.

The store checks a feed against these rules before it saves one, and the
calendar package renders by them; neither imports the other for it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

FEED_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def hash_token(token: str) -> str:
    """What the database keeps of a feed's token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Alarm:
    """A reminder ``before`` the due day; ``at_nine`` when it was asked for in days or weeks."""

    before: timedelta
    at_nine: bool

    @property
    def trigger(self) -> str:
        """A TRIGGER relative to the all-day event's start (midnight of the due day).

        Days and weeks fire at 09:00 that many days before (``-P6DT15H`` for
        7d), when someone is at work to act on them; hours count back from
        midnight exactly (24h is 00:00 the day before).
        """
        if self.at_nine:
            remaining = self.before - timedelta(hours=9)
            days, hours = remaining.days, remaining.seconds // 3600
            return f"-P{days}DT{hours}H" if days else f"-PT{hours}H"
        return f"-PT{int(self.before.total_seconds() // 3600)}H"


_ALARM_LIMITS = {"h": 24 * 366, "d": 366, "w": 52}


def parse_alarm(text: str) -> Alarm:
    """``7d``, ``2w`` or ``12h`` before the due day; ValueError otherwise."""
    value = text.strip().lower()
    unit, number = value[-1:], value[:-1]
    valid_number = number.isascii() and number.isdigit()  # not "７d": str.isdigit takes any script's digits
    if unit not in _ALARM_LIMITS or not valid_number or not 0 < int(number) <= _ALARM_LIMITS[unit]:
        raise ValueError(text)
    hours = int(number) * {"h": 1, "d": 24, "w": 24 * 7}[unit]
    return Alarm(before=timedelta(hours=hours), at_nine=unit != "h")
