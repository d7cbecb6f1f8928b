"""The Teams channel against the webhook stand-in on loopback: the card, its escaping and size, and each outcome."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import free_port
from tests.notify.teams_standin import SIZE_LIMIT, Reply, TeamsStandIn
from tracker.notify.message import Item, Message, PermanentSendError, TransientSendError, UnknownOutcomeError
from tracker.notify.teams import PAYLOAD_LIMIT, TeamsChannel, card_for, escape_card_markdown, size
from tracker.notify.webhooks import teams_handle

CPH = ZoneInfo("Europe/Copenhagen")
ANSWER = "https://tracker.example.dk/answer/tok3n"


def item(number: int = 0, **changes: object) -> Item:
    fields = dict(deliverable_id=f"leverance-{number}", occurrence=None, title=f"Leverance {number}",
                  owner="Regionerne", due=date(2026, 6, 30), deadline_text="senest i første halvår af 2026",
                  status="ikke påbegyndt", note=None, source_section="Senfølger",
                  source_quote="… senest i første halvår af 2026.",
                  url=f"https://tracker.example.dk/deliverables/leverance-{number}",
                  line="frist om 7 dage (30. juni 2026)", status_value="not_started", kind="reminder")
    fields.update(changes)
    return Item(**fields)  # type: ignore[arg-type]


def message(recipient: str, items: tuple[Item, ...], **changes: object) -> Message:
    fields = dict(key="k/1", kind="reminder", channel="teams", recipient=recipient, language="da",
                  at=datetime(2026, 6, 23, 9, tzinfo=CPH), subject="Kræftplan V: 1 frist nærmer sig",
                  intro="Det kræver jeres opmærksomhed.", items=items, text="…", answer_url=ANSWER)
    fields.update(changes)
    return Message(**fields)  # type: ignore[arg-type]


def shown(card: object) -> str:
    """Every text of a card as Teams shows it: backslash escapes undone."""
    found: list[str] = []

    def walk(element: object) -> None:
        if isinstance(element, dict):
            found.extend(str(element[key]) for key in ("text", "title", "value") if isinstance(element.get(key), str))
            for value in element.values():
                walk(value)
        elif isinstance(element, list):
            for value in element:
                walk(value)

    walk(card)
    return re.sub(r"\\(.)", r"\1", " ".join(found))


@pytest.fixture
def teams():
    with TeamsStandIn() as standin:
        yield standin


def channel_for(teams: TeamsStandIn, name: str = "regioner", **options: object) -> tuple[TeamsChannel, str]:
    url = teams.add_webhook(name)
    return TeamsChannel({teams_handle(url): url}, timeout=3, **options), teams_handle(url)  # type: ignore[arg-type]


def test_a_reminder_is_one_valid_card_with_its_facts_and_answer_links(teams: TeamsStandIn) -> None:
    channel, handle = channel_for(teams)
    delivery = channel.send(message(handle, (item(0, note="Tre regioner er i gang"), item(1))))
    assert delivery.detail == {"parts": "1"}
    (card,) = teams.cards("regioner")
    text = shown(card)
    for said in ("Kræftplan V: 1 frist nærmer sig", "Leverance 0", "frist om 7 dage (30. juni 2026)", "Regionerne",
                 "“senest i første halvår af 2026”", "ikke påbegyndt", "Tre regioner er i gang", "Senfølger"):
        assert said in text, said
    opened = re.findall(r'"url": "([^"]+)"', json.dumps(card))
    assert f"{ANSWER}#item-0" in opened and f"{ANSWER}#item-1" in opened and ANSWER in opened
    assert "[Leverance 0](https://tracker.example.dk/deliverables/leverance-0)" in json.dumps(card)


def test_english_recipients_get_english_labels(teams: TeamsStandIn) -> None:
    channel, handle = channel_for(teams)
    channel.send(message(handle, (item(),), language="en"))
    text = shown(teams.cards("regioner")[0])
    assert "Responsible" in text and "read as 30 June 2026" in text and "Answer" in text


@pytest.mark.parametrize("hostile", [
    "**fed** _kursiv_ [klik](https://evil.example) <at>Alle</at> &amp; # Overskrift",
    "- punkt\n1. liste\n> citat",
    "[x](javascript:alert(1)) `kode` ~~streg~~ ![billede](https://evil.example/x.png)",
])
def test_register_text_cannot_format_link_or_mention(teams: TeamsStandIn, hostile: str) -> None:
    channel, handle = channel_for(teams)
    channel.send(message(handle, (item(title=hostile, note=hostile, source_quote=hostile, owner=hostile),),
                         subject=hostile, intro=hostile))
    card = teams.cards("regioner")[0]
    escaped = escape_card_markdown(hostile)
    # Every Markdown character is escaped, and nothing is left that Teams reads as a tag or an entity.
    assert re.search(r"(?<!\\)[*_\[\]()`~#>!+\-]", escaped) is None
    assert "<" not in escaped and ">" not in escaped and "&" not in escaped.replace("&amp;", "").replace(
        "&lt;", "").replace("&gt;", "")
    texts = re.findall(r'"(?:text|value)": "((?:[^"\\]|\\.)*)"', json.dumps(card, ensure_ascii=False))
    decoded = [json.loads(f'"{text}"') for text in texts]
    flat = " ".join(" ".join(text.split()) for text in decoded)
    assert " ".join(escaped.split()) in flat  # the subject, the note, the owner: escaped, as they are
    # The title is the one link: to the deliverable's page, its label escaped.
    links = re.findall(r"\]\((https?://[^)]*)\)", flat.replace("\\]", "").replace("\\(", ""))
    assert links == ["https://tracker.example.dk/deliverables/leverance-0"]
    assert "javascript:" not in " ".join(links) and "<at>" not in flat


def test_a_long_bundle_goes_as_several_cards_in_order_each_item_whole_once(teams: TeamsStandIn) -> None:
    channel, handle = channel_for(teams)
    items = tuple(item(number, source_quote="Lang kilde. " * 80, title=f"Leverance {number:03d}")
                  for number in range(60))
    delivery = channel.send(message(handle, items))
    cards = teams.cards("regioner")
    assert len(cards) == int(delivery.detail["parts"]) > 1
    assert all(len(json.dumps({"type": "message", "attachments": [{"content": c}]}).encode()) < SIZE_LIMIT
               for c in cards)
    titles = [re.findall(r"Leverance (\d{3})", shown(card)) for card in cards]
    flat = [title for card in titles for title in dict.fromkeys(card)]
    assert flat == [f"{number:03d}" for number in range(60)]  # in order, each once, none split
    assert shown(cards[0]).startswith(f"Kræftplan V: 1 frist nærmer sig (1/{len(cards)})")


def test_one_giant_item_is_shortened_to_fit_and_stays_whole(teams: TeamsStandIn) -> None:
    channel, handle = channel_for(teams)
    giant = item(source_quote="Ord " * 20_000, note="Note " * 10_000)
    (payload,) = card_for(message(handle, (giant,)))
    assert size(payload) <= PAYLOAD_LIMIT
    channel.send(message(handle, (giant,)))
    text = shown(teams.cards("regioner")[0])
    assert "Leverance 0" in text and "…" in text and f"{ANSWER}#item-0" in json.dumps(teams.cards("regioner")[0])


def test_a_rate_limit_is_waited_out(teams: TeamsStandIn) -> None:
    channel, handle = channel_for(teams)
    teams.script("regioner", Reply.status(429, retry_after=0.2))
    channel.send(message(handle, (item(),)))
    assert [status for _name, status in teams.posts] == [429, 202]


def test_a_rate_limit_longer_than_the_wait_is_transient(teams: TeamsStandIn) -> None:
    channel, handle = channel_for(teams, max_wait=1)
    teams.script("regioner", Reply.status(429, retry_after=30))
    with pytest.raises(TransientSendError) as caught:
        channel.send(message(handle, (item(),)))
    assert caught.value.retry_after == 30 and teams.cards("regioner") == []


def test_a_5xx_is_transient_and_a_504_may_have_been_posted(teams: TeamsStandIn) -> None:
    channel, handle = channel_for(teams)
    teams.script("regioner", Reply.status(503, retry_after=7), Reply.status(504))
    with pytest.raises(TransientSendError) as transient:
        channel.send(message(handle, (item(),)))
    assert transient.value.retry_after == 7
    with pytest.raises(UnknownOutcomeError):
        channel.send(message(handle, (item(),)))


@pytest.mark.parametrize(("code", "said"), [(400, "rejected the card"), (404, "is gone"), (401, "signature")])
def test_refusals_are_permanent_and_never_show_the_address(teams: TeamsStandIn, caplog, code: int,
                                                            said: str, english: None) -> None:
    channel, handle = channel_for(teams)
    url = teams._urls["regioner"]
    teams.outage("regioner", Reply.status(code))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(PermanentSendError) as caught:
        channel.send(message(handle, (item(),)))
    assert caught.value.code == f"http_{code}" and not caught.value.whole_channel
    assert said in str(caught.value) and handle in str(caught.value)
    assert url not in str(caught.value) + caplog.text and "sig=" not in caplog.text


def test_a_wrong_signature_is_refused_by_the_flow(teams: TeamsStandIn) -> None:
    url = teams.add_webhook("regioner")
    forged = re.sub(r"sig=[^&]+", "sig=forged", url)
    channel = TeamsChannel({teams_handle(forged): forged}, timeout=3)
    with pytest.raises(PermanentSendError) as caught:
        channel.send(message(teams_handle(forged), (item(),)))
    assert caught.value.code == "http_401" and "forged" not in str(caught.value)


def test_a_dropped_answer_may_have_been_posted_and_a_closed_port_posted_nothing(teams: TeamsStandIn) -> None:
    channel, handle = channel_for(teams)
    teams.script("regioner", Reply.dropped(posted=True))
    with pytest.raises(UnknownOutcomeError):
        channel.send(message(handle, (item(),)))
    assert len(teams.cards("regioner")) == 1
    closed = f"http://127.0.0.1:{free_port()}/workflows/x/triggers/manual/paths/invoke?sig=abc"
    nowhere = TeamsChannel({teams_handle(closed): closed}, timeout=3)
    with pytest.raises(TransientSendError) as caught:
        nowhere.send(message(teams_handle(closed), (item(),)))
    assert "sig=abc" not in str(caught.value)


def test_when_a_later_card_fails_the_error_names_what_the_earlier_ones_delivered(teams: TeamsStandIn) -> None:
    channel, handle = channel_for(teams)
    items = tuple(item(number, source_quote="Lang kilde. " * 80) for number in range(60))
    parts = card_for(message(handle, items))
    assert len(parts) >= 2
    teams.script("regioner", Reply.status(202), Reply.status(400))
    with pytest.raises(PermanentSendError) as caught:
        channel.send(message(handle, items))
    first = re.findall(r"Leverance (\d+)", shown(teams.cards("regioner")[0]))
    assert caught.value.delivered == tuple(sorted({int(number) for number in first}))
    assert 0 < len(caught.value.delivered) < len(items)


def test_an_unknown_handle_is_permanent_and_the_repr_shows_no_address(teams: TeamsStandIn) -> None:
    channel, handle = channel_for(teams)
    with pytest.raises(PermanentSendError) as caught:
        channel.send(replace(message(handle, (item(),)), recipient="teams:0000000000"))
    assert caught.value.code == "unknown_webhook"
    assert "127.0.0.1" not in repr(channel) and "sig" not in repr(channel)
