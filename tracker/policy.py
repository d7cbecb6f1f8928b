"""When who hears about what: the notification policy, from the register's ``[policy]`` table.

Pure. Every setting has a default (``Policy()``), so a register without a
``[policy]`` table still reminds people. The table may override the defaults,
and ``[policy.party.KEY]`` and ``[policy.deliverable.ID]`` override them again
for one responsible party or one deliverable (the deliverable wins)::

    [policy]
    reminder_days = [60, 30, 14, 7, 1]   # days before the due day
    overdue_repeat_days = [7, 7, 7, 7, 28]  # between overdue alerts; the last repeats
    overdue_alert_for_days = 182         # then the owner's alerts stop (the digest keeps it)
    escalate_after_days = 14             # days overdue before coordinators hear
    confirm_after_days = 3               # past due and not updated: ask to confirm
    digest_weekday = "monday"
    digest_horizon_days = 30
    send_at = "09:00"                    # Europe/Copenhagen, on working days
    max_messages_per_week = 2            # the noise budget `tracker simulate` checks, per recipient

    [policy.deliverable.sst-aarlig-afrapportering-til-ism]
    reminder_days = [30, 7]

    [[policy.round]]                     # a status round before each cut-off (tracker.rounds)
    name = "regionernes-status"
    report = "regional-status-til-sst"   # the report it collects status for
    cutoff = "regional-status-til-sst"   # whose due days are the cut-offs (default: the report's)
    parties = ["regionerne", "danske-regioner"]
    opens_working_days_before = 15
    remind_working_days_before = [5, 1]
    reading = "why these parties, and this cut-off"
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import time
from typing import Any

from tracker.i18n import _

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_ROUND_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_ROUND_KEYS = ("name", "report", "cutoff", "parties", "opens_working_days_before", "remind_working_days_before",
               "reading")
_MAX_WORKING_DAYS = 120
_MAX_DAYS = 366


@dataclass(frozen=True)
class Policy:
    reminder_days: tuple[int, ...] = (60, 30, 14, 7, 1)
    # The days between one overdue alert and the next, the last repeating: weekly for the first month, then every
    # four weeks. An alert that never slows down teaches people to ignore every alert.
    overdue_repeat_days: tuple[int, ...] = (7, 7, 7, 7, 28)
    # How long an owner is alerted about an overdue item: after this, it is the coordinators' to follow up. It stays
    # in the weekly digest, was escalated on its day, and is in every status round its report has.
    overdue_alert_for_days: int = 182
    escalate_after_days: int = 14
    confirm_after_days: int = 3
    digest_weekday: int = 0  # Monday
    digest_horizon_days: int = 30
    send_at: time = time(9, 0)
    # The noise budget: more messages than this to one recipient in a week is flagged by `tracker simulate`.
    max_messages_per_week: int = 2


# What may be overridden per party or deliverable: the timing of one
# occurrence's messages. The digest and the send time are the plan's.
_PER_OCCURRENCE = ("reminder_days", "overdue_repeat_days", "overdue_alert_for_days", "escalate_after_days",
                   "confirm_after_days")


@dataclass(frozen=True)
class RoundRule:
    """A status round, from ``[[policy.round]]``: before each cut-off, every party asked about its items."""

    name: str
    report: str  # the deliverable (a report) the round collects status for
    cutoff: str  # the deliverable whose occurrences' due days are the cut-offs: the report's, unless another is named
    parties: tuple[str, ...]
    opens_working_days_before: int = 15
    remind_working_days_before: tuple[int, ...] = (5, 1)
    reading: str | None = None  # why these parties and this cut-off


@dataclass(frozen=True)
class PolicySet:
    default: Policy = field(default_factory=Policy)
    by_party: Mapping[str, Policy] = field(default_factory=dict)
    by_deliverable: Mapping[str, Policy] = field(default_factory=dict)
    rounds: tuple[RoundRule, ...] = ()

    def round(self, name: str) -> RoundRule | None:
        return next((rule for rule in self.rounds if rule.name == name), None)

    def for_deliverable(self, deliverable_id: str, owner: str) -> Policy:
        return self.by_deliverable.get(deliverable_id) or self.by_party.get(owner) or self.default


def _days(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= _MAX_DAYS


def _read_settings(table: Mapping[str, Any], allowed: tuple[str, ...], path: tuple[str, ...],
                   problem: Callable[[tuple[str, ...], str], None]) -> dict[str, Any]:
    """The valid settings in ``table`` as Policy field values; a problem for each bad one."""
    values: dict[str, Any] = {}
    for key, value in table.items():
        where = path + (key,)
        if key not in allowed:
            problem(where, _("unknown policy setting {key!r}. Accepted here: {allowed}.").format(
                key=key, allowed=", ".join(allowed)))
        elif key == "reminder_days":
            if not isinstance(value, list) or not all(_days(v) for v in value):
                problem(where, _("reminder_days must be a list of whole days from 1 to {most}, "
                                 "e.g. [60, 30, 14, 7, 1]; [] sends no reminders.").format(most=_MAX_DAYS))
            else:
                values[key] = tuple(sorted(set(value), reverse=True))
        elif key == "overdue_repeat_days":
            repeat = [value] if _days(value) else value
            if not isinstance(repeat, list) or not repeat or not all(_days(v) for v in repeat):
                problem(where, _("overdue_repeat_days must be whole days from 1 to {most} between one overdue alert "
                                 "and the next, the last repeating, e.g. [7, 7, 7, 7, 28]; or one number of days, "
                                 "not {value!r}.").format(most=_MAX_DAYS, value=value))
            else:
                values[key] = tuple(repeat)
        elif key in ("overdue_alert_for_days", "escalate_after_days", "confirm_after_days", "digest_horizon_days",
                     "max_messages_per_week"):
            if not _days(value):
                problem(where, _("{key} must be a whole number of days from 1 to {most}, not {value!r}.").format(
                    key=key, most=_MAX_DAYS, value=value))
            else:
                values[key] = value
        elif key == "digest_weekday":
            if not isinstance(value, str) or value.lower() not in WEEKDAYS:
                problem(where, _("digest_weekday must be one of {weekdays}, not {value!r}.").format(
                    weekdays=", ".join(WEEKDAYS), value=value))
            else:
                values[key] = WEEKDAYS.index(value.lower())
        elif key == "send_at":
            match = _CLOCK.match(value) if isinstance(value, str) else None
            if match is None:
                problem(where, _('send_at must be a time of day as "HH:MM" (24-hour), e.g. "09:00", not {value!r}.')
                        .format(value=value))
            else:
                values[key] = time(int(match.group(1)), int(match.group(2)))
    return values


def parse_policy(table: Any, parties: set[str], deliverable_ids: set[str],
                 problem: Callable[[tuple[str, ...], str], None]) -> PolicySet:
    """The register's ``[policy]`` table as a PolicySet; each problem reported through ``problem``."""
    if table is None:
        return PolicySet()
    if not isinstance(table, dict):
        problem(("policy",), _("policy must be a table: [policy]."))
        return PolicySet()
    top_level = tuple(f.name for f in fields(Policy))
    settings = {key: value for key, value in table.items() if key not in ("party", "deliverable", "round")}
    default = replace(Policy(), **_read_settings(settings, top_level, ("policy",), problem))

    def overrides(name: str, known: set[str]) -> dict[str, Policy]:
        section = table.get(name, {})
        if not isinstance(section, dict):
            problem(("policy", name), _("policy.{name} must be a table of tables: [policy.{name}.KEY].").format(
                name=name))
            return {}
        result = {}
        for key, values in section.items():
            path = ("policy", name, key)
            if key not in known:
                if name == "party":
                    message = _("unknown party {key!r}: overrides name a party of this register.")
                else:
                    message = _("unknown deliverable {key!r}: overrides name a deliverable of this register.")
                problem(path, message.format(key=key))
                continue
            if not isinstance(values, dict):
                problem(path, _("[policy.{name}.{key}] must be a table of settings.").format(name=name, key=key))
                continue
            result[key] = replace(default, **_read_settings(values, _PER_OCCURRENCE, path, problem))
        return result

    return PolicySet(default=default, by_party=overrides("party", parties),
                     by_deliverable=overrides("deliverable", deliverable_ids),
                     rounds=parse_rounds(table.get("round", []), parties, deliverable_ids, problem))


def _working_days(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= _MAX_WORKING_DAYS


def parse_rounds(tables: Any, parties: set[str], deliverable_ids: set[str],
                 problem: Callable[[tuple[str, ...], str], None]) -> tuple[RoundRule, ...]:
    """The register's ``[[policy.round]]`` tables as RoundRules; each problem reported through ``problem``."""
    if not isinstance(tables, list) or not all(isinstance(table, dict) for table in tables):
        problem(("policy", "round"), _("policy.round must be an array of tables: [[policy.round]]."))
        return ()
    rules: list[RoundRule] = []
    for index, table in enumerate(tables):
        path = ("policy", "round", str(index))
        ok = True

        def bad(key: str, message: str) -> None:
            nonlocal ok
            ok = False
            problem(path + (key,), message)

        for key in table:
            if key not in _ROUND_KEYS:
                bad(key, _("unknown key {key!r} in a round. Accepted: {allowed}.").format(
                    key=key, allowed=", ".join(_ROUND_KEYS)))
        name = table.get("name")
        if not isinstance(name, str) or not _ROUND_NAME.match(name):
            bad("name", _("a round needs a name of lowercase letters, digits and hyphens, e.g. "
                          "\"regionernes-status\", not {value!r}.").format(value=name))
        elif any(rule.name == name for rule in rules):
            bad("name", _("a second round named {name!r}: each round's name is its own.").format(name=name))
        report = table.get("report")
        if not isinstance(report, str) or report not in deliverable_ids:
            bad("report", _("report must name a deliverable of this register (the report the round collects status "
                            "for), not {value!r}.").format(value=report))
        cutoff = table.get("cutoff", report)
        if not isinstance(cutoff, str) or cutoff not in deliverable_ids:
            bad("cutoff", _("cutoff must name a deliverable of this register, whose due days are the round's "
                            "cut-offs, not {value!r}.").format(value=cutoff))
        asked = table.get("parties")
        if not isinstance(asked, list) or not asked or not all(isinstance(key, str) for key in asked):
            bad("parties", _("parties must list the parties the round asks, e.g. [\"regionerne\"]."))
            asked = []
        for key in asked:
            if key not in parties:
                bad("parties", _("unknown party {key!r}: a round asks parties of this register.").format(key=key))
        opens = table.get("opens_working_days_before", RoundRule.opens_working_days_before)
        if not _working_days(opens):
            bad("opens_working_days_before", _("opens_working_days_before must be a whole number of working days "
                                               "from 1 to {most}, not {value!r}.").format(most=_MAX_WORKING_DAYS,
                                                                                          value=opens))
            opens = RoundRule.opens_working_days_before
        remind = table.get("remind_working_days_before", list(RoundRule.remind_working_days_before))
        if not isinstance(remind, list) or not all(_working_days(value) for value in remind):
            bad("remind_working_days_before", _("remind_working_days_before must list whole numbers of working "
                                                "days before the cut-off, e.g. [5, 1]; [] sends no reminders."))
            remind = []
        elif any(value >= opens for value in remind):
            bad("remind_working_days_before", _("a reminder {value} working days before the cut-off comes before the "
                                                "round opens ({opens} working days before it).").format(
                value=max(remind), opens=opens))
        reading = table.get("reading")
        if reading is not None and (not isinstance(reading, str) or not reading.strip()):
            bad("reading", _("reading must be a sentence saying why these parties and this cut-off."))
        if ok:
            rules.append(RoundRule(name=name, report=report, cutoff=cutoff, parties=tuple(dict.fromkeys(asked)),
                                   opens_working_days_before=opens,
                                   remind_working_days_before=tuple(sorted(set(remind), reverse=True)),
                                   reading=reading))
    return tuple(rules)
