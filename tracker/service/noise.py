"""The noise budget: how many messages each recipient gets in a week, against the policy's
``max_messages_per_week``. Pure: ``tracker simulate`` hands it what the clock sent.

People learn to ignore a tool that writes too often, so the budget is
counted in messages (what lands in an inbox or a channel), not notices (the
items in them), per recipient and calendar week (Monday to Sunday, the
plan's days), every week of the span counting, quiet ones too: a recipient
written to once a month has a median of zero.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo


@dataclass(frozen=True)
class Sent:
    """One notice as it went out: when, to whom, in which message."""

    at: datetime
    channel: str
    recipient: str
    message: str


@dataclass(frozen=True)
class RecipientNoise:
    channel: str
    recipient: str
    messages: int
    notices: int
    median_per_week: float
    max_per_week: int
    weeks_over: int  # weeks with more messages than the budget
    max_per_day: int

    def as_json(self) -> dict[str, object]:
        return {"channel": self.channel, "recipient": self.recipient, "messages": self.messages,
                "notices": self.notices, "median_per_week": self.median_per_week, "max_per_week": self.max_per_week,
                "weeks_over_budget": self.weeks_over, "max_per_day": self.max_per_day}


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def noise(sent: Iterable[Sent], start: date, end: date, budget: int, zone: tzinfo) -> list[RecipientNoise]:
    """Per recipient, most written to first: messages and notices from ``start`` to ``end``, messages per week
    (median and most), the weeks over ``budget`` and the most messages on one day."""
    weeks = []
    monday = _monday(start)
    while monday <= end:
        weeks.append(monday)
        monday += timedelta(days=7)
    messages: dict[tuple[str, str], dict[str, date]] = defaultdict(dict)
    notices: dict[tuple[str, str], int] = defaultdict(int)
    for notice in sent:
        route = (notice.channel, notice.recipient)
        messages[route].setdefault(notice.message, notice.at.astimezone(zone).date())
        notices[route] += 1
    result = []
    for route, days in messages.items():
        per_week: dict[date, int] = defaultdict(int)
        per_day: dict[date, int] = defaultdict(int)
        for day in days.values():
            per_week[_monday(day)] += 1
            per_day[day] += 1
        counts = [per_week.get(week, 0) for week in weeks]
        result.append(RecipientNoise(
            channel=route[0], recipient=route[1], messages=len(days), notices=notices[route],
            median_per_week=float(statistics.median(counts)) if counts else 0.0, max_per_week=max(counts, default=0),
            weeks_over=sum(1 for count in counts if count > budget), max_per_day=max(per_day.values(), default=0)))
    result.sort(key=lambda r: (-r.messages, r.channel, r.recipient))
    return result
