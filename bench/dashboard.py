"""How much the dashboard costs per request, as ratios measured in one run.

    .venv/bin/python bench/dashboard.py [--quick] [--rounds N] [--large OCCURRENCES]

Every request goes through the ASGI app the web process runs
(``tracker.web.create_app``), in-process over httpx's ASGI transport, so
the figures are the app's own work and not the network's. Rounds interleave
the measured request with its floor, so noise from a shared machine hits
both alike.

1. ``GET /`` for the shipped register (SQLite), against reading what it
   shows (``load_snapshot``: the occurrences, parties and themes) in the
   same process. Target: the whole page costs at most 4x its data read
   (rendering the counts, the SVG timeline and the table may not dominate).
   The requests are a minute apart, so each page is rendered; the plan is
   read once and kept until it changes, so the page now costs less than
   the read it once repeated at every request.
2. ``GET /`` against ``GET /healthz`` (one database read and a little JSON,
   through the same stack): the page's cost in units of the cheapest request.
   Reported, no target.
3. Scaling: the per-occurrence cost of ``GET /`` for a synthetic database
   of about 5,000 occurrences (2,000 with --quick) against the shipped
   register's ~66. Target: at most 1.5x (linear, or better: fixed costs are
   shared by more rows).
4. ``GET /members/regionerne`` (the matrix of the regions' per-member
   deliverables) for the shipped register, against the same data read: it
   reads the whole plan to find the per-member occurrences and their parts.
   Target: at most 2x (the matrix is a few rows; the read is the cost).

It prints medians and PASS/FAIL against the targets and exits 0 when a
target is missed (the machine is shared and noisy); non-zero only when the
benchmark itself fails. ``--quick`` (for CI) takes a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feeds import add_synthetic_occurrences  # noqa: E402  (a sibling script, not a package)

from tracker.calendar.service import FeedService  # noqa: E402
from tracker.clock import plan_today  # noqa: E402
from tracker.dashboard.pages import load_snapshot  # noqa: E402
from tracker.register import load_register  # noqa: E402
from tracker.store.db import open_engine, write_session  # noqa: E402
from tracker.store.migrate import upgrade  # noqa: E402
from tracker.store.sync import sync_register  # noqa: E402
from tracker.web import create_app  # noqa: E402

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL (reported, not enforced: the machine is shared)"


def database(path: Path, occurrences: int | None) -> tuple[object, int]:
    engine = open_engine(f"sqlite:///{path}")
    upgrade(engine)
    with write_session(engine) as session:
        sync_register(session, load_register(), NOW)
    if occurrences:
        return engine, add_synthetic_occurrences(engine, occurrences, NOW)
    with engine.connect() as connection:
        return engine, connection.execute(text("SELECT count(*) FROM occurrence")).scalar_one()


async def interleaved(rounds: int, batch: int, measures: list[Callable[[], Awaitable[object]]]) -> list[list[float]]:
    """Seconds per call of each measure, one median-able sample per round, the measures alternating."""
    samples: list[list[float]] = [[] for _ in measures]
    for measure in measures:  # warm caches, templates and connections
        await measure()
    gc.disable()
    try:
        for _round in range(rounds):
            for index, measure in enumerate(measures):
                started = time.perf_counter()
                for _ in range(batch):
                    await measure()
                samples[index].append((time.perf_counter() - started) / batch)
    finally:
        gc.enable()
    return samples


def client_for(engine: object) -> httpx.AsyncClient:
    # A minute later at every request, as a wall screen reloads: the page says when it was shown, so it is rendered
    # each time; the plan is read once and kept until it changes (``SnapshotCache``).
    minutes = itertools.count()
    app = create_app(FeedService(engine, "http://127.0.0.1:8000"), clock=lambda: NOW + timedelta(minutes=next(minutes)))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")


async def page(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}: {response.text[:200]}")


async def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="tracker-bench-dashboard-"))
    shipped, shipped_count = database(work / "shipped.db", None)
    large, large_count = database(work / "large.db", args.large)
    today = plan_today(NOW)

    async def snapshot(engine: object) -> None:
        await asyncio.to_thread(load_snapshot, engine, today)

    async with client_for(shipped) as small_client, client_for(large) as large_client:
        board, read, health, matrix = await interleaved(args.rounds, args.batch, [
            lambda: page(small_client, "/"), lambda: snapshot(shipped), lambda: page(small_client, "/healthz"),
            lambda: page(small_client, "/members/regionerne")])
        small, big = await interleaved(max(3, args.rounds // 3), 1, [
            lambda: page(small_client, "/"), lambda: page(large_client, "/")])

    board_ms, read_ms, health_ms, matrix_ms = (statistics.median(s) * 1000 for s in (board, read, health, matrix))
    print(f"Shipped register ({shipped_count} occurrences), {args.rounds} rounds of {args.batch}:")
    print(f"  GET /           {board_ms:8.2f} ms")
    print(f"  load_snapshot   {read_ms:8.2f} ms")
    print(f"  GET /healthz    {health_ms:8.2f} ms")
    print(f"  GET /members/regionerne {matrix_ms:8.2f} ms")
    ratio = board_ms / read_ms
    print(f"1. page / its data read: {ratio:.2f}x (target <= 4x): {verdict(ratio <= 4)}")
    print(f"2. page / health check: {board_ms / health_ms:.1f}x (reported)")
    small_ms, big_ms = statistics.median(small) * 1000, statistics.median(big) * 1000
    per_small, per_big = small_ms / shipped_count, big_ms / large_count
    scaling = per_big / per_small
    print(f"3. GET / with {large_count} occurrences: {big_ms:.1f} ms; with {shipped_count}: {small_ms:.2f} ms; "
          f"per occurrence {per_big * 1000:.1f} µs vs {per_small * 1000:.1f} µs: {scaling:.2f}x "
          f"(target <= 1.5x): {verdict(scaling <= 1.5)}")
    matrix_ratio = matrix_ms / read_ms
    print(f"4. matrix page / its data read: {matrix_ratio:.2f}x (target <= 2x): {verdict(matrix_ratio <= 2)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few seconds, for CI: proves it works")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 30; 8 with --quick)")
    parser.add_argument("--large", type=int, default=None,
                        help="occurrences in the synthetic database (default 5000; 2000 with --quick)")
    args = parser.parse_args()
    args.rounds = args.rounds or (8 if args.quick else 30)
    args.batch = 5 if args.quick else 20
    args.large = args.large or (2000 if args.quick else 5000)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
