"""A party on Teams through the whole sweep: its reminder as an Adaptive Card with working answer links, the
answer page answering for it, and e-mail in its place when the webhook is dead or down for good.

The webhook is the stand-in on loopback (``tests.notify.teams_standin``), e-mail is aiosmtpd, the answer page is
served by uvicorn; SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import json
import pytest
from sqlmodel import Session, select

from tests.conftest import Tracker
from tests.notify.smtp_server import SmtpServer
from tests.notify.teams_standin import Reply, TeamsStandIn
from tests.notify.test_answers import NOW, REMINDER_DAY
from tests.notify.test_sweep import BASE, SENDER, Desk, at
from tests.webserver import serving
from tracker.notify.contacts import Contacts, Reach
from tracker.notify.email import EmailChannel
from tracker.notify.teams import TeamsChannel
from tracker.notify.webhooks import teams_handle
from tracker.store.tables import HistoryRow, OccurrenceRow


@dataclass
class OnTeams:
    database_url: str
    desk: Desk
    teams: TeamsStandIn
    smtp: SmtpServer
    webhook: str

    @property
    def handle(self) -> str:
        return teams_handle(self.webhook)

    def mails_to(self, address: str) -> list:
        return [mail for mail in self.smtp.received if address in mail.rcpt_tos]


@pytest.fixture
def on_teams(database_url: str, small_register: Path) -> Iterator[OnTeams]:
    """The regions on Teams (e-mail their fallback), the coordinators by e-mail; nothing swept yet."""
    Tracker(database_url, small_register).ok("sync")
    with TeamsStandIn() as teams, SmtpServer() as smtp:
        webhook = teams.add_webhook("regioner")
        contacts = Contacts(parties={"regionerne": Reach(teams=(webhook,), email=("regioner@example.org",),
                                                         prefer=("teams", "email")),
                                     "sst": Reach(email=("sst@example.org",))},
                            coordinators=Reach(email=("koordinator@example.org",)))
        channels = {"teams": TeamsChannel(contacts.webhooks(), timeout=5, max_wait=2),
                    "email": EmailChannel.from_url(smtp.url(), SENDER, timeout=5)}
        yield OnTeams(database_url, Desk(database_url, contacts, channels, answers_by_email=True), teams, smtp,
                      webhook)


def texts(element: object) -> list[str]:
    """Every text a card shows, depth first: TextBlocks, facts, action titles."""
    found: list[str] = []
    if isinstance(element, dict):
        for key in ("text", "title", "value"):
            if isinstance(element.get(key), str):
                found.append(element[key])
        for value in element.values():
            found += texts(value)
    elif isinstance(element, list):
        for value in element:
            found += texts(value)
    return found


def open_urls(element: object) -> list[str]:
    if isinstance(element, dict):
        own = [element["url"]] if element.get("type") == "Action.OpenUrl" else []
        return own + [url for value in element.values() for url in open_urls(value)]
    if isinstance(element, list):
        return [url for value in element for url in open_urls(value)]
    return []


def test_the_reminder_is_a_card_whose_answer_link_answers_for_the_party(on_teams: OnTeams) -> None:
    report = on_teams.desk.sweep(at(REMINDER_DAY))
    assert report.ok and report.messages == 2  # the regions on Teams, the co-owner SST by e-mail
    (card,) = on_teams.teams.cards("regioner")
    shown = re.sub(r"\\(.)", r"\1", " ".join(texts(card)))  # as Teams shows it: the escapes undone
    assert "Senfølgeklinikker etableret" in shown and "frist om 7 dage (30. juni 2026)" in shown
    assert "senest i første halvår af 2026" in shown and "Regionerne" in shown
    links = [url for url in open_urls(card) if "/answer/" in url]
    assert links and all(url.startswith(f"{BASE}/answer/") for url in links)
    assert any(url.endswith("#item-0") for url in links)
    assert on_teams.mails_to("regioner@example.org") == []  # Teams carried it: no e-mail as well
    (row,) = on_teams.desk.rows(party="regionerne")
    assert (row.channel, row.recipient, row.state) == ("teams", on_teams.handle, "sent")
    assert "sig=" not in row.key and "sig=" not in row.recipient

    # The link opens the answer page (a GET changes nothing), and its form answers for the regions.
    link = next(url for url in links if url.endswith("#item-0")).split("#")[0]
    with serving(on_teams.database_url, NOW, base_url=BASE) as app_url, httpx.Client(timeout=10) as client:
        page = client.get(app_url + link[len(BASE):])
        assert page.status_code == 200 and "Senfølgeklinikker etableret" in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        answered = client.post(app_url + link[len(BASE):], data={"csrf": csrf, "item": "0", "status": "done",
                                                                 "note": "Alle klinikker er åbne"})
    assert answered.status_code == 303
    with Session(on_teams.desk.engine) as session:
        status = session.exec(select(OccurrenceRow.status).where(
            OccurrenceRow.deliverable_id == "senfoelgeklinikker")).one()
        (change,) = session.exec(select(HistoryRow).where(HistoryRow.action == "status")).all()
    assert status == "done" and change.actor == f"{on_teams.handle} via Teams"


def test_a_dead_webhook_sends_the_message_by_email_and_tells_the_coordinators(on_teams: OnTeams,
                                                                             caplog) -> None:
    on_teams.teams.outage("regioner", Reply.status(404))
    caplog.set_level(logging.DEBUG)  # httpx logs each request's URL at INFO: it must be masked there too
    report = on_teams.desk.sweep(at(REMINDER_DAY))
    (failed,) = on_teams.desk.rows(party="regionerne", channel="teams")
    assert (failed.state, failed.error_code) == ("failed", "http_404")
    # The same sweep: by e-mail to the regions instead, and the coordinators hear, naming the handle.
    (fallback,) = on_teams.mails_to("regioner@example.org")
    body = fallback.parsed().get_body(("plain",)).get_content()
    assert "Senfølgeklinikker etableret" in body and "/answer/" in body
    (instead,) = on_teams.desk.rows(party="regionerne", channel="email")
    assert instead.state == "sent" and instead.reason == f"e-mail instead of Teams {on_teams.handle}"
    (told,) = on_teams.mails_to("koordinator@example.org")
    text = told.parsed().get_body(("plain",)).get_content()
    assert on_teams.handle in text and "regioner@example.org" in text
    assert report.fallbacks == 1
    secret = on_teams.webhook.rsplit("sig=", 1)[1]
    for where, said in (("the log", caplog.text), ("the coordinators' mail", text), ("the fallback", body)):
        assert secret not in said and "/workflows/" not in said, where


def test_a_teams_outage_is_retried_and_the_card_arrives_once(on_teams: OnTeams) -> None:
    on_teams.teams.script("regioner", Reply.status(503))
    first = on_teams.desk.sweep(at(REMINDER_DAY))
    (row,) = on_teams.desk.rows(party="regionerne")
    assert first.retrying == 1 and row.state == "pending" and row.next_attempt_at is not None
    assert on_teams.teams.cards("regioner") == []
    later = on_teams.desk.sweep(row.next_attempt_at + timedelta(seconds=1))
    assert later.ok and len(on_teams.teams.cards("regioner")) == 1
    assert on_teams.desk.rows(party="regionerne")[0].state == "sent"
    assert on_teams.mails_to("regioner@example.org") == []


def test_a_bundle_whose_second_card_fails_sends_only_the_rest_by_email(database_url: str, small_register: Path,
                                                                      tmp_path: Path) -> None:
    """Twelve deliverables due the same day, each with a long source: more than one card. The flow takes the
    first and refuses the second: the first card's items are sent, and only the rest go by e-mail."""
    text = small_register.read_text(encoding="utf-8")
    quote = "Regionerne leverer dette senest i første halvår af 2026. " + "Lang begrundelse. " * 140
    for number in range(12):
        text += (f'\n[[deliverable]]\nid = "lang-{number:02d}"\ntitle = "Lang leverance {number:02d}"\n'
                 f'title_en = "Long deliverable {number:02d}"\nkind = "milestone"\nowner = "regionerne"\n'
                 f'deadline = "senest i første halvår af 2026"\ntheme = "anbefaling-7"\n'
                 f'source = {{ file = "test", section = "Lang", quote = "{quote}" }}\n')
    register = tmp_path / "register.toml"
    register.write_text(text, encoding="utf-8")
    Tracker(database_url, register).ok("sync")
    with TeamsStandIn() as teams, SmtpServer() as smtp:
        webhook = teams.add_webhook("regioner")
        contacts = Contacts(parties={"regionerne": Reach(teams=(webhook,), email=("regioner@example.org",))},
                            coordinators=Reach(email=("koordinator@example.org",)))
        desk = Desk(database_url, contacts, {"teams": TeamsChannel(contacts.webhooks(), timeout=5),
                                             "email": EmailChannel.from_url(smtp.url(), SENDER, timeout=5)})
        teams.script("regioner", Reply.status(202), Reply.status(400))
        desk.sweep(at(REMINDER_DAY))
        on_teams = desk.rows(party="regionerne", channel="teams")
        sent = {row.deliverable_id for row in on_teams if row.state == "sent"}
        failed = {row.deliverable_id for row in on_teams if row.state == "failed"}
        (card,) = teams.cards("regioner")
        posted = set(re.findall(r"lang-\d\d|senfoelgeklinikker", json.dumps(card)))
        assert sent and failed and sent == posted and not sent & failed
        assert {row.deliverable_id for row in on_teams} == sent | failed
        (mail,) = [m for m in smtp.received if "regioner@example.org" in m.rcpt_tos]
        body = mail.parsed().get_body(("plain",)).get_content()
        by_email = set(re.findall(r"/deliverables/(lang-\d\d|senfoelgeklinikker)", body))
        assert by_email == failed  # the rest, and nothing the first card already carried
