"""Each region hears about its own part, and answers for it: per-member reminders, the fallback to the regions'
shared contact, the escalation that names the late regions, Slack's buttons and the answer page.

The sweep sends through the Slack stand-in and a real SMTP server on loopback; presses are signed as Slack
signs them and the answer page is answered over real HTTP. SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
from sqlmodel import Session, select

from tests.conftest import FIXTURES, Tracker
from tests.notify.slack_standin import SlackStandIn
from tests.notify.smtp_server import SmtpServer
from tests.notify.test_answers import NOW, REMINDER_DAY, SECRET
from tests.notify.test_sweep import BASE, CPH, SENDER, Desk, at
from tests.webserver import serving, wait_for
from tracker.i18n import using_language
from tracker.notify.contacts import Contacts, Reach
from tracker.notify.email import EmailChannel
from tracker.notify.interactions import SlackInteractions
from tracker.notify.planner import bundle, plan_notices
from tracker.notify.slack import SlackChannel
from tracker.policy import PolicySet
from tracker.store.db import open_engine
from tracker.store.queries import load_plan
from tracker.store.tables import MemberStatusRow, OccurrenceRow

MEMBERS = FIXTURES / "register_members.toml"
OTHERS = ["region-hovedstaden", "region-sjaelland", "region-syddanmark", "region-midtjylland"]


def _statuses(database_url: str) -> dict[str, str]:
    with Session(open_engine(database_url)) as session:
        parts = {row.member: row.status for row in session.exec(select(MemberStatusRow))}
        (whole,) = session.exec(select(OccurrenceRow.status).where(
            OccurrenceRow.deliverable_id == "senfoelgeklinikker")).all()
    return {**parts, "*": whole}


def _plan(database_url: str, day: date, contacts: Contacts, end: date | None = None):
    with Session(open_engine(database_url)) as session:
        subjects = load_plan(session, day).views
    return subjects, plan_notices(subjects, PolicySet(), contacts, ("email",), day, end or day)


CONTACTS = Contacts(
    parties={"region-nordjylland": Reach(email=("kontakt@rn.example",)),
             "regionerne": Reach(email=("regioner@example.org",)), "sst": Reach(email=("sst@example.org",))},
    coordinators=Reach(email=("koordinator@example.org",)))


def test_each_region_is_reminded_of_its_own_part_through_its_contact_or_the_regions(database_url: str) -> None:
    Tracker(database_url, MEMBERS).ok("sync")
    subjects, plan = _plan(database_url, REMINDER_DAY, CONTACTS)
    reminders = [n for n in plan.notices if n.kind == "reminder"]
    by_member = {(n.subject.member, n.recipient) for n in reminders}
    assert by_member == {("region-nordjylland", "kontakt@rn.example"), (None, "sst@example.org"),
                         *((key, "regioner@example.org") for key in OTHERS)}
    assert len({n.key for n in reminders}) == 6  # a part is a notice of its own, wherever it goes
    assert {n.reason for n in reminders if n.recipient == "regioner@example.org"} == {
        f"regionerne, for member {key}" for key in OTHERS}
    assert not plan.problems  # the regions without a contact of their own are reached through the regions'
    messages = bundle(plan.notices, subjects, [], PolicySet(), CPH, BASE)
    (shared,) = [m for m in messages if m.recipient == "regioner@example.org"]
    assert [item.member for item in shared.items] == sorted(OTHERS)  # as the notices' keys sort
    names = {item.member: item.owner for item in shared.items}
    assert names["region-sjaelland"] == "Region Sjælland" and names["region-midtjylland"] == "Region Midtjylland"
    (sjaelland,) = [item for item in shared.items if item.member == "region-sjaelland"]
    assert "for Region Sjælland; 0 af 5 færdige i alt" in sjaelland.line
    (whole,) = [m for m in messages if m.recipient == "sst@example.org"]  # the co-owner hears of the whole
    assert whole.items[0].member is None and "0 af 5 færdige" in whole.items[0].line

    # Nordjylland is done: it hears nothing more, the others still do.
    Tracker(database_url, MEMBERS).ok("status", "senfoelgeklinikker", "done", "--member", "region-nordjylland",
                                      "--note", "Åbnet")
    _subjects, later = _plan(database_url, REMINDER_DAY, CONTACTS)
    assert {n.subject.member for n in later.notices if n.kind == "reminder"} == {None, *OTHERS}


def test_a_region_with_no_contact_anywhere_goes_to_the_coordinators_and_is_named(database_url: str) -> None:
    Tracker(database_url, MEMBERS).ok("sync")
    contacts = Contacts(parties={"sst": Reach(email=("sst@example.org",))},
                        coordinators=Reach(email=("koordinator@example.org",)))
    _subjects, plan = _plan(database_url, REMINDER_DAY, contacts)
    assert {n.recipient for n in plan.notices if n.subject and n.subject.member} == {"koordinator@example.org"}
    assert any(problem.startswith("region-sjaelland: ingen kontakt") for problem in plan.problems), plan.problems


def test_the_escalation_is_the_wholes_and_names_the_late_regions(database_url: str) -> None:
    plan = Tracker(database_url, MEMBERS)
    plan.ok("sync")
    for region in ("region-nordjylland", "region-hovedstaden"):
        plan.ok("status", "senfoelgeklinikker", "done", "--member", region, "--note", "Åbnet")
    day = date(2026, 7, 14)  # 14 days after 30 June
    subjects, planned = _plan(database_url, day, CONTACTS)
    escalations = [n for n in planned.notices if n.kind == "escalation"]
    assert {(n.recipient, n.subject.member) for n in escalations} == {("koordinator@example.org", None)}
    (message,) = [m for m in bundle(escalations, subjects, [], PolicySet(), CPH, BASE)]
    assert "2 af 5 færdige, forsinket: Region Sjælland, Region Syddanmark, Region Midtjylland" in \
        message.items[0].line
    # The regions done get no overdue alert about their part; the late ones do.
    _subjects, alerts = _plan(database_url, date(2026, 7, 1), CONTACTS)
    assert {n.subject.member for n in alerts.notices if n.kind == "overdue"} == {
        None, "region-sjaelland", "region-syddanmark", "region-midtjylland"}


def test_a_region_answers_for_its_own_part_from_slack(database_url: str) -> None:
    Tracker(database_url, MEMBERS).ok("sync")
    contacts = Contacts(
        parties={"region-nordjylland": Reach(slack=("#nordjylland",), members=("pia@rn.example",)),
                 "regionerne": Reach(slack=("#regionerne",), members=("mette@regioner.example",)),
                 "sst": Reach(slack=("#sst",))},
        coordinators=Reach(slack=("#koordinering",), members=("koordinator@sst.example",)))
    with SlackStandIn() as slack:
        for name in ("nordjylland", "regionerne", "sst", "koordinering"):
            slack.add_channel(name)
        pia = slack.add_user("pia@rn.example", name="Pia Nord")
        mette = slack.add_user("mette@regioner.example", name="Mette Sørensen")
        channel = SlackChannel(slack.token, slack.base_url)
        Desk(database_url, contacts, {"slack": channel}, answers_on_slack=True).sweep(at(REMINDER_DAY))

        def posted(name: str):
            channel_id = next(c.id for c in slack._channels.values() if c.name == name)
            (message,) = [m for m in slack.messages if m.channel == channel_id]
            return message

        def interactions(engine):
            return SlackInteractions(engine, signing_secret=SECRET, contacts=contacts, slack=channel,
                                     clock=lambda: NOW)

        with serving(database_url, NOW, base_url=BASE, interactions=interactions) as app_url:
            url = f"{app_url}/slack/interactions"
            stamp = int(NOW.timestamp())
            assert slack.press(url, posted("nordjylland"), pia, "status_done", signing_secret=SECRET,
                               timestamp=stamp) == 200
            wait_for(lambda: _statuses(database_url)["region-nordjylland"] == "done", "Nordjylland's answer")
            assert _statuses(database_url) == {"region-nordjylland": "done", **{k: "not_started" for k in OTHERS},
                                               "*": "in_progress"}
            # The regions' shared channel has the four other parts; Mette answers for Region Sjælland's, and only
            # that part changes.
            shared = posted("regionerne")
            assert slack.press(url, shared, mette, "status_in_progress", signing_secret=SECRET, timestamp=stamp,
                               block_id=f"answer-{sorted(OTHERS).index('region-sjaelland')}") == 200
            wait_for(lambda: _statuses(database_url)["region-sjaelland"] == "in_progress", "Sjælland's answer")
            statuses = _statuses(database_url)
            assert [statuses[key] for key in OTHERS] == ["not_started", "in_progress", "not_started", "not_started"]
            # Pia is not among the regions' people: she cannot answer for the other regions.
            before = len(slack.responses)
            slack.press(url, shared, pia, "status_done", signing_secret=SECRET, timestamp=stamp)
            wait_for(lambda: len(slack.responses) > before, "the refusal")
            assert _statuses(database_url)["region-hovedstaden"] == "not_started"


def test_a_region_answers_for_its_own_part_on_the_answer_page(database_url: str) -> None:
    Tracker(database_url, MEMBERS).ok("sync")
    with SmtpServer() as smtp:
        desk = Desk(database_url, CONTACTS, {"email": EmailChannel.from_url(smtp.url(), SENDER, timeout=5)},
                    answers_by_email=True)
        desk.sweep(at(REMINDER_DAY))
        (mail,) = [m for m in smtp.received if m.rcpt_tos == ["kontakt@rn.example"]]
        text = mail.parsed().get_body(("plain",)).get_content()
        link = re.search(rf"{re.escape(BASE)}/answer/\S+", text).group()
        with serving(database_url, NOW, base_url=BASE) as app_url, httpx.Client(timeout=10) as client:
            page = client.get(app_url + link[len(BASE):])
            assert page.status_code == 200 and "Region Nordjylland" in page.text
            with using_language("da"):
                assert "kun dette medlems status" in page.text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            answered = client.post(app_url + link[len(BASE):], data={
                "csrf": csrf, "item": "0", "status": "done", "note": "Klinikken i Aalborg er åbnet"})
            assert answered.status_code == 303
    statuses = _statuses(database_url)
    assert statuses["region-nordjylland"] == "done" and statuses["*"] == "in_progress"
    assert [statuses[key] for key in OTHERS] == ["not_started"] * 4
    with Session(open_engine(database_url)) as session:
        (part,) = session.exec(select(MemberStatusRow).where(MemberStatusRow.member == "region-nordjylland")).all()
    assert part.note == "Klinikken i Aalborg er åbnet"
    # The next days' sweeps tell Nordjylland nothing more about it.
    for offset in range(1, 10):
        desk.sweep(at(REMINDER_DAY + timedelta(days=offset)))
    assert not [row for row in desk.rows(member="region-nordjylland") if row.state == "sent" and row.day > REMINDER_DAY]
