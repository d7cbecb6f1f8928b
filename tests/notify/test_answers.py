"""Owners answer where the message lands: Slack's buttons, signed presses, and who may answer.

The Slack stand-in posts the reminder the sweep sends, then POSTs signed
``block_actions`` to the web process on loopback exactly as Slack does (and
forged, stale and retried ones), and takes the follow-up on its response_url.
Real SQLite and PostgreSQL, a real uvicorn.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from tests.conftest import Tracker
from tests.notify.slack_standin import SlackStandIn
from tests.notify.test_sweep import BASE, Desk, at
from tests.webserver import serving, wait_for
from tracker.notify.contacts import Contacts, Reach
from tracker.notify.interactions import SlackInteractions
from tracker.notify.slack import SlackChannel
from tracker.store.tables import AnswerRow, HistoryRow, OccurrenceRow

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
REMINDER_DAY = date(2026, 6, 23)  # senfoelgeklinikker (regionerne, co-owner sst) is due 30 June: 7 days before
CONTACTS = Contacts(
    parties={"regionerne": Reach(slack=("#regionerne",), members=("mette@regioner.example",)),
             "sst": Reach(slack=("#sst",))},
    coordinators=Reach(slack=("#koordinering",), members=("koordinator@sst.example",)),
)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


class Workspace:
    """The plan with a reminder on Slack, the web process answering presses, and the people in Slack."""

    def __init__(self, database_url: str, slack: SlackStandIn, app_url: str, desk: Desk):
        self.database_url, self.slack, self.app_url, self.desk = database_url, slack, app_url, desk
        self.mette = slack.add_user("mette@regioner.example", name="Mette Sørensen")
        self.ole = slack.add_user("ole@example.dk", name="Ole Ukendt")
        self.coordinator = slack.add_user("koordinator@sst.example", name="Karin Koordinator")

    def reminder(self):
        (posted,) = [m for m in self.slack.messages if m.channel == self.slack_channel("regionerne")]
        return posted

    def slack_channel(self, name: str) -> str:
        return next(c.id for c in self.slack._channels.values() if c.name == name)

    def press(self, user: str, action_id: str = "status_done", **options) -> int:
        options.setdefault("timestamp", int(NOW.timestamp()))
        return self.slack.press(f"{self.app_url}/slack/interactions", self.reminder(), user, action_id,
                                signing_secret=options.pop("secret", SECRET), **options)

    def follow_ups(self, count: int) -> list[dict]:
        """The follow-ups the web process posted to the response_urls, once ``count`` have arrived (it posts
        them after answering Slack)."""
        return wait_for(lambda: len(self.slack.responses) >= count and self.slack.responses,
                        f"{count} follow-up(s) on the response_url")

    def status(self) -> str:
        with Session(self.desk.engine) as session:
            return session.exec(select(OccurrenceRow.status).where(
                OccurrenceRow.deliverable_id == "senfoelgeklinikker")).one()

    def history(self) -> list[HistoryRow]:
        with Session(self.desk.engine) as session:
            return list(session.exec(select(HistoryRow).where(HistoryRow.deliverable_id == "senfoelgeklinikker",
                                                              HistoryRow.action == "status")))


NOW = at(REMINDER_DAY, 10, 12)


@pytest.fixture
def workspace(database_url: str, small_register: Path) -> Iterator[Workspace]:
    Tracker(database_url, small_register).ok("sync")
    with SlackStandIn() as slack:
        slack.add_channel("regionerne")
        slack.add_channel("sst")
        slack.add_channel("koordinering")
        channel = SlackChannel(slack.token, slack.base_url)
        desk = Desk(database_url, CONTACTS, {"slack": channel}, answers_on_slack=True)
        desk.sweep(at(REMINDER_DAY))

        def interactions(engine):
            return SlackInteractions(engine, signing_secret=SECRET, contacts=CONTACTS, person=channel.person,
                                     clock=lambda: NOW)

        with serving(database_url, NOW, base_url=BASE, interactions=interactions) as app_url:
            yield Workspace(database_url, slack, app_url, desk)


def test_without_the_signing_secret_messages_carry_no_buttons(database_url: str, small_register: Path) -> None:
    Tracker(database_url, small_register).ok("sync")
    with SlackStandIn() as slack:
        slack.add_channel("regionerne")
        slack.add_channel("sst")
        Desk(database_url, CONTACTS, {"slack": SlackChannel(slack.token, slack.base_url)}).sweep(at(REMINDER_DAY))
        assert slack.messages and not any(block["type"] == "actions" for m in slack.messages for block in m.blocks)


def test_the_owners_reminder_has_buttons_and_the_coordinators_messages_none(workspace: Workspace) -> None:
    blocks = workspace.reminder().blocks
    (actions,) = [block for block in blocks if block["type"] == "actions"]
    assert [(b["action_id"], b["text"]["text"]) for b in actions["elements"]] == [
        ("status_done", "Færdig"), ("status_in_progress", "I gang"), ("status_at_risk", "I risiko")]
    token = actions["elements"][0]["value"].rsplit(":", 1)[0]
    assert len(token) >= 32
    with Session(workspace.desk.engine) as session:
        (answer,) = session.exec(select(AnswerRow).where(AnswerRow.party == "regionerne")).all()
    assert token not in answer.token_hash and answer.items[0]["id"] == "senfoelgeklinikker"


def test_an_owner_presses_done_it_is_recorded_the_message_says_so_and_nothing_more_is_sent(
        workspace: Workspace) -> None:
    assert workspace.press(workspace.mette, "status_done", action_ts="1750666320.000100") == 200
    assert workspace.status() == "done"
    (row,) = workspace.history()
    assert row.actor == "Mette Sørensen <mette@regioner.example> via Slack" and row.new_value == "done"
    (follow_up,) = workspace.follow_ups(1)
    assert follow_up["replace_original"] is True
    said = [block for block in follow_up["blocks"] if block.get("block_id", "").startswith("answer-")]
    assert said == []  # the buttons are gone, in their place the answer:
    assert any("✓ Markeret færdig af Mette Sørensen, 23. juni 2026 10:12" in str(block)
               for block in follow_up["blocks"])
    # Slack delivers the same press again (it heard nothing in three seconds): applied once.
    assert workspace.press(workspace.mette, "status_done", action_ts="1750666320.000100", retry=1) == 200
    assert len(workspace.history()) == 1
    first, again = workspace.follow_ups(2)  # the message is put right again, nothing applied twice
    assert again == first
    # The loop closes: the days up to and after the due day bring nothing more about it.
    before = len(workspace.slack.messages)
    for day in range(1, 12):
        workspace.desk.sweep(at(REMINDER_DAY + timedelta(days=day)))
    later = [m for m in workspace.slack.messages[before:] if "Senfølgeklinikker" in str(m.blocks)]
    assert later == []


def test_someone_not_responsible_gets_told_and_nothing_changes(workspace: Workspace) -> None:
    assert workspace.press(workspace.ole, "status_done") == 200
    assert workspace.status() == "not_started" and workspace.history() == []
    (reply,) = workspace.follow_ups(1)
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert "ikke ansvarlig for denne leverance" in reply["text"]
    # A coordinator may answer for any party.
    assert workspace.press(workspace.coordinator, "status_at_risk") == 200
    assert workspace.status() == "at_risk"


@pytest.mark.parametrize("forgery", [
    {"secret": "not-the-signing-secret"},  # signed by someone else
    {"signature": "v0=" + "0" * 64},  # a made-up signature
    {"timestamp": int((NOW - timedelta(minutes=6)).timestamp())},  # replayed after five minutes
    {"timestamp": "soon"},  # not a number
])
def test_a_forged_stale_or_malformed_request_is_refused_and_changes_nothing(workspace: Workspace,
                                                                               forgery: dict) -> None:
    assert workspace.press(workspace.mette, "status_done", **forgery) == 401
    assert workspace.status() == "not_started" and workspace.slack.responses == []


def test_an_answer_to_an_item_changed_since_the_message_is_not_applied_blindly(workspace: Workspace) -> None:
    tracker = Tracker(workspace.database_url)
    tracker.ok("replan", "senfoelgeklinikker", "2026-09-30", "--reason", "Forsinket leverance.")
    assert workspace.press(workspace.mette, "status_done") == 200
    assert workspace.status() == "not_started"
    (reply,) = workspace.follow_ups(1)
    assert "ændret, efter beskeden blev sendt" in reply["text"] and "2026-09-30" in reply["text"]


def test_an_expired_answer_is_refused(workspace: Workspace) -> None:
    with Session(workspace.desk.engine) as session:
        for answer in session.exec(select(AnswerRow)):
            answer.expires_at = NOW - timedelta(seconds=1)
            session.add(answer)
        session.commit()
    assert workspace.press(workspace.mette, "status_done") == 200
    assert workspace.status() == "not_started"
    assert "for gammel" in workspace.follow_ups(1)[0]["text"]


def test_with_buttons_a_long_message_stays_within_slacks_block_limit() -> None:
    from dataclasses import replace

    from tests.notify.slack_standin import validate_blocks
    from tests.notify.test_slack import item, message
    from tracker.notify.slack import BLOCK_LIMIT, blocks_for

    long = replace(message(*(item(deliverable_id=f"leverance-{n}") for n in range(40))), answer="t" * 32)
    blocks = blocks_for(long)
    assert len(blocks) <= BLOCK_LIMIT and validate_blocks(blocks) == []
    actions = [block for block in blocks if block["type"] == "actions"]
    shown = [block for block in blocks if block["type"] == "context"]  # one source line under each item in full
    assert actions and [a["block_id"] for a in actions] == [f"answer-{n}" for n in range(len(actions))]
    assert all(button["value"] == f"{'t' * 32}:{n}" for n, a in enumerate(actions) for button in a["elements"])
    assert len(actions) == len(shown) and 0 < len(actions) < 40  # the rest are listed one line each
