"""The console channel prints exactly what would be sent, and nothing that can drive a terminal."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tracker.i18n import _, using_language
from tracker.notify.console import SEPARATOR, ConsoleChannel, render
from tracker.notify.message import Delivery, Item, Message, TransientSendError

ITEM = Item(
    deliverable_id="senfoelgeklinikker", occurrence=2026, title="Senfølgeklinikker i alle fem regioner",
    owner="Danske Regioner", due=date(2026, 6, 30), deadline_text="inden udgangen af juni", status="i gang",
    note=None, source_section="5.2", source_quote="Regionerne etablerer senfølgeklinikker.",
    url="https://kraeftplan.example/deliverables/senfoelgeklinikker", line="frist om 7 dage (30. juni 2026)",
)
MESSAGE = Message(
    key="senfoelgeklinikker/2026:reminder:7:slack:#kraeftplan-regionerne",
    kind="reminder",
    channel="slack",
    recipient="#kraeftplan-regionerne",
    language="da",
    at=datetime(2026, 6, 23, 9, 0, tzinfo=ZoneInfo("Europe/Copenhagen")),
    subject="Påmindelse: frist om 7 dage",
    intro="Her er en påmindelse om en frist i Kræftplan V.",
    items=(ITEM,),
    text="Her er en påmindelse om en frist i Kræftplan V.\n\n"
         "• Senfølgeklinikker i alle fem regioner (2026): frist om 7 dage (30. juni 2026)\n"
         "  Ansvarlig: Danske Regioner · Status: i gang\n",
)


def _printed(message: Message) -> str:
    stream = io.StringIO()
    assert ConsoleChannel(stream).send(message) == Delivery(provider_id=None)
    return stream.getvalue()


@pytest.mark.parametrize("language", ["da", "en"])
def test_prints_the_facts_the_subject_and_the_text(language: str) -> None:
    with using_language(language):
        output = _printed(MESSAGE)
        header, subject, *body, separator, end = output.split("\n")
        assert header == _("{when} · {kind} to {recipient} by {channel} · key {key}").format(
            when="2026-06-23 09:00+02:00", kind="reminder", recipient="#kraeftplan-regionerne", channel="Slack",
            key="senfoelgeklinikker/2026:reminder:7:slack:#kraeftplan-regionerne")
        assert subject == _("Subject: {subject}").format(subject="Påmindelse: frist om 7 dage")
    assert "\n".join(body) == MESSAGE.text.rstrip("\n")  # the text exactly, æøå and all
    assert separator == SEPARATOR and end == ""


def test_names_the_channel_it_stands_in_for() -> None:
    with using_language("en"):
        email = _printed(replace(MESSAGE, channel="email", recipient="ole@region.example"))
        assert email.startswith("2026-06-23 09:00+02:00 · reminder to ole@region.example by e-mail · key ")
        assert "by Slack" in _printed(MESSAGE)


def test_a_late_message_is_marked_in_its_language() -> None:
    with using_language("da"):
        note = _("Sent late: this message was due {day} at {time}.").format(day="23. juni 2026", time="09:00")
    with using_language("en"):  # the header follows the operator's language, the message its own
        lines = _printed(replace(MESSAGE, late=True)).split("\n")
    assert lines[2] == note
    assert "\n".join(lines[3:-2]) == MESSAGE.text.rstrip("\n")
    assert note not in _printed(MESSAGE)


def test_register_text_cannot_drive_the_terminal() -> None:
    hostile = replace(MESSAGE, subject="Frist\x1b[2J\r\nFalsk linje", recipient="#k\x1b]0;titel\x07",
                      text="Linje 1\r\nLinje 2\x1b[31m rød\x9b\x00\n")
    output = _printed(hostile)
    assert not any(ord(char) < 32 and char != "\n" or 0x7F <= ord(char) <= 0x9F for char in output)
    lines = output.split("\n")
    assert lines[1].endswith("Frist[2J Falsk linje")  # the subject stays on its line
    assert lines[2:4] == ["Linje 1", "Linje 2[31m rød"]


def test_writes_to_standard_output_as_it_is_when_sending(capsys: pytest.CaptureFixture[str]) -> None:
    channel = ConsoleChannel()
    channel.send(MESSAGE)
    assert capsys.readouterr().out == render(MESSAGE)
    assert channel.name == "console"


def test_a_stream_that_cannot_be_written_is_a_transient_failure() -> None:
    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(TransientSendError, match="Broken pipe"):
        ConsoleChannel(Broken()).send(MESSAGE)
