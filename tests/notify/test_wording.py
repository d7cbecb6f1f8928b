"""Danish that reads well: plural subjects, a "please confirm" owners can act on, a digest that says what moved."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

from tests.conftest import Tracker
from tests.notify.test_planner import BASE, CONTACTS, COPENHAGEN, subject
from tracker.i18n import using_language
from tracker.model import Change, Status
from tracker.notify.planner import bundle, plan_notices
from tracker.policy import PolicySet


def overdue_subjects(count: int) -> list:
    return [subject(date(2026, 6, 30), deliverable_id=f"leverance-{index}") for index in range(count)]


def messages_on(day: date, subjects: list, changes: list[Change] = (), contacts=CONTACTS) -> list:
    plan = plan_notices(subjects, PolicySet(), contacts, ["slack", "email"], day, day)
    return bundle(plan.notices, subjects, list(changes), PolicySet(), COPENHAGEN, BASE, contacts.reply_to())


def test_danish_subjects_agree_in_number() -> None:
    (three,) = [m for m in messages_on(date(2026, 7, 1), overdue_subjects(3)) if m.recipient == "#sst"]
    assert three.subject == "Kræftplan V: 3 forsinkede frister"
    (one,) = [m for m in messages_on(date(2026, 7, 1), overdue_subjects(1)) if m.recipient == "#sst"]
    assert one.subject == "Kræftplan V: 1 forsinket frist"
    with using_language("en"):
        english = replace(CONTACTS, parties={"sst": replace(CONTACTS.parties["sst"], language="en")})
        (message,) = [m for m in messages_on(date(2026, 7, 1), overdue_subjects(3), contacts=english)
                      if m.recipient == "#sst"]
    assert message.subject == "Cancer Plan V: 3 overdue deadlines"


def test_please_confirm_tells_owners_whom_to_answer_not_a_command_they_do_not_have() -> None:
    (message,) = [m for m in messages_on(date(2026, 7, 3), overdue_subjects(1)) if m.kind == "confirm"]
    (item,) = message.items
    assert "tracker status" not in message.text
    assert item.line.endswith("Skriv venligst til koordinatorerne, hvordan det står (koordinator@example.org).")


def test_the_digest_says_a_deadline_moved_not_only_that_something_changed() -> None:
    moved = subject(date(2026, 12, 31), deliverable_id="flyttet", status=Status.DONE)
    monday = date(2026, 7, 6)
    changes = [Change(at=datetime(2026, 7, 1, 22, 30, tzinfo=timezone.utc), deliverable_id="flyttet", year=None,
                      action="replan")]
    (digest,) = [m for m in messages_on(monday, [moved], changes) if m.kind == "digest"]
    (item,) = [item for item in digest.items if item.deliverable_id == "flyttet"]
    assert item.line == "omplanlagt i den seneste uge: frist nu 31. december 2026, færdig"


def test_notify_preview_shows_what_the_recipients_read(synced: Tracker) -> None:
    shown = synced.ok("notify", "preview", "--from", "2026-06-23", "--to", "2026-06-23").output
    # In the recipients' language (Danish here), whatever the operator's.
    assert "│ Kræftplan V: 1 frist nærmer sig" in shown
    assert "│ • Senfølgeklinikker etableret: frist om 7 dage (30. juni 2026)" in shown
