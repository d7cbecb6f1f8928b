"""Status per member of a collective party ("i alle regioner"), rolled up: the register, the store, the CLI.

The five regions are members of ``regionerne``; a per-member deliverable has
a status for each, with its own notes and history, and its own status is the
roll-up. Real SQLite and PostgreSQL; the migration is run down and up again
over a database with a status in it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from alembic import command
from sqlmodel import Session, select

from tests.conftest import FIXTURES, SEEDS, Tracker
from tracker.errors import RegisterError
from tracker.model import Status, rolled_up
from tracker.register import load_register, parse_register
from tracker.store.db import open_engine
from tracker.store.migrate import alembic_config, upgrade
from tracker.store.tables import HistoryRow, MemberStatusRow

MEMBERS = FIXTURES / "register_members.toml"
REGIONS = ["region-hovedstaden", "region-sjaelland", "region-syddanmark", "region-midtjylland", "region-nordjylland"]


@pytest.mark.parametrize(("statuses", "expected"), [
    ([], Status.NOT_STARTED),
    ([Status.NOT_STARTED] * 5, Status.NOT_STARTED),
    ([Status.DONE, Status.NOT_STARTED], Status.IN_PROGRESS),
    ([Status.DONE, Status.AT_RISK, Status.IN_PROGRESS], Status.AT_RISK),
    ([Status.DONE, Status.CANCELLED, Status.DONE], Status.DONE),
    ([Status.CANCELLED, Status.CANCELLED], Status.CANCELLED),
    ([Status.CANCELLED, Status.NOT_STARTED], Status.NOT_STARTED),
])
def test_the_roll_up(statuses: list[Status], expected: Status) -> None:
    assert rolled_up(statuses) is expected


def test_the_shipped_register_has_the_five_regions_and_marks_the_per_region_commitments() -> None:
    register = load_register()
    assert list(register.parties["regionerne"].members) == REGIONS
    assert all(register.parties[key].kind == "region" for key in REGIONS)
    per_member = {d.id for d in register.deliverables.values() if d.per_member}
    assert {"senfoelgeklinikker-etableret", "palliative-raadgivningsfunktioner-etableret"} <= per_member
    for identifier in per_member:
        deliverable = register.deliverables[identifier]
        assert deliverable.owner == "regionerne" and deliverable.per_member_quote, identifier
        # Where the quote does not say "alle", the reading says why every region delivers its part.
        if not re.search(r"\balle\b", deliverable.per_member_quote.casefold()):
            assert deliverable.per_member_reading, identifier


def test_every_per_member_quote_is_verbatim_in_its_source() -> None:
    if not SEEDS.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the source documents are not at {SEEDS}")
        pytest.skip(f"the source documents are not at {SEEDS}")
    fold = lambda text: " ".join(text.split())
    register = load_register()
    missing = [d.id for d in register.deliverables.values() if d.per_member and fold(d.per_member_quote or "") not in
               fold((SEEDS / d.source.file).read_text(encoding="utf-8"))]
    assert missing == []


def _with(text: str, old: str, new: str) -> bytes:
    assert old in text
    return text.replace(old, new, 1).encode()


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize(("old", "new", "said"), [
    ('"region-nordjylland"]', '"region-nordjyland"]', "unknown party 'region-nordjyland'. Did you mean"),
    ('members = ["region-hovedstaden",', 'members = ["regionerne", "region-hovedstaden",',
     "a party cannot be a member of itself"),
    ('"region-hovedstaden", "region-sjaelland"', '"region-hovedstaden", "region-hovedstaden"', "listed twice"),
    ('id = "evaluering"', 'id = "evaluering"\nper_member_quote = "alle"', "add per_member = true"),
    ("per_member_quote = \"Regeringen", "per_member_reading = \"x\"\nnot_the_quote = \"Regeringen",
     "per_member needs per_member_quote"),
    ('per_member_quote = "Regeringen og Danske Regioner er enige om, at der etableres senfølgeklinikker i alle',
     'per_member_quote = "Senfølgeklinikker etableres."\nignored = "', "the quote does not say \"alle\""),
])
def test_a_broken_membership_names_the_place_and_the_fix(old: str, new: str, said: str) -> None:
    with pytest.raises(RegisterError) as raised:
        parse_register(_with(MEMBERS.read_text(encoding="utf-8"), old, new), "members.toml")
    problems = [problem for problem in raised.value.problems if said in problem.message]
    assert problems and all(problem.line for problem in problems), raised.value.problems


@pytest.mark.usefixtures("english")
def test_per_member_needs_an_owner_with_members() -> None:
    text = MEMBERS.read_text(encoding="utf-8")
    broken = re.sub(r'\nmembers = \[[^\]]*\]', "", text, count=1).encode()
    with pytest.raises(RegisterError) as raised:
        parse_register(broken, "members.toml")
    assert any("per_member needs an owner with members, and 'regionerne' has none" in problem.message
               for problem in raised.value.problems)


def _members(plan: Tracker, deliverable: str = "senfoelgeklinikker") -> dict[str, str]:
    (record,) = [r for r in json.loads(plan.ok("list", "--json").output) if r["id"] == deliverable]
    return {member["key"]: member["status"] for member in record["members"]} | {"*": record["status"]}


def test_each_region_sets_its_own_status_and_the_deliverable_rolls_up(database_url: str) -> None:
    plan = Tracker(database_url, MEMBERS, "da")
    plan.ok("sync")
    said = plan.ok("status", "senfoelgeklinikker", "done", "--member", "region-nordjylland", "--note",
                   "Klinikken i Aalborg er åbnet", "--by", "Koordinator")
    assert "region-nordjylland" in said.output and "i gang" in said.output
    plan.ok("status", "senfoelgeklinikker", "at-risk", "--member", "region-sjaelland", "--note", "Mangler læger")
    members = _members(plan)
    assert members == {"region-hovedstaden": "not_started", "region-sjaelland": "at_risk",
                       "region-syddanmark": "not_started", "region-midtjylland": "not_started",
                       "region-nordjylland": "done", "*": "at_risk"}
    (record,) = [r for r in json.loads(plan.ok("list", "--json", "--today", "2026-07-01").output)
                 if r["id"] == "senfoelgeklinikker"]
    assert record["progress"] == {"done": 1, "total": 5}
    overdue = {member["key"]: member["overdue"] for member in record["members"]}
    assert overdue == {key: key != "region-nordjylland" for key in REGIONS}  # past 30 June, four are late
    assert all(set(member) >= {"key", "name", "status", "overdue", "updated_at"} for member in record["members"])
    (other,) = [r for r in json.loads(plan.ok("list", "--json").output) if r["id"] == "evaluering"]
    assert other["members"] == [] and other["progress"] is None

    listing = plan.ok("list", "--today", "2026-05-01").output
    assert re.search(r"senfoelgeklinikker\s+Regionerne\s+i risiko 1/5", listing), listing
    shown = plan.ok("show", "senfoelgeklinikker", "--today", "2026-07-01").output
    assert "Medlemmer: 1 af 5 færdige" in shown, shown
    assert re.search(r"Region Sjælland \(region-sjaelland\)\s+FORSINKET 1 d \(i risiko\)\s+\S+\s+Mangler læger",
                     shown), shown
    assert "[Region Nordjylland]: status ikke påbegyndt → færdig — Klinikken i Aalborg er åbnet" in shown
    detail = json.loads(plan.ok("show", "senfoelgeklinikker", "--json").output)
    assert detail["per_member"] is True and "i alle regioner" in detail["per_member_quote"]
    assert {entry["member"] for entry in detail["history"] if entry["action"] == "status"} == {
        "region-nordjylland", "region-sjaelland"}

    # The last region done: the deliverable is done, and "what is done" follows it.
    for region in ("region-hovedstaden", "region-syddanmark", "region-midtjylland"):
        plan.ok("status", "senfoelgeklinikker", "done", "--member", region, "--note", "Åbnet")
    assert _members(plan)["*"] == "at_risk"  # Sjælland is still at risk, so the whole is
    plan.ok("status", "senfoelgeklinikker", "cancelled", "--member", "region-sjaelland", "--note",
            "Dækkes af Region Hovedstaden")
    assert _members(plan)["*"] == "done"


def test_a_note_for_one_region_is_its_own(database_url: str) -> None:
    plan = Tracker(database_url, MEMBERS, "da")
    plan.ok("sync")
    plan.ok("note", "senfoelgeklinikker", "Lokaler fundet", "--member", "region-syddanmark")
    (record,) = [r for r in json.loads(plan.ok("list", "--json").output) if r["id"] == "senfoelgeklinikker"]
    notes = {member["key"]: member["note"] for member in record["members"]}
    assert notes["region-syddanmark"] == "Lokaler fundet" and record["note"] is None
    assert [value for key, value in notes.items() if key != "region-syddanmark"] == [None] * 4


def test_a_coordinator_sets_the_whole_occurrence_for_every_member(database_url: str) -> None:
    plan = Tracker(database_url, MEMBERS, "da")
    plan.ok("sync")
    plan.ok("status", "senfoelgeklinikker", "done", "--member", "region-hovedstaden", "--note", "Åbnet")
    plan.ok("status", "senfoelgeklinikker", "in-progress", "--note", "Alle regioner er i gang")
    assert set(_members(plan).values()) == {"in_progress"}
    # Done may be reopened, so Hovedstaden is in progress again with the rest; the history says it in one row.
    with Session(open_engine(database_url)) as session:
        rows = session.exec(select(HistoryRow).where(HistoryRow.deliverable_id == "senfoelgeklinikker",
                                                     HistoryRow.action == "status")).all()
    assert [(row.member, row.new_value) for row in rows] == [("region-hovedstaden", "done"), (None, "in_progress")]
    plan.ok("status", "senfoelgeklinikker", "done", "--member", "region-sjaelland", "--note", "Åbnet")
    failed = plan.fails("status", "senfoelgeklinikker", "not-started", "--note", "forkert")
    assert "region-" in failed.output and "--member" in failed.output
    assert _members(plan)["region-sjaelland"] == "done"  # nothing half-written


def test_wrong_members_are_refused_with_the_fix(database_url: str) -> None:
    plan = Tracker(database_url, MEMBERS, "da")
    plan.ok("sync")
    unknown = plan.fails("status", "senfoelgeklinikker", "done", "--member", "region-nordjyland", "--note", "x")
    assert "region-nordjylland" in unknown.output and "Traceback" not in unknown.output
    collective = plan.fails("status", "evaluering", "done", "--member", "region-sjaelland", "--note", "x")
    assert "--member" in collective.output
    again = plan.fails("status", "senfoelgeklinikker", "not-started", "--member", "region-sjaelland", "--note", "x")
    assert "ikke påbegyndt" in again.output
    assert set(_members(plan).values()) == {"not_started"}


def test_a_status_from_before_members_becomes_every_members_status(database_url: str, small_register: Path) -> None:
    """The migration's promise: a database whose deliverable had one status, migrated down to the revision before
    members and up again, then synced with a register that makes it per member: every region has that status."""
    plan = Tracker(database_url, small_register, "da")
    plan.ok("sync")
    plan.ok("status", "senfoelgeklinikker", "in-progress", "--note", "Tre klinikker åbne")
    engine = open_engine(database_url)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0010_undated_and_funding")
    upgrade(engine)
    members = Tracker(database_url, MEMBERS, "da")
    members.ok("sync")
    assert _members(members) == {**{key: "in_progress" for key in REGIONS}, "*": "in_progress"}
    with Session(engine) as session:
        assert len(session.exec(select(MemberStatusRow)).all()) == 5
    members.ok("sync")  # a second sync makes no second set
    with Session(engine) as session:
        assert len(session.exec(select(MemberStatusRow)).all()) == 5
