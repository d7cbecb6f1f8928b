"""Five years of the shipped plan through the real clock, in simulated time: `tracker simulate`.

With the register as it is (three deliverables done there, nothing marked
done during the run), the clock must send no message on a weekend or a Danish
public holiday, none twice, none about done work, remind every open
occurrence before its due day and alert it after, and restarting the clock
every few weeks must change nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Tracker
from tracker.notify.contacts import Contacts
from tracker.workdays import is_working_day, on_or_after
from tracker.register import load_register
from tracker.service.simulate import simulate

CPH = ZoneInfo("Europe/Copenhagen")
START, END = date(2026, 1, 1), date(2030, 12, 31)


@pytest.fixture(scope="module")
def five_years() -> list:
    return simulate(None, Contacts(), (), START, END, zone=CPH, base_url="https://tracker.example.dk")


def test_five_years_of_the_shipped_plan(five_years: list) -> None:
    notices = five_years
    assert notices
    keys = [notice.row.key for notice in notices]
    assert len(keys) == len(set(keys)), "a notice sent twice"
    for notice in notices:
        sent = notice.at.astimezone(CPH)
        assert is_working_day(sent.date()) and (sent.hour, sent.minute) == (9, 0), notice.row.key
        assert notice.row.day == sent.date()  # on its day: the clock never missed one
    messages = defaultdict(set)
    for notice in notices:
        messages[(notice.row.channel, notice.row.recipient, notice.at.astimezone(CPH).date())].add(notice.message.key)
    assert all(len(keys) == 1 for keys in messages.values()), "two messages to one recipient on one day"
    # The noise budget: alerts slow down after a month and stop reaching the owner after half a year (the
    # digest keeps the item). Before: 14,872 notices, 14,088 of them weekly overdue alerts.
    assert len(notices) <= 4000

    kinds_by_occurrence = defaultdict(lambda: defaultdict(list))
    for notice in notices:
        if notice.row.deliverable_id:
            occurrence = (notice.row.deliverable_id, notice.row.occurrence_year)
            kinds_by_occurrence[occurrence][notice.row.kind].append(notice.row.day)
    register = load_register()
    done = {deliverable.id for deliverable in register.deliverables.values() if deliverable.status.is_closed}
    assert done and not done & {notice.row.deliverable_id for notice in notices}, "a message about done work"
    checked = 0
    for deliverable in register.deliverables.values():
        for occurrence in deliverable.occurrences():
            due = occurrence.deadline.due
            if deliverable.id in done or not START + timedelta(days=60) <= due <= END - timedelta(days=30):
                continue  # the first reminders fall before the start, or the alerts after the end
            kinds = kinds_by_occurrence[(deliverable.id, occurrence.key)]
            assert any(day < due for day in kinds["reminder"]), (deliverable.id, occurrence.key, "not reminded")
            assert min(kinds["overdue"]) == on_or_after(due + timedelta(days=1)), (deliverable.id, "alerted late")
            assert set(kinds["escalation"]) == {on_or_after(due + timedelta(days=14))}, (deliverable.id, "escalation")
            assert kinds["confirm"], (deliverable.id, occurrence.key)
            assert max(kinds["overdue"]) <= due + timedelta(days=182 + 6), (deliverable.id, "alerted for ever")
            checked += 1
    assert checked > 20
    # Every open occurrence is in every status round of its report: asked on the round's first day.
    asked = {(notice.row.step, notice.row.deliverable_id, notice.row.occurrence_year) for notice in notices
             if notice.row.kind == "round" and notice.row.step.endswith(":open")}
    rounds = 0
    for rule in register.policy.rounds:
        for cutoff in register.deliverables[rule.cutoff].occurrences():
            step = f"{rule.name}-{cutoff.deadline.due.isoformat()}:open"
            for deliverable in register.deliverables.values():
                if deliverable.id in done or deliverable.id in (rule.report, rule.cutoff) or \
                        not {deliverable.owner, *deliverable.co_owners} & set(rule.parties):
                    continue
                dues = sorted((o.deadline.due, o.key) for o in deliverable.occurrences())
                expected = [key for due, key in dues if due <= cutoff.deadline.due]
                expected += [key for due, key in dues if due > cutoff.deadline.due][:1]
                for key in expected:
                    assert (step, deliverable.id, key) in asked, (step, deliverable.id, key, "not in the round")
            rounds += 1
    assert rounds == 10
    weeks = {notice.row.step for notice in notices if notice.row.kind == "digest"}
    assert len(weeks) >= 5 * 52


def test_restarting_the_clock_every_three_weeks_changes_nothing(five_years: list) -> None:
    restarted = simulate(None, Contacts(), (), START, END, zone=CPH, base_url="https://tracker.example.dk",
                         restart_every=21)
    assert [(n.at, n.row.key, n.message.key) for n in restarted] == [(n.at, n.row.key, n.message.key)
                                                                      for n in five_years]


def test_simulate_on_the_command_line_prints_what_preview_would(sqlite_url: str) -> None:
    tracker = Tracker(sqlite_url)
    records = json.loads(tracker.ok("simulate", "--from", "2026-06-01", "--to", "2026-06-30", "--json").output)
    assert records and {"at", "key", "kind", "id", "occurrence", "channel", "recipient", "text"} <= set(records[0])
    assert all(datetime.fromisoformat(record["at"]).date() >= date(2026, 6, 1) for record in records)
    text = tracker.ok("simulate", "--from", "2026-06-01", "--to", "2026-06-30", "--restart-every", "7").output
    assert f"\n{len({record['message'] for record in records})} messages.\n" in text
    assert text.rstrip().endswith("recipients over the budget.")  # then the noise budget, per recipient
    assert tracker("simulate", "--from", "2026-06-30", "--to", "2026-06-01").exit_code == 2
