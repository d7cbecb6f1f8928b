"""`tracker feed create | list | revoke | export`, typed as a coordinator would, against a real database."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import icalendar
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import FIXTURES, Tracker

LIST_JSON_FIELDS = {"name", "parties", "themes", "overdue_only", "alarm", "language", "created_by", "created_at",
                    "revoked_at"}
HTTPS_BASE = "https://tracker.example.dk/kalender"


@pytest.fixture(scope="module")
def synced_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One synced SQLite file per module; each test gets a copy (a sync costs more than the test)."""
    path = tmp_path_factory.mktemp("template") / "tracker.db"
    Tracker(f"sqlite:///{path}", FIXTURES / "register_small.toml").ok("sync")
    return path


@pytest.fixture
def synced(tracker: Tracker, synced_template: Path) -> Tracker:
    """Overrides conftest's: the same synced database, copied instead of synced again."""
    shutil.copyfile(synced_template, tracker.database_url.removeprefix("sqlite:///"))
    return tracker


def create(tracker: Tracker, name: str, *options: str, base_url: str = HTTPS_BASE) -> str:
    """Create a feed; returns its token, read from the printed address."""
    result = tracker.ok("feed", "create", "--name", name, *options, env={"TRACKER_BASE_URL": base_url})
    match = re.search(r"/feeds/([A-Za-z0-9_-]{43})\.ics$", result.stdout, re.MULTILINE)
    assert match, result.output
    return match.group(1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def export_filename(name: str, token: str) -> str:
    return f"{name}-{token_hash(token)[:32]}.ics"


def feed_state(database_url: str) -> tuple[list, list]:
    """Every feed row and the feeds' change marker: what "nothing was written" compares."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT * FROM feed ORDER BY id")).all()
            marker = connection.execute(text("SELECT value, updated_at FROM meta WHERE key = 'feeds_revision'")).all()
    finally:
        engine.dispose()
    return [tuple(row) for row in rows], [tuple(row) for row in marker]


def listed(tracker: Tracker, *options: str) -> list[dict]:
    return json.loads(tracker.ok("feed", "list", "--json", *options).stdout)


# --------------------------------------------------------------------------- create


def test_create_prints_both_addresses_under_the_configured_base_url(synced: Tracker) -> None:
    result = synced.ok("feed", "create", "--name", "sst", "--party", "sst",
                       env={"TRACKER_BASE_URL": HTTPS_BASE + "/"})
    lines = result.stdout.splitlines()
    assert lines[0] == "Created the feed sst. Subscribe with one of these addresses:"
    match = re.fullmatch(r"  webcal://tracker\.example\.dk/kalender/feeds/([A-Za-z0-9_-]{43})\.ics", lines[1])
    assert match, lines[1]
    token = match.group(1)
    assert lines[2] == f"  {HTTPS_BASE}/feeds/{token}.ics"  # the trailing slash is not doubled
    assert lines[3] == f"As a file (tracker feed export): {export_filename('sst', token)}"
    # The warning goes to stderr, so stdout can be piped into a mail; no https warning for https.
    assert "shown only now" in result.stderr and "revoke the feed" in result.stderr
    assert "not https" not in result.stderr
    assert token not in result.stderr


def test_create_warns_when_the_address_is_not_https(synced: Tracker) -> None:
    result = synced.ok("feed", "create", "--name", "plain", env={"TRACKER_BASE_URL": "http://localhost:8080"})
    assert re.search(r"^  http://localhost:8080/feeds/[A-Za-z0-9_-]{43}\.ics$", result.stdout, re.MULTILINE)
    assert re.search(r"^  webcal://localhost:8080/feeds/[A-Za-z0-9_-]{43}\.ics$", result.stdout, re.MULTILINE)
    assert "not https" in result.stderr and "TRACKER_BASE_URL" in result.stderr


def test_without_a_base_url_the_address_is_where_serve_listens_by_default(synced: Tracker) -> None:
    result = synced.ok("feed", "create", "--name", "local")
    assert re.search(r"^  http://127\.0\.0\.1:8000/feeds/[A-Za-z0-9_-]{43}\.ics$", result.stdout, re.MULTILINE)


def test_the_token_is_random_and_stored_only_as_its_hash(synced: Tracker) -> None:
    first = create(synced, "first")
    second = create(synced, "second")
    assert first != second

    rows, _marker = feed_state(synced.database_url)
    stored = repr(rows)
    assert first not in stored and second not in stored
    assert token_hash(first) in stored and token_hash(second) in stored


def test_create_stores_the_selection_normalised(synced: Tracker) -> None:
    create(synced, "personal", "--party", "sst", "--party", "ism", "--party", "sst", "--theme", "anbefaling-7",
           "--overdue", "--alarm", " 2W ", "--language", "en", "--by", "Mette")
    [feed] = listed(synced)
    assert feed.keys() == LIST_JSON_FIELDS
    assert feed == feed | {"name": "personal", "parties": ["ism", "sst"], "themes": ["anbefaling-7"],
                           "overdue_only": True, "alarm": "2w", "language": "en", "created_by": "Mette",
                           "revoked_at": None}


def test_create_accepts_the_longest_name_and_the_punctuation_it_allows(synced: Tracker) -> None:
    create(synced, "a" * 64)
    create(synced, "0region.syd_2026-q1")
    assert sorted(feed["name"] for feed in listed(synced)) == ["0region.syd_2026-q1", "a" * 64]


# --------------------------------------------------------------------------- create: refused, nothing written


def _refused(tracker: Tracker, *args: str, env: dict[str, str] | None = None, exit_code: int = 1) -> str:
    before = feed_state(tracker.database_url)
    result = tracker(*args, env=env)
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    assert "/feeds/" not in result.output  # no address was printed
    assert feed_state(tracker.database_url) == before
    return result.output


def test_an_unknown_party_is_refused_with_the_closest_key(synced: Tracker) -> None:
    output = _refused(synced, "feed", "create", "--name", "regions", "--party", "regioner")
    assert "No party has the key 'regioner'. Did you mean: regionerne?" in output
    output = _refused(synced, "feed", "create", "--name", "regions", "--party", "sst", "--party", "xyz")
    assert "No party has the key 'xyz'. Known: ism, regionerne, sst." in output


def test_an_unknown_theme_is_refused_with_the_closest_key(synced: Tracker) -> None:
    typo = _refused(synced, "feed", "create", "--name", "late", "--theme", "anbefalng-7")
    assert "No theme has the key 'anbefalng-7'. Did you mean: anbefaling-7?" in typo
    # Recommendation 8 is not recommendation 7 misspelt: the themes of its kind are listed, none is guessed.
    other = _refused(synced, "feed", "create", "--name", "late", "--theme", "anbefaling-8")
    assert "No theme has the key 'anbefaling-8'. Those of its kind are: anbefaling-7." in other


@pytest.mark.parametrize("name", ["Regionerne", "region syd", "a/b", "../up", ".hidden", "-dash", "", "a" * 65,
                                  "æble", "a\nb"])
def test_a_name_that_cannot_be_a_file_name_is_refused(synced: Tracker, name: str) -> None:
    output = _refused(synced, "feed", "create", "--name", name)
    assert f"The feed name {name!r} cannot be used" in output
    assert "lower-case letters, digits" in output


@pytest.mark.parametrize("alarm", ["7", "7x", "d", "0d", "-1d", "400d", "53w", "1.5d", "soon"])
def test_an_alarm_that_cannot_be_read_is_refused(synced: Tracker, alarm: str) -> None:
    output = _refused(synced, "feed", "create", "--name", "alarmed", "--alarm", alarm)
    assert f"The alarm {alarm!r} cannot be read" in output and "e.g. 7d (days)" in output


def test_an_unknown_language_is_a_usage_error(synced: Tracker) -> None:
    output = _refused(synced, "feed", "create", "--name", "german", "--language", "de", exit_code=2)
    assert "'de' is not one of 'da', 'en'" in output


def test_a_name_in_use_is_refused_and_the_message_names_the_fix(synced: Tracker) -> None:
    token = create(synced, "sst", "--party", "sst")
    output = _refused(synced, "feed", "create", "--name", "sst", "--party", "ism")
    assert "A feed named 'sst' exists already" in output and "tracker feed revoke sst" in output
    assert listed(synced)[0]["parties"] == ["sst"]
    assert token not in output


def test_a_revoked_name_is_never_reused(synced: Tracker) -> None:
    create(synced, "leaked")
    synced.ok("feed", "revoke", "leaked")
    output = _refused(synced, "feed", "create", "--name", "leaked")
    assert "The name 'leaked' belongs to a revoked feed" in output and "Choose another name" in output


@pytest.mark.parametrize("base_url", ["ftp://tracker.example.dk", "tracker.example.dk", "https://",
                                      "https://tracker.example.dk/?feed=1", "https://tracker.example.dk/#top"])
def test_an_invalid_base_url_is_a_usage_error_before_anything_is_written(synced: Tracker, base_url: str) -> None:
    output = _refused(synced, "feed", "create", "--name", "any", env={"TRACKER_BASE_URL": base_url}, exit_code=2)
    assert f"TRACKER_BASE_URL={base_url!r} is not an absolute http(s) address" in output
    assert "https://tracker.example.dk" in output.split("address.", 1)[1]  # the example of what to set


@pytest.mark.parametrize("base_url", ["https://tracker.example.dk?", "https://tracker.example.dk#"])
def test_a_base_url_with_an_empty_query_or_fragment_is_refused(synced: Tracker, base_url: str) -> None:
    # urlsplit reports an empty query or fragment as "", so check_base_url lets these through, and the printed
    # address becomes https://tracker.example.dk?/feeds/TOKEN.ics: the token in a query, not a feed path.
    result = synced("feed", "create", "--name", "typo", env={"TRACKER_BASE_URL": base_url})
    assert result.exit_code == 2, f"accepted {base_url!r} and printed:\n{result.stdout}"


def test_a_command_on_a_database_without_tables_says_to_sync(tracker: Tracker) -> None:
    output = tracker.fails("feed", "list").output
    assert "tracker sync" in output


def test_errors_are_danish_by_default(synced: Tracker, small_register: Path) -> None:
    danish = Tracker(synced.database_url, small_register, lang="da")
    output = danish.fails("feed", "create", "--name", "regioner", "--party", "regioner").output
    assert "Ingen part har nøglen 'regioner'. Mente du: regionerne?" in output
    result = danish.ok("feed", "create", "--name", "sst", "--party", "sst", env={"TRACKER_BASE_URL": HTTPS_BASE})
    assert "Kalenderen sst er oprettet. Abonnér med en af disse adresser:" in result.stdout
    assert "Alle med adressen kan læse kalenderen" in result.stderr
    assert "Kalenderen sst er tilbagekaldt" in danish.ok("feed", "revoke", "sst").output
    assert "Kalenderen 'sst' var allerede tilbagekaldt" in danish.fails("feed", "revoke", "sst").output

    from tracker.cli import cli

    # No --lang and no TRACKER_LANG: Danish.
    plain = danish.runner.invoke(cli, ["feed", "list"], env={"DATABASE_URL": synced.database_url})
    assert plain.exit_code == 0 and "Ingen kalendere endnu" in plain.output


# --------------------------------------------------------------------------- alarm stored as typed (PostgreSQL)


def test_an_accepted_alarm_is_stored_in_its_short_form(database_url: str, small_register: Path) -> None:
    # parse_alarm accepts leading zeros, and create_feed stores the text as typed: eleven characters in a
    # VARCHAR(8) column, which PostgreSQL refuses with a database error after the alarm was accepted.
    tracker = Tracker(database_url, small_register)
    tracker.ok("sync")
    result = tracker("feed", "create", "--name", "padded", "--alarm", "0000000007d")
    assert result.exit_code == 0, result.output
    assert listed(tracker)[0]["alarm"] == "7d"


# --------------------------------------------------------------------------- list


def test_list_shows_feeds_but_never_their_tokens(synced: Tracker) -> None:
    assert "No feeds yet. Create one with `tracker feed create --name NAME`." in synced.ok("feed", "list").output
    assert listed(synced) == []
    tokens = [create(synced, "everything"),
              create(synced, "sst-overdue", "--party", "sst", "--theme", "anbefaling-7", "--overdue",
                     "--alarm", "7d", "--language", "en"),
              create(synced, "old")]
    synced.ok("feed", "revoke", "old")

    table = synced.ok("feed", "list").output
    everything = listed(synced, "--all")
    outputs = [table, synced.ok("feed", "list", "--all").output, json.dumps(everything)]
    for output in outputs:
        for token in tokens:
            assert token not in output
            assert token_hash(token)[:16] not in output

    assert re.search(r"everything\s+the whole plan\s+–\s+da\s+\d{4}-\d\d-\d\d\s+–", table)
    assert re.search(r"sst-overdue\s+sst, anbefaling-7, overdue only\s+7d\s+en\s", table)
    assert "old" not in table

    assert [feed["name"] for feed in listed(synced)] == ["everything", "sst-overdue"]
    assert [feed["name"] for feed in everything] == ["everything", "old", "sst-overdue"]
    for feed in everything:
        assert feed.keys() == LIST_JSON_FIELDS
    by_name = {feed["name"]: feed for feed in everything}
    assert by_name["old"]["revoked_at"] is not None and by_name["everything"]["revoked_at"] is None
    assert by_name["old"]["revoked_at"] >= by_name["old"]["created_at"]


# --------------------------------------------------------------------------- revoke


def test_revoke_marks_the_feed_revoked_and_keeps_the_row(synced: Tracker) -> None:
    create(synced, "leaked")
    create(synced, "kept")
    result = synced.ok("feed", "revoke", "leaked")
    assert result.output == "The feed leaked is revoked; its address now answers 404.\n"
    assert [feed["name"] for feed in listed(synced)] == ["kept"]
    assert [feed["name"] for feed in listed(synced, "--all") if feed["revoked_at"]] == ["leaked"]


def test_revoking_an_unknown_feed_suggests_the_closest_name(synced: Tracker) -> None:
    create(synced, "regionerne")
    output = _refused(synced, "feed", "revoke", "regioner")
    assert "No feed is named 'regioner'. Did you mean: regionerne?" in output
    output = _refused(synced, "feed", "revoke", "zzz")
    assert "No feed is named 'zzz'. See `tracker feed list`." in output


def test_revoking_twice_is_refused(synced: Tracker) -> None:
    create(synced, "leaked")
    synced.ok("feed", "revoke", "leaked")
    output = _refused(synced, "feed", "revoke", "leaked")
    assert "The feed 'leaked' was already revoked." in output


# --------------------------------------------------------------------------- export


def _files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_export_writes_one_calendar_per_feed_into_a_new_folder(synced: Tracker, tmp_path: Path) -> None:
    everything = create(synced, "everything", "--language", "en")
    sst = create(synced, "sst", "--party", "sst")
    folder = tmp_path / "www" / "feeds"  # created, parents and all

    result = synced.ok("feed", "export", str(folder), env={"TRACKER_BASE_URL": HTTPS_BASE})

    assert result.output == f"Exported to {folder}: 2 written, 0 unchanged, 0 removed.\n"
    assert _files(folder) == sorted([export_filename("everything", everything), export_filename("sst", sst)])
    whole = icalendar.Calendar.from_ical((folder / export_filename("everything", everything)).read_bytes())
    assert len(whole.walk("VEVENT")) == 5
    assert str(whole["X-WR-CALNAME"]) == "Cancer Plan V"
    assert {str(event["URL"]) for event in whole.walk("VEVENT")} >= {f"{HTTPS_BASE}/deliverables/evaluering"}
    party = icalendar.Calendar.from_ical((folder / export_filename("sst", sst)).read_bytes())
    assert [str(event["UID"]) for event in party.walk("VEVENT")] == ["senfoelgeklinikker@kraeftplan-v.tracker"]
    for path in folder.iterdir():
        assert path.stat().st_mode & 0o777 == 0o644  # a web server running as another user can read it


def test_export_is_atomic_leaves_unchanged_files_and_other_files_alone(synced: Tracker, tmp_path: Path) -> None:
    token = create(synced, "everything")
    revoked = create(synced, "leaked")
    folder = tmp_path / "feeds"
    folder.mkdir()
    unrelated = {"index.html": b"<p>Kalendere</p>", "other-feed.ics": b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                 ".htaccess": b"Options -Indexes\n"}
    for name, data in unrelated.items():
        (folder / name).write_bytes(data)
    synced.ok("feed", "export", str(folder))
    path = folder / export_filename("everything", token)
    long_ago = (946684800, 946684800)  # 2000-01-01: any rewrite would move it
    for name in [*unrelated, path.name]:
        os.utime(folder / name, long_ago)

    # Nothing changed: nothing is written.
    assert "0 written, 2 unchanged, 0 removed" in synced.ok("feed", "export", str(folder)).output
    assert path.stat().st_mtime == long_ago[1]

    # One status change: the file is replaced; a revoked feed's file goes; nothing else is touched.
    synced.ok("status", "senfoelgeklinikker", "done", "--note", "Open in all regions")
    synced.ok("feed", "revoke", "leaked")
    before = path.read_bytes()
    assert "1 written, 0 unchanged, 1 removed" in synced.ok("feed", "export", str(folder)).output
    assert path.read_bytes() != before and "✓ Færdig" in path.read_text(encoding="utf-8")
    assert path.stat().st_mtime != long_ago[1]
    assert _files(folder) == sorted([*unrelated, path.name])  # no temporary files, the revoked file gone
    assert not (folder / export_filename("leaked", revoked)).exists()
    for name, data in unrelated.items():
        assert (folder / name).read_bytes() == data
        assert (folder / name).stat().st_mtime == long_ago[1]

    # And once more: the revoked feed's file is already gone, so nothing is removed.
    assert "0 written, 1 unchanged, 0 removed" in synced.ok("feed", "export", str(folder)).output


def test_a_failed_write_keeps_the_old_file_whole_and_leaves_no_temporary_file(
        synced: Tracker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = create(synced, "everything")
    folder = tmp_path / "feeds"
    synced.ok("feed", "export", str(folder))
    path = folder / export_filename("everything", token)
    before = path.read_bytes()
    synced.ok("status", "senfoelgeklinikker", "done", "--note", "Open in all regions")

    def disk_full(source: str, _target: str) -> None:
        assert Path(source).parent == folder and Path(source).name.startswith(".")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    import tracker.calendar.export as export_module

    monkeypatch.setattr(export_module.os, "replace", disk_full)
    output = synced.fails("feed", "export", str(folder)).output
    monkeypatch.undo()

    assert f"Cannot write the feeds to {folder}: No space left on device" in output
    assert "Files already there are unchanged or complete" in output
    assert path.read_bytes() == before
    assert _files(folder) == [path.name]


def test_export_into_a_file_is_a_usage_error(synced: Tracker, tmp_path: Path) -> None:
    create(synced, "everything")
    target = tmp_path / "feeds.ics"
    target.write_bytes(b"not a folder")
    result = synced("feed", "export", str(target))
    assert result.exit_code == 2
    assert f"Directory '{target}' is a file" in result.output
    assert target.read_bytes() == b"not a folder"


def test_export_where_the_folder_cannot_be_made_names_the_fix(synced: Tracker, tmp_path: Path) -> None:
    # The tests may run as root, where permissions stop nothing; a path under a regular file always fails.
    create(synced, "everything")
    blocker = tmp_path / "blocker"
    blocker.write_bytes(b"")
    target = blocker / "feeds"
    output = synced.fails("feed", "export", str(target)).output
    assert f"Cannot write the feeds to {target}: Not a directory." in output
    assert "Check that the folder exists or can be created" in output
    assert blocker.read_bytes() == b""


def test_export_with_an_invalid_base_url_writes_nothing(synced: Tracker, tmp_path: Path) -> None:
    create(synced, "everything")
    folder = tmp_path / "feeds"
    result = synced("feed", "export", str(folder), env={"TRACKER_BASE_URL": "ftp://tracker.example.dk"})
    assert result.exit_code == 2 and "TRACKER_BASE_URL" in result.output
    assert not folder.exists()


def test_export_with_no_feeds_writes_nothing_and_says_so(synced: Tracker, tmp_path: Path) -> None:
    folder = tmp_path / "feeds"
    assert synced.ok("feed", "export", str(folder)).output == \
        f"Exported to {folder}: 0 written, 0 unchanged, 0 removed.\n"
    assert _files(folder) == []
