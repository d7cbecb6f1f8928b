"""Status rounds: the register's rules, their days across Easter, what they ask, and a round run end to end.

The end-to-end tests run a round by hand on real SQLite and PostgreSQL: it
opens on its day with one Slack message to the party, an owner answers
"Uændret" from Slack (a signed press to the web process on loopback), the
reminder asks only about what is still unanswered, the round closes at its
cut-off, and `tracker round status` and `tracker report` show who answered
and what has "ingen opdatering modtaget". By e-mail (a real SMTP server on
loopback), the owner answers the whole round on the answer page in headless
Chromium, and is reminded of nothing.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from tests.conftest import Tracker
from tests.dashboard.test_browser import css, driver, follow  # noqa: F401 - driver is a fixture
from tests.notify.smtp_server import SmtpServer
from tests.notify.slack_standin import SlackStandIn, validate_blocks
from tests.notify.test_answers import CONTACTS, SECRET
from tests.notify.test_sweep import BASE, SENDER
from tests.webserver import serving, wait_for
from tracker.i18n import using_language
from tracker.model import OccurrenceView, Status
from tracker.notify.contacts import Contacts, Reach
from tracker.notify.email import EmailChannel
from tracker.notify.interactions import SlackInteractions
from tracker.notify.planner import bundle, plan_notices
from tracker.notify.slack import SlackChannel
from tracker.notify.sweep import Sweeper
from tracker.policy import PolicySet, RoundRule, parse_policy
from tracker.register import load_register
from tracker.rounds import scheduled, scope
from tracker.store.db import open_engine
from tracker.store.tables import HistoryRow
from tracker.workdays import working_days_before

CPH = ZoneInfo("Europe/Copenhagen")
ROUND = """

[[policy.round]]
name = "regionernes-status"
report = "regional-status"
parties = ["regionerne"]
opens_working_days_before = 15
remind_working_days_before = [5, 1]
reading = "The regions' status covers their own items."
"""


@pytest.fixture(autouse=True)
def _english() -> object:
    with using_language("en"):  # the pure parts speak the current language; the commands take --lang
        yield


def problems(table: object) -> list[tuple[tuple[str, ...], str]]:
    found: list[tuple[tuple[str, ...], str]] = []
    parse_policy(table, {"regionerne", "sst"}, {"regional-status", "evaluering"}, lambda path, text: found.append(
        (path, text)))
    return found


def test_a_round_rule_is_read_with_its_defaults_and_bad_ones_are_named_with_the_fix() -> None:
    found: list = []
    policy = parse_policy({"round": [{"name": "r", "report": "regional-status", "parties": ["regionerne"]}]},
                          {"regionerne"}, {"regional-status"}, lambda path, text: found.append(text))
    assert found == [] and policy.rounds == (RoundRule(name="r", report="regional-status", cutoff="regional-status",
                                                       parties=("regionerne",)),)
    bad = problems({"round": [
        {"name": "Ikke Et Navn", "report": "nope", "parties": ["ukendt"], "remind_working_days_before": [20],
         "opens_working_days_before": 10, "colour": "blue"},
        {"name": "ok", "report": "regional-status", "parties": []},
    ]})
    texts = {path[-1]: text for path, text in bad}
    assert "lowercase letters" in texts["name"] and "'nope'" in texts["report"]
    assert "unknown party 'ukendt'" in " ".join(text for _path, text in bad)
    assert "comes before the round opens" in texts["remind_working_days_before"]
    assert "unknown key 'colour'" in texts["colour"]
    assert any(path == ("policy", "round", "1", "parties") for path, _text in bad)
    assert problems({"round": {"name": "x"}}) == [(("policy", "round"),
                                                   "policy.round must be an array of tables: [[policy.round]].")]


def test_working_days_before_a_cutoff_skip_easter_and_weekends() -> None:
    # 31 March 2027 is a Wednesday; Maundy Thursday, Good Friday and Easter Monday are 25, 26 and 29 March.
    assert working_days_before(date(2027, 3, 31), 1) == date(2027, 3, 30)
    assert working_days_before(date(2027, 3, 31), 2) == date(2027, 3, 24)
    assert working_days_before(date(2027, 3, 31), 15) == date(2027, 3, 5)
    # Across a year end (1 January is a holiday) and a leap day.
    assert working_days_before(date(2027, 1, 4), 1) == date(2026, 12, 31)
    assert working_days_before(date(2028, 3, 1), 1) == date(2028, 2, 29)


def view(deliverable_id: str, due: date, *, year: int | None = None, owner: str = "regionerne",
         status: Status = Status.NOT_STARTED, co_owners: tuple[str, ...] = (), updated_at=None) -> OccurrenceView:
    return OccurrenceView(
        deliverable_id=deliverable_id, year=year, title=f"Titel {deliverable_id}", title_en=f"Title {deliverable_id}",
        kind="product", owner=owner, co_owners=co_owners, recipient=None, theme="anbefaling-7", deadline_text="x",
        window_start=due, due=due, baseline_due=due, precision="day", status=status, overdue=False,
        withdrawn=False, note=None, updated_at=updated_at, source_file="f", source_section="s", source_quote="q",
        owner_name=owner, owner_name_en=owner)


RULE = RoundRule(name="regionernes-status", report="regional-status", cutoff="regional-status",
                 parties=("regionerne",))
POLICY = PolicySet(rounds=(RULE,))


def plan_of() -> list[OccurrenceView]:
    return [
        view("regional-status", date(2027, 3, 31), year=2027),
        view("aarlig", date(2026, 12, 31), year=2026),  # overdue at the cut-off: asked
        view("aarlig", date(2027, 12, 31), year=2027),  # the next one: asked
        view("aarlig", date(2028, 12, 31), year=2028),  # after that: not yet
        view("faerdig", date(2026, 6, 30), status=Status.DONE),  # closed before: not asked
        view("sst-egen", date(2026, 6, 30), owner="sst"),  # another party's
        view("faelles", date(2027, 6, 30), owner="sst", co_owners=("regionerne",)),  # co-owned: asked
    ]


def test_a_round_asks_each_deliverable_s_current_work_of_its_parties() -> None:
    (round_,) = scheduled(POLICY, plan_of())
    assert (round_.opens, round_.closes, round_.key) == (date(2027, 3, 5), date(2027, 3, 31),
                                                          "regionernes-status-2027-03-31")
    assert round_.steps() == [("open", date(2027, 3, 5)), ("remind-5", date(2027, 3, 19)),
                              ("remind-1", date(2027, 3, 30))]
    asked = [(a.subject.deliverable_id, a.subject.year, a.parties) for a in scope(round_, plan_of())]
    assert asked == [("aarlig", 2026, ("regionerne",)), ("faelles", None, ("regionerne",)),
                     ("aarlig", 2027, ("regionerne",))]
    # Answered "done" during the round, it stays in the round's scope for its status.
    assert ("faerdig", None) in {(a.subject.deliverable_id, a.subject.year)
                                 for a in scope(round_, plan_of(), frozenset({("faerdig", None)}))}


def test_the_round_is_asked_once_and_reminded_only_of_what_is_unanswered() -> None:
    subjects = plan_of()
    answered = datetime(2027, 3, 8, 10, 0, tzinfo=CPH)
    subjects[1] = view("aarlig", date(2026, 12, 31), year=2026, status=Status.IN_PROGRESS, updated_at=answered)
    plan = plan_notices(subjects, POLICY, Contacts(), (), date(2027, 3, 5), date(2027, 3, 31))
    rounds = [(n.subject.deliverable_id, n.subject.year, n.step.rsplit(":", 1)[1], n.day)
              for n in plan.notices if n.kind == "round"]
    assert ("aarlig", 2026, "open", date(2027, 3, 5)) in rounds
    assert not [r for r in rounds if r[:2] == ("aarlig", 2026) and r[2] != "open"], "reminded after the answer"
    assert ("aarlig", 2027, "remind-5", date(2027, 3, 19)) in rounds
    assert ("faelles", None, "remind-1", date(2027, 3, 30)) in rounds
    opening = [n for n in plan.notices if n.day == date(2027, 3, 5)]
    (message,) = bundle(opening, subjects, [], POLICY, CPH, BASE)
    # In the party's language: Danish unless its contacts say otherwise.
    assert "Statusrunde til “Titel regional-status”" in message.intro and "31. marts 2027" in message.intro
    assert message.subject.endswith(": 3 statusser efterspurgt til en rapport")
    assert all(item.kind == "round" for item in message.items)


def test_the_coordinators_digest_says_how_far_each_open_round_has_come() -> None:
    subjects = plan_of()
    answered = datetime(2027, 3, 8, 10, 0, tzinfo=CPH)
    subjects[1] = view("aarlig", date(2026, 12, 31), year=2026, status=Status.DONE, updated_at=answered)
    contacts = Contacts(taskforce=Reach(slack=("#taskforce",)))  # the weekly digest goes to the task force
    plan = plan_notices(subjects, POLICY, contacts, ("slack",), date(2027, 3, 1), date(2027, 4, 9))
    digests = {n.day: n for n in plan.notices if n.kind == "digest"}
    intros = {day: bundle([notice], subjects, [], POLICY, CPH, BASE)[0].intro for day, notice in digests.items()}
    during = [day for day in intros if date(2027, 3, 5) <= day <= date(2027, 3, 31)]
    assert during and all("Statusrunden til “Titel regional-status” er åben til 31. marts 2027: 1 af 3 punkter "
                          "besvaret." in intros[day] for day in during if day >= answered.date()), intros
    assert all("Statusrunden" not in intro for day, intro in intros.items() if not date(2027, 3, 5) <= day <= date(
        2027, 3, 31)), "a round told before it opened or after it closed"
    in_english = Contacts(taskforce=Reach(slack=("#taskforce",), language="en"))
    plan = plan_notices(subjects, POLICY, in_english, ("slack",), max(during), max(during))
    (english,) = bundle([n for n in plan.notices if n.kind == "digest"], subjects, [], POLICY, CPH, BASE)
    assert "The status round for “Title regional-status” is open until 31 March 2027: 1 of 3 items answered." in \
        english.intro


def test_a_delivered_report_s_round_sends_nothing() -> None:
    subjects = plan_of()
    subjects[0] = view("regional-status", date(2027, 3, 31), year=2027, status=Status.DONE)
    plan = plan_notices(subjects, POLICY, Contacts(), (), date(2027, 3, 1), date(2027, 3, 31))
    assert not [n for n in plan.notices if n.kind == "round"]


def test_the_shipped_register_has_its_two_rounds_with_cutoffs_from_its_deadlines() -> None:
    register = load_register()
    assert [rule.name for rule in register.policy.rounds] == ["regionernes-status", "sst-afrapportering"]
    for rule in register.policy.rounds:
        assert rule.reading and rule.report in register.deliverables
        cutoffs = [o.deadline.due for o in register.deliverables[rule.cutoff].occurrences()]
        assert len(cutoffs) == 5 and all(2026 <= day.year <= 2030 for day in cutoffs)


# ----------------------------------------------------------------------------------------------------------------
# A round by hand, end to end


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CPH)


OPENS, REMIND, CUTOFF = date(2027, 3, 5), date(2027, 3, 19), date(2027, 3, 31)


def test_a_round_is_opened_answered_from_slack_reminded_closed_and_reported(database_url: str, small_register: Path,
                                                                             tmp_path: Path) -> None:
    register = tmp_path / "register.toml"
    register.write_text(small_register.read_text(encoding="utf-8") + ROUND, encoding="utf-8")
    tracker = Tracker(database_url, register)
    tracker.ok("sync")
    policy = load_register(register).policy
    with SlackStandIn() as slack:
        channels = {name: slack.add_channel(name) for name in ("regionerne", "sst", "koordinering")}
        mette = slack.add_user("mette@regioner.example", name="Mette Sørensen")
        channel = SlackChannel(slack.token, slack.base_url)
        engine = open_engine(database_url)
        sweeper = Sweeper(engine, policy, CONTACTS, {"slack": channel}, base_url=BASE, zone=CPH,
                          answers_on_slack=True)
        sweeper.sweep(at(OPENS - timedelta(days=1), 12))  # the first sweep plans from today: the day before
        before = len(slack.messages)
        sweeper.sweep(at(OPENS))
        (opened,) = [m for m in slack.messages[before:] if m.channel == channels["regionerne"]]
        validate_blocks(opened.blocks)
        assert opened.text.startswith("Kræftplan V: 2 statusser efterspurgt til en rapport")
        assert "Statusrunde til “Årlig regional status”" in opened.text
        confirm_buttons = [e for b in opened.blocks if b["type"] == "actions" for e in b["elements"]
                           if e["action_id"] == "status_confirm"]
        assert len(confirm_buttons) == 2  # senfoelgeklinikker (overdue) and evaluering (the next work)

        clock = [at(OPENS, 10, 30)]
        with serving(database_url, clock[0], base_url=BASE, interactions=lambda e: SlackInteractions(
                e, signing_secret=SECRET, contacts=CONTACTS, slack=channel, clock=lambda: clock[0])) as app_url:
            first_block = next(b["block_id"] for b in opened.blocks if b["type"] == "actions")
            status = slack.press(f"{app_url}/slack/interactions", opened, mette, "status_confirm",
                                 block_id=first_block, signing_secret=SECRET, timestamp=int(clock[0].timestamp()))
            assert status == 200
            wait_for(lambda: slack.responses, "the message updated")
        with Session(engine) as session:
            (confirmed,) = session.exec(select(HistoryRow).where(HistoryRow.action == "confirmed")).all()
        assert confirmed.deliverable_id == "senfoelgeklinikker" and "Mette Sørensen" in confirmed.actor
        said = json.dumps(slack.responses[-1], ensure_ascii=False)
        assert "uændret" in said, said[:3000]

        before = len(slack.messages)
        for day in (OPENS + timedelta(days=n) for n in range(1, (REMIND - OPENS).days + 1)):
            sweeper.sweep(at(day))
        reminders = [m for m in slack.messages[before:] if "Statusrunde til" in m.text]
        (reminder,) = reminders
        assert "ikke besvaret endnu" in reminder.text and "Evaluering" in reminder.text
        assert "Senfølgeklinikker" not in reminder.text, "reminded of an answered item"

        result = json.loads(tracker.ok("round", "status", "regionernes-status", "--cutoff", "2027-03-31",
                                       "--json").output)
        (party,) = result["parties"]
        assert [item["id"] for item in party["answered"]] == ["senfoelgeklinikker"]
        assert [item["id"] for item in party["unanswered"]] == ["evaluering"]
        assert party["answered"][0]["answer"]["action"] == "confirmed"

        # Closed at the cut-off: nothing more is sent for the round.
        before = len(slack.messages)
        for day in (REMIND + timedelta(days=n) for n in range(1, 20)):
            sweeper.sweep(at(day))
        assert len([m for m in slack.messages[before:] if "Statusrunde til" in m.text]) == 1  # the day-before one
        engine.dispose()
    listed = tracker.ok("round", "list")
    assert "regionernes-status-2027-03-31" in listed.output
    report = tracker.ok("report", "--as-of", "2027-04-01").output
    assert "Status round for" in report and "no update received for evaluering" in report
    assert "Mette Sørensen" in report  # the latest update and who made it
    danish = Tracker(database_url, register, lang="da").ok("report", "--as-of", "2027-04-01").output
    assert "ingen opdatering modtaget for evaluering" in danish


def test_a_round_is_answered_on_the_answer_page_and_nothing_is_reminded(database_url: str, small_register: Path,
                                                                        tmp_path: Path, driver) -> None:  # noqa: F811
    register = tmp_path / "register.toml"
    register.write_text(small_register.read_text(encoding="utf-8") + ROUND, encoding="utf-8")
    tracker = Tracker(database_url, register)
    tracker.ok("sync")
    contacts = Contacts(parties={"regionerne": Reach(email=("regioner@example.org",)),
                                 "sst": Reach(email=("sst@example.org",))},
                        coordinators=Reach(email=("koordinator@example.org",)))
    engine = open_engine(database_url)
    with SmtpServer() as smtp:
        sweeper = Sweeper(engine, load_register(register).policy, contacts,
                          {"email": EmailChannel.from_url(smtp.url(), SENDER, timeout=5)}, base_url=BASE, zone=CPH,
                          answers_by_email=True)
        sweeper.sweep(at(OPENS - timedelta(days=1), 12))
        sweeper.sweep(at(OPENS))
        (mail,) = [m for m in smtp.received if m.rcpt_tos == ["regioner@example.org"]]
        text = mail.parsed().get_body(("plain",)).get_content()
        assert "Statusrunde til “Årlig regional status”" in text
        path = re.search(rf"{re.escape(BASE)}/answer/(\S+)", text).group()[len(BASE):]

        with serving(database_url, at(OPENS, 10, 30), base_url=BASE) as app_url:
            driver.get(app_url + path)
            page = driver.page_source
            assert "Dette er en statusrunde før en rapport" in page
            titles = [element.text for element in css(driver, "section.answer h2")]
            assert titles == ["Senfølgeklinikker etableret", "Evaluering af forsøgsordningen"], titles
            assert len(css(driver, "form.confirm button")) == 2  # "Uændret", for each item of the round
            follow(driver, css(driver, "#item-0 form.confirm button")[0])
            assert "Tak: bekræftet uændret (ikke påbegyndt)" in driver.page_source
            (started,) = [radio for radio in css(driver, "#item-1 input[type=radio]")
                          if radio.get_attribute("value") == "in_progress"]
            started.click()
            css(driver, "#note-1")[0].send_keys("Udbuddet er sendt.")
            follow(driver, css(driver, "#item-1 form:not(.confirm):not(.replan) button[type=submit]")[0])
            assert "Tak: dit svar er gemt" in driver.page_source

        with Session(engine) as session:
            answers = {row.deliverable_id: row for row in session.exec(
                select(HistoryRow).where(HistoryRow.action.in_(("confirmed", "status"))))}
        assert answers["senfoelgeklinikker"].action == "confirmed"
        assert (answers["evaluering"].new_value, answers["evaluering"].note) == ("in_progress", "Udbuddet er sendt.")
        assert answers["evaluering"].actor == "regioner@example.org via e-mail"

        asked = len(smtp.received)
        for day in (OPENS + timedelta(days=n) for n in range(1, (CUTOFF - OPENS).days + 1)):
            sweeper.sweep(at(day))
        said = [m.parsed().get_body(("plain",)).get_content() for m in smtp.received[asked:]]
        assert not [m for m in said if "Statusrunde til" in m], "reminded of a round answered in full"
    engine.dispose()
    result = json.loads(tracker.ok("round", "status", "regionernes-status", "--cutoff", "2027-03-31",
                                   "--json").output)
    (party,) = result["parties"]
    assert sorted(item["id"] for item in party["answered"]) == ["evaluering", "senfoelgeklinikker"]
    assert party["unanswered"] == []


def test_round_commands_name_the_fix_for_bad_input(database_url: str, small_register: Path, tmp_path: Path) -> None:
    register = tmp_path / "register.toml"
    register.write_text(small_register.read_text(encoding="utf-8") + ROUND, encoding="utf-8")
    tracker = Tracker(database_url, register)
    tracker.ok("sync")
    unknown = tracker.fails("round", "status", "ukendt")
    assert "no round named 'ukendt'" in unknown.output and "regionernes-status" in unknown.output
    assert "Say --now" in tracker.fails("round", "open", "regionernes-status").output
    assert "in the past" in tracker.fails("round", "open", "regionernes-status", "--now", "--closes",
                                          "2020-01-01").output
    opened = tracker.ok("round", "open", "regionernes-status", "--now", "--by", "Karin")
    assert "Opened round regionernes-status-extra-1" in opened.output
    assert "extra, opened by Karin" in tracker.ok("round", "list").output
    assert "no round named" in Tracker(database_url, small_register).fails("round", "status", "x").output
