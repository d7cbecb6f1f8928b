"""kill -9 during a busy sweep, again and again, with real processes: nothing lost, nothing twice.

The shipped plan on a Monday with every party on a Slack channel of its own:
a sweep of many messages to the Slack stand-in, each answered slowly. A real
`tracker notify run` is killed with SIGKILL after a few messages, restarted
past the outbox's lease, killed again, four times, then left to finish. Then
every notice is sent or unknown, none waits, none went out twice, and every
unknown one was reported to the coordinators.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from tests.conftest import Tracker
from tests.notify.slack_standin import Reply, SlackStandIn
from tracker.register import load_register
from tracker.store.db import open_engine
from tracker.store.tables import OutboxRow

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2027, 1, 4, 9, 30)  # a busy Monday: the first alerts for 2026's year-end deadlines and the digest
KILLS = 4
URL = re.compile(r"/deliverables/([a-z0-9-]+)")


def test_repeated_kill_9_during_a_busy_sweep_loses_nothing_and_sends_nothing_twice(tmp_path: Path) -> None:
    parties = sorted(load_register().parties)
    database_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    Tracker(database_url).ok("sync")
    contacts = tmp_path / "contacts.toml"
    contacts.write_text('language = "en"\n' + "".join(f'[party.{key}]\nslack = ["#{key}"]\n\n' for key in parties)
                        + '[coordinators]\nslack = ["#koordinering"]\n\n[taskforce]\nslack = ["#taskforce"]\n',
                        encoding="utf-8")
    chance = random.Random(13)
    with SlackStandIn() as slack:
        for name in [*parties, "koordinering", "taskforce"]:
            slack.add_channel(name)
        # Every message is taken, then answered a moment later: a kill can land before, during or after a post.
        slack.script("chat.postMessage", *[Reply.hang(0.15, posted=True) for _ in range(400)])
        environment = {name: value for name, value in os.environ.items() if "proxy" not in name.lower()}
        environment.update(DATABASE_URL=database_url, TRACKER_CONTACTS=str(contacts), TRACKER_LANG="en",
                           SLACK_BOT_TOKEN=slack.token, SLACK_API_URL=slack.base_url)

        def run(now: datetime) -> subprocess.Popen:
            return subprocess.Popen([sys.executable, "-c", "from tracker.cli import main; main()", "notify", "run",
                                     "--now", now.isoformat(timespec="minutes")], env=environment, cwd=ROOT,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        now = START
        for _kill in range(KILLS):
            before = len(slack.messages)
            wanted = before + chance.randint(1, 3)
            process = run(now)
            try:
                deadline = time.monotonic() + 60
                while len(slack.messages) < wanted and process.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.01)
                time.sleep(chance.uniform(0, 0.15))  # before the answer, or after it
                process.send_signal(signal.SIGKILL)
            finally:
                process.kill()
                process.wait(timeout=30)
            # The next run comes after the outbox's lease (15 minutes), as a restarted service would.
            now += timedelta(minutes=16)
        for _finish in range(2):
            finished = run(now)
            output = finished.communicate(timeout=120)[0].decode()
            assert finished.returncode in (0, 1), output  # 1: some messages may not have arrived, and it says so
            now += timedelta(minutes=16)

        with Session(open_engine(database_url)) as session:
            rows = list(session.exec(select(OutboxRow)))
        names = {channel.id: f"#{channel.name}" for channel in slack._channels.values()}
        posts: dict[str, list[str]] = {}
        for post in slack.messages:
            posts.setdefault(names[post.channel], []).append(post.text or "")

    states = Counter(row.state for row in rows)
    assert states["pending"] == states["claimed"] == states["sending"] == 0, states  # nothing left waiting
    assert states["sent"] + states["unknown"] > 20, states  # it was a busy sweep
    in_flight = {row.message_key for row in rows if row.state == "unknown"}
    assert len(in_flight) <= KILLS  # at most one message in flight per kill
    unknown = {row.message_key for row in rows if row.state == "unknown" and row.kind != "problem"}
    # Nothing twice: in each party's channel, each deliverable is in one message at most.
    for channel, texts in posts.items():
        if channel in ("#koordinering", "#taskforce"):
            continue
        mentioned = Counter(match for text in texts for match in set(URL.findall(text)))
        assert all(count == 1 for count in mentioned.values()), (channel, mentioned)
    # Nothing lost: every notice sent to a party's channel is in that channel.
    for row in rows:
        if row.state == "sent" and row.kind in ("reminder", "overdue", "confirm") and row.channel == "slack":
            assert any(f"/deliverables/{row.deliverable_id}" in text for text in posts.get(row.recipient, [])), \
                row.key
    # Every message that may not have arrived is reported to the coordinators, by its key (a report that was in
    # flight itself is not reported again: problems about problems would never end).
    reports = "\n".join(posts.get("#koordinering", []))
    for key in unknown:
        assert key in reports, key
