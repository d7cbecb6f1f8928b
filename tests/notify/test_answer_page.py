"""The answer page: an e-mail's recipient answers at /answer/TOKEN; a GET never changes anything.

The sweep sends the reminder through a real SMTP server on loopback
(aiosmtpd); the link in it is opened as a mail scanner would (twice, with no
change), then answered by POST with its CSRF token, over real HTTP to uvicorn,
and in headless Chromium. SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from tests.conftest import Tracker
from tests.dashboard.test_browser import ARTIFACTS, css, driver, follow  # noqa: F401 - driver is a fixture
from tests.notify.smtp_server import SmtpServer
from tests.notify.test_answers import NOW, REMINDER_DAY
from tests.notify.test_sweep import BASE, SENDER, Desk, at
from tests.webserver import serving
from tracker.dashboard.answer import CSRF_COOKIE, RATE
from tracker.notify.contacts import Contacts, Reach
from tracker.notify.email import EmailChannel
from tracker.store.tables import AnswerRow, HistoryRow, OccurrenceRow

CONTACTS = Contacts(parties={"regionerne": Reach(email=("regioner@example.org",)),
                             "sst": Reach(email=("sst@example.org",))},
                    coordinators=Reach(email=("koordinator@example.org",)))


class Mailed:
    """The plan after the reminder went out by e-mail, the web process serving the answer page."""

    def __init__(self, desk: Desk, app_url: str, link: str, smtp: SmtpServer):
        self.desk, self.app_url, self.link, self.smtp = desk, app_url, link, smtp
        self.client = httpx.Client(timeout=10, follow_redirects=False)

    @property
    def path(self) -> str:
        return self.link[len(BASE):]

    def get(self) -> httpx.Response:
        return self.client.get(self.app_url + self.path)

    def post(self, **form: str) -> httpx.Response:
        return self.client.post(self.app_url + self.path, data=form)

    def csrf(self) -> str:
        page = self.get()
        return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)

    def status(self) -> str:
        with Session(self.desk.engine) as session:
            return session.exec(select(OccurrenceRow.status).where(
                OccurrenceRow.deliverable_id == "senfoelgeklinikker")).one()

    def history(self) -> list[HistoryRow]:
        with Session(self.desk.engine) as session:
            return list(session.exec(select(HistoryRow).where(HistoryRow.deliverable_id == "senfoelgeklinikker",
                                                              HistoryRow.action.in_(("status", "note")))))


@pytest.fixture
def mailed(database_url: str, small_register: Path) -> Iterator[Mailed]:
    Tracker(database_url, small_register).ok("sync")
    with SmtpServer() as smtp:
        desk = Desk(database_url, CONTACTS, {"email": EmailChannel.from_url(smtp.url(), SENDER, timeout=5)},
                    answers_by_email=True)
        desk.sweep(at(REMINDER_DAY))
        (mail,) = [m for m in smtp.received if m.rcpt_tos == ["regioner@example.org"]]
        text = mail.parsed().get_body(("plain",)).get_content()
        link = re.search(rf"{re.escape(BASE)}/answer/\S+", text).group()
        assert "Svar her uden at logge ind" in text
        with serving(database_url, NOW, base_url=BASE) as app_url:
            yield Mailed(desk, app_url, link, smtp)


def test_the_email_links_its_answer_page_and_opening_it_changes_nothing(mailed: Mailed) -> None:
    for _scanner in range(2):  # Safe Links, then the person
        page = mailed.get()
        assert page.status_code == 200 and "Senfølgeklinikker etableret" in page.text
        assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    assert mailed.status() == "not_started" and mailed.history() == []
    with Session(mailed.desk.engine) as session:
        (answer,) = session.exec(select(AnswerRow).where(AnswerRow.channel == "email",
                                                         AnswerRow.recipient == "regioner@example.org")).all()
    assert mailed.path.rsplit("/", 1)[1] not in answer.token_hash


def test_an_answer_is_applied_once_with_the_recipient_as_actor(mailed: Mailed) -> None:
    csrf = mailed.csrf()
    form = {"csrf": csrf, "item": "0", "status": "done", "note": "Alle fem <b>regioner</b> har åbnet.",
            "evidence": "https://regioner.example/rapport.pdf"}
    answered = mailed.post(**form)
    assert answered.status_code == 303 and "answered=0" in answered.headers["location"]
    assert mailed.status() == "done"
    (row,) = mailed.history()
    assert (row.actor, row.note, row.evidence_url) == ("regioner@example.org via e-mail",
                                                       "Alle fem <b>regioner</b> har åbnet.",
                                                       "https://regioner.example/rapport.pdf")
    assert mailed.post(**form).status_code == 303  # a double click
    assert len(mailed.history()) == 1
    confirmed = mailed.client.get(mailed.app_url + answered.headers["location"])
    assert "Tak: dit svar er gemt" in confirmed.text and "<b>regioner</b>" not in confirmed.text


def test_without_the_pages_csrf_token_nothing_changes(mailed: Mailed) -> None:
    mailed.csrf()  # the cookie is set...
    assert mailed.post(item="0", status="done", csrf="forged").status_code == 403  # ...but the form's is not it
    other = httpx.Client(timeout=10)  # another site's form: no cookie at all
    assert other.post(mailed.app_url + mailed.path, data={"item": "0", "status": "done",
                                                          "csrf": "x" * 43}).status_code == 403
    assert mailed.status() == "not_started"


@pytest.mark.parametrize("form, code", [
    ({"item": "7", "status": "done"}, 409),  # no such item in this message
    ({"item": "x", "status": "done"}, 400),
    ({"item": "0", "status": "cancelled"}, 400),  # not a choice the page offers
    ({"item": "0"}, 400),  # neither a status nor a note
    ({"item": "0", "note": "Se linket", "evidence": "javascript:alert(1)"}, 400),
])
def test_malformed_answers_are_refused_and_change_nothing(mailed: Mailed, form: dict, code: int) -> None:
    assert mailed.post(csrf=mailed.csrf(), **form).status_code == code
    assert mailed.status() == "not_started" and mailed.history() == []


def test_unchanged_confirms_what_the_message_told_and_not_a_status_changed_since(mailed: Mailed) -> None:
    assert "form class=\"confirm\"" not in mailed.get().text  # a reminder, not a status round: no "Uændret"
    confirmed = mailed.post(csrf=mailed.csrf(), item="0", kind="confirm", shown="not_started")
    assert confirmed.status_code == 303 and "confirmed=0" in confirmed.headers["location"]
    with Session(mailed.desk.engine) as session:
        (row,) = session.exec(select(HistoryRow).where(HistoryRow.action == "confirmed")).all()
    assert (row.deliverable_id, row.new_value, row.actor) == ("senfoelgeklinikker", "not_started",
                                                              "regioner@example.org via e-mail")
    shown = mailed.client.get(mailed.app_url + confirmed.headers["location"]).text
    assert "Tak: bekræftet uændret (ikke påbegyndt)" in shown
    Tracker(mailed.desk.engine.url.render_as_string(hide_password=False)).ok(
        "status", "senfoelgeklinikker", "in_progress", "--note", "Startet.")
    refused = mailed.post(csrf=mailed.csrf(), item="0", kind="confirm", shown="in_progress")  # the page reloaded
    assert refused.status_code == 409 and "Intet blev bekræftet" in refused.text
    assert mailed.status() == "in_progress"


def test_unknown_expired_and_revoked_tokens_are_refused(mailed: Mailed) -> None:
    assert mailed.client.get(mailed.app_url + "/answer/" + "A" * 32).status_code == 404
    assert mailed.client.get(mailed.app_url + "/answer/%00").status_code == 404
    with Session(mailed.desk.engine) as session:
        for answer in session.exec(select(AnswerRow)):
            answer.expires_at = NOW - timedelta(seconds=1)
            session.add(answer)
        session.commit()
    expired = mailed.get()
    assert expired.status_code == 404 and "for gammel" in expired.text


def test_answers_per_token_are_rate_limited(mailed: Mailed) -> None:
    csrf = mailed.csrf()
    codes = [mailed.post(csrf=csrf, item="0", note=f"note {n}").status_code for n in range(RATE[0] + 1)]
    assert codes[:RATE[0]] == [303] * RATE[0] and codes[-1] == 429


def test_the_cookie_is_only_for_the_answer_pages(mailed: Mailed) -> None:
    cookie = mailed.get().headers["set-cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=") and "Path=/answer/" in cookie and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()


def test_a_person_answers_in_chromium(mailed: Mailed, driver) -> None:  # noqa: F811 - the fixture
    for _scanner in range(2):
        driver.get(mailed.app_url + mailed.path)
    assert mailed.status() == "not_started"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(ARTIFACTS / "answer-page.png"))  # docs/answer-page.png is one of these
    (done,) = [radio for radio in css(driver, "#item-0 input[type=radio]") if radio.get_attribute("value") == "done"]
    done.click()
    css(driver, "#note-0")[0].send_keys("Færdig, se rapporten.")
    follow(driver, css(driver, "#item-0 button[type=submit]")[0])
    assert "Tak: dit svar er gemt" in driver.page_source
    assert mailed.status() == "done"


def test_an_owner_asks_for_a_new_deadline_and_the_coordinators_decide_on_the_command_line(mailed: Mailed) -> None:
    import json

    csrf = mailed.csrf()
    form = {"csrf": csrf, "item": "0", "kind": "replan", "deadline": "31/12/2026", "reason": "Den sidste region "
            "åbner i efteråret."}
    asked = mailed.post(**form)
    assert asked.status_code == 303 and "requested=0" in asked.headers["location"]
    assert mailed.post(**form).status_code == 303  # sent twice: one request
    assert "koordinatorerne har fået din anmodning" in mailed.client.get(
        mailed.app_url + asked.headers["location"]).text
    tracker = Tracker(str(mailed.desk.engine.url.render_as_string(hide_password=False)))
    (request,) = json.loads(tracker.ok("requests", "--json").output)
    assert (request["deliverable"], request["deadline"], request["state"], request["requested_by"]) == (
        "senfoelgeklinikker", "31/12/2026", "pending", "regioner@example.org via e-mail")
    # A request is not a change: the deadline stays until a coordinator approves it.
    (row,) = [r for r in json.loads(tracker.ok("list", "--json").output) if r["id"] == "senfoelgeklinikker"]
    assert row["due"] == "2026-06-30"
    assert "asked by regioner@example.org via e-mail" in tracker.ok("requests").output
    # The coordinators hear of it at the next sweep, by e-mail, with the commands that decide it.
    mailed.desk.sweep(NOW + timedelta(minutes=5))
    (asking,) = [m for m in mailed.smtp.received if m.rcpt_tos == ["koordinator@example.org"]]
    asked_text = asking.parsed().get_body(("plain",)).get_content()
    assert asking.parsed()["Subject"] == "Kræftplan V: anmodning nr. 1 om ny frist"
    assert "regioner@example.org via e-mail anmoder om ny frist" in asked_text and "31/12/2026" in asked_text
    assert f"tracker requests approve {request['id']}" in asked_text and "/answer/" not in asked_text
    mailed.desk.sweep(NOW + timedelta(minutes=10))  # and once only
    assert len([m for m in mailed.smtp.received if m.rcpt_tos == ["koordinator@example.org"]]) == 1
    tracker.ok("requests", "approve", str(request["id"]), "--by", "Karin")
    mailed.desk.sweep(NOW + timedelta(minutes=15))  # the one who asked hears the outcome
    (told,) = [m for m in mailed.smtp.received if m.rcpt_tos == ["regioner@example.org"]
               and "godkendt" in m.parsed()["Subject"]]
    assert "er godkendt af Karin: fristen er nu “31/12/2026” (31. december 2026)" in told.parsed().get_body(
        ("plain",)).get_content()
    (row,) = [r for r in json.loads(tracker.ok("list", "--json").output) if r["id"] == "senfoelgeklinikker"]
    assert (row["due"], row["baseline_due"]) == ("2026-12-31", "2026-06-30")
    shown = tracker.ok("show", "senfoelgeklinikker").output
    assert "asked for a new deadline: 31/12/2026" in shown and "(regioner@example.org via e-mail)" in shown
    assert "was approved by Karin already" in tracker.fails("requests", "approve", str(request["id"])).output
    assert "No requests waiting." in tracker.ok("requests").output


def test_a_request_can_be_rejected_and_a_bad_one_is_refused(mailed: Mailed) -> None:
    import json

    csrf = mailed.csrf()
    refused = mailed.post(csrf=csrf, item="0", kind="replan", deadline="engang måske", reason="Hm.")
    assert refused.status_code == 409 and "engang måske" in refused.text
    assert mailed.post(csrf=csrf, item="0", kind="replan", deadline="2027-03-31", reason=" ").status_code == 409
    assert mailed.post(csrf=csrf, item="0", kind="replan", deadline="2027-03-31",
                       reason="Data kommer sent.").status_code == 303
    tracker = Tracker(str(mailed.desk.engine.url.render_as_string(hide_password=False)))
    (request,) = json.loads(tracker.ok("requests", "--json").output)
    assert "Request 99 " not in tracker.fails("requests", "reject", "99", "--reason", "x").output
    tracker.ok("requests", "reject", str(request["id"]), "--reason", "Fristen står fast.")
    (row,) = [r for r in json.loads(tracker.ok("list", "--json").output) if r["id"] == "senfoelgeklinikker"]
    assert row["due"] == "2026-06-30"
    assert "the request for a new deadline (2027-03-31) was rejected" in tracker.ok("show", "senfoelgeklinikker").output
    assert json.loads(tracker.ok("requests", "--all", "--json").output)[0]["state"] == "rejected"


def test_an_overdue_item_can_be_paused_from_the_answer_page(mailed: Mailed) -> None:
    from datetime import date

    later = at(date(2026, 7, 1), 10)  # the item fell due on 30 June: overdue now
    database_url = mailed.desk.engine.url.render_as_string(hide_password=False)
    with serving(database_url, later, base_url=BASE) as app_url:
        client = httpx.Client(timeout=10, follow_redirects=False)
        page = client.get(app_url + mailed.path)
        assert "Udsæt påmindelserne" in page.text and 'name="weeks" value="4"' in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        paused = client.post(app_url + mailed.path, data={"csrf": csrf, "item": "0", "kind": "snooze", "weeks": "2"})
        assert paused.status_code == 303 and "snoozed=0" in paused.headers["location"]
        assert client.post(app_url + mailed.path, data={"csrf": csrf, "item": "0", "kind": "snooze",
                                                        "weeks": "9"}).status_code == 400
        shown = client.get(app_url + paused.headers["location"]).text
        assert "✓ Udsat: ingen påmindelser eller varsler til dig før 15. juli 2026." in shown
    with Session(mailed.desk.engine) as session:
        occurrence = session.exec(select(OccurrenceRow).where(
            OccurrenceRow.deliverable_id == "senfoelgeklinikker")).one()
    assert (occurrence.snoozed_until.isoformat(), occurrence.snoozed_by) == (
        "2026-07-15", "regioner@example.org via e-mail")
