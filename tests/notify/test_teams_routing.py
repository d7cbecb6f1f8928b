"""Teams in the contacts file and in the routing: webhooks as secrets named by their handles, ``prefer``, the
switch, and what `tracker config check` says; no webhook address is ever shown."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Tracker
from tests.notify.test_planner import subject
from tracker.errors import TrackerError
from tracker.notify.contacts import ContactsError, Contacts, Reach, parse_contacts
from tracker.notify.planner import plan_notices
from tracker.notify.settings import build_channels, channel_names
from tracker.notify.webhooks import masked_webhook, teams_handle, webhook_problem
from tracker.policy import PolicySet

CPH = ZoneInfo("Europe/Copenhagen")
SIG = "Xy7-SECRET-SIGNATURE-q1"
WEBHOOK = ("https://prod-42.westeurope.logic.azure.com:443/workflows/9f0c1e/triggers/manual/paths/invoke"
           f"?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIG}")
POWER_PLATFORM = ("https://default0123.ab.environment.api.powerplatform.com/powerautomate/automations/direct/"
                  f"workflows/77/triggers/manual/paths/invoke?api-version=1&sig={SIG}")
REMINDER_DAY, DUE = date(2026, 6, 30), date(2026, 7, 7)


def test_a_handle_names_a_webhook_without_revealing_it() -> None:
    handle = teams_handle(WEBHOOK)
    assert handle.startswith("teams:") and len(handle) == len("teams:") + 10
    assert handle == teams_handle(f"  {WEBHOOK}\n") != teams_handle(POWER_PLATFORM)
    shown = masked_webhook(WEBHOOK)
    assert shown == f"https://prod-42.westeurope.logic.azure.com/… ({handle})"
    assert SIG not in shown and "workflows" not in shown


@pytest.mark.parametrize(("url", "said"), [
    (WEBHOOK, None),
    (POWER_PLATFORM, None),
    ("http://127.0.0.1:8123/workflows/x/triggers/manual/paths/invoke?sig=abc", None),  # a stand-in on loopback
    (WEBHOOK.replace("https://", "http://"), "must start with https://"),
    ("https://hooks.example.org/workflows/1?sig=abc", "hooks.example.org is not a Teams Workflows host"),
    ("https://contoso.webhook.office.com/webhookb2/abc/IncomingWebhook/def/ghi", "Microsoft has retired"),
    (WEBHOOK.replace(f"&sig={SIG}", ""), "has no signature"),
    ("https://[::1", "is not a URL"),
])
def test_the_form_of_a_webhook_address(url: str, said: str | None, english: None) -> None:
    problem = webhook_problem(url)
    assert problem is None if said is None else (said in problem and SIG not in problem)


def test_the_contacts_file_takes_teams_and_prefer() -> None:
    contacts = parse_contacts(f'[party.sst]\nteams = ["{WEBHOOK}"]\nemail = ["sst@example.org"]\n'
                              'prefer = ["teams", "email"]\n', "contacts.toml", {"sst"})
    reach = contacts.reach("sst")
    assert reach.teams == (WEBHOOK,) and reach.prefer == ("teams", "email")
    assert reach.recipients("teams") == (teams_handle(WEBHOOK),)
    assert contacts.webhooks() == {teams_handle(WEBHOOK): WEBHOOK}
    assert reach.route(("slack", "teams", "email")) == ("teams", (teams_handle(WEBHOOK),))
    assert reach.route(("slack", "email")) == ("email", ("sst@example.org",))  # Teams off: e-mail carries it
    assert reach.route(("slack",)) is None


def test_a_wrong_teams_entry_names_its_line_and_the_fix_and_never_the_address(english: None) -> None:
    retired = "https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456" + SIG
    text = (f'[party.sst]\nemail = ["sst@example.org"]\nteams = ["{WEBHOOK}", "{retired}"]\n'
            'prefer = ["teams", "sms", "teams"]\n')
    with pytest.raises(ContactsError) as caught:
        parse_contacts(text, "contacts.toml", {"sst"})
    message = caught.value.message
    assert "contacts.toml:3 [party.sst.teams]: webhook 2:" in message
    assert "Microsoft has retired" in message and "Workflows" in message
    assert "contacts.toml:4 [party.sst.prefer]" in message and "slack, teams, email" in message
    assert SIG not in message and "webhookb2" not in message


def test_prefer_decides_the_channel_and_the_rest_is_the_order_slack_teams_email() -> None:
    both = Reach(slack=("#sst",), teams=(WEBHOOK,), email=("sst@example.org",))
    assert both.route(("slack", "teams", "email"))[0] == "slack"  # unsaid: Slack, then Teams, then e-mail
    assert replace_prefer(both, ("email",)).route(("slack", "teams", "email"))[0] == "email"
    # A channel it does not list comes after those it does, in the usual order.
    assert replace_prefer(both, ("teams",)).route(("slack", "email"))[0] == "slack"


def replace_prefer(reach: Reach, prefer: tuple[str, ...]) -> Reach:
    from dataclasses import replace

    return replace(reach, prefer=prefer)


def test_a_teams_party_is_planned_on_teams_by_its_handle_and_on_the_console_so_too() -> None:
    contacts = Contacts(parties={"sst": Reach(teams=(WEBHOOK,), email=("sst@example.org",),
                                              prefer=("teams", "email"))},
                        coordinators=Reach(email=("koordinator@example.org",)))
    item = subject(DUE)
    on_teams = plan_notices([item], PolicySet(), contacts, ["teams", "email"], REMINDER_DAY, REMINDER_DAY)
    assert [(n.channel, n.recipient, n.reason) for n in on_teams.notices] == [
        ("teams", teams_handle(WEBHOOK), "responsible party sst")]
    assert all(SIG not in n.key for n in on_teams.notices)
    off = plan_notices([item], PolicySet(), contacts, ["email"], REMINDER_DAY, REMINDER_DAY)
    assert [(n.channel, n.recipient) for n in off.notices] == [("email", "sst@example.org")]
    console = plan_notices([item], PolicySet(), contacts, [], REMINDER_DAY, REMINDER_DAY)
    assert [(n.channel, n.recipient) for n in console.notices] == [("console", teams_handle(WEBHOOK))]


def test_teams_is_switched_on_by_tracker_teams_and_posts_to_the_contacts_webhooks(english: None) -> None:
    contacts = Contacts(parties={"sst": Reach(teams=(WEBHOOK,))})
    assert channel_names({}) == () and channel_names({"TRACKER_TEAMS": "off"}) == ()
    assert channel_names({"TRACKER_TEAMS": "on", "SMTP_URL": "smtp://localhost"}) == ("teams", "email")
    channels = build_channels({"TRACKER_TEAMS": "on"}, contacts)
    assert list(channels) == ["teams"] and SIG not in repr(channels["teams"])
    with pytest.raises(TrackerError, match="TRACKER_TEAMS='maybe' is neither on nor off"):
        channel_names({"TRACKER_TEAMS": "maybe"})


def test_config_check_counts_the_webhooks_and_shows_none_of_them(sqlite_url: str, small_register: Path,
                                                                 tmp_path: Path) -> None:
    tracker = Tracker(sqlite_url, small_register)
    tracker.ok("sync")
    contacts = tmp_path / "contacts.toml"
    contacts.write_text(f'[party.sst]\nteams = ["{WEBHOOK}", "{POWER_PLATFORM}"]\n', encoding="utf-8")
    on = tracker.ok("config", "check", "--offline", env={"TRACKER_CONTACTS": str(contacts),
                                                         "TRACKER_TEAMS": "on"}).output
    assert "2 Teams webhooks of the right form" in on
    assert teams_handle(WEBHOOK) in on and "prod-42.westeurope.logic.azure.com" in on
    unused = tracker.ok("config", "check", "--offline", env={"TRACKER_CONTACTS": str(contacts)}).output
    assert "names 2 Teams webhooks, unused: set TRACKER_TEAMS=on" in unused
    empty = tracker.fails("config", "check", "--offline", env={"TRACKER_TEAMS": "on"}).output
    assert "names no Teams webhook" in empty
    broken = tmp_path / "broken.toml"
    broken.write_text(f'[party.sst]\nteams = ["{WEBHOOK.replace("https", "http")}"]\n', encoding="utf-8")
    refused = tracker.fails("config", "check", "--offline", env={"TRACKER_CONTACTS": str(broken),
                                                                 "TRACKER_TEAMS": "on"}).output
    assert "must start with https://" in refused
    for output in (on, unused, empty, refused):
        assert SIG not in output and "/workflows/" not in output
