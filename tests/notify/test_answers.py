"""Owners answer where the message lands: Slack's buttons, signed presses, and who may answer.

The Slack stand-in posts the reminder the sweep sends, then POSTs signed
``block_actions`` to the web process on loopback exactly as Slack does (and
forged, stale and retried ones), and takes the follow-up on its response_url.
Real SQLite and PostgreSQL, a real uvicorn.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from tests.conftest import Tracker
from tests.notify.slack_standin import SlackStandIn, validate_blocks, validate_view
from tests.notify.test_sweep import BASE, Desk, at
from tests.webserver import serving, wait_for
from tracker.notify.contacts import Contacts, Reach
from tracker.notify.interactions import SlackInteractions
from tracker.notify.slack import SlackChannel
from tracker.store.tables import AnswerRow, HistoryRow, InteractionRow, OccurrenceRow, ReplanRequestRow

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
REMINDER_DAY = date(2026, 6, 23)  # senfoelgeklinikker (regionerne, co-owner sst) is due 30 June: 7 days before
CONTACTS = Contacts(
    parties={"regionerne": Reach(slack=("#regionerne",), members=("mette@regioner.example", "lars@regioner.example")),
             "sst": Reach(slack=("#sst",))},
    coordinators=Reach(slack=("#koordinering",), members=("koordinator@sst.example",)),
)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


class Workspace:
    """The plan with a reminder on Slack, the web process answering presses, and the people in Slack."""

    def __init__(self, database_url: str, slack: SlackStandIn, app_url: str, desk: Desk, clock: list):
        self.database_url, self.slack, self.app_url, self.desk = database_url, slack, app_url, desk
        self.clock = clock  # [now]: the web process's clock, moved by a test
        self.mette = slack.add_user("mette@regioner.example", name="Mette Sørensen")
        self.ole = slack.add_user("ole@example.dk", name="Ole Ukendt")
        self.coordinator = slack.add_user("koordinator@sst.example", name="Karin Koordinator")
        self.lars = slack.add_user("lars@regioner.example", name="Lars Holm")  # Mette's colleague, a member too

    def reminder(self):
        (posted,) = [m for m in self.slack.messages if m.channel == self.slack_channel("regionerne")]
        return posted

    def slack_channel(self, name: str) -> str:
        return next(c.id for c in self.slack._channels.values() if c.name == name)

    def press(self, user: str, action_id: str = "status_done", posted=None, **options) -> int:
        """Press a button as Slack does; once Slack has its 200, wait for what the press does after (a follow-up
        on the response_url or a modal): the web process answers first, then asks Slack who pressed."""
        options.setdefault("timestamp", int(self.clock[0].timestamp()))
        before = len(self.slack.responses) + len(self.slack.views)
        status = self.slack.press(f"{self.app_url}/slack/interactions", posted or self.reminder(), user, action_id,
                                  signing_secret=options.pop("secret", SECRET), **options)
        if status == 200:
            wait_for(lambda: len(self.slack.responses) + len(self.slack.views) > before, f"what {action_id} does")
        return status

    def opened(self, count: int) -> dict:
        """The ``count``-th modal the web process opened (it opens them after answering Slack)."""
        return wait_for(lambda: len(self.slack.views) >= count and self.slack.views[count - 1],
                        f"modal {count} opened")

    def submit(self, opened: dict, user: str, **values: str) -> tuple[int, dict | None]:
        options = {"timestamp": int(self.clock[0].timestamp()), "signing_secret": SECRET}
        for name in ("secret", "signature", "retry", "timestamp"):
            if name in values:
                options["signing_secret" if name == "secret" else name] = values.pop(name)
        return self.slack.submit(f"{self.app_url}/slack/interactions", opened, user, values, **options)

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

        clock = [NOW]

        def interactions(engine):
            return SlackInteractions(engine, signing_secret=SECRET, contacts=CONTACTS, slack=channel,
                                     clock=lambda: clock[0])

        with serving(database_url, NOW, base_url=BASE, interactions=interactions) as app_url:
            yield Workspace(database_url, slack, app_url, desk, clock)


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
        ("status_done", "Færdig"), ("status_in_progress", "I gang"), ("status_at_risk", "I risiko"),
        ("replan_request", "Ny frist …"), ("add_note", "Note …")]
    assert len({b["value"] for b in actions["elements"]}) == 1  # one opaque reference: the message and the item
    token = actions["elements"][0]["value"].rsplit(":", 1)[0]
    assert len(token) >= 32
    with Session(workspace.desk.engine) as session:
        (answer,) = session.exec(select(AnswerRow).where(AnswerRow.party == "regionerne")).all()
    assert token not in answer.token_hash and answer.items[0]["id"] == "senfoelgeklinikker"


def test_an_owner_presses_done_it_is_recorded_the_message_says_so_and_nothing_more_is_sent(
        workspace: Workspace) -> None:
    assert workspace.press(workspace.mette, "status_done", action_ts="1750666320.000100") == 200
    assert workspace.status() == "done"
    token = workspace.reminder().blocks[-1]["elements"][0]["value"].rsplit(":", 1)[0]
    with Session(workspace.desk.engine) as session:  # the press is remembered, the token in it is not
        (click,) = session.exec(select(InteractionRow.key)).all()
    assert token not in click and len(click) == 64
    (row,) = workspace.history()
    assert row.actor == "Mette Sørensen <mette@regioner.example> via Slack" and row.new_value == "done"
    (follow_up,) = workspace.follow_ups(1)
    assert follow_up["replace_original"] is True and validate_blocks(follow_up["blocks"]) == []
    (buttons,) = [block for block in follow_up["blocks"] if block.get("block_id") == "answer-0"]
    # The status buttons are gone; in their place the answer, with Fortryd and Tilføj dokumentation:
    assert [(b["action_id"], b["text"]["text"]) for b in buttons["elements"]] == [
        ("undo_answer", "Fortryd"), ("add_evidence", "Tilføj dokumentation")]
    (said,) = [block for block in follow_up["blocks"] if block.get("block_id") == "answered-0"]
    assert "✓ Markeret færdig af Mette Sørensen, 23. juni 2026 10:12" in said["elements"][0]["text"]
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


# -- Fortryd, and the modals: Ny frist …, Note …, Tilføj dokumentation --------------------------------------------


def requests_in(workspace: Workspace) -> list[ReplanRequestRow]:
    with Session(workspace.desk.engine) as session:
        return list(session.exec(select(ReplanRequestRow).order_by(ReplanRequestRow.id)))


def due_day(workspace: Workspace) -> date:
    with Session(workspace.desk.engine) as session:
        return session.exec(select(OccurrenceRow.due).where(
            OccurrenceRow.deliverable_id == "senfoelgeklinikker")).one()


def test_an_owner_undoes_a_mistaken_press_once_and_only_for_a_few_minutes(workspace: Workspace) -> None:
    workspace.press(workspace.mette, "status_done", action_ts="1.1")
    (answered,) = workspace.follow_ups(1)
    assert workspace.press(workspace.ole, "undo_answer", blocks=answered["blocks"]) == 200  # not his to undo
    assert "ikke ansvarlig" in workspace.follow_ups(2)[1]["text"] and workspace.status() == "done"
    workspace.press(workspace.mette, "undo_answer", blocks=answered["blocks"], action_ts="1.2")
    undone = workspace.follow_ups(3)[2]
    assert workspace.status() == "not_started"
    assert [row.new_value for row in workspace.history()] == ["done", "not_started"]
    (buttons,) = [block for block in undone["blocks"] if block.get("block_id") == "answer-0"]
    assert [b["action_id"] for b in buttons["elements"]][:3] == ["status_done", "status_in_progress",
                                                                 "status_at_risk"]
    assert any("↩ Fortrudt af Mette Sørensen" in str(block) for block in undone["blocks"])
    workspace.press(workspace.mette, "undo_answer", blocks=answered["blocks"], action_ts="1.2", retry=1)
    workspace.follow_ups(4)
    assert len(workspace.history()) == 2  # a redelivered undo is not undone again
    # Pressed again, and regretted too late:
    workspace.press(workspace.mette, "status_done", action_ts="1.3")
    again = workspace.follow_ups(5)[4]
    workspace.clock[0] = NOW + timedelta(minutes=11)
    workspace.press(workspace.mette, "undo_answer", blocks=again["blocks"], action_ts="1.4")
    assert "for sent at fortryde" in workspace.follow_ups(6)[5]["text"] and workspace.status() == "done"


def test_a_new_deadline_is_asked_for_in_a_modal_that_shows_what_does_not_parse(workspace: Workspace) -> None:
    assert workspace.press(workspace.mette, "replan_request") == 200
    opened = workspace.opened(1)
    view = opened["view"]
    assert validate_view(view) == [] and view["callback_id"] == "replan_request"
    assert view["title"]["text"] == "Ny frist" and opened["trigger_id"].endswith(".trigger")
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == ["deadline", "reason"]
    assert "30. juni 2026" in view["blocks"][0]["text"]["text"]
    status, body = workspace.submit(opened, workspace.mette, deadline="når vi når det", reason="Byggeriet er forsinket.")
    assert status == 200 and body["response_action"] == "errors" and list(body["errors"]) == ["deadline"]
    status, body = workspace.submit(opened, workspace.mette, deadline="i tredje kvartal 2026")
    assert body == {"response_action": "errors", "errors": {"reason": "Skriv, hvorfor fristen skal flyttes."}}
    assert requests_in(workspace) == []
    status, body = workspace.submit(opened, workspace.mette, deadline="i tredje kvartal 2026",
                                    reason="Byggeriet er forsinket.")
    assert (status, body) == (200, None)  # the modal closes
    (request,) = requests_in(workspace)
    assert (request.state, request.deadline_text, request.requested_by, request.requester_email,
            request.requested_via, request.party) == (
        "pending", "i tredje kvartal 2026", "Mette Sørensen <mette@regioner.example> via Slack",
        "mette@regioner.example", "slack", "regionerne")
    (updated,) = workspace.follow_ups(1)
    assert validate_blocks(updated["blocks"]) == []
    ids = [block.get("block_id") for block in updated["blocks"]]
    said = updated["blocks"][ids.index("answer-0") - 1]
    assert "⏳ Mette Sørensen har anmodet om ny frist “i tredje kvartal 2026”" in said["elements"][0]["text"]
    assert workspace.submit(opened, workspace.mette, deadline="i tredje kvartal 2026",
                            reason="Byggeriet er forsinket.", retry=1)[0] == 200
    assert len(requests_in(workspace)) == 1 and due_day(workspace) == date(2026, 6, 30)  # asked, not changed


def ask_for(workspace: Workspace, deadline: str = "i tredje kvartal 2026") -> None:
    workspace.press(workspace.mette, "replan_request")
    workspace.submit(workspace.opened(len(workspace.slack.views)), workspace.mette, deadline=deadline,
                     reason="Byggeriet er forsinket.")


def coordinators_request(workspace: Workspace):
    workspace.desk.sweep(NOW + timedelta(minutes=5))
    (posted,) = [m for m in workspace.slack.messages if m.channel == workspace.slack_channel("koordinering")
                 and "om ny frist" in m.blocks[0]["text"]["text"]]
    return posted


def test_the_coordinators_approve_from_slack_and_the_owner_is_told(workspace: Workspace) -> None:
    ask_for(workspace)
    posted = coordinators_request(workspace)
    assert "Mette Sørensen &lt;mette@regioner.example&gt; via Slack anmoder om ny frist" in posted.text
    assert "tracker requests approve 1" in posted.text
    (decide,) = [block for block in posted.blocks if block.get("block_id") == "decide-1"]
    approve, reject = decide["elements"]
    assert (approve["action_id"], approve["text"]["text"], reject["action_id"], reject["text"]["text"]) == (
        "request_approve", "Godkend", "request_reject", "Afvis …")
    assert "i tredje kvartal 2026" in approve["confirm"]["text"]["text"]  # Slack asks before it approves
    # The owner may not approve her own request.
    workspace.press(workspace.mette, "request_approve", posted=posted)
    assert "Kun koordinatorerne" in workspace.follow_ups(2)[1]["text"]
    assert requests_in(workspace)[0].state == "pending"
    workspace.press(workspace.coordinator, "request_approve", posted=posted)
    decided = workspace.follow_ups(3)[2]
    assert any("✓ Godkendt af Karin Koordinator" in str(block) for block in decided["blocks"])
    assert not any(block.get("block_id") == "decide-1" for block in decided["blocks"])
    (request,) = requests_in(workspace)
    assert (request.state, request.decided_by) == ("approved", "Karin Koordinator <koordinator@sst.example> via Slack")
    assert due_day(workspace) == date(2026, 9, 30)
    workspace.desk.sweep(NOW + timedelta(minutes=10))
    (told,) = [m for m in workspace.slack.messages if m.channel == workspace.slack.dm_channel("mette@regioner.example")]
    assert "din anmodning om ny frist er godkendt" in told.blocks[0]["text"]["text"]
    assert "fristen er nu “i tredje kvartal 2026” (30. september 2026)" in told.text
    workspace.press(workspace.coordinator, "request_approve", posted=posted)  # pressed again, later
    again = workspace.follow_ups(4)[3]
    assert again["replace_original"] and any("✓ Godkendt af Karin Koordinator" in str(b) for b in again["blocks"])
    assert len(requests_in(workspace)) == 1 and due_day(workspace) == date(2026, 9, 30)


def test_a_request_decided_on_the_command_line_takes_the_buttons_off_its_slack_message(workspace: Workspace) -> None:
    ask_for(workspace)
    posted = coordinators_request(workspace)
    Tracker(workspace.database_url).ok("requests", "reject", "1", "--reason", "Fristen står fast.", "--by", "Karin")
    views = len(workspace.slack.views)
    workspace.press(workspace.coordinator, "request_reject", posted=posted)  # no modal for a decided request
    updated = workspace.follow_ups(2)[1]
    assert len(workspace.slack.views) == views
    assert not any(block.get("block_id") == "decide-1" for block in updated["blocks"])
    assert any("✗ Afvist af Karin" in str(block) and "Fristen står fast." in str(block) for block in updated["blocks"])
    assert requests_in(workspace)[0].state == "rejected"


def test_a_coordinators_token_decides_only_the_request_its_message_is_about(workspace: Workspace) -> None:
    ask_for(workspace)
    posted = coordinators_request(workspace)
    Tracker(workspace.database_url).ok("requests", "reject", "1", "--reason", "Nej.", "--by", "Karin")
    ask_for(workspace, "inden udgangen af 2026")  # request 2, for the same item
    (button,) = [b for block in posted.blocks if block.get("block_id") == "decide-1" for b in block["elements"]
                 if b["action_id"] == "request_approve"]
    forged = [{"type": "actions", "block_id": "decide-2", "elements": [
        {**button, "value": button["value"].rsplit(":", 1)[0] + ":2"}]}]
    workspace.press(workspace.coordinator, "request_approve", posted=posted, blocks=forged)
    assert "Dette svarlink er ikke gyldigt" in workspace.follow_ups(3)[2]["text"]
    assert [r.state for r in requests_in(workspace)] == ["rejected", "pending"]


def test_the_coordinators_reject_from_slack_with_a_reason_and_the_owner_is_told(workspace: Workspace) -> None:
    ask_for(workspace)
    posted = coordinators_request(workspace)
    workspace.press(workspace.coordinator, "request_reject", posted=posted)
    opened = workspace.opened(2)
    assert opened["view"]["callback_id"] == "request_reject" and validate_view(opened["view"]) == []
    assert workspace.submit(opened, workspace.coordinator)[1]["errors"] == {
        "reason": "Skriv en begrundelse til den, der anmodede."}
    status, body = workspace.submit(opened, workspace.coordinator, reason="Fristen står i aftalen <!channel>.")
    assert (status, body) == (200, None)
    (request,) = requests_in(workspace)
    assert (request.state, request.decision_reason) == ("rejected", "Fristen står i aftalen <!channel>.")
    assert due_day(workspace) == date(2026, 6, 30)
    decided = workspace.follow_ups(2)[1]
    (said,) = [block for block in decided["blocks"] if "Afvist af Karin" in str(block)]
    assert "&lt;!channel&gt;" in said["elements"][0]["text"] and "<!channel>" not in said["elements"][0]["text"]
    workspace.desk.sweep(NOW + timedelta(minutes=10))
    (told,) = [m for m in workspace.slack.messages if m.channel == workspace.slack.dm_channel("mette@regioner.example")]
    assert "afvist" in told.text and "Fristen er fortsat 30. juni 2026" in told.text
    assert "&lt;!channel&gt;" in told.text


def test_a_note_with_evidence_from_a_modal_and_evidence_after_done(workspace: Workspace) -> None:
    workspace.press(workspace.mette, "add_note")
    opened = workspace.opened(1)
    assert opened["view"]["callback_id"] == "add_note" and validate_view(opened["view"]) == []
    status, body = workspace.submit(opened, workspace.mette, note="Rapport <!here> sendt & godkendt",
                                    evidence="javascript:alert(1)")
    assert list(body["errors"]) == ["evidence"]
    assert workspace.submit(opened, workspace.mette, note="Rapport <!here> sendt & godkendt",
                            evidence="https://regioner.example/rapport.pdf") == (200, None)
    with Session(workspace.desk.engine) as session:
        (note,) = session.exec(select(HistoryRow).where(HistoryRow.action == "note")).all()
    assert (note.note, note.evidence_url, note.actor) == (
        "Rapport <!here> sendt & godkendt", "https://regioner.example/rapport.pdf",
        "Mette Sørensen <mette@regioner.example> via Slack")
    assert workspace.status() == "not_started"
    (updated,) = workspace.follow_ups(1)
    text = next(str(block) for block in updated["blocks"] if "Note fra Mette" in str(block))
    assert "&lt;!here&gt; sendt &amp; godkendt" in text
    # Done, then the evidence for it: the item is closed, and the note still goes on it.
    workspace.press(workspace.mette, "status_done")
    answered = workspace.follow_ups(2)[1]
    workspace.press(workspace.mette, "add_evidence", blocks=answered["blocks"])
    evidence = workspace.opened(2)
    assert evidence["view"]["title"]["text"] == "Tilføj dokumentation"
    assert list(workspace.submit(evidence, workspace.mette, note="Alle fem klinikker er åbne.")[1]["errors"]) == [
        "evidence"]  # the evidence is what this modal is for
    assert workspace.submit(evidence, workspace.mette, note="Alle fem klinikker er åbne.",
                            evidence="https://regioner.example/aabning.pdf") == (200, None)
    with Session(workspace.desk.engine) as session:
        occurrence = session.exec(select(OccurrenceRow).where(
            OccurrenceRow.deliverable_id == "senfoelgeklinikker")).one()
    assert (occurrence.status, occurrence.note, occurrence.evidence_url) == (
        "done", "Alle fem klinikker er åbne.", "https://regioner.example/aabning.pdf")


def test_a_forged_modal_submission_changes_nothing(workspace: Workspace) -> None:
    workspace.press(workspace.mette, "add_note")
    opened = workspace.opened(1)
    assert workspace.submit(opened, workspace.mette, note="Forfalsket", secret="not-the-secret")[0] == 401
    assert workspace.submit(opened, workspace.ole, note="Ole mener")[1]["errors"]["note"].startswith(
        "Du er ikke ansvarlig")
    with Session(workspace.desk.engine) as session:
        assert session.exec(select(HistoryRow).where(HistoryRow.action == "note")).all() == []


def test_slack_hears_200_at_once_even_when_asking_it_who_pressed_is_slow(workspace: Workspace) -> None:
    workspace.slack.slow("users.info", 4)  # longer than the three seconds Slack waits
    started = time.monotonic()
    status = workspace.slack.press(f"{workspace.app_url}/slack/interactions", workspace.reminder(), workspace.mette,
                                   "status_done", signing_secret=SECRET, timestamp=int(NOW.timestamp()))
    answered_in = time.monotonic() - started
    assert status == 200 and answered_in < 2, f"Slack waited {answered_in:.1f} s for its answer"
    (follow_up,) = workspace.follow_ups(1)  # the change comes after, as users.info answers
    assert workspace.status() == "done"
    (section,) = [block for block in follow_up["blocks"] if block["type"] == "section"
                  and "Senfølgeklinikker" in block["text"]["text"]]
    assert "Status: færdig" in section["text"]["text"]  # the item says it too, not "ikke påbegyndt" above it


def test_a_second_request_waits_for_the_first(workspace: Workspace) -> None:
    ask_for(workspace)
    workspace.press(workspace.mette, "replan_request")
    status, body = workspace.submit(workspace.opened(2), workspace.mette, deadline="inden udgangen af 2026",
                                    reason="Endnu senere.")
    assert "venter allerede på koordinatorerne (anmodning 1" in body["errors"]["deadline"]
    assert len(requests_in(workspace)) == 1


def test_only_who_answered_undoes_it_and_an_undo_or_a_coordinators_change_is_not_undone(workspace: Workspace) -> None:
    tracker = Tracker(workspace.database_url)
    tracker.ok("status", "senfoelgeklinikker", "in_progress", "--note", "Region Nord er i gang.", "--by", "Karin")
    workspace.press(workspace.mette, "status_done", action_ts="2.1")
    answered = workspace.follow_ups(1)[0]
    workspace.press(workspace.lars, "undo_answer", blocks=answered["blocks"], action_ts="2.2")
    assert "Kun den, der svarede (Mette Sørensen" in workspace.follow_ups(2)[1]["text"]
    workspace.press(workspace.mette, "undo_answer", blocks=answered["blocks"], action_ts="2.3")
    workspace.follow_ups(3)
    assert workspace.status() == "in_progress"  # back to what it was before her answer, not what the message told
    workspace.press(workspace.mette, "undo_answer", blocks=answered["blocks"], action_ts="2.4")  # again: no toggle
    assert "ikke noget at fortryde" in workspace.follow_ups(4)[3]["text"] and workspace.status() == "in_progress"
    with Session(workspace.desk.engine) as session:
        occurrence = session.exec(select(OccurrenceRow).where(
            OccurrenceRow.deliverable_id == "senfoelgeklinikker")).one()
    assert occurrence.note == "Region Nord er i gang."  # presses and undos keep the latest note
    undo_row = max(workspace.history(), key=lambda row: row.id)
    assert undo_row.note == "Undone: back to the status before the answer."
    shown = tracker.ok("show", "senfoelgeklinikker").output
    assert "Undone: back to the status before the answer." in shown  # tracker's words, in the reader's language
    # A coordinator may undo an owner's answer, not a coordinator's change made on the command line.
    tracker.ok("status", "senfoelgeklinikker", "at_risk", "--note", "Forsinket.", "--by", "Karin")
    workspace.press(workspace.coordinator, "undo_answer", blocks=answered["blocks"], action_ts="2.5")
    assert "ikke noget at fortryde" in workspace.follow_ups(5)[4]["text"] and workspace.status() == "at_risk"


def test_a_modal_sent_after_another_answer_keeps_that_answer_in_the_message(workspace: Workspace) -> None:
    workspace.press(workspace.mette, "add_note")  # opens the note modal with the message as it is now...
    opened = workspace.opened(1)
    workspace.press(workspace.mette, "status_done")  # ...then, before sending it, presses Færdig
    workspace.follow_ups(1)
    assert workspace.submit(opened, workspace.mette, note="Alle fem er åbne.") == (200, None)
    latest = workspace.follow_ups(2)[1]
    text = json.dumps(latest["blocks"], ensure_ascii=False)
    assert "✓ Markeret færdig af Mette Sørensen" in text and "Note fra Mette Sørensen" in text
    assert "Status: færdig" in text and "Status: ikke påbegyndt" not in text
    assert validate_blocks(latest["blocks"]) == []


@pytest.mark.parametrize("payload", [
    "not json", "[1, 2]", '{"type": "block_actions"}', '{"type": "block_actions", "actions": "status_done"}',
    '{"type": "block_actions", "actions": [{"action_id": "status_done", "value": 5}], "user": "U1"}',
    '{"type": "block_actions", "actions": [{"action_id": "status_done", "value": "x:0"}], "message": []}',
    '{"type": "view_submission", "view": {"callback_id": "add_note", "private_metadata": "[]"}}',
    '{"type": "view_submission", "view": {"callback_id": "add_note", "state": {"values": {"note": []}}}}',
    '{"type": "view_submission", "view": "add_note"}', '{"type": "shortcut"}',
])
def test_a_malformed_interaction_is_answered_without_a_traceback_and_changes_nothing(
        workspace: Workspace, payload: str, caplog: pytest.LogCaptureFixture) -> None:
    import hashlib
    import hmac
    import urllib.error
    import urllib.request
    from urllib.parse import urlencode

    body = urlencode({"payload": payload}).encode()
    stamp = str(int(NOW.timestamp()))
    signature = "v0=" + hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"{workspace.app_url}/slack/interactions", data=body, method="POST", headers={
        "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    time.sleep(0.3)  # anything it does after its answer
    assert status in (200, 400)
    assert workspace.status() == "not_started" and workspace.history() == []
    assert not [record for record in caplog.records if record.exc_info or record.levelname == "ERROR"]


def test_the_coordinators_and_the_task_forces_messages_carry_no_owner_buttons(workspace: Workspace) -> None:
    workspace.desk.sweep(at(REMINDER_DAY + timedelta(days=21)))  # 14 days overdue: escalated to the coordinators
    theirs = [m for m in workspace.slack.messages if m.channel == workspace.slack_channel("koordinering")]
    assert theirs and not any(block["type"] == "actions" for m in theirs for block in m.blocks)


def test_a_deactivated_account_answers_for_nobody(workspace: Workspace) -> None:
    gone = workspace.slack.add_user("lars@regioner.example", deleted=True, name="Lars Holm")  # a member, but gone
    workspace.press(gone, "status_done")
    assert "deaktiveret" in workspace.follow_ups(1)[0]["text"] and workspace.status() == "not_started"


def test_an_owner_snoozes_an_overdue_alert_and_only_the_coordinators_hear_of_it_meanwhile(
        workspace: Workspace) -> None:
    assert not any(b["action_id"].startswith("snooze") for block in workspace.reminder().blocks
                   if block["type"] == "actions" for b in block["elements"])  # a reminder is not for snoozing
    first_alert = date(2026, 7, 1)  # the first working day after the due day, 30 June
    workspace.desk.sweep(at(first_alert - timedelta(days=1)))  # the reminders before it
    sent = len(workspace.slack.messages_in("regionerne"))
    workspace.desk.sweep(at(first_alert))
    (alert,) = workspace.slack.messages_in("regionerne")[sent:]
    (actions,) = [block for block in alert.blocks if block["type"] == "actions"]
    assert [(b["action_id"], b["text"]["text"]) for b in actions["elements"]][-2:] == [
        ("snooze_2w", "Udsæt 2 uger"), ("snooze_4w", "Udsæt 4 uger")]
    assert validate_blocks(alert.blocks) == []
    workspace.clock[0] = at(first_alert, 10, 5)
    workspace.press(workspace.mette, "snooze_2w", posted=alert)
    updated = workspace.follow_ups(1)[0]
    assert any("⏸ Udsat til 15. juli 2026 af Mette Sørensen" in str(block) for block in updated["blocks"])
    with Session(workspace.desk.engine) as session:
        occurrence = session.exec(select(OccurrenceRow).where(
            OccurrenceRow.deliverable_id == "senfoelgeklinikker")).one()
        (history,) = session.exec(select(HistoryRow).where(HistoryRow.action == "snoozed")).all()
    assert (occurrence.snoozed_until, occurrence.snoozed_by) == (
        date(2026, 7, 15), "Mette Sørensen <mette@regioner.example> via Slack")
    assert (history.new_value, history.note) == ("2026-07-15", "Paused from the message.")
    before = len(workspace.slack.messages_in("regionerne"))
    for day in range(1, 14):  # to 14 July: the weekly alert on Monday 6 and 13 July is paused
        workspace.desk.sweep(at(first_alert + timedelta(days=day)))
    assert len(workspace.slack.messages_in("regionerne")) == before
    escalated = [m for m in workspace.slack.messages_in("koordinering") if "Senfølgeklinikker" in str(m.blocks)]
    assert escalated and "udsat til 15. juli 2026 af Mette Sørensen" in escalated[-1].text
    assert "Udsat fra beskeden." in escalated[-1].text  # tracker's words, in the coordinators' Danish


def test_the_coordinators_are_reminded_every_week_a_request_waits_with_its_buttons(workspace: Workspace) -> None:
    ask_for(workspace)
    coordinators_request(workspace)  # announced at the next sweep

    def reminders() -> list:
        return [m for m in workspace.slack.messages_in("koordinering") if "venter stadig" in m.blocks[0]["text"]["text"]]

    for day in (1, 3, 6):
        workspace.desk.sweep(NOW + timedelta(days=day))
    assert reminders() == []
    workspace.desk.sweep(NOW + timedelta(days=7, minutes=10))  # a week: queued for the next send time...
    assert reminders() == []
    workspace.desk.sweep(at(REMINDER_DAY + timedelta(days=8), 9, 5))  # ...nine o'clock the next working day
    (reminder,) = reminders()
    assert reminder.blocks[0]["text"]["text"] == "Kræftplan V: anmodning nr. 1 om ny frist venter stadig"
    assert "Venter stadig på en afgørelse, 7 dage efter anmodningen" in reminder.text
    assert any(block.get("block_id") == "decide-1" for block in reminder.blocks)  # decided from it, too
    workspace.desk.sweep(NOW + timedelta(days=9))
    assert len(reminders()) == 1  # once a week
    workspace.clock[0] = NOW + timedelta(days=9)
    workspace.press(workspace.coordinator, "request_approve", posted=reminder)
    workspace.follow_ups(2)
    assert requests_in(workspace)[0].state == "approved"
    workspace.desk.sweep(NOW + timedelta(days=15))
    assert len(reminders()) == 1  # decided: no more


def test_a_message_about_a_request_decided_before_it_went_out_is_not_sent(workspace: Workspace) -> None:
    ask_for(workspace)
    coordinators_request(workspace)
    workspace.desk.sweep(NOW + timedelta(days=7, minutes=10))  # the reminder is queued for nine tomorrow...
    Tracker(workspace.database_url).ok("requests", "approve", "1", "--by", "Karin")  # ...and decided tonight
    workspace.desk.sweep(at(REMINDER_DAY + timedelta(days=8), 9, 5))
    assert not [m for m in workspace.slack.messages_in("koordinering") if "venter stadig" in m.blocks[0]["text"]["text"]]
    (skipped,) = workspace.desk.rows(kind="request", state="skipped")
    assert skipped.error_code == "not_called_for" and skipped.step.startswith("reminder")
