"""Danish working days: messages go out on them, never on a weekend or a public holiday.

The public holidays come from the ``holidays`` package (Denmark's official
ones: New Year, Maundy Thursday, Good Friday, Easter, Ascension, Whitsun,
Christmas; Great Prayer Day until its abolition in 2024), so Easter's moving
dates and changes in the law are someone's maintained data, not ours.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("DK", years=year, language="da"))


def holiday_name(day: date) -> str | None:
    """The Danish name of the public holiday on ``day``, if it is one."""
    return holidays.country_holidays("DK", years=day.year, language="da").get(day)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def on_or_before(day: date) -> date:
    """``day`` if it is a working day, else the working day before it (reminders move earlier)."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def on_or_after(day: date) -> date:
    """``day`` if it is a working day, else the working day after it (alerts move later)."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def working_days_before(day: date, count: int) -> date:
    """The working day ``count`` working days before ``day`` (``day`` itself not counted): a status round that
    opens 15 working days before its cut-off opens three weeks earlier, more across Easter."""
    while count > 0:
        day -= timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return on_or_before(day)
