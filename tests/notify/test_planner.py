"""The notification policy: which messages, to whom, on which working day, bundled per recipient."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Tracker
from tracker.errors import RegisterError
from tracker.i18n import set_language
from tests.plan_views import occurrence
from tracker.model import Change, OccurrenceView, Status
from tracker.notify.contacts import ContactsError, Contacts, Reach, parse_contacts
from tracker.notify.message import Message, PermanentSendError
from tracker.notify.planner import bundle, occurrence_steps, plan_notices, repeats, send_time
from tracker.policy import Policy, PolicySet
from tracker.workdays import holiday_name, is_working_day, on_or_after, on_or_before
from tracker.register import load_register, parse_register

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
BASE = "https://tracker.example/"
CONTACTS = Contacts(
    parties={"sst": Reach(slack=("#sst",), email=("sst@example.org",)),
             "regionerne": Reach(email=("regioner@example.org",), language="en")},
    coordinators=Reach(slack=("#koordinering",), email=("koordinator@example.org",)),
    taskforce=Reach(slack=("#taskforce",)),
)


NAMES = {"sst": ("Sundhedsstyrelsen", "Danish Health Authority"), "regionerne": ("Regionerne", "The regions")}


def subject(due: date, **changes) -> OccurrenceView:
    owner = changes.pop("owner", "sst")
    name, name_en = NAMES.get(owner, (owner, owner))
    fields = {"owner": owner, "owner_name": name, "owner_name_en": name_en, "status": Status.IN_PROGRESS,
              "source_section": "Senfølger", "source_quote": "… senest i første halvår af 2026.", **changes}
    return occurrence(due=due, **fields)


def steps(item: OccurrenceView, end: date, policy: PolicySet = PolicySet()) -> dict[tuple[str, str], date]:
    return {(kind, step): day for kind, step, day in occurrence_steps(item, policy, end)}


# -- working days ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("day", "name"), [
    (date(2026, 1, 1), "Nytårsdag"), (date(2026, 4, 2), "Skærtorsdag"), (date(2026, 4, 3), "Langfredag"),
    (date(2026, 4, 6), "Anden påskedag"), (date(2026, 5, 14), "Kristi himmelfartsdag"),
    (date(2026, 5, 25), "Anden pinsedag"), (date(2026, 12, 25), "Juledag"), (date(2023, 5, 5), "Store bededag"),
])
def test_danish_public_holidays_are_not_working_days(day: date, name: str) -> None:
    assert holiday_name(day) is not None and name.lower() in holiday_name(day).lower()
    assert not is_working_day(day)


def test_great_prayer_day_is_a_working_day_since_its_abolition() -> None:
    assert is_working_day(date(2024, 4, 26)) and is_working_day(date(2026, 5, 1))


def test_weekends_move_reminders_earlier_and_alerts_later() -> None:
    assert on_or_before(date(2026, 6, 6)) == date(2026, 6, 5)  # Saturday → Friday
    assert on_or_after(date(2026, 6, 6)) == date(2026, 6, 8)  # Saturday → Monday
    assert on_or_before(date(2026, 4, 6)) == date(2026, 4, 1)  # Easter Monday → the Wednesday before Easter
    assert on_or_after(date(2026, 12, 25)) == date(2026, 12, 28)  # Christmas Day → the Monday after


# -- the steps of one occurrence ---------------------------------------------------------------------------------

def test_reminders_before_a_due_day_after_easter_move_before_the_holidays() -> None:
    found = steps(subject(date(2026, 4, 7)), date(2026, 4, 30))
    assert found[("reminder", "1d")] == date(2026, 4, 1)  # nominal 6 April is Easter Monday
    assert found[("reminder", "7d")] == date(2026, 3, 31)
    assert found[("reminder", "60d")] == date(2026, 2, 6)  # nominal 6 February is a Friday: kept
    assert all(is_working_day(day) for day in found.values())


def test_the_first_overdue_alert_is_the_first_working_day_after_christmas_and_new_year() -> None:
    assert steps(subject(date(2026, 12, 24)), date(2027, 1, 31))[("overdue", "1")] == date(2026, 12, 28)
    year_end = steps(subject(date(2026, 12, 31)), date(2027, 1, 31))
    assert year_end[("overdue", "1")] == date(2027, 1, 4)  # 1 January is a Friday and a holiday


def test_overdue_alerts_repeat_weekly_on_the_digest_day() -> None:
    found = steps(subject(date(2026, 6, 30)), date(2026, 8, 1))
    alerts = sorted(day for (kind, _), day in found.items() if kind == "overdue")
    assert alerts[0] == date(2026, 7, 1)
    assert alerts[1:] == [date(2026, 7, 13), date(2026, 7, 20), date(2026, 7, 27)]  # Mondays
    assert found[("escalation", "14d")] == date(2026, 7, 14)
    assert found[("confirm", "3d")] == date(2026, 7, 3)


def test_overdue_alerts_slow_down_after_a_month_stop_after_half_a_year_and_a_late_sweep_finds_the_same() -> None:
    item = subject(date(2026, 6, 30))
    year_long = PolicySet(default=Policy(overdue_alert_for_days=366))
    alerts = sorted(day for (kind, _), day in steps(item, date(2027, 1, 1), year_long).items() if kind == "overdue")
    gaps = [(later - earlier).days for earlier, later in zip(alerts[1:], alerts[2:])]
    assert alerts[:5] == [date(2026, 7, 1), date(2026, 7, 13), date(2026, 7, 20), date(2026, 7, 27),
                          date(2026, 8, 3)]  # weekly for the first month, on Mondays
    assert gaps[3:] and set(gaps[3:]) == {28}  # then every four weeks, still on Mondays
    assert len(alerts) == 5 + (date(2027, 1, 1) - date(2026, 8, 3)).days // 28
    # By default the owner hears of it for half a year; the digest keeps it after that.
    default = sorted(day for (kind, _), day in steps(item, date(2027, 12, 31)).items() if kind == "overdue")
    assert default == [day for day in alerts if day <= date(2026, 6, 30) + timedelta(days=182)]
    assert default[-1] == date(2026, 12, 21)
    # A sweep long after works out only the alerts near it, and they are the same days.
    late_item = subject(date(2028, 6, 30))
    late = {(kind, step): day for kind, step, day in occurrence_steps(late_item, year_long, date(2029, 3, 31),
                                                                     start=date(2029, 3, 1))}
    near = {key: day for key, day in steps(late_item, date(2029, 3, 31), year_long).items()
            if key[0] == "overdue" and day >= date(2029, 3, 1)}
    assert near and all(late[key] == day for key, day in near.items())
    number, offset = next(repeats((7, 7, 7, 7, 28), skip=1000))  # jumped ahead, not counted up to
    assert 1000 - 28 < offset <= 1000 + 28 and number == 5 + (offset - 28) // 28


@pytest.mark.parametrize(("written", "read"), [("7", (7,)), ("[14, 28]", (14, 28)), ("[7, 7, 7, 7, 28]",
                                                                                       (7, 7, 7, 7, 28))])
def test_overdue_repeat_days_is_one_gap_or_a_list_whose_last_repeats(written: str, read: tuple) -> None:
    register = parse_register(_register_with(f"\n[policy]\noverdue_repeat_days = {written}\n"))
    assert register.policy.default.overdue_repeat_days == read


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize("written", ["[]", "0", "[7, 0]", '"weekly"', "[7, true]"])
def test_a_bad_overdue_repeat_days_says_what_to_write(written: str) -> None:
    with pytest.raises(RegisterError) as caught:
        parse_register(_register_with(f"\n[policy]\noverdue_repeat_days = {written}\n"))
    assert "overdue_repeat_days must be whole days" in caught.value.message
    assert "e.g. [7, 7, 7, 7, 28]" in caught.value.message and caught.value.problems[0].line


def test_a_snooze_pauses_the_owners_reminders_and_alerts_until_its_day_and_the_coordinators_are_told() -> None:
    paused = subject(date(2026, 6, 30), snoozed_until=date(2026, 8, 1), snooze_reason="Venter på ministeriet.",
                     snoozed_by="Karin")
    found = {(n.kind, n.day) for n in plan_notices([paused], PolicySet(), CONTACTS, ["slack"], date(2026, 5, 1),
                                                    date(2026, 9, 30)).notices if n.subject}
    owners = sorted(day for kind, day in found if kind in ("reminder", "overdue", "confirm"))
    assert owners and owners[0] >= date(2026, 8, 1)  # nothing before the pause ends...
    assert owners[0] == date(2026, 8, 3)  # ...then the next four-weekly alert, on its Monday
    assert ("escalation", date(2026, 7, 14)) in found  # the coordinators hear of it on its day
    plan = plan_notices([paused], PolicySet(), CONTACTS, ["slack"], date(2026, 7, 14), date(2026, 7, 14))
    (escalation,) = bundle([n for n in plan.notices if n.recipient == "#koordinering"], [paused], [], PolicySet(),
                           COPENHAGEN, BASE)
    assert escalation.items[0].line.endswith("udsat til 1. august 2026 af Karin: Venter på ministeriet.")


def test_a_leap_day_deadline() -> None:
    found = steps(subject(date(2028, 2, 29)), date(2028, 3, 31))
    assert found[("reminder", "1d")] == date(2028, 2, 28)
    assert found[("overdue", "1")] == date(2028, 3, 1)


def test_messages_go_out_at_nine_in_copenhagen_across_daylight_saving_changes() -> None:
    assert send_time(date(2026, 3, 27), PolicySet(), COPENHAGEN).utcoffset() == timedelta(hours=1)
    assert send_time(date(2026, 3, 30), PolicySet(), COPENHAGEN).astimezone(timezone.utc).hour == 7
    assert send_time(date(2026, 10, 26), PolicySet(), COPENHAGEN).astimezone(timezone.utc).hour == 8


@pytest.mark.parametrize("changes", [{"status": Status.DONE}, {"status": Status.CANCELLED}, {"withdrawn": True}])
def test_closed_and_withdrawn_occurrences_get_nothing(changes: dict) -> None:
    assert steps(subject(date(2026, 6, 30), **changes), date(2027, 1, 1)) == {}


def test_nobody_is_asked_to_confirm_a_status_updated_after_the_due_day() -> None:
    updated = datetime(2026, 7, 1, 10, tzinfo=timezone.utc)
    assert ("confirm", "3d") not in steps(subject(date(2026, 6, 30), updated_at=updated), date(2026, 8, 1))


def test_per_deliverable_and_per_party_overrides() -> None:
    policies = PolicySet(by_party={"sst": Policy(reminder_days=(5,))},
                         by_deliverable={"other": Policy(reminder_days=(2,))})
    assert {s for k, s in steps(subject(date(2026, 6, 30)), date(2026, 7, 1), policies) if k == "reminder"} == {"5d"}
    other = subject(date(2026, 6, 30), deliverable_id="other")
    assert {s for k, s in steps(other, date(2026, 7, 1), policies) if k == "reminder"} == {"2d"}


# -- recipients and bundles --------------------------------------------------------------------------------------

def test_one_message_per_recipient_and_day_with_every_item() -> None:
    due = date(2026, 7, 7)
    items = [subject(due), subject(due, deliverable_id="kvalitetsstandard", title="Kvalitetsstandard <b>&")]
    plan = plan_notices(items, PolicySet(), CONTACTS, ["slack", "email"], date(2026, 6, 30), date(2026, 6, 30))
    assert {(n.channel, n.recipient) for n in plan.notices} == {("slack", "#sst")}
    assert len(plan.notices) == 2 and len({n.key for n in plan.notices}) == 2
    (message,) = bundle(plan.notices, items, [], PolicySet(), COPENHAGEN, BASE)
    assert message.at == datetime(2026, 6, 30, 9, tzinfo=COPENHAGEN)
    assert message.subject == "Kræftplan V: 2 frister nærmer sig"
    assert [item.line for item in message.items] == ["frist om 7 dage (7. juli 2026)"] * 2
    assert "Ansvarlig: Sundhedsstyrelsen" in message.text and "https://tracker.example/deliverables/" in message.text


def test_parties_are_written_to_in_their_language_on_the_channel_they_have() -> None:
    item = subject(date(2026, 7, 7), owner="regionerne")
    plan = plan_notices([item], PolicySet(), CONTACTS, ["slack", "email"], date(2026, 6, 30), date(2026, 6, 30))
    (notice,) = plan.notices
    assert (notice.channel, notice.recipient, notice.language) == ("email", "regioner@example.org", "en")
    (message,) = bundle(plan.notices, [item], [], PolicySet(), COPENHAGEN, BASE)
    assert message.subject == "Cancer Plan V: 1 deadline coming up"
    assert message.items[0].title == "Late-effects clinics established" and "7 July 2026" in message.items[0].line


def test_a_party_without_contacts_is_reported_and_its_messages_reach_the_coordinators() -> None:
    item = subject(date(2026, 7, 7), owner="kl")
    plan = plan_notices([item], PolicySet(), CONTACTS, ["slack"], date(2026, 6, 30), date(2026, 6, 30))
    assert [(n.channel, n.recipient) for n in plan.notices] == [("slack", "#koordinering")]
    assert "kl" in plan.notices[0].reason and any(problem.startswith("kl:") for problem in plan.problems)


def test_escalations_reach_the_coordinators_and_the_task_force() -> None:
    item = subject(date(2026, 6, 30))
    plan = plan_notices([item], PolicySet(), CONTACTS, ["slack"], date(2026, 7, 14), date(2026, 7, 14))
    assert {(n.kind, n.recipient) for n in plan.notices} == {("escalation", "#koordinering"),
                                                             ("escalation", "#taskforce")}


def test_without_slack_or_smtp_everything_goes_to_the_console_addressed_as_it_would_be() -> None:
    plan = plan_notices([subject(date(2026, 7, 7))], PolicySet(), CONTACTS, [], date(2026, 6, 30), date(2026, 6, 30))
    assert [(n.channel, n.recipient) for n in plan.notices] == [("console", "#sst")]
    bare = plan_notices([subject(date(2026, 7, 7))], PolicySet(), Contacts(), [], date(2026, 6, 30), date(2026, 6, 30))
    assert [(n.channel, n.recipient) for n in bare.notices] == [("console", "sst")]


def test_the_digest_goes_out_weekly_and_after_a_holiday_monday() -> None:
    plan = plan_notices([], PolicySet(), CONTACTS, ["slack"], date(2026, 3, 30), date(2026, 4, 12))
    assert [(n.day, n.step) for n in plan.notices] == [(date(2026, 3, 30), "2026-W14"), (date(2026, 4, 7), "2026-W15")]


def test_a_requested_deadline_pauses_the_owners_alerts_and_the_digest_lists_it_and_the_owners_answers() -> None:
    pending = subject(date(2026, 6, 30), requested_deadline="i tredje kvartal 2026")
    answered = subject(date(2026, 6, 30), deliverable_id="kvalitetsstandard", title="Kvalitetsstandard",
                       status=Status.DONE)
    plan = plan_notices([pending, answered], PolicySet(), CONTACTS, ["slack"], date(2026, 7, 1), date(2026, 7, 14))
    assert {n.kind for n in plan.notices} == {"digest", "escalation"}  # no alert or "confirm?" while it waits
    (escalation,) = bundle([n for n in plan.notices if n.kind == "escalation" and n.recipient == "#koordinering"],
                           [pending, answered], [], PolicySet(), COPENHAGEN, BASE)
    assert escalation.items[0].line.endswith("der er anmodet om ny frist (“i tredje kvartal 2026”), som afventer "
                                             "koordinatorerne")
    plan = plan_notices([pending, answered], PolicySet(), CONTACTS, ["slack"], date(2026, 7, 1), date(2026, 7, 6))
    by_owner = Change(at=datetime(2026, 7, 2, 9, 30, tzinfo=timezone.utc), deliverable_id="kvalitetsstandard",
                      year=None, action="status", old="in_progress", new="done",
                      actor="Mette Sørensen <mette@rm.dk> via Slack")
    by_coordinator = replace(by_owner, deliverable_id=pending.deliverable_id, actor="Karin")
    digests = [n for n in plan.notices if n.kind == "digest"]
    (digest,) = bundle(digests, [pending, answered], [by_owner, by_coordinator], PolicySet(), COPENHAGEN, BASE)
    assert "1 leverance besvaret af ejerne i denne uge; 1 anmodning om ny frist afventer koordinatorerne." \
        in digest.intro
    lines = {item.deliverable_id: item.line for item in digest.items}
    assert lines["kvalitetsstandard"].endswith("besvaret af ejerne i denne uge (Mette Sørensen <mette@rm.dk> via "
                                               "Slack)")
    assert "afventer koordinatorerne" in lines["senfoelgeklinikker"] and "besvaret" not in lines["senfoelgeklinikker"]
    (quiet,) = bundle(digests, [answered], [], PolicySet(), COPENHAGEN, BASE)  # nothing answered, nothing asked
    assert "besvaret" not in quiet.intro and "anmodning" not in quiet.intro


# -- a year of the shipped plan ----------------------------------------------------------------------------------

def test_a_year_of_the_shipped_plan_keeps_every_rule(synced_shipped: list[OccurrenceView]) -> None:
    plan = plan_notices(synced_shipped, PolicySet(), CONTACTS, ["slack", "email"], date(2026, 1, 1),
                        date(2026, 12, 31))
    keys = [n.key for n in plan.notices]
    assert len(keys) == len(set(keys)), "a key twice: a message would be sent twice"
    assert all(is_working_day(n.day) for n in plan.notices)
    closed = {(s.deliverable_id, s.year) for s in synced_shipped if not s.open}
    assert not [n for n in plan.notices if n.subject and (n.subject.deliverable_id, n.subject.year) in closed]
    again = plan_notices(synced_shipped, PolicySet(), CONTACTS, ["slack", "email"], date(2026, 1, 1),
                         date(2026, 12, 31))
    assert [n.key for n in again.notices] == keys
    messages = bundle(plan.notices, synced_shipped, [], PolicySet(), COPENHAGEN, BASE)
    per_day = {(m.channel, m.recipient, m.at.date()) for m in messages}
    assert len(per_day) == len(messages), "a recipient got two messages on one day"
    assert {n.kind for n in plan.notices} == {"reminder", "overdue", "escalation", "confirm", "digest"}


@pytest.fixture
def synced_shipped() -> list[OccurrenceView]:
    register = load_register()
    subjects = []
    for deliverable in register.deliverables.values():
        for due in deliverable.occurrences():
            if due.deadline is None:
                continue  # undated: nothing by date (tests/test_undated.py); the five-year run asks it in rounds
            subjects.append(subject(due.deadline.due, deliverable_id=deliverable.id, year=due.key,
                                    owner=deliverable.owner, co_owners=deliverable.co_owners,
                                    status=deliverable.status))
    return subjects


# -- the register's [policy] and the contacts file ---------------------------------------------------------------

def _register_with(policy: str) -> bytes:
    from tests.conftest import FIXTURES

    return (FIXTURES / "register_small.toml").read_bytes() + policy.encode()


def test_the_register_policy_overrides_the_defaults() -> None:
    register = parse_register(_register_with(
        '\n[policy]\nreminder_days = [30, 7]\nsend_at = "08:30"\ndigest_weekday = "friday"\n'
        '[policy.party.sst]\nreminder_days = [3]\n'
        '[policy.deliverable.evaluering]\nescalate_after_days = 30\n'))
    assert register.policy.default.reminder_days == (30, 7)
    assert register.policy.default.send_at.isoformat() == "08:30:00"
    assert register.policy.default.digest_weekday == 4
    assert register.policy.for_deliverable("x", "sst").reminder_days == (3,)
    assert register.policy.for_deliverable("evaluering", "regionerne").escalate_after_days == 30
    assert register.policy.for_deliverable("evaluering", "regionerne").reminder_days == (30, 7)


@pytest.mark.usefixtures("english")
def test_every_policy_problem_is_reported_with_its_line() -> None:
    with pytest.raises(RegisterError) as caught:
        parse_register(_register_with(
            '\n[policy]\nreminder_days = [0, "7"]\nsend_at = "9am"\nmood = "calm"\n'
            '[policy.party.nobody]\nreminder_days = [3]\n[policy.deliverable.evaluering]\nsend_at = "10:00"\n'))
    message = caught.value.message
    for expected in ("reminder_days must be a list of whole days", 'send_at must be a time of day as "HH:MM"',
                     "unknown policy setting 'mood'", "unknown party 'nobody'", "unknown policy setting 'send_at'"):
        assert expected in message
    assert all(problem.line for problem in caught.value.problems)


def test_the_contacts_file_reports_every_problem_with_its_line() -> None:
    set_language("en")
    with pytest.raises(ContactsError) as caught:
        parse_contacts('language = "sv"\n[party.sst]\nemail = ["not an address"]\nslack = ["general"]\n'
                       '[party.nobody]\nemail = ["a@example.org"]\n[coordinators]\nphone = "112"\n',
                       "contacts.toml", {"sst"})
    message = caught.value.message
    assert "problems in the contacts file contacts.toml" in message
    for expected in ("language must be one of da, en", "'not an address' is not an e-mail address",
                     "'general' is neither a Slack channel", "unknown party 'nobody'", "unknown key 'phone'"):
        assert expected in message
    assert [p.line for p in caught.value.problems] == sorted(p.line for p in caught.value.problems)


@pytest.mark.parametrize("address", ["søren@example.dk", "a@b@example.dk", "ole@-example.dk", "x@example",
                                     "ole@example.dk, eva@example.dk"])
@pytest.mark.usefixtures("english")
def test_the_contacts_file_refuses_what_the_email_channel_would_refuse(address: str) -> None:
    # One check of an address (tracker.addresses): before, the contacts file took "søren@example.dk" and the
    # e-mail channel refused it when the first reminder was due.
    from tracker.notify.email import build_email

    with pytest.raises(ContactsError) as caught:
        parse_contacts(f'[party.sst]\nemail = ["{address}"]\n', "contacts.toml", {"sst"})
    assert "is not an e-mail address" in caught.value.message
    message = Message(key="k", kind="reminder", channel="email", recipient=address, language="da",
                      at=datetime(2026, 6, 23, 9, tzinfo=COPENHAGEN), subject="s", intro="", items=(), text="t")
    with pytest.raises(PermanentSendError):
        build_email(message, "kraeftplan@example.dk")


def test_an_address_the_contacts_file_takes_is_one_the_email_channel_sends_to() -> None:
    from tracker.notify.email import build_email

    address = "ole.hansen+kraeft@kræftens-bekæmpelse.dk"
    contacts = parse_contacts(f'[party.sst]\nemail = ["{address}"]\n', "contacts.toml", {"sst"})
    assert contacts.parties["sst"].email == (address,)
    message = Message(key="k", kind="reminder", channel="email", recipient=address, language="da",
                      at=datetime(2026, 6, 23, 9, tzinfo=COPENHAGEN), subject="s", intro="", items=(), text="t")
    assert build_email(message, "kraeftplan@example.dk")["To"] == "ole.hansen+kraeft@xn--krftens-bekmpelse-srbj.dk"


def test_the_example_contacts_file_is_valid() -> None:
    from pathlib import Path

    contacts = parse_contacts((Path(__file__).parents[2] / "contacts.example.toml").read_text(encoding="utf-8"),
                              known_parties=set(load_register().parties))
    assert contacts.taskforce.slack == ("#kraeftplan-taskforce",) and contacts.reach("kl").language == "en"


# -- tracker notify preview --------------------------------------------------------------------------------------

def test_preview_lists_every_message_as_json_and_changes_nothing(synced: Tracker, tmp_path) -> None:
    contacts = tmp_path / "contacts.toml"
    contacts.write_text('[party.regionerne]\nslack = ["#regioner"]\n[coordinators]\nslack = ["#koord"]\n'
                        '[taskforce]\nslack = ["#tf"]\n', encoding="utf-8")
    env = {"TRACKER_CONTACTS": str(contacts), "SLACK_BOT_TOKEN": "xoxb-test"}
    before = synced.ok("list", "--json").output
    result = synced.ok("notify", "preview", "--from", "2026-06-01", "--to", "2026-07-31", "--json", env=env)
    records = json.loads(result.stdout)
    assert "Warning: sst: no contact for the configured channels" in result.stderr  # reported, not skipped
    assert records and {"at", "key", "kind", "id", "occurrence", "channel", "recipient", "text"} <= set(records[0])
    assert all(datetime.fromisoformat(r["at"]).utcoffset() == timedelta(hours=2) for r in records)  # summer time
    assert {r["channel"] for r in records} == {"slack"}
    assert ("senfoelgeklinikker", "reminder", "#regioner") in {(r["id"], r["kind"], r["recipient"]) for r in records}
    assert synced.ok("list", "--json").output == before
    assert synced.ok("notify", "preview", "--from", "2026-06-01", "--to", "2026-07-31", "--json",
                     env=env).stdout == result.stdout


def test_preview_in_danish_on_the_console_by_default(synced: Tracker) -> None:
    synced.lang = "da"
    result = synced.ok("notify", "preview", "--from", "2026-06-01", "--to", "2026-06-30")
    assert "console" in result.output and "Kræftplan V:" in result.output and "beskeder." in result.output


@pytest.mark.parametrize("due", [date(2024, 2, 29), date(2025, 12, 31), date(2026, 4, 2), date(2026, 12, 24)])
def test_planning_a_window_skips_old_alerts_without_changing_what_falls_in_it(due: date) -> None:
    whole = set(occurrence_steps(subject(due), PolicySet(), date(2027, 12, 31)))
    for start in (date(2026, 1, 5), date(2026, 6, 1), date(2026, 12, 28), date(2027, 4, 6)):
        window = {step for step in occurrence_steps(subject(due), PolicySet(), date(2027, 12, 31), start)
                  if step[2] >= start}
        assert window == {step for step in whole if step[2] >= start}


def test_the_readme_policy_example_is_a_valid_policy() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    example = "[policy]" + readme.split("```toml\n[policy]", 1)[1].split("```", 1)[0]
    shipped = (Path(__file__).parents[2] / "tracker" / "deliverables.toml").read_bytes()
    policy = parse_register(shipped + b"\n" + example.encode(), "README.md").policy
    assert policy.default == Policy() and policy.by_party["dmcg"].reminder_days == (30, 7)


def test_a_digest_only_party_gets_one_message_a_week_and_the_day_before_reminder_on_its_day() -> None:
    weekly = Contacts(parties={"sst": Reach(slack=("#sst",), digest_only=True)},
                      coordinators=Reach(slack=("#koordinering",)))
    item = subject(date(2026, 7, 8))  # a Wednesday
    plan = plan_notices([item], PolicySet(), weekly, ["slack"], date(2026, 4, 1), date(2026, 12, 31))
    days = {(n.kind, n.step): n.day for n in plan.notices if n.recipient == "#sst"}
    assert days[("reminder", "1d")] == date(2026, 7, 7)  # the day before: on its day
    others = {key: day for key, day in days.items() if key != ("reminder", "1d")}
    assert others and all(day.weekday() == 0 for day in others.values())  # everything else on Mondays
    assert days[("reminder", "7d")] == date(2026, 7, 6)  # the Monday after the 1 July reminder, before the due day
    assert days[("overdue", "1")] == date(2026, 7, 13)  # the Monday after the due day
    # A reminder whose Monday would come too late stays on its day: nobody is reminded after the deadline.
    monday = subject(date(2026, 7, 13))
    short = PolicySet(default=Policy(reminder_days=(2, 1)))
    late = {(n.kind, n.step): n.day for n in plan_notices([monday], short, weekly, ["slack"], date(2026, 4, 1),
                                                          date(2026, 12, 31)).notices if n.recipient == "#sst"}
    assert late[("reminder", "2d")] == date(2026, 7, 10)  # Friday: the next Monday is the due day itself
    # Planned day by day, as the sweep does, every notice is planned once and none is lost.
    by_day = [n for day in range(0, 275) for n in plan_notices(
        [item], PolicySet(), weekly, ["slack"], date(2026, 4, 1) + timedelta(days=day),
        date(2026, 4, 1) + timedelta(days=day)).notices if n.recipient == "#sst"]
    assert sorted((n.kind, n.step, n.day) for n in by_day) == sorted(
        (n.kind, n.step, n.day) for n in plan.notices if n.recipient == "#sst")
    messages = bundle([n for n in plan.notices if n.recipient == "#sst"], [item], [], PolicySet(), COPENHAGEN, BASE)
    assert len({m.at.date() for m in messages}) == len(messages)  # one a day at most
    escalation = [n for n in plan.notices if n.kind == "escalation"]
    assert [n.day for n in escalation] == [date(2026, 7, 22)]  # the coordinators' day is not moved


def test_digest_only_must_be_true_or_false() -> None:
    set_language("en")
    with pytest.raises(ContactsError) as caught:
        parse_contacts('[party.sst]\nslack = ["#sst"]\ndigest_only = "yes"\n', "contacts.toml", {"sst"})
    assert "digest_only must be true or false, not 'yes'" in caught.value.message
    assert parse_contacts('[party.sst]\nslack = ["#sst"]\ndigest_only = true\n', "contacts.toml",
                          {"sst"}).reach("sst").digest_only
