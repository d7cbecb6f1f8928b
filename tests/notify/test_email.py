"""The e-mail channel against a real SMTP server on loopback (aiosmtpd), and the MIME it builds.

Every message that arrives is parsed back with the ``email`` package's default
policy and its .ics part with ``icalendar``: libraries other than the code
that wrote them.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.notify.smtp_server import HOST, Certificate, SmtpServer, free_port, make_certificate
from tests.plan_views import occurrence
from tracker.calendar.events import EventState, render_event
from tracker.calendar.feeds import FeedDefinition, render_calendar
from tracker.model import PlanNames
from tracker.errors import TrackerError
from tracker.i18n import _, using_language
from tracker.model import Status
from tracker.notify.email import (
    ICS_FILENAME,
    EmailChannel,
    SmtpSettings,
    build_email,
    display_smtp_url,
    mailbox,
    message_id,
    parse_smtp_url,
    wire_bytes,
)
from tracker.notify.message import (
    Delivery,
    Item,
    Message,
    PermanentSendError,
    TransientSendError,
    UnknownOutcomeError,
)

# The test server takes passwords over unencrypted loopback connections on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

CPH = ZoneInfo("Europe/Copenhagen")
SENDER = "Kræftplan V <opfoelgning@kraeftplan.example>"
RECIPIENT = "ole.aabo@region.example"
SENT_AT = datetime(2026, 6, 23, 7, 0, tzinfo=UTC)
PASSWORD = "hemmeligt-p@ss:wørd/%"  # every character a URL must encode, and non-ASCII


def _calendar(*uids_and_titles: tuple[str, str]) -> bytes:
    events = []
    for deliverable_id, title in uids_and_titles:
        content = occurrence(
            deliverable_id=deliverable_id, title=title, title_en=title, owner_name="Danske Regioner",
            owner_name_en="Danish Regions", theme="senfoelger", deadline_text="inden udgangen af juni 2026",
            window_start=date(2026, 6, 30), due=date(2026, 6, 30), status=Status.IN_PROGRESS,
            source_section="5.2", source_quote="Regionerne etablerer senfølgeklinikker.",
        )
        state = EventState(sequence=0, changed_at=datetime(2026, 2, 2, 9, tzinfo=UTC))
        events.append(render_event(content, state, language="da", base_url="https://kraeftplan.example").encode())
    feed = FeedDefinition(name="mail", token_hash="0" * 64, language="da")
    return render_calendar(feed, PlanNames(), events)


def _item(title: str = "Senfølgeklinikker i alle fem regioner", **changes: object) -> Item:
    item = Item(
        deliverable_id="senfoelgeklinikker", occurrence=None, title=title, owner="Danske Regioner",
        due=date(2026, 6, 30), deadline_text="inden udgangen af juni 2026", status="i gang",
        note="Økonomien er på plads; åbning i Aalborg først.", source_section="5.2",
        source_quote="Regionerne etablerer senfølgeklinikker.",
        url="https://kraeftplan.example/deliverables/senfoelgeklinikker", line="frist om 7 dage (30. juni 2026)",
    )
    return replace(item, **changes)


def _message(*, key: str = "senfoelgeklinikker:reminder:7:email:ole.aabo@region.example",
             subject: str = "Påmindelse: frist om 7 dage for senfølgeklinikker", items: tuple[Item, ...] | None = None,
             calendar: bytes | None = None, **changes: object) -> Message:
    message = Message(
        key=key, kind="reminder", channel="email", recipient=RECIPIENT, language="da",
        at=datetime(2026, 6, 23, 9, 0, tzinfo=CPH), subject=subject,
        intro="Kære Ole, her er en påmindelse om en frist i Kræftplan V.",
        items=items if items is not None else (_item(),),
        text="Kære Ole, her er en påmindelse om en frist i Kræftplan V.\n\n"
             "• Senfølgeklinikker i alle fem regioner: frist om 7 dage (30. juni 2026)\n"
             ".\nMed venlig hilsen, opfølgningen på Kræftplan V\n",
        calendar=calendar,
    )
    return replace(message, **changes)


def _parse(data: bytes) -> EmailMessage:
    parsed = message_from_bytes(data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _built(message: Message, sender: str = SENDER) -> EmailMessage:
    """What build_email makes, as a receiver would parse it off the wire."""
    data = build_email(message, sender, now=SENT_AT).as_bytes(policy=policy.SMTP)
    return _parse(data)


def _parts(parsed: EmailMessage) -> tuple[str, str, EmailMessage | None]:
    text = parsed.get_body(("plain",))
    body = parsed.get_body(("html",))
    assert text is not None and body is not None
    attachments = list(parsed.iter_attachments())
    assert len(attachments) <= 1
    crlf = "\r\n"  # the wire's line ends; the email package hands them back as they came
    return (text.get_content().replace(crlf, "\n"), body.get_content().replace(crlf, "\n"),
            attachments[0] if attachments else None)


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with SmtpServer() as running:
        yield running


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    made = make_certificate(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("neither the cryptography package nor openssl is available to make a test certificate")
    return made


# --- the MIME message ---------------------------------------------------------------------------------------------


def test_text_html_and_calendar_parts_in_a_mixed_message() -> None:
    calendar = _calendar(("senfoelgeklinikker", "Senfølgeklinikker i alle fem regioner"),
                         ("evaluering", "Evaluering af pakkeforløb"))
    parsed = _built(_message(calendar=calendar))

    assert parsed.get_content_type() == "multipart/mixed"
    alternative, attachment = parsed.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in alternative.iter_parts()] == ["text/plain", "text/html"]
    text, body, ics = _parts(parsed)
    assert text == _message().text
    assert "<p>Kære Ole, her er en påmindelse om en frist i Kræftplan V.</p>" in body
    assert ics is attachment
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_param("method") == "PUBLISH"
    assert ics.get_param("charset") == "utf-8"
    assert ics.get_filename() == ICS_FILENAME
    assert ics.get_content_disposition() == "attachment"
    assert ics.get_payload(decode=True) == calendar  # octet for octet: CRLF line ends and folding intact
    vcalendar = Calendar.from_ical(ics.get_payload(decode=True))
    events = {str(event["UID"]): str(event["SUMMARY"]) for event in vcalendar.walk("VEVENT")}
    assert events == {"senfoelgeklinikker@kraeftplan-v.tracker": "Senfølgeklinikker i alle fem regioner",
                      "evaluering@kraeftplan-v.tracker": "Evaluering af pakkeforløb"}
    assert str(vcalendar["METHOD"]) == "PUBLISH"


def test_without_a_calendar_the_message_is_just_the_two_alternatives() -> None:
    parsed = _built(_message())
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert list(parsed.iter_attachments()) == []


def test_headers() -> None:
    parsed = _built(_message())
    assert parsed["From"].addresses[0].addr_spec == "opfoelgning@kraeftplan.example"
    assert parsed["From"].addresses[0].display_name == "Kræftplan V"
    assert str(parsed["To"]) == RECIPIENT
    assert parsed["Date"].datetime == SENT_AT
    assert parsed["Date"].datetime.utcoffset().total_seconds() == 7200  # written in Copenhagen's time
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["X-Auto-Response-Suppress"] == "All"
    assert parsed["Content-Language"] == "da"
    assert parsed["MIME-Version"] == "1.0"
    assert parsed.defects == []
    for part in parsed.walk():
        assert part.defects == []


def test_date_is_the_due_time_without_a_clock() -> None:
    data = build_email(_message(), SENDER).as_bytes(policy=policy.SMTP)
    assert _parse(data)["Date"].datetime == datetime(2026, 6, 23, 9, 0, tzinfo=CPH)


def test_danish_subject_round_trips_and_the_message_is_seven_bit() -> None:
    subject = "Påmindelse: Æblegrød, øl og ål – “frist” om 7 dage"
    message = _message(subject=subject)
    data = wire_bytes(build_email(message, SENDER, now=SENT_AT))
    data.decode("ascii")  # any server takes it: no 8BITMIME, no SMTPUTF8
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert b"=?utf-8?" in data.split(b"\r\n\r\n", 1)[0]  # RFC 2047 encoded words in the header block
    parsed = _parse(data[:-3])  # without the final dot
    assert parsed["Subject"] == subject
    text, body, _ics = _parts(parsed)
    assert "Senfølgeklinikker i alle fem regioner" in text
    assert "Økonomien er på plads; åbning i Aalborg først." in body


def test_message_id_is_derived_from_the_outbox_key() -> None:
    first = _built(_message(key="a:reminder:7:email:ole"))["Message-ID"]
    again = _built(_message(key="a:reminder:7:email:ole", subject="Andet emne"))["Message-ID"]
    other = _built(_message(key="a:reminder:14:email:ole"))["Message-ID"]
    assert first == again == message_id("a:reminder:7:email:ole")
    assert first != other
    assert re.fullmatch(r"<[0-9a-f]{32}@kraeftplan-v\.tracker>", first)


@pytest.mark.parametrize("evil", [
    "Frist\r\nBcc: x@evil.example",
    "Frist\nBcc: x@evil.example",
    "Frist\rBcc: x@evil.example",
    "Frist\u2028Bcc: x@evil.example",
    "Frist\x00\x0bBcc: x@evil.example",
    "Frist\r\n\r\nInjiceret brødtekst",
])
def test_register_text_cannot_add_headers(evil: str) -> None:
    message = _message(subject=evil, items=(_item(title=evil),))
    data = wire_bytes(build_email(message, SENDER, now=SENT_AT))
    parsed = _parse(data)
    assert parsed["Bcc"] is None
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    names = re.findall(r"(?m)^([^\s:]+):", head)
    assert names == ["From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "X-Auto-Response-Suppress",
                     "MIME-Version", "Content-Type", "Content-Language"]
    assert parsed["Subject"].startswith("Frist ")
    assert "\n" not in parsed["Subject"] and "\r" not in parsed["Subject"]
    assert parsed.get_content_type() == "multipart/alternative"
    _text, body, _ics = _parts(parsed)
    title = re.sub(r"[\s\x00-\x1f\u2028]+", " ", evil)  # the title is one line in HTML too
    assert f'<a href="{_item().url}">{title}</a>' in body


@pytest.mark.parametrize("recipient", [
    "",
    "ole",
    "ole@",
    "@region.example",
    "ole@localhost",
    "ole aabo@region.example",
    "ole@region.example, eva@region.example",
    "Ole <ole@region.example>, Eva <eva@region.example>",
    "ole@region.example\r\nBcc: x@evil.example",
    "ole@region.example\nBcc: x@evil.example",
    "øle@region.example",
    "ole@@region.example",
    "ole@region..example",
    "<ole@region.example",
    'Ole "den store" <ole@region.example>',
    "undisclosed-recipients:;",
])
def test_a_recipient_that_is_not_one_valid_address_is_refused(recipient: str) -> None:
    with pytest.raises(PermanentSendError) as raised:
        build_email(_message(recipient=recipient), SENDER)
    assert raised.value.code == "bad_address"
    assert "\n" not in raised.value.message and "\r" not in raised.value.message


@pytest.mark.parametrize(("recipient", "to", "envelope"), [
    ("ole.aabo@region.example", "ole.aabo@region.example", "ole.aabo@region.example"),
    ("Ole Aabo <ole@region.example>", "Ole Aabo <ole@region.example>", "ole@region.example"),
    ('"Aabo, Ole" <ole@region.example>', '"Aabo, Ole" <ole@region.example>', "ole@region.example"),
    ("ole@kræftens-bekæmpelse.dk", "ole@xn--krftens-bekmpelse-srbj.dk", "ole@xn--krftens-bekmpelse-srbj.dk"),
])
def test_valid_recipients(recipient: str, to: str, envelope: str) -> None:
    address = mailbox(recipient)
    assert address is not None and address.addr_spec == envelope
    assert str(_built(_message(recipient=recipient))["To"]) == to


def test_html_escapes_every_register_text() -> None:
    script = "<script>alert('x')</script> & <b>fed</b>"
    item = _item(title=script, owner=script, deadline_text=script, status=script, note=script, source_section=script,
                 source_quote=script, line=script, url='https://kraeftplan.example/d/"><script>x</script>')
    parsed = _built(_message(subject=script, intro=script, items=(item,)))
    _text, body, _ics = _parts(parsed)
    assert "<script>" not in body
    assert "<b>" not in body
    assert body.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;fed&lt;/b&gt;") >= 9
    assert 'href="https://kraeftplan.example/d/&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in body
    assert re.search(r'<html lang="da">', body)


def test_html_links_each_item_and_keeps_line_breaks() -> None:
    first = _item(note="Første linje\nAnden linje")
    second = _item(title="Evaluering (2027)", occurrence=2027, url="https://kraeftplan.example/deliverables/evaluering")
    hostile = _item(title="Ondsindet", url="javascript:alert(1)")
    _text, body, _ics = _parts(_built(_message(items=(first, second, hostile))))
    assert '<a href="https://kraeftplan.example/deliverables/senfoelgeklinikker">' \
           "Senfølgeklinikker i alle fem regioner</a>" in body
    assert '<a href="https://kraeftplan.example/deliverables/evaluering">Evaluering (2027)</a>' in body
    assert "javascript:" not in body and "<strong>Ondsindet</strong>" in body
    assert "Første linje<br>\nAnden linje" in body
    assert body.count("<li>") == 3
    with using_language("da"):
        assert _("Responsible: {party}").format(party="Danske Regioner") in body
        assert "30. juni 2026" in body


def test_html_follows_the_message_language() -> None:
    _text, body, _ics = _parts(_built(_message(language="en")))
    assert '<html lang="en">' in body
    assert "Responsible: Danske Regioner" in body and "30 June 2026" in body
    assert _built(_message(language="en"))["Content-Language"] == "en"


@pytest.mark.parametrize("language", ["da", "en"])
def test_a_late_message_says_so_in_its_language(language: str) -> None:
    message = _message(language=language, late=True)
    parsed = _built(message)
    text, body, _ics = _parts(parsed)
    with using_language(language):
        assert parsed["Subject"] == _("[Late] {subject}").format(subject=message.subject)
        day = "23. juni 2026" if language == "da" else "23 June 2026"
        note = _("Sent late: this message was due {day} at {time}.").format(day=day, time="09:00")
    assert text == f"{note}\n\n{message.text}"
    assert f"<p><strong>{note}</strong></p>" in body
    on_time = _built(_message(language=language))
    assert on_time["Subject"] == message.subject
    assert note not in on_time.as_string()


def test_a_bad_sender_is_refused() -> None:
    with pytest.raises(PermanentSendError) as raised:
        build_email(_message(), "opfoelgning")
    assert raised.value.code == "bad_sender"
    with pytest.raises(TrackerError, match="opfoelgning"):
        EmailChannel.from_url("smtp://localhost", "opfoelgning")


# --- SMTP_URL -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://localhost", SmtpSettings("localhost", 25, "plain")),
    ("smtp://relay.example:2525/", SmtpSettings("relay.example", 2525, "plain")),
    ("smtp://relay.example?starttls=1", SmtpSettings("relay.example", 25, "starttls")),
    ("smtp://relay.example?starttls=0", SmtpSettings("relay.example", 25, "plain")),
    ("smtp+starttls://u:p@smtp.example", SmtpSettings("smtp.example", 587, "starttls", "u", "p")),
    ("SMTPS://u:p@SMTP.example", SmtpSettings("smtp.example", 465, "ssl", "u", "p")),
    ("smtps://u:p@smtp.example:2465", SmtpSettings("smtp.example", 2465, "ssl", "u", "p")),
    ("smtp+starttls://tracker%40region.example:hemmeligt-p%40ss%3Aw%C3%B8rd%2F%25@smtp.example",
     SmtpSettings("smtp.example", 587, "starttls", "tracker@region.example", PASSWORD)),
    ("smtp://[::1]:25", SmtpSettings("::1", 25, "plain")),
])
def test_smtp_url(url: str, expected: SmtpSettings) -> None:
    settings = parse_smtp_url(url)
    assert settings == expected
    assert "p@ss" not in repr(settings)


@pytest.mark.parametrize("url", [
    "",
    "localhost:25",
    "http://u:hemmelig@smtp.example",
    "u:hemmelig@smtp.example",
    "smtp://u:hemmelig@",
    "smtp://u:hemmelig@smtp.example:0",
    "smtp://u:hemmelig@smtp.example:99999",
    "smtp://u:hemmelig@smtp.example:port",
    "smtp://u:hemmelig@[::1",
    "smtp://u:hemmelig@smtp.example/inbox",
    "smtp://u:hemmelig@smtp.example?tls=1",
    "smtp://u:hemmelig@smtp.example?starttls=maybe",
    "smtps://u:hemmelig@smtp.example?starttls=1",
    "smtp+starttls://u:hemmelig@smtp.example?starttls=0",
    "smtp://u@smtp.example",
    "smtp://:hemmelig@smtp.example",
])
def test_a_bad_smtp_url_is_named_with_an_example_and_without_its_password(url: str) -> None:
    with pytest.raises(TrackerError) as raised:
        EmailChannel.from_url(url, SENDER)
    message = raised.value.message
    assert "SMTP_URL" in message
    assert "smtp+starttls://" in message and "smtps://" in message  # the examples
    assert "hemmelig" not in message


def test_display_url_masks_the_password() -> None:
    assert display_smtp_url("smtp+starttls://u:hemmelig@smtp.example:587") == "smtp+starttls://u:***@smtp.example:587"
    assert display_smtp_url("smtp://smtp.example?starttls=1") == "smtp://smtp.example?starttls=1"
    assert "hemmelig" not in display_smtp_url("smtp://smtp.example?password=hemmelig")
    assert "hemmelig" not in display_smtp_url("smtp://u:hemmelig@[::1")


# --- sending ------------------------------------------------------------------------------------------------------


def _channel(url: str, **options: object) -> EmailChannel:
    return EmailChannel.from_url(url, SENDER, clock=lambda: SENT_AT, **options)  # type: ignore[arg-type]


def test_a_message_arrives_as_valid_mime(server: SmtpServer) -> None:
    calendar = _calendar(("senfoelgeklinikker", "Senfølgeklinikker i alle fem regioner"))
    message = _message(calendar=calendar)
    delivery = _channel(server.url()).send(message)

    [received] = server.received
    assert received.mail_from == "opfoelgning@kraeftplan.example"
    assert received.rcpt_tos == [RECIPIENT]
    assert not received.tls
    parsed = received.parsed()
    assert parsed["Subject"] == message.subject
    assert parsed["Message-ID"] == message_id(message.key)
    assert delivery == Delivery(provider_id=message_id(message.key), detail={"reply": "250 2.0.0 OK queued as 4711"})
    text, _body, ics = _parts(parsed)
    assert text == message.text  # the line with a lone dot survived dot-stuffing
    assert ics is not None and ics.get_payload(decode=True) == calendar
    assert [str(event["UID"]) for event in Calendar.from_ical(calendar).walk("VEVENT")] == \
           ["senfoelgeklinikker@kraeftplan-v.tracker"]


def test_a_resend_carries_the_same_message_id(server: SmtpServer) -> None:
    channel = _channel(server.url())
    channel.send(_message())
    channel.send(_message())
    first, second = (received.parsed()["Message-ID"] for received in server.received)
    assert first == second == message_id(_message().key)


@pytest.mark.parametrize(("stage", "reply", "error", "code"), [
    ("mail_reply", "451 4.3.0 Midlertidig fejl", TransientSendError, None),
    ("rcpt_reply", "450 4.2.0 Greylisted, try again later", TransientSendError, None),
    ("data_reply", "452 4.3.1 Insufficient system storage", TransientSendError, None),
    ("mail_reply", "553 5.7.1 Sender not allowed", PermanentSendError, "smtp_553"),
    ("rcpt_reply", "550 5.1.1 No such user", PermanentSendError, "smtp_550"),
    ("data_reply", "554 5.6.0 Message rejected as spam", PermanentSendError, "smtp_554"),
])
def test_refusals(server: SmtpServer, stage: str, reply: str, error: type[Exception], code: str | None) -> None:
    setattr(server.script, stage, reply)
    with pytest.raises(error) as raised:
        _channel(server.url()).send(_message())
    assert reply in str(raised.value)
    assert f"{HOST}:{server.port}" in str(raised.value)
    if code is not None:
        assert raised.value.code == code  # type: ignore[attr-defined]
    if stage == "rcpt_reply":
        assert RECIPIENT in str(raised.value)
    assert server.received == []


def test_a_refused_connection_is_transient() -> None:
    channel = _channel(f"smtp://{HOST}:{free_port()}")  # nothing listens there
    with pytest.raises(TransientSendError, match="cannot be reached|kan ikke nås"):
        channel.send(_message())


def test_an_unknown_host_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(TransientSendError, match="smtp.invalid:25"):
        _channel("smtp://smtp.invalid").send(_message())


def test_a_server_that_never_greets_is_transient() -> None:
    with socket.socket() as silent:  # listens, so the connection is made, but never says a word
        silent.bind((HOST, 0))
        silent.listen()
        channel = _channel(f"smtp://{HOST}:{silent.getsockname()[1]}", timeout=0.2)
        with pytest.raises(TransientSendError):
            channel.send(_message())


def test_a_connection_dropped_before_data_is_transient(server: SmtpServer) -> None:
    server.script.drop_at_rcpt = True
    with pytest.raises(TransientSendError):
        _channel(server.url()).send(_message())
    assert server.received == []


def test_a_connection_dropped_after_the_message_is_an_unknown_outcome(server: SmtpServer) -> None:
    server.script.drop_after_data = True
    with pytest.raises(UnknownOutcomeError) as raised:
        _channel(server.url()).send(_message())
    assert not isinstance(raised.value, (TransientSendError, PermanentSendError))
    assert len(server.received) == 1  # the server did get all of it: it may well be delivered


def test_no_reply_after_the_message_is_an_unknown_outcome(server: SmtpServer) -> None:
    server.script.hang_after_data = True
    with pytest.raises(UnknownOutcomeError):
        _channel(server.url(), timeout=0.5).send(_message())
    assert len(server.received) == 1


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_login_with_a_password_in_utf8(mechanism: str) -> None:
    with SmtpServer(credentials=("tracker@region.example", PASSWORD), auth_mechanisms=(mechanism,)) as server:
        _channel(server.url(user="tracker@region.example", password=PASSWORD)).send(_message())
        [received] = server.received
        assert received.authenticated_as == "tracker@region.example"


def test_without_login_a_server_that_requires_it_refuses_permanently() -> None:
    with SmtpServer(credentials=("tracker", PASSWORD)) as server:
        with pytest.raises(PermanentSendError) as raised:
            _channel(server.url()).send(_message())
        assert raised.value.code == "smtp_530"


def test_a_wrong_password_is_permanent_and_names_smtp_url(caplog: pytest.LogCaptureFixture,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = PASSWORD + "-forkert"
    with SmtpServer(credentials=("tracker", PASSWORD)) as server, pytest.raises(PermanentSendError) as raised:
        _channel(server.url(user="tracker", password=wrong)).send(_message())
    assert raised.value.code == "smtp_auth"
    assert "SMTP_URL" in raised.value.message and "535" in raised.value.message
    assert raised.value.__cause__ is None and raised.value.__context__ is not None  # suppressed: not printed
    _assert_never_shown(PASSWORD, raised.value, caplog, capsys)


def test_a_temporary_login_failure_is_transient() -> None:
    with SmtpServer(credentials=("tracker", PASSWORD)) as server:
        server.script.auth_reply = "454 4.7.0 Temporary authentication failure"
        with pytest.raises(TransientSendError, match="454"):
            _channel(server.url(user="tracker", password=PASSWORD)).send(_message())


def test_the_password_is_never_shown(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    with SmtpServer(credentials=("tracker", PASSWORD)) as server:
        channel = _channel(server.url(user="tracker", password=PASSWORD))
        channel.send(_message())
        server.script.rcpt_reply = f"550 5.1.1 echoing {PASSWORD}"  # even a server that repeats it
        with pytest.raises(PermanentSendError) as refused:
            channel.send(_message())
    with pytest.raises(TransientSendError) as unreachable:
        channel.send(_message())  # the server is gone
    for error in (refused.value, unreachable.value):
        _assert_never_shown(PASSWORD, error, caplog, capsys)
    assert PASSWORD not in repr(channel) and PASSWORD not in repr(channel.settings)


def _assert_never_shown(password: str, error: BaseException, caplog: pytest.LogCaptureFixture,
                        capsys: pytest.CaptureFixture[str]) -> None:
    shown = [str(error), repr(error), caplog.text, *capsys.readouterr()]
    cause = error.__cause__
    while cause is not None:
        shown.append(str(cause))
        cause = cause.__cause__
    for text in shown:
        assert password not in text
        assert "p%40ss" not in text  # nor its URL form


# --- TLS ----------------------------------------------------------------------------------------------------------


def test_starttls(certificate: Certificate) -> None:
    with SmtpServer(tls_context=certificate.server_context(), require_starttls=True,
                    credentials=("tracker", PASSWORD)) as server:
        channel = _channel(server.url("smtp+starttls", "tracker", PASSWORD), ssl_context=certificate.client_context())
        channel.send(_message())
        [received] = server.received
        assert received.tls and received.authenticated_as == "tracker"
        assert received.parsed()["Message-ID"] == message_id(_message().key)


def test_starttls_by_query(certificate: Certificate) -> None:
    with SmtpServer(tls_context=certificate.server_context(), require_starttls=True) as server:
        _channel(server.url(query="starttls=1"), ssl_context=certificate.client_context()).send(_message())
        assert server.received[0].tls


def test_no_starttls_on_offer_sends_nothing_in_the_clear(server: SmtpServer) -> None:
    with pytest.raises(PermanentSendError) as raised:
        _channel(server.url("smtp+starttls")).send(_message())
    assert raised.value.code == "starttls_unsupported"
    assert server.received == []


def test_an_untrusted_certificate_is_permanent(certificate: Certificate) -> None:
    with SmtpServer(tls_context=certificate.server_context(), require_starttls=True) as server:
        with pytest.raises(PermanentSendError) as raised:
            _channel(server.url("smtp+starttls")).send(_message())  # the system's trust store: self-signed fails
        assert raised.value.code == "tls_certificate"
        assert server.received == []


def test_implicit_tls(certificate: Certificate) -> None:
    with SmtpServer(tls_context=certificate.server_context(), implicit_tls=True,
                    credentials=("tracker", PASSWORD)) as server:
        channel = _channel(server.url("smtps", "tracker", PASSWORD), ssl_context=certificate.client_context())
        channel.send(_message(calendar=_calendar(("senfoelgeklinikker", "Senfølgeklinikker"))))
        [received] = server.received
        assert received.tls and received.authenticated_as == "tracker"
        assert received.parsed().get_content_type() == "multipart/mixed"


def test_implicit_tls_with_an_untrusted_certificate_is_permanent(certificate: Certificate) -> None:
    with SmtpServer(tls_context=certificate.server_context(), implicit_tls=True) as server:
        with pytest.raises(PermanentSendError) as raised:
            _channel(server.url("smtps")).send(_message())
        assert raised.value.code == "tls_certificate"

