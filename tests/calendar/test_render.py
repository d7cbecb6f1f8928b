"""Rendering events and feeds, read back with icalendar and recurring_ical_events.

Three levels: ``render_event`` / ``FeedRenderer`` on hand-built ``OccurrenceView``;
the small register synced into a database (SQLite and PostgreSQL) and served
by ``FeedService``; and the whole shipped register. ``now`` is always passed
explicitly; nothing here reads the clock.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, vDuration
from sqlalchemy.engine import Engine

from tests.calendar.support import (
    ACTOR,
    BASE_URL,
    EVAL,
    SENF,
    SMALL_UIDS,
    UTC,
    all_instances,
    assert_all_day,
    day_span,
    events,
    feed,
    instances_on,
    make_feed,
    new_engine,
    parse_feed,
    sequence,
    set_status,
    status_uid,
    stored_sequences,
    summary,
    x_text,
)
from tracker.calendar import renderer as renderer_module
from tracker.feed_rules import parse_alarm
from tracker.calendar.events import (
    EventState,
    event_uid,
    fingerprint,
    render_event,
    uid_of,
)
from tracker.calendar.feeds import (
    FeedDefinition,
    FeedSelection,
    calendar_title,
    render_calendar,
)
from tracker.calendar.renderer import FeedRenderer
from tracker.calendar.service import FeedService
from tests.plan_views import occurrence
from tracker.model import OccurrenceView, PlanNames, Status
from tracker.register import load_register
from tracker.store.db import write_session
from tracker.store.operations import add_note, replan
from tracker.store.sync import sync_register

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
CHANGED_AT = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
T2 = datetime(2026, 2, 11, 9, 0, tzinfo=UTC)
T3 = datetime(2026, 2, 12, 9, 0, tzinfo=UTC)
T4 = datetime(2026, 2, 13, 9, 0, tzinfo=UTC)

SENF_QUOTE = ("Regeringen og Danske Regioner er enige om, at der etableres senfølgeklinikker i alle regioner med "
              "ensartede tilbud til senfølger efter kræft med virkning løbende og etableret alle steder senest i "
              "første halvår af 2026.")
SENF_URL = f"{BASE_URL}/deliverables/senfoelgeklinikker"
NOTE = 'Alle fem regioner; se rapporten, side 3 — "bilag" \\ version 2\nNæste skridt: evaluering.'


# --------------------------------------------------------------------------------------------------------------
# Hand-built events


def content(**overrides: object) -> OccurrenceView:
    """The senfølgeklinikker occurrence as load_plan would build it, with ``overrides``.

    ``parties`` names the owner and co-owners together; the event's UID follows its id and year.
    """
    fields: dict[str, object] = {
        "title": "Senfølgeklinikker etableret", "owner": "regionerne", "co_owners": ("sst",),
        "co_owner_names": ("Sundhedsstyrelsen",), "co_owner_names_en": ("Danish Health Authority",),
        "source_quote": SENF_QUOTE,
    }
    parties = overrides.pop("parties", None)
    fields.update(overrides)
    if parties is not None:
        fields["co_owners"] = tuple(sorted(set(parties) - {fields["owner"]}))  # type: ignore[call-overload]
    return occurrence(**fields)


STATE = EventState(sequence=0, changed_at=CHANGED_AT)
TEST_FEED = FeedDefinition(name="test", token_hash="0" * 64)


def rendered(event: OccurrenceView, *, language: str = "da", alarm: timedelta | None = None,
             state: EventState = STATE) -> Calendar:
    """One event, wrapped in a calendar and read back."""
    text = render_event(event, state, language=language, base_url=BASE_URL, alarm=alarm)
    return parse_feed(render_calendar(TEST_FEED, PlanNames(), [text.encode("utf-8")]))


def only_event(calendar: Calendar):  # type: ignore[no-untyped-def]
    (event,) = calendar.walk("VEVENT")
    return event


TITLE_DA, TITLE_EN = "Senfølgeklinikker etableret", "Late-effects clinics established"


@pytest.mark.parametrize(("changes", "da", "en", "ical_status"), [
    ({}, TITLE_DA, TITLE_EN, "CONFIRMED"),
    ({"status": Status.IN_PROGRESS}, TITLE_DA, TITLE_EN, "CONFIRMED"),
    ({"status": Status.DONE}, f"✓ Færdig: {TITLE_DA}", f"✓ Done: {TITLE_EN}", "CONFIRMED"),
    ({"status": Status.AT_RISK}, f"⚠ I risiko: {TITLE_DA}", f"⚠ At risk: {TITLE_EN}", "CONFIRMED"),
    ({"overdue": True}, f"⏰ Forsinket: {TITLE_DA}", f"⏰ Overdue: {TITLE_EN}", "CONFIRMED"),
    ({"status": Status.AT_RISK, "overdue": True}, f"⏰ Forsinket: {TITLE_DA}", f"⏰ Overdue: {TITLE_EN}",
     "CONFIRMED"),
    ({"status": Status.CANCELLED}, f"Aflyst: {TITLE_DA}", f"Cancelled: {TITLE_EN}", "CANCELLED"),
    ({"withdrawn": True}, f"Udgået: {TITLE_DA}", f"Withdrawn: {TITLE_EN}", "CANCELLED"),
])
def test_summary_marks_the_status_in_danish_and_english(changes: dict, da: str, en: str, ical_status: str) -> None:
    event = content(**changes)
    danish, english = only_event(rendered(event)), only_event(rendered(event, language="en"))
    assert str(danish["SUMMARY"]) == da
    assert str(english["SUMMARY"]) == en
    assert str(danish["STATUS"]) == str(english["STATUS"]) == ical_status


def test_a_yearly_occurrence_names_its_year() -> None:
    event = content(deliverable_id="regional-status", year=2027, title="Årlig regional status",
                    title_en="Yearly regional status", status=Status.AT_RISK)
    assert str(only_event(rendered(event))["SUMMARY"]) == "⚠ I risiko: Årlig regional status (2027)"
    assert str(only_event(rendered(event, language="en"))["SUMMARY"]) == "⚠ At risk: Yearly regional status (2027)"


def test_description_in_danish_has_everything_a_reader_needs() -> None:
    event = only_event(rendered(content(status=Status.DONE, note=NOTE)))
    assert str(event["DESCRIPTION"]) == (
        "Ansvarlig: Regionerne\n"
        "Medansvarlige: Sundhedsstyrelsen\n"
        "Frist: “senest i første halvår af 2026”, læst som 30. juni 2026 (vindue fra 1. januar 2026)\n"
        "Status: færdig\n"
        f"Seneste note: {NOTE}\n"
        "\n"
        f"Kilde, Senfølgeklinikker: “{SENF_QUOTE}”\n"
        "\n"
        f"{SENF_URL}"
    )
    assert str(event["URL"]) == SENF_URL


def test_description_in_english() -> None:
    event = only_event(rendered(content(overdue=True, note="Delayed; waiting for data."), language="en"))
    assert str(event["DESCRIPTION"]) == (
        "Responsible: The regions\n"
        "Also responsible: Danish Health Authority\n"
        "Deadline: “senest i første halvår af 2026”, read as 30 June 2026 (window from 1 January 2026)\n"
        "Status: not started, overdue\n"
        "Latest note: Delayed; waiting for data.\n"
        "\n"
        f"Source, Senfølgeklinikker: “{SENF_QUOTE}”\n"
        "\n"
        f"{SENF_URL}"
    )


def test_description_of_a_one_day_deadline_without_co_owners_or_note() -> None:
    event = only_event(rendered(content(co_owner_names=(), co_owner_names_en=(), window_start=date(2026, 3, 31),
                                        due=date(2026, 3, 31), deadline_text="31. marts 2026",
                                        withdrawn=True)))
    description = str(event["DESCRIPTION"])
    assert description.startswith("Ansvarlig: Regionerne\nFrist: “31. marts 2026”, læst som 31. marts 2026\n"
                                  "Status: ikke påbegyndt, ikke længere i registret\n\nKilde")
    assert "Medansvarlige" not in description and "Seneste note" not in description


def test_text_with_control_characters_and_line_breaks_reads_back_clean() -> None:
    event = only_event(rendered(content(title="Klinik\x00ker; fase 1, 2\r\nog 3\u2028✓", note="a\rb\x1b\\c")))
    assert str(event["SUMMARY"]) == "Klinikker; fase 1, 2\nog 3\u2028✓"
    assert "Seneste note: a\nb\\c\n" in str(event["DESCRIPTION"])


def test_an_all_day_event_is_transparent_and_has_no_time() -> None:
    event = only_event(rendered(content()))
    assert str(event["TRANSP"]) == "TRANSPARENT"
    assert str(event["X-MICROSOFT-CDO-BUSYSTATUS"]) == "FREE"
    assert day_span(event) == (date(2026, 6, 30), date(2026, 7, 1))
    assert sequence(event) == 0
    assert event.decoded("DTSTAMP") == event.decoded("LAST-MODIFIED") == CHANGED_AT


EDGE_DAYS = [date(2026, 6, 30), date(2026, 1, 1), date(2026, 3, 29), date(2026, 10, 25), date(2026, 12, 31),
             date(2028, 2, 29), date(2028, 2, 28)]


def test_the_due_day_never_shifts_with_the_process_time_zone(process_tz: str) -> None:
    for due in EDGE_DAYS:
        calendar = rendered(content(due=due, window_start=due))
        assert_all_day(calendar, SENF, due)


@pytest.mark.parametrize(("due", "dtend"), [(date(2026, 12, 31), "20270101"), (date(2028, 2, 29), "20280301"),
                                            (date(2027, 2, 28), "20270301"), (date(2028, 2, 28), "20280229")])
def test_dtend_is_the_next_day_across_year_end_and_leap_day(due: date, dtend: str) -> None:
    text = render_event(content(due=due), STATE, language="da", base_url=BASE_URL)
    assert f"DTSTART;VALUE=DATE:{due:%Y%m%d}\r\n" in text
    assert f"DTEND;VALUE=DATE:{dtend}\r\n" in text


# --------------------------------------------------------------------------------------------------------------
# Alarms


def triggers(calendar: Calendar) -> list[timedelta]:
    return [alarm.decoded("TRIGGER") for alarm in calendar.walk("VALARM")]


def test_no_alarm_unless_asked() -> None:
    assert rendered(content()).walk("VALARM") == []
    assert "VALARM" not in render_event(content(), STATE, language="da", base_url=BASE_URL)


@pytest.mark.parametrize(("text", "trigger", "before"), [
    ("7d", "-P6DT15H", timedelta(days=6, hours=15)),
    ("1d", "-PT15H", timedelta(hours=15)),
    ("2w", "-P13DT15H", timedelta(days=13, hours=15)),
    ("12h", "-PT12H", timedelta(hours=12)),
    ("36h", "-PT36H", timedelta(hours=36)),
    (" 7D ", "-P6DT15H", timedelta(days=6, hours=15)),
    ("366d", "-P365DT15H", timedelta(days=365, hours=15)),
    ("52w", "-P363DT15H", timedelta(days=363, hours=15)),
    ("8783h", "-PT8783H", timedelta(hours=8783)),
])
def test_alarm_trigger(text: str, trigger: str, before: timedelta) -> None:
    event_text = render_event(content(), STATE, language="da", base_url=BASE_URL, alarm=parse_alarm(text))
    assert f"TRIGGER:{trigger}\r\n" in event_text
    calendar = rendered(content(), alarm=parse_alarm(text))
    assert triggers(calendar) == [-before]
    (alarm,) = calendar.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert str(alarm["DESCRIPTION"]) == TITLE_DA


def test_an_alarm_in_days_fires_at_nine_that_many_days_before() -> None:
    # 7d before the all-day event on 30 June: 09:00 on 23 June.
    calendar = rendered(content(), alarm=parse_alarm("7d"))
    start = datetime.combine(date(2026, 6, 30), time(0))
    assert start + triggers(calendar)[0] == datetime(2026, 6, 23, 9, 0)


def test_alarms_in_hours_count_back_from_midnight_whatever_the_number() -> None:
    """``24h`` is 24 hours before the due day starts, not 09:00 the day before (15 hours).

    An alarm in hours must fire earlier the more hours it names; 24h and 48h
    are not days.
    """
    wrong = []
    for hours in range(1, 73):
        text = render_event(content(), STATE, language="da", base_url=BASE_URL, alarm=parse_alarm(f"{hours}h"))
        (trigger,) = re.findall(r"\r\nTRIGGER:(.*)\r\n", text)
        before = -vDuration.from_ical(trigger)
        if before != timedelta(hours=hours):
            wrong.append((f"{hours}h", trigger))
    assert wrong == [], f"hour alarms that do not fire that many hours before midnight: {wrong}"


def test_done_and_cancelled_events_have_no_alarm() -> None:
    for changes in ({"status": Status.DONE}, {"status": Status.CANCELLED}, {"withdrawn": True}):
        assert rendered(content(**changes), alarm=parse_alarm("7d")).walk("VALARM") == [], changes
    assert len(rendered(content(overdue=True, status=Status.AT_RISK), alarm=parse_alarm("7d")).walk("VALARM")) == 1


@pytest.mark.parametrize("text", ["", "d", "7", "0d", "-7d", "7x", "1.5d", "367d", "53w", "8785h", "7 d", "d7", "７d"])
def test_parse_alarm_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_alarm(text)


# --------------------------------------------------------------------------------------------------------------
# Feed selection and titles

NAMES = PlanNames(
    parties={"regionerne": ("Regionerne", "The regions"), "sst": ("Sundhedsstyrelsen", "Danish Health Authority"),
             "kl": ("KL", "Local Government Denmark")},
    themes={"anbefaling-7": (7, "Senfølger", "Late effects"), "anbefaling-9": (9, "Data", "Data")},
)


def test_selection_admits_owner_co_owner_theme_and_their_union() -> None:
    co_owned = content()  # owner regionerne, co-owner sst, theme 7
    other = content(deliverable_id="other", owner="kl", parties=frozenset({"kl"}), theme="anbefaling-9")
    assert FeedSelection(parties=frozenset({"regionerne"})).admits(co_owned)
    assert FeedSelection(parties=frozenset({"sst"})).admits(co_owned)
    assert not FeedSelection(parties=frozenset({"sst"})).admits(other)
    assert FeedSelection(themes=frozenset({"anbefaling-9"})).admits(other)
    assert not FeedSelection(themes=frozenset({"anbefaling-9"})).admits(co_owned)
    personal = FeedSelection(parties=frozenset({"sst"}), themes=frozenset({"anbefaling-9"}))
    assert personal.admits(co_owned) and personal.admits(other)
    assert FeedSelection().admits(co_owned) and FeedSelection().admits(other)


def test_overdue_only_narrows_any_selection() -> None:
    late, on_time = content(overdue=True), content(overdue=False)
    assert FeedSelection(overdue_only=True).admits(late)
    assert not FeedSelection(overdue_only=True).admits(on_time)
    assert FeedSelection(parties=frozenset({"sst"}), overdue_only=True).admits(late)
    assert not FeedSelection(parties=frozenset({"kl"}), overdue_only=True).admits(late)


@pytest.mark.parametrize(("selection", "language", "name", "description"), [
    (FeedSelection(), "da", "Kræftplan V",
     "Frister og status for alle leverancer i udmøntningsaftalen, holdt ajour af taskforcen for Kræftplan V."),
    (FeedSelection(parties=frozenset({"sst"})), "da", "Kræftplan V – Sundhedsstyrelsen",
     ("Frister og status for de leverancer, Sundhedsstyrelsen er ansvarlig for, holdt ajour af taskforcen for "
      "Kræftplan V.")),
    (FeedSelection(themes=frozenset({"anbefaling-7"})), "en", "Cancer Plan V – Recommendation 7: Late effects",
     ("Deadlines and status for the deliverables under Recommendation 7: Late effects, kept current by the "
      "Cancer Plan V task force.")),
    (FeedSelection(parties=frozenset({"sst", "kl"}), themes=frozenset({"anbefaling-9"})), "da",
     "Kræftplan V – mit-overblik",
     ("Frister og status for leverancerne for KL; Sundhedsstyrelsen; Anbefaling 9: Data, holdt ajour af "
      "taskforcen for Kræftplan V.")),
    (FeedSelection(overdue_only=True), "da", "Kræftplan V (forsinkede)",
     ("Frister og status for de forsinkede blandt alle leverancer i udmøntningsaftalen, holdt ajour af "
      "taskforcen for Kræftplan V.")),
    (FeedSelection(overdue_only=True), "en", "Cancer Plan V (overdue)",
     ("Deadlines and status for overdue among every deliverable in the implementation agreement, kept current "
      "by the Cancer Plan V task force.")),
])
def test_calendar_name_and_description(selection: FeedSelection, language: str, name: str,
                                       description: str) -> None:
    definition = FeedDefinition(name="mit-overblik", token_hash="0" * 64, selection=selection, language=language)
    assert calendar_title(definition, NAMES) == (name, description)
    calendar = parse_feed(render_calendar(definition, NAMES, []))
    assert x_text(calendar, "X-WR-CALNAME") == str(calendar["NAME"]) == name
    assert x_text(calendar, "X-WR-CALDESC") == str(calendar["DESCRIPTION"]) == description


def test_calendar_properties() -> None:
    calendar = parse_feed(render_calendar(TEST_FEED, NAMES, []))
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]).startswith("-//Kraeftplan V//tracker ")
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Copenhagen"
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert calendar.decoded("REFRESH-INTERVAL") == timedelta(hours=1)
    assert str(calendar["X-PUBLISHED-TTL"]) == "PT1H"
    assert calendar.walk("VEVENT") == []


# --------------------------------------------------------------------------------------------------------------
# FeedRenderer: caching per event


def plan_events() -> list[OccurrenceView]:
    status: dict[str, object] = {
        "deliverable_id": "regional-status", "title": "Årlig regional status", "title_en": "Yearly regional status",
        "co_owner_names": (), "co_owner_names_en": (), "parties": frozenset({"regionerne"}),
    }
    return [
        content(),
        *(content(year=year, due=date(year, 3, 31), window_start=date(year, 1, 1), **status)
          for year in (2026, 2027, 2028)),
    ]


def test_renderer_rerenders_only_the_event_that_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counting(event: OccurrenceView, *args: object, **kwargs: object) -> str:
        calls.append(uid_of(event))
        return render_event(event, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(renderer_module, "render_event", counting)
    renderer = FeedRenderer(BASE_URL)
    events_now = plan_events()
    states = {uid_of(event): STATE for event in events_now}
    assert renderer.update(events_now, states, NAMES) == {uid_of(event) for event in events_now}
    whole = FeedDefinition(name="alt", token_hash="1" * 64)
    first = renderer.render(whole)
    assert sorted(calls) == sorted(uid_of(event) for event in events_now)
    assert first.event_count == 4

    # The same plan again: nothing changes, nothing is rendered, the same bytes are served.
    calls.clear()
    assert renderer.update([dataclasses.replace(event) for event in events_now], states) == set()
    again = renderer.render(whole)
    assert calls == [] and again.body == first.body and again.etag == first.etag

    # One occurrence done: exactly that event is rendered again.
    changed = [dataclasses.replace(event, status=Status.DONE) if uid_of(event) == status_uid(2027) else event
               for event in events_now]
    new_states = dict(states, **{status_uid(2027): EventState(1, T1)})
    assert renderer.update(changed, new_states) == {status_uid(2027)}
    after = renderer.render(whole)
    assert calls == [status_uid(2027)]
    assert after.etag != first.etag and after.last_modified == T1
    calendar = parse_feed(after.body)
    assert summary(calendar, status_uid(2027)) == "✓ Færdig: Årlig regional status (2027)"
    assert sequence(events(calendar)[status_uid(2027)]) == 1
    assert summary(calendar, status_uid(2026)) == "Årlig regional status (2026)"


def test_renderer_orders_by_due_day_and_drops_events_that_went() -> None:
    renderer = FeedRenderer(BASE_URL)
    plan = plan_events()
    renderer.update(plan, {uid_of(event): STATE for event in plan}, NAMES)
    whole = FeedDefinition(name="alt", token_hash="1" * 64)
    calendar = parse_feed(renderer.render(whole).body)
    assert list(events(calendar)) == [status_uid(2026), SENF, status_uid(2027), status_uid(2028)]
    remaining = [event for event in plan if uid_of(event) != status_uid(2028)]
    assert renderer.update(remaining, {uid_of(event): STATE for event in remaining}) == {status_uid(2028)}
    assert set(events(parse_feed(renderer.render(whole).body))) == {status_uid(2026), SENF, status_uid(2027)}


def test_renderer_serves_each_language_and_alarm_from_the_same_events() -> None:
    renderer = FeedRenderer(BASE_URL)
    plan = plan_events()
    renderer.update(plan, {uid_of(event): STATE for event in plan}, NAMES)
    danish = FeedDefinition(name="da", token_hash="1" * 64, selection=FeedSelection(parties=frozenset({"sst"})))
    english = dataclasses.replace(danish, name="en", language="en", alarm="7d")
    da_calendar, en_calendar = parse_feed(renderer.render(danish).body), parse_feed(renderer.render(english).body)
    assert summary(da_calendar, SENF) == TITLE_DA and summary(en_calendar, SENF) == TITLE_EN
    assert triggers(da_calendar) == [] and triggers(en_calendar) == [-timedelta(days=6, hours=15)]
    # An alarm asked for at request time overrides the feed's own.
    assert triggers(parse_feed(renderer.render(english, parse_alarm("12h")).body)) == [-timedelta(hours=12)]
    assert triggers(parse_feed(renderer.render(danish, parse_alarm("12h")).body)) == [-timedelta(hours=12)]
    assert triggers(parse_feed(renderer.render(danish).body)) == []


def test_renderer_last_modified_is_the_latest_change_or_the_feed_creation() -> None:
    renderer = FeedRenderer(BASE_URL)
    plan = plan_events()
    renderer.update(plan, {uid_of(event): EventState(0, CHANGED_AT + timedelta(days=index))
                           for index, event in enumerate(plan)}, NAMES)
    assert renderer.render(TEST_FEED).last_modified == CHANGED_AT + timedelta(days=3)
    late_feed = dataclasses.replace(TEST_FEED, created_at=T4)
    assert renderer.render(late_feed).last_modified == T4


# --------------------------------------------------------------------------------------------------------------
# Through the database: the small register, SQLite and PostgreSQL


def test_the_small_register_feed_has_every_occurrence_on_its_due_day(plan_engine: Engine) -> None:
    token = make_feed(plan_engine, "alt")
    calendar = feed(FeedService(plan_engine, BASE_URL), token, T1)
    assert set(events(calendar)) == SMALL_UIDS
    assert len(all_instances(calendar)) == 5
    assert_all_day(calendar, SENF, date(2026, 6, 30))
    assert_all_day(calendar, EVAL, date(2028, 12, 31))
    for year in (2026, 2027, 2028):
        assert_all_day(calendar, status_uid(year), date(year, 3, 31))
    assert all(sequence(event) == 0 for event in events(calendar).values())
    assert all(str(event["STATUS"]) == "CONFIRMED" for event in events(calendar).values())


def test_uids_and_bytes_are_stable_across_renders_and_services(plan_engine: Engine) -> None:
    token = make_feed(plan_engine, "alt")
    first_service = FeedService(plan_engine, BASE_URL)
    first = first_service.feed_for_token(token, T1)
    second = first_service.feed_for_token(token, T1 + timedelta(hours=1))
    other = FeedService(plan_engine, BASE_URL).feed_for_token(token, T2)
    assert first is not None and second is not None and other is not None
    uids = [list(events(parse_feed(body))) for body in (first.body, second.body, other.body)]
    assert uids[0] == uids[1] == uids[2]
    assert set(uids[0]) == SMALL_UIDS
    # Nothing changed between them, so a subscriber sees the very same bytes.
    assert first.body == second.body == other.body and first.etag == other.etag


def test_sequence_rises_by_one_on_a_change_and_stays_on_a_noop_refresh(plan_engine: Engine) -> None:
    token = make_feed(plan_engine, "alt")
    service = FeedService(plan_engine, BASE_URL)
    before = events(feed(service, token, T1))
    assert {uid: sequence(event) for uid, event in before.items()} == dict.fromkeys(SMALL_UIDS, 0)
    assert stored_sequences(plan_engine) == dict.fromkeys(SMALL_UIDS, 0)

    set_status(plan_engine, "senfoelgeklinikker", Status.DONE, T2, note="Alle klinikker åbnet.")
    after = events(feed(service, token, T3))
    assert sequence(after[SENF]) == 1
    assert after[SENF].decoded("LAST-MODIFIED") == after[SENF].decoded("DTSTAMP") == T3
    assert str(after[SENF]["SUMMARY"]) == f"✓ Færdig: {TITLE_DA}"
    for uid in SMALL_UIDS - {SENF}:
        assert sequence(after[uid]) == 0
        assert after[uid].decoded("LAST-MODIFIED") == after[uid].decoded("DTSTAMP") == T1
    assert stored_sequences(plan_engine) == {**dict.fromkeys(SMALL_UIDS, 0), SENF: 1}

    # A refresh with nothing new, later the same day and on a later day: nothing moves.
    body = service.feed_for_token(token, T3 + timedelta(hours=2)).body  # type: ignore[union-attr]
    assert body == service.feed_for_token(token, T4).body  # type: ignore[union-attr]
    assert sequence(events(parse_feed(body))[SENF]) == 1
    # A new process reads the stored revision instead of starting over.
    fresh = events(feed(FeedService(plan_engine, BASE_URL), token, T4))
    assert sequence(fresh[SENF]) == 1 and fresh[SENF].decoded("LAST-MODIFIED") == T3
    assert stored_sequences(plan_engine)[SENF] == 1

    # The next change raises it once more.
    with write_session(plan_engine) as session:
        add_note(session, "senfoelgeklinikker", "Evalueringen er bestilt.", actor=ACTOR, now=T4)
    latest = events(feed(service, token, T4 + timedelta(hours=1)))
    assert sequence(latest[SENF]) == 2
    assert latest[SENF].decoded("LAST-MODIFIED") == T4 + timedelta(hours=1)
    assert "Seneste note: Evalueringen er bestilt." in str(latest[SENF]["DESCRIPTION"])
    assert stored_sequences(plan_engine) == {**dict.fromkeys(SMALL_UIDS, 0), SENF: 2}


def test_two_services_noticing_one_change_raise_the_sequence_once(plan_engine: Engine) -> None:
    token = make_feed(plan_engine, "alt")
    web, exporter = FeedService(plan_engine, BASE_URL), FeedService(plan_engine, BASE_URL)
    feed(web, token, T1)
    feed(exporter, token, T1)
    set_status(plan_engine, "regional-status", Status.IN_PROGRESS, T2, year=2026)
    seen_by_exporter = events(feed(exporter, token, T2))
    seen_by_web = events(feed(web, token, T3))
    assert sequence(seen_by_exporter[status_uid(2026)]) == sequence(seen_by_web[status_uid(2026)]) == 1
    assert seen_by_web[status_uid(2026)].decoded("LAST-MODIFIED") == T2
    assert stored_sequences(plan_engine)[status_uid(2026)] == 1


def test_a_cancelled_deliverable_stays_in_the_feed_as_cancelled(plan_engine: Engine) -> None:
    token = make_feed(plan_engine, "alt", alarm="7d")
    service = FeedService(plan_engine, BASE_URL)
    feed(service, token, T1)
    set_status(plan_engine, "evaluering", Status.CANCELLED, T2, note="Erstattet af en national evaluering.")
    calendar = feed(service, token, T3)
    assert set(events(calendar)) == SMALL_UIDS
    cancelled = events(calendar)[EVAL]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["SUMMARY"]) == "Aflyst: Evaluering af forsøgsordningen"
    assert "Status: aflyst\nSeneste note: Erstattet af en national evaluering." in str(cancelled["DESCRIPTION"])
    assert sequence(cancelled) == 1
    assert cancelled.walk("VALARM") == []
    assert EVAL in instances_on(calendar, date(2028, 12, 31))
    assert all(len(events(calendar)[uid].walk("VALARM")) == 1 for uid in SMALL_UIDS - {EVAL})


def test_each_yearly_occurrence_is_its_own_event_with_its_own_status(plan_engine: Engine) -> None:
    token = make_feed(plan_engine, "alt")
    service = FeedService(plan_engine, BASE_URL)
    feed(service, token, T1)
    set_status(plan_engine, "regional-status", Status.AT_RISK, T2, year=2027, note="Data for 2026 mangler.")
    set_status(plan_engine, "regional-status", Status.DONE, T2, year=2026, note="Afleveret.")
    found = events(feed(service, token, T3))
    assert str(found[status_uid(2026)]["SUMMARY"]) == "✓ Færdig: Årlig regional status (2026)"
    assert str(found[status_uid(2027)]["SUMMARY"]) == "⚠ I risiko: Årlig regional status (2027)"
    assert str(found[status_uid(2028)]["SUMMARY"]) == "Årlig regional status (2028)"
    assert "Status: færdig\nSeneste note: Afleveret." in str(found[status_uid(2026)]["DESCRIPTION"])
    assert "Status: i risiko\nSeneste note: Data for 2026 mangler." in str(found[status_uid(2027)]["DESCRIPTION"])
    assert "Status: ikke påbegyndt\n\n" in str(found[status_uid(2028)]["DESCRIPTION"])
    assert [sequence(found[status_uid(year)]) for year in (2026, 2027, 2028)] == [1, 1, 0]
    for year in (2026, 2027, 2028):
        assert str(found[status_uid(year)]["URL"]) == f"{BASE_URL}/deliverables/regional-status"
        assert (f"Frist: “én gang årligt fra første kvartal 2026 og til og med 2028”, læst som 31. marts {year} "
                f"(vindue fra 1. januar {year})") in str(found[status_uid(year)]["DESCRIPTION"])


# --------------------------------------------------------------------------------------------------------------
# Through the database, SQLite only (the subject is the rendering, not the store)


def test_summary_and_description_through_the_database_in_both_languages(sqlite_plan: Engine) -> None:
    danish, english = make_feed(sqlite_plan, "da"), make_feed(sqlite_plan, "en", language="en")
    set_status(sqlite_plan, "senfoelgeklinikker", Status.DONE, T1, note=NOTE)
    set_status(sqlite_plan, "regional-status", Status.AT_RISK, T1, year=2026, note="Forsinket data.")
    service = FeedService(sqlite_plan, BASE_URL)
    # 1 April 2026 in Copenhagen: the 2026 status (due 31 March) is overdue.
    now = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    da, en = feed(service, danish, now), feed(service, english, now)
    assert summary(da, SENF) == f"✓ Færdig: {TITLE_DA}"
    assert summary(en, SENF) == f"✓ Done: {TITLE_EN}"
    assert summary(da, status_uid(2026)) == "⏰ Forsinket: Årlig regional status (2026)"
    assert summary(en, status_uid(2026)) == "⏰ Overdue: Yearly regional status (2026)"
    assert summary(da, status_uid(2027)) == "Årlig regional status (2027)"
    assert str(events(da)[SENF]["DESCRIPTION"]) == (
        "Ansvarlig: Regionerne\nMedansvarlige: Sundhedsstyrelsen\n"
        "Frist: “senest i første halvår af 2026”, læst som 30. juni 2026 (vindue fra 1. januar 2026)\n"
        f"Status: færdig\nSeneste note: {NOTE}\n\nKilde, Senfølgeklinikker: “{SENF_QUOTE}”\n\n{SENF_URL}"
    )
    assert str(events(en)[SENF]["DESCRIPTION"]).startswith(
        "Responsible: The regions\nAlso responsible: Danish Health Authority\n"
        "Deadline: “senest i første halvår af 2026”, read as 30 June 2026 (window from 1 January 2026)\n"
        "Status: done\n")
    assert "Status: i risiko, forsinket\nSeneste note: Forsinket data." in str(events(da)[status_uid(2026)]["DESCRIPTION"])
    assert "Status: at risk, overdue\nLatest note: Forsinket data." in str(events(en)[status_uid(2026)]["DESCRIPTION"])
    assert ("Kilde, Implementering og opfølgning: “Regionerne afgiver én gang årligt fra første kvartal 2026 og til "
            "og med 2028 skriftlig status.”") in str(events(da)[status_uid(2026)]["DESCRIPTION"])


def test_feed_calendar_properties_through_the_database(sqlite_plan: Engine) -> None:
    token = make_feed(sqlite_plan, "sst-kalender", parties=["sst"])
    calendar = feed(FeedService(sqlite_plan, BASE_URL), token, T1)
    assert x_text(calendar, "X-WR-CALNAME") == "Kræftplan V – Sundhedsstyrelsen"
    assert x_text(calendar, "X-WR-CALDESC") == ("Frister og status for de leverancer, Sundhedsstyrelsen er ansvarlig "
                                             "for, holdt ajour af taskforcen for Kræftplan V.")
    assert calendar.decoded("REFRESH-INTERVAL") == timedelta(hours=1)
    assert str(calendar["X-PUBLISHED-TTL"]) == "PT1H"
    assert str(calendar["PRODID"]).startswith("-//Kraeftplan V//tracker ")


def test_alarm_only_in_feeds_that_ask_for_one(sqlite_plan: Engine) -> None:
    plain, reminded = make_feed(sqlite_plan, "plain"), make_feed(sqlite_plan, "reminded", alarm="7d")
    service = FeedService(sqlite_plan, BASE_URL)
    assert feed(service, plain, T1).walk("VALARM") == []
    assert triggers(feed(service, reminded, T1)) == [-timedelta(days=6, hours=15)] * 5
    # ?alarm= on the request: for this response only.
    assert triggers(feed(service, plain, T1, alarm="2w")) == [-timedelta(days=13, hours=15)] * 5
    assert triggers(feed(service, reminded, T1, alarm="12h")) == [-timedelta(hours=12)] * 5
    assert feed(service, plain, T1).walk("VALARM") == []
    with pytest.raises(ValueError):
        service.feed_for_token(plain, T1, alarm="soon")


def test_party_feeds_include_co_owned_events(sqlite_plan: Engine) -> None:
    service = FeedService(sqlite_plan, BASE_URL)
    sst = feed(service, make_feed(sqlite_plan, "sst", parties=["sst"]), T1)
    regions = feed(service, make_feed(sqlite_plan, "regionerne", parties=["regionerne"]), T1)
    ministry = feed(service, make_feed(sqlite_plan, "ism", parties=["ism"]), T1)
    assert set(events(sst)) == {SENF}  # co-owner; a recipient (regional-status goes to sst) is not responsible
    assert set(events(regions)) == SMALL_UIDS
    assert set(events(ministry)) == set()  # ism only receives the evaluation
    theme = feed(service, make_feed(sqlite_plan, "tema", themes=["anbefaling-7"]), T1)
    assert set(events(theme)) == SMALL_UIDS
    assert x_text(theme, "X-WR-CALNAME") == "Kræftplan V – Anbefaling 7: Senfølger"


def test_overdue_only_feed(sqlite_plan: Engine) -> None:
    overdue = make_feed(sqlite_plan, "forsinket", overdue_only=True)
    sst_overdue = make_feed(sqlite_plan, "sst-forsinket", parties=["sst"], overdue_only=True)
    service = FeedService(sqlite_plan, BASE_URL)
    assert set(events(feed(service, overdue, T1))) == set()
    summer = datetime(2026, 7, 15, 8, 0, tzinfo=UTC)
    calendar = feed(service, overdue, summer)
    assert set(events(calendar)) == {SENF, status_uid(2026)}
    assert all(str(event["SUMMARY"]).startswith("⏰ Forsinket: ") for event in events(calendar).values())
    assert x_text(calendar, "X-WR-CALNAME") == "Kræftplan V (forsinkede)"
    assert set(events(feed(service, sst_overdue, summer))) == {SENF}
    # Done is never overdue: it leaves the overdue feeds.
    set_status(sqlite_plan, "senfoelgeklinikker", Status.DONE, summer + timedelta(hours=1))
    later = summer + timedelta(hours=2)
    assert set(events(feed(service, overdue, later))) == {status_uid(2026)}
    assert set(events(feed(service, sst_overdue, later))) == set()


def test_a_withdrawn_deliverable_is_published_as_cancelled(sqlite_plan: Engine, small_register: Path,
                                                           tmp_path: Path) -> None:
    token = make_feed(sqlite_plan, "alt")
    service = FeedService(sqlite_plan, BASE_URL)
    feed(service, token, T1)
    with write_session(sqlite_plan) as session:
        sync_register(session, load_register(register_without(small_register, "evaluering", tmp_path)), T2)
    calendar = feed(service, token, T3)
    assert set(events(calendar)) == SMALL_UIDS
    withdrawn = events(calendar)[EVAL]
    assert str(withdrawn["STATUS"]) == "CANCELLED"
    assert str(withdrawn["SUMMARY"]) == "Udgået: Evaluering af forsøgsordningen"
    assert "Status: ikke påbegyndt, ikke længere i registret" in str(withdrawn["DESCRIPTION"])
    assert sequence(withdrawn) == 1


def test_a_withdrawn_occurrence_is_not_overdue(sqlite_plan: Engine, small_register: Path, tmp_path: Path) -> None:
    """Withdrawn occurrences publish as cancelled, and cancelled is never overdue.

    ``tracker overdue`` leaves archived occurrences out; the overdue-only feed
    must too, and the event must not call itself overdue.
    """
    overdue = make_feed(sqlite_plan, "forsinket", overdue_only=True)
    whole = make_feed(sqlite_plan, "alt")
    with write_session(sqlite_plan) as session:
        sync_register(session, load_register(register_without(small_register, "evaluering", tmp_path)), T1)
    service = FeedService(sqlite_plan, BASE_URL)
    after_due = datetime(2029, 1, 15, 9, 0, tzinfo=UTC)  # the evaluation was due 31 December 2028
    withdrawn = events(feed(service, whole, after_due))[EVAL]
    assert str(withdrawn["STATUS"]) == "CANCELLED"
    assert "Status: ikke påbegyndt, ikke længere i registret\n" in str(withdrawn["DESCRIPTION"])
    assert EVAL not in events(feed(service, overdue, after_due))


def register_without(register: Path, deliverable_id: str, directory: Path) -> Path:
    """A copy of ``register`` without one deliverable, as when the register drops it."""
    blocks = register.read_text(encoding="utf-8").split("\n[[deliverable]]\n")
    kept = [block for block in blocks if not block.startswith(f'id = "{deliverable_id}"')]
    assert len(kept) == len(blocks) - 1
    path = directory / "register.toml"
    path.write_text("\n[[deliverable]]\n".join(kept), encoding="utf-8")
    return path


def test_replanned_to_year_end_and_leap_day(sqlite_plan: Engine) -> None:
    token = make_feed(sqlite_plan, "alt")
    service = FeedService(sqlite_plan, BASE_URL)
    feed(service, token, T1)
    with write_session(sqlite_plan) as session:
        replan(session, "senfoelgeklinikker", "31. december 2026", reason="Byggeriet er forsinket.", actor=ACTOR,
               now=T2)
        replan(session, "regional-status", "29. februar 2028", reason="Fremrykket.", actor=ACTOR, now=T2, year=2028)
    calendar = feed(service, token, T3)
    assert_all_day(calendar, SENF, date(2026, 12, 31))
    assert_all_day(calendar, status_uid(2028), date(2028, 2, 29))
    text = service.feed_for_token(token, T3).body.decode("utf-8")  # type: ignore[union-attr]
    assert "DTSTART;VALUE=DATE:20261231\r\nDTEND;VALUE=DATE:20270101\r\n" in text
    assert "DTSTART;VALUE=DATE:20280229\r\nDTEND;VALUE=DATE:20280301\r\n" in text
    found = events(calendar)
    assert "Frist: “31. december 2026”, læst som 31. december 2026\n" in str(found[SENF]["DESCRIPTION"])
    # One occurrence re-planned to a day: the source's words stay, read as the new day.
    assert ("Frist: “én gang årligt fra første kvartal 2026 og til og med 2028”, læst som 29. februar 2028\n"
            in str(found[status_uid(2028)]["DESCRIPTION"]))
    assert sequence(found[SENF]) == sequence(found[status_uid(2028)]) == 1
    assert sequence(found[status_uid(2027)]) == 0
    # Still in 2026, the new year-end deadline is overdue only from Copenhagen midnight.
    assert summary(feed(service, token, datetime(2026, 12, 31, 22, 59, 59, tzinfo=UTC)), SENF) == TITLE_DA
    assert summary(feed(service, token, datetime(2026, 12, 31, 23, 0, 0, tzinfo=UTC)), SENF) == \
        f"⏰ Forsinket: {TITLE_DA}"


def test_dates_through_the_database_do_not_shift_with_the_process_time_zone(sqlite_plan: Engine,
                                                                             process_tz: str) -> None:
    token = make_feed(sqlite_plan, "alt")
    service = FeedService(sqlite_plan, BASE_URL)
    # 30 June 2026 is a summer day: the deadline turns overdue at 22:00 UTC, whatever the server's zone.
    before = feed(service, token, datetime(2026, 6, 30, 21, 59, 59, tzinfo=UTC))
    at = feed(service, token, datetime(2026, 6, 30, 22, 0, 0, tzinfo=UTC))
    for calendar in (before, at):
        assert_all_day(calendar, SENF, date(2026, 6, 30))
        assert_all_day(calendar, EVAL, date(2028, 12, 31))
        for year in (2026, 2027, 2028):
            assert_all_day(calendar, status_uid(year), date(year, 3, 31))
    assert summary(before, SENF) == TITLE_DA
    assert summary(at, SENF) == f"⏰ Forsinket: {TITLE_DA}"
    # Revision instants are UTC instants, not the server's wall clock.
    assert events(at)[SENF].decoded("DTSTAMP") == datetime(2026, 6, 30, 22, 0, 0, tzinfo=UTC)
    assert events(at)[EVAL].decoded("LAST-MODIFIED") == datetime(2026, 6, 30, 21, 59, 59, tzinfo=UTC)


# --------------------------------------------------------------------------------------------------------------
# Time edges: the day an occurrence turns overdue is the plan's (Copenhagen) day

EDGE_REGISTER_HEAD = """
[register]
title = "Tidsgrænser"
title_en = "Time edges"
timezone = "Europe/Copenhagen"

[[party]]
key = "sst"
name = "Sundhedsstyrelsen"
name_en = "Danish Health Authority"
kind = "agency"

[[theme]]
key = "anbefaling-7"
number = 7
title = "Senfølger"
title_en = "Late effects"
topic = "Senfølger"
topic_en = "Late effects"
chapter = "Kapitel"
source = { file = "test", section = "5.4", quote = "Senfølger" }
"""

# (deliverable id, due day, the first instant (UTC) it is overdue: Copenhagen midnight after the due day)
EDGES = [
    ("vinter", date(2026, 1, 15), datetime(2026, 1, 15, 23, 0, tzinfo=UTC)),
    ("sommer", date(2026, 6, 30), datetime(2026, 6, 30, 22, 0, tzinfo=UTC)),
    ("foer-sommertid", date(2026, 3, 28), datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),
    ("sommertid", date(2026, 3, 29), datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),
    ("foer-vintertid", date(2026, 10, 24), datetime(2026, 10, 24, 22, 0, tzinfo=UTC)),
    ("vintertid", date(2026, 10, 25), datetime(2026, 10, 25, 23, 0, tzinfo=UTC)),
    ("nytaar", date(2026, 12, 31), datetime(2026, 12, 31, 23, 0, tzinfo=UTC)),
    ("skuddag", date(2028, 2, 29), datetime(2028, 2, 29, 23, 0, tzinfo=UTC)),
]


@pytest.fixture(scope="module")
def edge_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, str, str]:
    """One SQLite database with a deliverable due on each edge day, and a whole-plan and an overdue-only feed."""
    directory = tmp_path_factory.mktemp("edges")
    blocks = [EDGE_REGISTER_HEAD]
    for deliverable_id, due, _ in EDGES:
        blocks.append(f"""
[[deliverable]]
id = "{deliverable_id}"
title = "Frist {deliverable_id}"
title_en = "Deadline {deliverable_id}"
kind = "milestone"
owner = "sst"
deadline = "{due.isoformat()}"
theme = "anbefaling-7"
source = {{ file = "test", section = "Test", quote = "Senest {due.isoformat()}." }}
""")
    register = directory / "edges.toml"
    register.write_text("".join(blocks), encoding="utf-8")
    engine = new_engine(f"sqlite:///{directory / 'edges.db'}", register)
    return engine, make_feed(engine, "alt"), make_feed(engine, "forsinket", overdue_only=True)


@pytest.mark.parametrize(("deliverable_id", "due", "boundary"), EDGES, ids=[edge[0] for edge in EDGES])
def test_an_occurrence_turns_overdue_exactly_at_copenhagen_midnight(
        edge_plan: tuple[Engine, str, str], process_tz: str, deliverable_id: str, due: date,
        boundary: datetime) -> None:
    # The boundaries above are Copenhagen midnight after the due day, checked here rather than trusted.
    assert boundary.astimezone(COPENHAGEN) == datetime.combine(due + timedelta(days=1), time(0), COPENHAGEN)
    assert (boundary - timedelta(seconds=1)).astimezone(COPENHAGEN).date() == due
    engine, whole, overdue = edge_plan
    uid = event_uid(deliverable_id, None)
    service = FeedService(engine, BASE_URL)
    just_before = boundary - timedelta(seconds=1)
    calendar = feed(service, whole, just_before)
    assert summary(calendar, uid) == f"Frist {deliverable_id}"
    assert uid not in events(feed(service, overdue, just_before))
    assert_all_day(calendar, uid, due)

    calendar = feed(service, whole, boundary)
    assert summary(calendar, uid) == f"⏰ Forsinket: Frist {deliverable_id}"
    assert uid in events(feed(service, overdue, boundary))
    assert_all_day(calendar, uid, due)


# --------------------------------------------------------------------------------------------------------------
# The shipped register


@pytest.fixture(scope="module")
def shipped_plan(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    directory = tmp_path_factory.mktemp("shipped")
    return new_engine(f"sqlite:///{directory / 'shipped.db'}", None)


def test_the_whole_shipped_register_renders_and_parses(shipped_plan: Engine) -> None:
    register = load_register()
    expected = {event_uid(deliverable.id, occurrence.key): occurrence.deadline.due
                for deliverable in register.deliverables.values() for occurrence in deliverable.occurrences()
                if occurrence.deadline is not None}  # an undated commitment has no day to be an event on
    assert sum(len(d.occurrences()) for d in register.deliverables.values()) > len(expected) > 60
    token = make_feed(shipped_plan, "hele-planen")
    calendar = feed(FeedService(shipped_plan, BASE_URL), token, T1)
    found = events(calendar)
    assert set(found) == set(expected)
    assert len(all_instances(calendar)) == len(expected)
    for uid, due in expected.items():
        assert day_span(found[uid]) == (due, due + timedelta(days=1)), uid
        assert str(found[uid]["URL"]).startswith(f"{BASE_URL}/deliverables/")
        assert str(found[uid]["DESCRIPTION"]).startswith("Ansvarlig: ")


def test_a_personal_feed_is_the_union_of_its_parties_and_themes(shipped_plan: Engine) -> None:
    register = load_register()

    def uids(admit) -> set[str]:  # type: ignore[no-untyped-def]
        return {event_uid(d.id, o.key) for d in register.deliverables.values() if admit(d) for o in d.occurrences()
                if o.deadline is not None}

    by_party = uids(lambda d: "kl" in (d.owner, *d.co_owners))
    co_owned_only = uids(lambda d: "kl" in d.co_owners and d.owner != "kl")
    by_theme = uids(lambda d: d.theme == "anbefaling-7")
    assert co_owned_only and by_theme - by_party and by_party - by_theme  # the union is a real union
    service = FeedService(shipped_plan, BASE_URL)
    party = events(feed(service, make_feed(shipped_plan, "kl", parties=["kl"]), T1))
    theme = events(feed(service, make_feed(shipped_plan, "tema-7", themes=["anbefaling-7"]), T1))
    personal = events(feed(service, make_feed(shipped_plan, "mit-overblik", parties=["kl"],
                                              themes=["anbefaling-7"]), T1))
    assert set(party) == by_party
    assert co_owned_only <= set(party)
    assert set(theme) == by_theme
    assert set(personal) == by_party | by_theme


def test_subscriber_chosen_alarms_cannot_grow_the_cache_without_bound() -> None:
    """``?alarm=`` is the subscriber's choice: only the most recent few offsets stay rendered."""
    from tracker.calendar.renderer import MAX_CACHED_ALARMS

    renderer = FeedRenderer(BASE_URL)
    renderer.update([content()], {uid_of(content()): STATE})
    feed = FeedDefinition(name="alle", token_hash="0" * 64)
    first = renderer.render(feed, parse_alarm("1d"))
    for days in range(2, 2 + 3 * MAX_CACHED_ALARMS):
        renderer.render(feed, parse_alarm(f"{days}d"))
    alarms_rendered = {key[2] for key in renderer._texts}
    assert len(alarms_rendered) <= MAX_CACHED_ALARMS + 1  # the offsets kept, and the feed without an alarm
    assert renderer.render(feed, parse_alarm("1d")).body == first.body  # an evicted offset renders again, the same


def test_the_fingerprint_is_the_one_events_had_before_the_read_model_was_one() -> None:
    # Upgrading must not raise every event's SEQUENCE (and make every subscriber fetch the plan again): the
    # digest covers the same values in the same shape as EventContent.fingerprint did.
    import hashlib
    import json

    view = content(note="Næste skridt", overdue=True)
    before = {
        "uid": SENF, "deliverable_id": "senfoelgeklinikker", "year": None, "title": view.title,
        "title_en": view.title_en, "owner": "regionerne", "owner_name": "Regionerne", "owner_name_en": "The regions",
        "co_owner_names": ["Sundhedsstyrelsen"], "co_owner_names_en": ["Danish Health Authority"],
        "parties": ["regionerne", "sst"], "theme": "anbefaling-7", "deadline_text": view.deadline_text,
        "window_start": "2026-01-01", "due": "2026-06-30", "status": "not_started", "overdue": True,
        "withdrawn": False, "note": "Næste skridt", "source_section": view.source_section,
        "source_quote": SENF_QUOTE,
    }
    encoded = json.dumps(before, sort_keys=True, ensure_ascii=False)
    assert fingerprint(view) == hashlib.sha256(encoded.encode("utf-8")).hexdigest()
    # What the event does not show leaves it alone; what it shows moves it.
    assert fingerprint(dataclasses.replace(view, baseline_due=date(2026, 3, 31), precision="day")) == fingerprint(view)
    assert fingerprint(dataclasses.replace(view, owner_name="Danske Regioner")) != fingerprint(view)
