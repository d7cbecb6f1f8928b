"""`tracker serve` as subscribers meet it: a real uvicorn on loopback, fetched with httpx.

The server runs as its own process (the installed `tracker` console script),
reading the same database the CLI in this process writes to, so "a change made
with the CLI shows at the next request" is tested the way it happens in
production: across processes, without a restart. Read-only checks share one
server per database; tests that change the plan or the feeds start their own.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import httpx
import icalendar
import pytest

from tests.conftest import Tracker
from tests.webserver import SMALL_REGISTER, TRACKER, Server, free_port, server_environment, start_server, wait_for

CLINICS_UID = "senfoelgeklinikker@kraeftplan-v.tracker"
CONTENT_TYPE = "text/calendar; charset=utf-8"


# --------------------------------------------------------------------------- helpers


def create_feed_printing(tracker: Tracker, base_url: str, name: str, *options: str) -> tuple[str, str]:
    """`tracker feed create` with TRACKER_BASE_URL; returns (token, printed http address), both addresses checked."""
    result = tracker.ok("feed", "create", "--name", name, *options, env={"TRACKER_BASE_URL": base_url})
    url = re.search(r"^  (https?://\S+)$", result.stdout, re.MULTILINE)
    webcal = re.search(r"^  (webcal://\S+)$", result.stdout, re.MULTILINE)
    assert url and webcal, result.output
    match = re.fullmatch(re.escape(base_url) + r"/feeds/([A-Za-z0-9_-]{43})\.ics", url.group(1))
    assert match, f"{url.group(1)} is not under {base_url}"
    assert webcal.group(1) == "webcal://" + url.group(1).split("://", 1)[1]
    return match.group(1), url.group(1)


def create_feed(tracker: Tracker, base_url: str, name: str, *options: str) -> str:
    return create_feed_printing(tracker, base_url, name, *options)[0]


def feed_path(token: str) -> str:
    return f"/feeds/{token}.ics"


def export_filename(name: str, token: str) -> str:
    return f"{name}-{hashlib.sha256(token.encode()).hexdigest()[:32]}.ics"


def events(body: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def not_found_signature(response: httpx.Response) -> tuple:
    """Everything a client can tell a 404 apart by, except the Date header."""
    headers = sorted((key, value) for key, value in response.headers.items() if key != "date")
    return response.status_code, response.content, headers


def _new_postgres_database(server_url: str) -> tuple[str, Callable[[], None]]:
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = server_url.replace("postgresql+psycopg://", "postgresql://") + "postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return server_url + name, drop


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start servers for one test; every one is stopped when the test ends, however it ends."""
    started: list[Server] = []

    def start(database_url: str, *extra: str, public_url: str | None = None) -> Server:
        server = start_server(database_url, tmp_path, *extra, public_url=public_url)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@dataclass
class Shared:
    """A server with a synced plan and feeds that no test changes."""

    server: Server
    tracker: Tracker
    tokens: dict[str, str]  # feed name → token
    printed: str  # the http address `feed create` printed for "everything"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    directory = tmp_path_factory.mktemp(f"shared-{request.param}")
    drop: Callable[[], None] = lambda: None
    if request.param == "sqlite":
        database_url = f"sqlite:///{directory / 'tracker.db'}"
    else:
        database_url, drop = _new_postgres_database(request.getfixturevalue("postgres_server"))
    servers: list[Server] = []
    try:
        tracker = Tracker(database_url, SMALL_REGISTER)
        tracker.ok("sync")
        # Feeds print the base URL, which is known once the server has its port: create them afterwards.
        server = start_server(database_url, directory)
        servers.append(server)
        everything, printed = create_feed_printing(tracker, server.base_url, "everything", "--language", "en")
        tokens = {
            "everything": everything,
            "sst": create_feed(tracker, server.base_url, "sst", "--party", "sst", "--language", "en"),
            "danish": create_feed(tracker, server.base_url, "danish"),
        }
        yield Shared(server, tracker, tokens, printed)
    finally:
        for server in servers:
            server.stop()
        drop()


# --------------------------------------------------------------------------- serving a feed


def test_the_printed_address_serves_the_feed_as_icalendar(shared: Shared) -> None:
    assert shared.printed == f"{shared.server.base_url}/feeds/{shared.tokens['everything']}.ics"
    response = httpx.get(shared.printed, timeout=10.0)

    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE
    assert re.fullmatch(r'"[0-9a-f]{40}"', response.headers["etag"])
    last_modified = parsedate_to_datetime(response.headers["last-modified"])
    assert last_modified.tzinfo is not None and response.headers["last-modified"].endswith(" GMT")
    assert response.headers["cache-control"] == "private, no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "server" not in response.headers

    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["X-WR-CALNAME"]) == "Cancer Plan V"
    found = events(response.content)
    # One one-off, three yearly reports (2026–2028), one evaluation.
    assert sorted(found) == sorted([
        CLINICS_UID, "evaluering@kraeftplan-v.tracker", "regional-status/2026@kraeftplan-v.tracker",
        "regional-status/2027@kraeftplan-v.tracker", "regional-status/2028@kraeftplan-v.tracker"])
    clinics = found[CLINICS_UID]
    assert "Late-effects clinics established" in str(clinics["SUMMARY"])
    assert clinics["DTSTART"].dt.isoformat() == "2026-06-30"
    assert str(clinics["URL"]) == f"{shared.server.base_url}/deliverables/senfoelgeklinikker"
    assert "VALARM" not in response.text


def test_a_feed_shows_only_its_selection_in_its_language(shared: Shared) -> None:
    sst = shared.server.get(feed_path(shared.tokens["sst"]))
    assert sst.status_code == 200
    # sst co-owns the clinics only; the regions own everything else.
    assert list(events(sst.content)) == [CLINICS_UID]

    danish = shared.server.get(feed_path(shared.tokens["danish"]))
    assert str(icalendar.Calendar.from_ical(danish.content)["X-WR-CALNAME"]) == "Kræftplan V"
    assert "Senfølgeklinikker etableret" in str(events(danish.content)[CLINICS_UID]["SUMMARY"])


def test_if_none_match_with_the_etag_answers_304_without_a_body(shared: Shared) -> None:
    path = feed_path(shared.tokens["everything"])
    first = shared.server.get(path)
    etag = first.headers["etag"]

    for header in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        again = shared.server.get(path, headers={"If-None-Match": header})
        assert again.status_code == 304, header
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["last-modified"] == first.headers["last-modified"]

    other = shared.server.get(path, headers={"If-None-Match": '"0000"'})
    assert other.status_code == 200 and other.content == first.content
    # If-None-Match decides when present: a stale tag wins over a fresh date.
    both = shared.server.get(path, headers={"If-None-Match": '"0000"',
                                            "If-Modified-Since": first.headers["last-modified"]})
    assert both.status_code == 200


def test_if_modified_since_answers_304_from_last_modified_and_200_before_it(shared: Shared) -> None:
    path = feed_path(shared.tokens["everything"])
    first = shared.server.get(path)
    last_modified = parsedate_to_datetime(first.headers["last-modified"])

    same = shared.server.get(path, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert same.status_code == 304 and same.content == b""

    earlier = format_datetime(last_modified - timedelta(seconds=1), usegmt=True)
    response = shared.server.get(path, headers={"If-Modified-Since": earlier})
    assert response.status_code == 200 and response.content == first.content

    # An unreadable date is ignored, not an error.
    garbled = shared.server.get(path, headers={"If-Modified-Since": "yesterday-ish"})
    assert garbled.status_code == 200 and garbled.content == first.content


def test_head_answers_the_get_headers_without_a_body(shared: Shared) -> None:
    path = feed_path(shared.tokens["everything"])
    get = shared.server.get(path)
    head = shared.server.head(path)

    assert head.status_code == 200
    assert head.content == b""
    for header in ("content-type", "etag", "last-modified", "cache-control", "content-length"):
        assert head.headers[header] == get.headers[header], header
    assert int(head.headers["content-length"]) == len(get.content)

    conditional = shared.server.head(path, headers={"If-None-Match": get.headers["etag"]})
    assert conditional.status_code == 304 and conditional.content == b""
    assert shared.server.head("/healthz").status_code == 200


def test_healthz_says_ok_and_when_the_clock_last_ticked(shared: Shared) -> None:
    response = shared.server.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "clock": {"last_tick": None, "age_seconds": None},
                               "notify": {"undeliverable": 0, "unknown": 0, "retrying": 0, "window_days": 7}}


# --------------------------------------------------------------------------- not found means not found


def _malformed(token: str) -> dict[str, str]:
    return {
        "unknown token": feed_path("A" * 43),
        "too short": feed_path(token[:-1]),
        "too long": feed_path(token + "A"),
        "empty token": "/feeds/.ics",
        "bad character": feed_path(token[:-1] + "!"),
        "plus sign": feed_path(token[:-1] + "+"),
        "padding": feed_path(token[:-1] + "="),
        "dot": feed_path(token[:-1] + "."),
        "non-ascii": feed_path(token[:-1] + "æ"),
        "percent-encoded space": feed_path(token[:-1] + "%20"),
        "missing .ics": f"/feeds/{token}",
        "other extension": f"/feeds/{token}.ical",
        "upper-case extension": f"/feeds/{token}.ICS",
        "extra segment": f"/feeds/{token}.ics/extra",
        "unknown token with bad alarm": feed_path("B" * 43) + "?alarm=bogus",
        "malformed token with bad alarm": feed_path(token[:-1]) + "?alarm=bogus",
    }


def test_every_token_that_opens_nothing_gets_the_404_of_a_path_that_does_not_exist(shared: Shared) -> None:
    expected = not_found_signature(shared.server.get("/no/such/path"))
    assert expected[0] == 404 and expected[1] == b"Not Found"
    assert ("content-type", "text/plain; charset=utf-8") in expected[2]

    for what, path in _malformed(shared.tokens["everything"]).items():
        assert not_found_signature(shared.server.get(path)) == expected, what
    head = shared.server.head(feed_path("A" * 43))
    assert head.status_code == 404 and head.headers["content-type"] == "text/plain; charset=utf-8"


def test_other_methods_answer_alike_for_live_and_unknown_tokens(shared: Shared) -> None:
    live, unknown = feed_path(shared.tokens["everything"]), feed_path("A" * 43)
    for method in ("POST", "PUT", "DELETE"):
        answer = shared.server.client.request(method, live)
        assert answer.status_code == 405, method
        assert not_found_signature(answer) == not_found_signature(shared.server.client.request(method, unknown))


def test_alarm_in_the_query_adds_a_valarm(shared: Shared) -> None:
    path = feed_path(shared.tokens["everything"])
    plain = shared.server.get(path)
    with_alarm = shared.server.get(path, params={"alarm": "7d"})

    assert with_alarm.status_code == 200
    assert with_alarm.headers["etag"] != plain.headers["etag"]
    clinics = events(with_alarm.content)[CLINICS_UID]
    alarms = clinics.walk("VALARM")
    assert len(alarms) == 1
    # 09:00 seven days before the all-day event.
    assert alarms[0]["TRIGGER"].dt == -timedelta(days=6, hours=15)
    assert str(alarms[0]["ACTION"]) == "DISPLAY"
    assert not any(event.walk("VALARM") for event in events(plain.content).values())
    # The same alarm spelt another way is the same feed.
    assert shared.server.get(path, params={"alarm": "1W"}).content == with_alarm.content


@pytest.mark.parametrize("alarm", ["bogus", "0d", "7", "d", "-7d", "400d", "7y"])
def test_a_bad_alarm_is_400_for_a_valid_token(shared: Shared, alarm: str) -> None:
    response = shared.server.get(feed_path(shared.tokens["everything"]), params={"alarm": alarm})
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    # The server has no --lang: Danish, naming the forms that work.
    assert "?alarm=7d" in response.text and "Påmindelsen" in response.text


def test_the_access_log_never_shows_a_token_but_shows_the_redacted_path(shared: Shared) -> None:
    server, token = shared.server, shared.tokens["everything"]
    requests = [
        lambda: server.get(feed_path(token)),
        lambda: server.get(feed_path(token), params={"alarm": "bogus"}),
        lambda: server.get(feed_path(token), params={"alarm": "2w"}),
        lambda: server.get(f"/feeds/{token}"),
        lambda: server.get(f"/feeds/{token}.ics/"),
        lambda: server.get(feed_path(token[:-1])),
        lambda: server.head(feed_path(token)),
        lambda: server.get(feed_path(token), headers={"If-None-Match": "*"}),
    ]
    before = server.log().count("/feeds/[token]")
    for request in requests:
        request()

    wait_for(lambda: server.log().count("/feeds/[token]") >= before + len(requests),
             "the access log to show every request")
    log = server.log()
    for name, secret in shared.tokens.items():
        assert secret not in log, name
        assert secret[:20] not in log, name
    assert 'GET /feeds/[token] HTTP/1.1" 200' in log
    assert 'HEAD /feeds/[token] HTTP/1.1" 200' in log
    assert 'GET /feeds/[token]?alarm=bogus HTTP/1.1" 400' in log
    assert 'GET /feeds/[token] HTTP/1.1" 304' in log


def test_a_token_in_a_near_miss_path_never_reaches_the_log(shared: Shared) -> None:
    # A live token sent under a path the router does not match (a proxy or client that doubles a slash, an
    # extra segment) is still a live token; the access log must not hand it to whoever reads the logs.
    server = shared.server
    token = create_feed(shared.tracker, server.base_url, "near-miss")
    paths = [f"/feeds//{token}.ics", f"/feeds/x/{token}.ics", f"/feeds/{token}.ics/extra",
             # Another case (a proxy or a hand-typed address), a token in a query string, under any route.
             f"/Feeds/{token}.ics", f"/FEEDS/{token}", f"/calendar/party/sst.ics?token={token}",
             f"/deliverables/senfoelgeklinikker?key={token}&lang=en", f"/{token}", f"/healthz?{token}",
             f"/healthz?t={token[:5]}%{ord(token[5]):02X}{token[6:]}", f"/x;{token}", f"/answer/{token}"]
    answered = [server.get(server.base_url + path).status_code for path in paths]
    assert answered.count(404) >= 7, answered

    wait_for(lambda: "GET /answer/[token]" in server.log(), "the access log to show the last request")
    leaked = [line for line in server.log().splitlines() if token in line or token[:22] in line
              or token[6:28] in line]
    assert leaked == []
    log = server.log()
    assert "GET /Feeds/[token]" in log and "?token=[token]" in log and "key=[token]&lang=en" in log
    assert "/deliverables/senfoelgeklinikker?" in log  # what is not a token stays readable


# --------------------------------------------------------------------------- the CLI and the running server


def test_revoking_a_feed_makes_its_address_404_at_once(shared: Shared) -> None:
    tracker, server = shared.tracker, shared.server
    # Created after the server read the set of feeds: served at once all the same.
    revoked = create_feed(tracker, server.base_url, "leaked")
    kept = create_feed(tracker, server.base_url, "kept")
    assert server.get(feed_path(revoked)).status_code == 200

    tracker.ok("feed", "revoke", "leaked")

    expected = not_found_signature(server.get("/no/such/path"))
    assert not_found_signature(server.get(feed_path(revoked))) == expected
    assert not_found_signature(server.get(feed_path(revoked), params={"alarm": "bogus"})) == expected
    assert not_found_signature(server.get(feed_path(revoked), headers={"If-None-Match": "*"})) == expected
    assert server.head(feed_path(revoked)).status_code == 404
    assert server.get(feed_path(kept)).status_code == 200
    assert server.get(feed_path(shared.tokens["everything"])).status_code == 200




def test_a_cli_change_shows_at_the_next_request_without_a_restart(database_url: str,
                                                                   serve: Callable[..., Server]) -> None:
    tracker = Tracker(database_url, SMALL_REGISTER)
    tracker.ok("sync")
    server = serve(database_url)
    token = create_feed(tracker, server.base_url, "everything", "--language", "en")
    path = feed_path(token)

    before = server.get(path)
    assert before.status_code == 200
    old = events(before.content)
    assert not str(old[CLINICS_UID]["SUMMARY"]).startswith("✓")

    tracker.ok("status", "senfoelgeklinikker", "done", "--note", "Open in all five regions")
    after = server.get(path)

    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert parsedate_to_datetime(after.headers["last-modified"]) >= \
        parsedate_to_datetime(before.headers["last-modified"])
    new = events(after.content)
    clinics = new[CLINICS_UID]
    assert str(clinics["SUMMARY"]) == "✓ Done: Late-effects clinics established"
    assert int(clinics["SEQUENCE"]) == int(old[CLINICS_UID]["SEQUENCE"]) + 1
    assert "Latest note: Open in all five regions" in str(clinics["DESCRIPTION"])
    # Only the changed event moved: its neighbours keep their revision.
    for uid in set(new) - {CLINICS_UID}:
        assert int(new[uid]["SEQUENCE"]) == int(old[uid]["SEQUENCE"]), uid
    # The old validator no longer matches; the new one does.
    assert server.get(path, headers={"If-None-Match": before.headers["etag"]}).status_code == 200
    assert server.get(path, headers={"If-None-Match": after.headers["etag"]}).status_code == 304

    # One year's occurrence of a recurring deliverable changes on its own.
    tracker.ok("status", "regional-status", "in_progress", "--occurrence", "2027", "--note", "Drafting")
    response = server.get(path)
    latest = events(response.content)
    uid_2027 = "regional-status/2027@kraeftplan-v.tracker"
    assert int(latest[uid_2027]["SEQUENCE"]) == int(new[uid_2027]["SEQUENCE"]) + 1
    for uid in set(latest) - {uid_2027}:
        assert int(latest[uid]["SEQUENCE"]) == int(new[uid]["SEQUENCE"]), uid

    # The revisions live in the database: a second web process (a restart, a replica) serves the same bytes,
    # so subscribers' validators keep answering 304.
    replica = serve(database_url, public_url=server.base_url)
    again = replica.get(path, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["last-modified"] == response.headers["last-modified"]
    assert replica.get(path).content == response.content


def test_export_dir_keeps_the_folder_current(sqlite_url: str, serve: Callable[..., Server],
                                             tmp_path: Path) -> None:
    tracker = Tracker(sqlite_url, SMALL_REGISTER)
    tracker.ok("sync")
    folder = tmp_path / "published"
    folder.mkdir()
    unrelated = folder / "index.html"
    unrelated.write_text("<p>Our calendars</p>", encoding="utf-8")
    server = serve(sqlite_url, "--export-dir", str(folder), "--export-interval", "0.2")
    token = create_feed(tracker, server.base_url, "published", "--language", "en")
    exported = folder / export_filename("published", token)

    wait_for(exported.is_file, "the exporter to write the new feed")
    first = exported.read_bytes()
    assert first == server.get(feed_path(token)).content

    # No request reaches the server in between: the exporter notices on its own.
    tracker.ok("status", "senfoelgeklinikker", "done", "--note", "Open everywhere")
    wait_for(lambda: exported.read_bytes() != first, "the exporter to rewrite the changed feed")
    rewritten = exported.read_bytes()
    assert "✓ Done: Late-effects clinics established" in str(events(rewritten)[CLINICS_UID]["SUMMARY"])
    assert rewritten == server.get(feed_path(token)).content

    tracker.ok("feed", "revoke", "published")
    wait_for(lambda: not exported.exists(), "the exporter to remove the revoked feed's file")
    assert sorted(path.name for path in folder.iterdir()) == ["index.html"]  # no temporary files left
    assert unrelated.read_text(encoding="utf-8") == "<p>Our calendars</p>"
    assert "exported feeds to" in server.log()
    assert token not in server.log()


# --------------------------------------------------------------------------- refusing to start


def test_serve_refuses_to_start_on_a_database_without_tables(sqlite_url: str) -> None:
    result = subprocess.run([str(TRACKER), "--lang", "en", "serve", "--port", str(free_port())],
                            env=server_environment(sqlite_url, "https://tracker.example.dk", SMALL_REGISTER),
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1, result.stderr
    assert "tracker sync" in result.stderr and "Traceback" not in result.stderr


def test_serve_refuses_an_invalid_base_url(sqlite_url: str) -> None:
    Tracker(sqlite_url, SMALL_REGISTER).ok("sync")
    result = subprocess.run([str(TRACKER), "--lang", "en", "serve", "--port", str(free_port())],
                            env=server_environment(sqlite_url, "tracker.example.dk", SMALL_REGISTER),
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2, result.stderr
    assert "TRACKER_BASE_URL='tracker.example.dk' is not an absolute http(s) address" in result.stderr
