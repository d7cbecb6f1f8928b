"""How tracker holds up as the plan grows a hundredfold, as ratios measured in one run.

    .venv/bin/python bench/scale.py [--quick] [--rounds N] [--sizes 1,104,516]

The plans are the shipped register (97 occurrences) and the same register 11, 104 and 516 times over
(``tools/scaled_register.py``: the same deliverables under new ids, as if the task force followed other plans
beside this one): about 1,000, 10,000 and 50,000 occurrences. ``--quick`` (for CI) measures the shipped plan,
1,000 and 5,000 (52 copies), and holds the 10,000 targets at 5,000. Each plan is synced once into its own SQLite
database, at a fixed moment (3 December 2026, when part of every copy is overdue).

Measured, with every size interleaved in each round so that noise from a shared machine hits all alike, and the
median of the rounds reported:

1. Commands, each a fresh ``tracker`` process as a coordinator runs it: ``list``, ``show ID``, a ``sync`` of the
   file as last synced, and ``notify run`` (a sweep, after a first one sent the day's messages to the console),
   each against its import floor: a process that imports the modules the command imported on the shipped
   plan, and exits. Targets at 10,000:
   ``list`` and ``show`` at most 1.3x their time on the shipped plan; the no-change sync at most 0.3 s above the
   floor; the sweep at most 1 s above it.
2. ``GET /`` of the dashboard in process (the ASGI app over httpx), a minute apart as a wall screen reloads (so
   rendered every time, from the plan read once per change): at most 3x its time on the shipped plan. The first
   request, which reads the plan, is reported beside it.
3. The whole-plan feed after one status change (``FeedService``: the refresh reads the changed deliverable and
   renders its event) against a full render by a service started afresh: at most 10%.
4. Peak memory of ``tracker serve`` (VmHWM) after serving the whole-plan feed, less that of the same server on
   the shipped plan (the interpreter and its libraries), against the feed's size: at most 2x.
5. Linearity: the cost above the floor per occurrence at the largest size against 10,000 (and at 10,000 against
   1,000), for every series: 1.0 is linear; at most 1.25.

It prints the figures and PASS/FAIL against the targets; it exits 0 when a target is missed (the machine is
shared and noisy), non-zero only when the benchmark itself fails.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools.scaled_register import scaled_register  # noqa: E402

from tracker.calendar.service import FeedService  # noqa: E402
from tracker.clock import plan_today  # noqa: E402
from tracker.model import Status  # noqa: E402
from tracker.register import default_register_path  # noqa: E402
from tracker.store.db import open_engine, read_session, write_session  # noqa: E402
from tracker.store.feeds import create_feed  # noqa: E402
from tracker.store.operations import change_status  # noqa: E402
from tracker.store.queries import load_plan  # noqa: E402
from tracker.web import create_app  # noqa: E402

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
BASE_URL = "http://127.0.0.1:8000"
TRACKER = [str(Path(sys.executable).parent / "tracker")]  # the console script, as coordinators run it
# Runs a command in process and writes the modules it imported: the floor of that command is a process that
# imports the same modules and exits.
_RECORD = """
import atexit, sys
path = sys.argv[1]
atexit.register(lambda: open(path, "w").write("\\n".join(sorted(sys.modules))))
sys.argv = ["tracker", *sys.argv[2:]]
from tracker.cli import main
main()
"""
_IMPORT = """
import importlib, sys
for name in open(sys.argv[1]).read().split():
    try:
        importlib.import_module(name)
    except Exception:
        pass
"""


NOISE = 0.1  # seconds: a command this close to its floor has no per-occurrence cost to compare


class BenchError(Exception):
    """The benchmark could not measure what it set out to."""


@dataclass
class Plan:
    copies: int
    directory: Path
    occurrences: int = 0
    first_sync: float = 0.0
    shown_id: str = ""
    token: str = ""
    times: dict[str, list[float]] = field(default_factory=dict)

    @property
    def register(self) -> Path:
        return self.directory / "deliverables.toml"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.directory / 'tracker.db'}"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "TRACKER_REGISTER": str(self.register), "DATABASE_URL": self.database_url,
                "TRACKER_LANG": "en", "TRACKER_TIMEZONE": "Europe/Copenhagen"}

    def label(self) -> str:
        return "shipped" if self.copies == 1 else f"{self.occurrences:,}"

    def median(self, series: str) -> float:
        return statistics.median(self.times[series])


def run(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):  # notify run exits 1 when a message failed: still a sweep
        raise BenchError(f"{' '.join(command[1:])} failed ({result.returncode}): {result.stderr.decode()[-400:]}")
    return elapsed


def prepare(plan: Plan, shipped: str) -> None:
    plan.register.write_text(scaled_register(shipped, plan.copies), encoding="utf-8")
    plan.first_sync = run([*TRACKER, "sync"], plan.env)
    engine = open_engine(plan.database_url)
    with read_session(engine) as session:
        views = load_plan(session, plan_today(NOW), include_archived=False).views
    plan.occurrences = len(views)
    plan.shown_id = views[len(views) // 2].deliverable_id
    with write_session(engine) as session:
        _, plan.token = create_feed(session, "hele-planen", parties=[], themes=[], overdue_only=False, alarm=None,
                                    language="da", actor="bench", now=NOW)
    engine.dispose()
    # The first sweep sends the day's messages (to the console); the measured ones find the day done.
    run([*TRACKER, "notify", "run", "--now", NOW.isoformat()], plan.env)


COMMANDS = {
    "list": lambda plan: [*TRACKER, "list"],
    "show": lambda plan: [*TRACKER, "show", plan.shown_id],
    "sync (no change)": lambda plan: [*TRACKER, "sync"],
    "notify run (sweep)": lambda plan: [*TRACKER, "notify", "run", "--now", NOW.isoformat()],
}


def floors(plan: Plan, work: Path) -> dict[str, list[str]]:
    """Each command's import floor: a process importing the modules the command imports on ``plan``."""
    commands = {}
    for name, command in COMMANDS.items():
        modules = work / f"modules-{len(commands)}.txt"
        run([sys.executable, "-c", _RECORD, str(modules), *command(plan)[1:]], plan.env)
        commands[name] = [sys.executable, "-c", _IMPORT, str(modules)]
    return commands


def measure_commands(plans: list[Plan], rounds: int, work: Path) -> dict[str, float]:
    """Each command's import floor (median seconds); the plans' times in ``Plan.times``."""
    floor_commands = floors(plans[0], work)
    floor: dict[str, list[float]] = {}
    for _round in range(rounds):
        for name, command in COMMANDS.items():
            floor.setdefault(name, []).append(run(floor_commands[name]))
            for plan in plans:
                plan.times.setdefault(name, []).append(run(command(plan), plan.env))
    return {name: statistics.median(times) for name, times in floor.items()}


def measure_board(plans: list[Plan], rounds: int) -> None:
    async def board() -> None:
        clients = []
        for plan in plans:
            service = FeedService(open_engine(plan.database_url), BASE_URL)
            # A minute later at every request, as a wall screen reloads: the page (which says when it was shown)
            # is rendered each time, from the plan read once.
            minutes = itertools.count()
            app = create_app(service, clock=lambda: NOW + timedelta(minutes=next(minutes)))
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
            started = time.perf_counter()
            response = await client.get("/")
            plan.times["GET / (first)"] = [time.perf_counter() - started]
            if response.status_code != 200:
                raise BenchError(f"GET / answered {response.status_code}")
            plan.times["GET / size"] = [float(len(response.content))]
            clients.append((plan, client))
        for _round in range(rounds * 5):
            for plan, client in clients:
                started = time.perf_counter()
                await client.get("/")
                plan.times.setdefault("GET /", []).append(time.perf_counter() - started)
        for _plan, client in clients:
            await client.aclose()
    asyncio.run(board())


def measure_feed(plan: Plan, rounds: int) -> tuple[float, float]:
    """(full render by a fresh service, the request after one status change) in seconds, medians."""
    engine = open_engine(plan.database_url)
    full, after = [], []
    status = Status.IN_PROGRESS
    for index in range(rounds):
        started = time.perf_counter()
        fresh = FeedService(engine, BASE_URL)
        if fresh.feed_for_token(plan.token, NOW) is None:
            raise BenchError("the feed token opens nothing")
        full.append(time.perf_counter() - started)
        status = Status.AT_RISK if status is Status.IN_PROGRESS else Status.IN_PROGRESS
        with write_session(engine) as session:
            change_status(session, plan.shown_id, status, note=f"round {index}", actor="bench", now=NOW,
                          year=_year_of(session, plan.shown_id))
        started = time.perf_counter()
        fresh.feed_for_token(plan.token, NOW)
        after.append(time.perf_counter() - started)
        if fresh.last_read is None:
            raise BenchError("the refresh after one change read the whole plan")
    engine.dispose()
    return statistics.median(full), statistics.median(after)


def _year_of(session: object, deliverable_id: str) -> int | None:
    views = load_plan(session, plan_today(NOW), deliverable_ids=[deliverable_id]).views  # type: ignore[arg-type]
    return views[0].year if len(views) > 1 else None


def serve_peak(plan: Plan) -> tuple[int, int]:
    """(VmHWM of `tracker serve` in bytes after it served the whole-plan feed, the feed's size)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([*TRACKER, "serve", "--port", str(port)], env=plan.env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise BenchError("tracker serve did not start") from None
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/feeds/{plan.token}.ics", timeout=120) as response:
            size = len(response.read())
        status = Path(f"/proc/{process.pid}/status").read_text()
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        if match is None:
            raise BenchError("no VmHWM in /proc (not Linux?)")
        return int(match.group(1)) * 1024, size
    finally:
        process.terminate()
        process.wait(timeout=30)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the shipped plan, 1,000 and 5,000 (for CI)")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--sizes", default=None, help="copies of the register, comma-separated (1 is added)")
    args = parser.parse_args()
    copies = [1, *(int(size) for size in args.sizes.split(","))] if args.sizes else \
        ([1, 11, 52] if args.quick else [1, 11, 104, 516])
    rounds = args.rounds or (3 if args.quick else 5)
    shipped = default_register_path().read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="tracker-scale-") as work:
        plans = [Plan(count, Path(work) / f"x{count}") for count in copies]
        for plan in plans:
            plan.directory.mkdir()
            prepare(plan, shipped)
            print(f"plan {plan.label():>8}: {plan.occurrences:,} occurrences, first sync {plan.first_sync:.2f} s",
                  flush=True)
        floor = measure_commands(plans, rounds, Path(work))
        measure_board(plans, rounds)
        feed = {plan.copies: measure_feed(plan, rounds) for plan in plans}
        memory = {plan.copies: serve_peak(plan) for plan in (plans[0], plans[-1])}

    base, large = plans[0], plans[-1]
    ten = next((plan for plan in plans if plan.occurrences >= 9000), large)
    print(f"\n{'series':<20}" + "".join(f"{plan.label():>10}" for plan in plans) + "   (median seconds)")
    for name in COMMANDS:
        print(f"{name:<20}" + "".join(f"{plan.median(name):>10.3f}" for plan in plans)
              + f"   import floor {floor[name]:.3f}")
    print(f"{'GET /':<20}" + "".join(f"{plan.median('GET /'):>10.3f}" for plan in plans))
    print(f"{'GET / first':<20}" + "".join(f"{plan.median('GET / (first)'):>10.3f}" for plan in plans))
    print(f"{'GET / KiB':<20}" + "".join(f"{plan.median('GET / size') / 1024:>10.0f}" for plan in plans))
    print(f"{'first sync':<20}" + "".join(f"{plan.first_sync:>10.2f}" for plan in plans))
    print(f"{'feed full render':<20}" + "".join(f"{feed[plan.copies][0]:>10.3f}" for plan in plans))
    print(f"{'feed after change':<20}" + "".join(f"{feed[plan.copies][1]:>10.4f}" for plan in plans))

    at = f"at {ten.occurrences:,}"
    results = []

    def target(name: str, value: float, limit: float, unit: str = "x") -> None:
        results.append(value <= limit)
        print(f"  {verdict(value <= limit)}  {name:<58} {value:8.2f}{unit}  (target <= {limit}{unit})")

    print(f"\ntargets {at} occurrences, against the shipped plan ({base.occurrences}) in the same run:")
    target("tracker list / on the shipped plan", ten.median("list") / base.median("list"), 1.3)
    target("tracker show / on the shipped plan", ten.median("show") / base.median("show"), 1.3)
    for name, limit in (("sync (no change)", 0.3), ("notify run (sweep)", 1.0)):
        target(f"{name}, above its import floor", ten.median(name) - floor[name], limit, " s")
    target("GET / / on the shipped plan", ten.median("GET /") / base.median("GET /"), 3.0)
    full, after = feed[ten.copies]
    target("feed after one change / full render", after / full, 0.10)
    peak_base, _ = memory[base.copies]
    peak, size = memory[large.copies]
    print(f"  tracker serve at {large.occurrences:,}: peak RSS {peak / 2**20:.0f} MiB, on the shipped plan "
          f"{peak_base / 2**20:.0f} MiB; whole-plan feed {size / 2**20:.1f} MiB")
    target(f"serve's peak RSS above the shipped plan's / feed size ({large.label()})", (peak - peak_base) / size,
           2.0)
    print("\nlinearity: cost above the floor per occurrence, larger against smaller (1.0 is linear):")
    pairs = [(small, big) for small, big in zip(plans[1:], plans[2:])]
    for small, big in pairs:
        for name in [*COMMANDS]:
            above_small, above_big = small.median(name) - floor[name], big.median(name) - floor[name]
            if above_small < NOISE or above_big < NOISE:
                # Within the noise of a process start: nothing grows with the plan to measure.
                print(f"  flat  {name}: {above_small:+.3f} s and {above_big:+.3f} s above its floor")
                continue
            ratio = (above_big / big.occurrences) / (above_small / small.occurrences)
            target(f"{name}: {big.label()} against {small.label()}", ratio, 1.25)
        for name, value in (("GET /", lambda plan: plan.median("GET /")),
                            ("feed full render", lambda plan: feed[plan.copies][0]),
                            ("first sync", lambda plan: plan.first_sync)):
            ratio = (value(big) / big.occurrences) / (value(small) / small.occurrences)
            target(f"{name}: {big.label()} against {small.label()}", ratio, 1.25)
    print(f"\n{sum(results)} of {len(results)} targets met")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        sys.exit(2)
