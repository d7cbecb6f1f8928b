"""Five years of the shipped plan through the real clock, in simulated time: `tracker simulate`.

With the register as it is (three deliverables done there, nothing marked
done during the run), the clock must send no message on a weekend or a Danish
public holiday, none twice, none about done work, remind every open
occurrence before its due day and alert it after, and restarting the clock
every few weeks must change nothing. With owners answering half of the
status rounds' questions "done", nothing more is sent about what they answered.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Tracker
from tracker.notify.contacts import Contacts, Reach
from tracker.notify.webhooks import teams_handle
from tracker.workdays import is_working_day, on_or_after
from tracker.register import load_register
from tracker.model import Status
from tracker.service.simulate import ANSWER_DELAY, Action, Simulation, simulate

CPH = ZoneInfo("Europe/Copenhagen")
START, END = date(2026, 1, 1), date(2030, 12, 31)


# Region Nordjylland is on Teams (by a Workflows webhook), with e-mail as its fallback; with no channel configured
# the console addresses what Teams would get to the webhook's handle, never to its address.
TEAMS_WEBHOOK = ("https://prod-07.westeurope.logic.azure.com:443/workflows/5e1f/triggers/manual/paths/invoke"
                 "?api-version=2016-06-01&sig=Nordjylland-SIGNATURE")
ON_TEAMS = Contacts(parties={"region-nordjylland": Reach(teams=(TEAMS_WEBHOOK,), email=("kraeftplan@rn.example",),
                                                         prefer=("teams", "email"))})


@pytest.fixture(scope="module")
def five_years() -> Simulation:
    return simulate(None, ON_TEAMS, (), START, END, zone=CPH, base_url="https://tracker.example.dk")


def one_message_a_day(notices: list) -> bool:
    messages = defaultdict(set)
    for notice in notices:
        messages[(notice.row.channel, notice.row.recipient, notice.at.astimezone(CPH).date())].add(notice.message.key)
    return all(len(keys) == 1 for keys in messages.values())


def test_five_years_of_the_shipped_plan(five_years: Simulation) -> None:
    notices = five_years.notices
    assert not five_years.answers
    assert notices
    keys = [notice.row.key for notice in notices]
    assert len(keys) == len(set(keys)), "a notice sent twice"
    for notice in notices:
        sent = notice.at.astimezone(CPH)
        assert is_working_day(sent.date()) and (sent.hour, sent.minute) == (9, 0), notice.row.key
        assert notice.row.day == sent.date()  # on its day: the clock never missed one
    assert one_message_a_day(notices), "two messages to one recipient on one day"
    # The noise budget: alerts slow down after a month and stop reaching the owner after half a year (the
    # digest keeps the item). Before: 14,872 notices, 14,088 of them weekly overdue alerts. Each region hears
    # about its own part of the five per-region commitments (3,698 notices before, 4,318 with them).
    assert len(notices) <= 4500

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
            if occurrence.deadline is None:  # undated: asked in the rounds (below), never reminded by date
                assert set(kinds_by_occurrence[(deliverable.id, occurrence.key)]) <= {"round"}, deliverable.id
                continue
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
                # An undated commitment sorts after every cut-off: the next one, so every round asks it.
                dues = sorted((o.deadline.due if o.deadline else date.max, o.key) for o in deliverable.occurrences())
                expected = [key for due, key in dues if due <= cutoff.deadline.due]
                expected += [key for due, key in dues if due > cutoff.deadline.due][:1]
                for key in expected:
                    assert (step, deliverable.id, key) in asked, (step, deliverable.id, key, "not in the round")
            rounds += 1
    assert rounds == 10
    weeks = {notice.row.step for notice in notices if notice.row.kind == "digest"}
    assert len(weeks) >= 5 * 52
    # "I alle regioner": each region is reminded of, alerted about and asked about its own part, by itself; the
    # coordinators' escalation is the whole's, once, and names the regions that are late.
    regions = list(register.parties["regionerne"].members)
    for deliverable in (d for d in register.deliverables.values() if d.per_member):
        told = defaultdict(set)
        for notice in notices:
            if notice.row.deliverable_id == deliverable.id:
                told[notice.row.kind].add(notice.row.member)
        assert told["reminder"] == told["overdue"] == told["round"] == set(regions), (deliverable.id, told)
        assert told["escalation"] == {None}, deliverable.id
        escalated = [item.line for notice in notices if notice.row.kind == "escalation"
                     and notice.row.deliverable_id == deliverable.id for item in notice.message.items
                     if item.deliverable_id == deliverable.id]
        late = "0 af 5 færdige, forsinket: " + ", ".join(register.parties[key].name for key in regions)
        assert escalated and all(late in line for line in escalated), escalated
    # The region on Teams hears about its own parts on Teams, by the webhook's handle; the address is nowhere.
    nordjylland = [notice for notice in notices if notice.row.party == "region-nordjylland"]
    assert nordjylland and {notice.row.recipient for notice in nordjylland} == {teams_handle(TEAMS_WEBHOOK)}
    assert {notice.row.member for notice in nordjylland} == {"region-nordjylland"}
    assert not any("SIGNATURE" in json.dumps(notice.record()) for notice in notices)


def test_restarting_the_clock_every_three_weeks_changes_nothing(five_years: Simulation) -> None:
    restarted = simulate(None, ON_TEAMS, (), START, END, zone=CPH, base_url="https://tracker.example.dk",
                         restart_every=21)
    assert [(n.at, n.row.key, n.message.key) for n in restarted.notices] == [(n.at, n.row.key, n.message.key)
                                                                              for n in five_years.notices]


def test_owners_who_answer_half_the_round_questions_hear_nothing_more_about_what_they_answered(
        five_years: Simulation) -> None:
    # And a coordinator marks the cooling-cap trial started on 2 March 2026: its end ("2 år efter … er færdig")
    # and the milestone due with the end ("med …") move from the end of 2028 to 2 March 2028.
    started = datetime(2026, 3, 2, 14, 0, tzinfo=CPH)
    answered = simulate(None, ON_TEAMS, (), START, END, zone=CPH, base_url="https://tracker.example.dk",
                        answer_rounds=0.5, actions=[Action(started, "koelehaetter-forsoegsordning-start", Status.DONE)])
    for follower in ("koelehaetter-forsoegsordning-slut", "koelehaetter-halvdelen-tilbudt"):
        told = [(notice.at, item.due) for notice in answered.notices for item in notice.message.items
                if item.deliverable_id == follower]
        assert any(at > started for at, _due in told), (follower, "never told after the start")
        assert all(due == (date(2028, 3, 2) if at > started else date(2028, 12, 31)) for at, due in told), (
            follower, told)
    # A question is one item for one party; a region's part of a per-region commitment is its own question.
    asked: dict[tuple, datetime] = {}
    for notice in answered.notices:
        if notice.row.kind == "round" and notice.row.step.endswith(":open"):
            asked.setdefault((notice.row.step, notice.row.deliverable_id, notice.row.occurrence_year,
                              notice.row.member), notice.at)
    assert len(answered.answers) == len(asked) // 2 > 40  # every other question, in the order asked
    last_word: dict[tuple, datetime] = {}
    for answer in answered.answers:
        assert answer.at == asked[(answer.step, answer.deliverable_id, answer.occurrence, answer.member)] + \
            ANSWER_DELAY
        last_word[(answer.deliverable_id, answer.occurrence, answer.member)] = answer.at
    assert any(answer.member for answer in answered.answers)  # regions answered for their own parts
    assert len({answer.party for answer in answered.answers}) >= 8  # spread over the parties, not one party's items
    after = [notice.row.key for notice in answered.notices if notice.at > last_word.get(
        (notice.row.deliverable_id, notice.row.occurrence_year, notice.row.member), notice.at)]
    assert not after, "a message about an item after its owner answered it done"
    assert one_message_a_day(answered.notices)
    # Answering spares the owners what the plan would otherwise send them; the rounds still ask the rest.
    assert len(answered.notices) < len(five_years.notices) * 0.6
    assert {n.row.step for n in answered.notices if n.row.kind == "round"} >= {
        n.row.step for n in five_years.notices if n.row.kind == "round" and n.row.step.endswith(":open")}


def test_simulate_on_the_command_line_prints_what_preview_would(sqlite_url: str) -> None:
    tracker = Tracker(sqlite_url)
    records = json.loads(tracker.ok("simulate", "--from", "2026-06-01", "--to", "2026-06-30", "--json").output)
    assert records and {"at", "key", "kind", "id", "occurrence", "channel", "recipient", "text"} <= set(records[0])
    assert all(datetime.fromisoformat(record["at"]).date() >= date(2026, 6, 1) for record in records)
    text = tracker.ok("simulate", "--from", "2026-06-01", "--to", "2026-06-30", "--restart-every", "7").output
    assert f"\n{len({record['message'] for record in records})} messages.\n" in text
    assert text.rstrip().endswith("recipients over the budget.")  # then the noise budget, per recipient
    assert tracker("simulate", "--from", "2026-06-30", "--to", "2026-06-01").exit_code == 2
    # Sundhedsstyrelsen's round before the report due 31 December opens in December: owners answer half of it.
    text = tracker.ok("simulate", "--from", "2026-12-01", "--to", "2026-12-31", "--answer-rounds", "0.5",
                      "--per-recipient").output
    assert re.search(r"^Simulated owners answered done to ([1-9][0-9]*) status-round questions\.$", text, re.M), text
    assert tracker("simulate", "--from", "2026-12-01", "--to", "2026-12-31", "--answer-rounds", "2").exit_code == 2
