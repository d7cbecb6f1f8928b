"""A member's own part of a per-member occurrence in the feeds ("i alle regioner").

A region's calendar shows its own part of every per-member occurrence, titled
with the region's own status and under a UID of its own; the collective's,
the co-owner's, the theme's and the whole plan's calendars show the whole
occurrence once, with how far the members have come. The register is
tests/fixtures/register_members.toml, synced into SQLite and PostgreSQL;
``now`` is always passed explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from tests.calendar.support import (
    BASE_URL,
    events,
    feed,
    make_feed,
    new_engine,
    sequence,
    stored_sequences,
    unescape,
)
from tests.conftest import FIXTURES
from tests.plan_views import occurrence
from tracker.calendar.events import feed_events, uid_of
from tracker.calendar.feeds import FeedSelection
from tracker.calendar.service import FeedService
from tracker.model import MemberPart, Status
from tracker.register import load_register
from tracker.store.db import write_session
from tracker.store.operations import add_note, change_status
from tracker.store.sync import sync_register

MEMBERS_REGISTER = FIXTURES / "register_members.toml"
REGIONS = ("region-hovedstaden", "region-sjaelland", "region-syddanmark", "region-midtjylland", "region-nordjylland")
WHOLE = "senfoelgeklinikker@kraeftplan-v.tracker"
EVAL = "evaluering@kraeftplan-v.tracker"
ACTOR = "koordinator@example.dk"
T1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T2 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
AFTER_DUE = datetime(2026, 7, 15, 9, 0, tzinfo=UTC)  # the clinics were due on 30 June 2026


def part_uid(member: str) -> str:
    return f"senfoelgeklinikker/{member}@kraeftplan-v.tracker"


@pytest.fixture
def members_engine(database_url: str) -> Iterator[Engine]:
    engine = new_engine(database_url, MEMBERS_REGISTER)
    yield engine
    engine.dispose()


def set_member(engine: Engine, member: str, status: Status, now: datetime, note: str = "Opdateret.") -> None:
    with write_session(engine) as session:
        change_status(session, "senfoelgeklinikker", status, note=note, actor=ACTOR, now=now, member=member)


def test_a_regions_calendar_has_its_own_part_titled_with_its_own_status(members_engine: Engine) -> None:
    nord = make_feed(members_engine, "nord", parties=["region-nordjylland"])
    regions = make_feed(members_engine, "regioner", parties=["regionerne"], language="en")
    set_member(members_engine, "region-nordjylland", Status.DONE, T1, note="Klinikken i Aalborg er åbnet.")
    set_member(members_engine, "region-sjaelland", Status.AT_RISK, T1)
    service = FeedService(members_engine, BASE_URL)

    own = events(feed(service, nord, AFTER_DUE))
    # Only its own part: not the whole, not the other regions' parts, not the collective's other deliverable.
    assert set(own) == {part_uid("region-nordjylland")}
    event = own[part_uid("region-nordjylland")]
    assert str(event["SUMMARY"]) == "✓ Færdig: Senfølgeklinikker etableret (Region Nordjylland)"
    assert str(event["STATUS"]) == "CONFIRMED"
    text = str(event["DESCRIPTION"])
    assert text.startswith("Ansvarlig: Region Nordjylland\n")
    assert "Status: færdig\n" in text and "Seneste note: Klinikken i Aalborg er åbnet." in text
    assert "Medansvarlige" not in text  # the co-owner is the whole's, not the region's part's

    whole = events(feed(service, regions, AFTER_DUE))
    assert set(whole) == {WHOLE, EVAL}
    # The whole, overdue while four regions are not done and at risk as one is, with how far they have come.
    assert str(whole[WHOLE]["SUMMARY"]) == "⏰ Overdue: Late-effects clinics established (1/5)"
    description = str(whole[WHOLE]["DESCRIPTION"])
    assert "Status: at risk, overdue\nMembers done: 1 of 5\n– Capital Region of Denmark: not started, " \
           "overdue\n– Region Zealand: at risk, overdue\n" in description
    assert "– North Denmark Region: done\n" in description


def test_the_part_is_overdue_or_not_on_its_own(members_engine: Engine) -> None:
    overdue_nord = make_feed(members_engine, "nord-forsinket", parties=["region-nordjylland"], overdue_only=True)
    overdue_syd = make_feed(members_engine, "syd-forsinket", parties=["region-syddanmark"], overdue_only=True,
                            language="en")
    set_member(members_engine, "region-nordjylland", Status.DONE, T1)
    service = FeedService(members_engine, BASE_URL)
    assert events(feed(service, overdue_nord, AFTER_DUE)) == {}
    south = events(feed(service, overdue_syd, AFTER_DUE))
    assert set(south) == {part_uid("region-syddanmark")}
    assert str(south[part_uid("region-syddanmark")]["SUMMARY"]) == \
        "⏰ Overdue: Late-effects clinics established (Region of Southern Denmark)"


def test_the_whole_plan_the_theme_and_the_co_owner_keep_the_whole_occurrence(members_engine: Engine) -> None:
    everything = make_feed(members_engine, "alt")
    theme = make_feed(members_engine, "senfoelger", themes=["anbefaling-7"])
    sst = make_feed(members_engine, "sst", parties=["sst"])
    service = FeedService(members_engine, BASE_URL)
    assert set(events(feed(service, everything, T1))) == {WHOLE, EVAL}
    assert set(events(feed(service, theme, T1))) == {WHOLE, EVAL}
    assert set(events(feed(service, sst, T1))) == {WHOLE}
    # A personal calendar of the collective and two regions has the whole and those two parts, no UID twice
    # (``events`` asserts it).
    personal = make_feed(members_engine, "personlig", parties=["regionerne", "region-hovedstaden",
                                                               "region-nordjylland"])
    assert set(events(feed(service, personal, T1))) == {WHOLE, EVAL, part_uid("region-hovedstaden"),
                                                        part_uid("region-nordjylland")}


def test_uids_and_sequences_stay_across_syncs_and_a_members_change_touches_its_part_and_the_whole(
        members_engine: Engine) -> None:
    nord = make_feed(members_engine, "nord", parties=["region-nordjylland"])
    service = FeedService(members_engine, BASE_URL)
    service.refresh(T1)
    first = stored_sequences(members_engine)
    assert set(first) == {WHOLE, EVAL, *map(part_uid, REGIONS)}
    assert set(first.values()) == {0}

    with write_session(members_engine) as session:  # the same register again, a day later
        sync_register(session, load_register(MEMBERS_REGISTER), T1)
    again = FeedService(members_engine, BASE_URL)  # a restarted process
    again.refresh(T1)
    assert stored_sequences(members_engine) == first
    assert sequence(events(feed(again, nord, T1))[part_uid("region-nordjylland")]) == 0

    set_member(members_engine, "region-nordjylland", Status.IN_PROGRESS, T2)
    again.refresh(T2)
    after = stored_sequences(members_engine)
    assert after[part_uid("region-nordjylland")] == 1
    assert after[WHOLE] == 1  # the whole lists each member's status
    assert all(after[part_uid(member)] == 0 for member in REGIONS if member != "region-nordjylland")
    assert after[EVAL] == 0


def test_a_members_note_is_escaped_as_every_text_is(members_engine: Engine) -> None:
    note = 'Åbnet; se "rapport", side 3 \\ bilag\nNæste skridt: evaluering.'
    with write_session(members_engine) as session:
        add_note(session, "senfoelgeklinikker", note, actor=ACTOR, now=T1, member="region-midtjylland")
    midt = make_feed(members_engine, "midt", parties=["region-midtjylland"])
    service = FeedService(members_engine, BASE_URL)
    rendered = service.feed_for_token(midt, T1)
    assert rendered is not None
    body = rendered.body.decode("utf-8").replace("\r\n ", "")  # unfolded
    line = next(line for line in body.split("\r\n") if line.startswith("DESCRIPTION:Ansvarlig: Region Midt"))
    assert "Åbnet\\; se \"rapport\"\\, side 3 \\\\ bilag\\nNæste skridt" in line
    assert f"Seneste note: {note}" in unescape(line.removeprefix("DESCRIPTION:"))


def test_a_part_is_admitted_only_by_its_members_calendars() -> None:
    members = tuple(MemberPart(key=key, name=key, name_en=key, status=Status.NOT_STARTED, overdue=False,
                               updated_at=None) for key in REGIONS)
    whole = occurrence(members=members, co_owners=("sst",))
    published = feed_events([whole, occurrence(deliverable_id="evaluering")])
    assert [uid_of(view) for view in published] == [WHOLE, *map(part_uid, REGIONS), EVAL]
    nord = published[5]
    assert nord.member == "region-nordjylland" and nord.collective == "regionerne"
    assert FeedSelection(parties=frozenset({"region-nordjylland"})).admits(nord)
    assert not FeedSelection(parties=frozenset({"region-nordjylland"})).admits(whole)
    for selection in (FeedSelection(), FeedSelection(themes=frozenset({"anbefaling-7"})),
                      FeedSelection(parties=frozenset({"regionerne"})), FeedSelection(parties=frozenset({"sst"}))):
        assert selection.admits(whole) and not selection.admits(nord), selection
    assert [uid_of(view) for view in feed_events([nord])] == [part_uid("region-nordjylland")]  # no parts of a part


def test_a_plan_without_members_publishes_as_before() -> None:
    plain = occurrence()
    assert feed_events([plain]) == [plain]
    assert uid_of(plain) == WHOLE
