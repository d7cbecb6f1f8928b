"""What bad input costs: a broken register is refused fast and reported in bounded output, as ratios in one run.

    .venv/bin/python bench/faults.py [--quick]

Measured, interleaved on the same machine:

- **problems are linear and the output bounded**: validating a register with
  10x as many problems (unknown keys) costs per problem about what 1x costs
  (target ≤ 1.5x), and what it prints stays under 40 KB whatever the count;
- **hostile nesting is cheap to refuse**: a register nested 5,000 levels deep
  is refused in a time comparable to reading the valid shipped register
  (target ≤ 3x);
- **a half-saved register is refused before it writes**: `sync_register` on a
  register cut off after 30 of its deliverables, against a no-change sync of the
  whole one (target ≤ 1.5x: the guard counts, it does not write).

It prints medians and ratios; it asserts nothing (the machine is shared and
noisy): a missed target is reported, not failed.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from tracker.errors import RegisterError, SyncRefusedError
from tracker.register import default_register_path, parse_register

SHIPPED = default_register_path().read_bytes()


def with_problems(count: int) -> bytes:
    return SHIPPED + "".join(f"\nextra{index} = {index}" for index in range(count)).encode()


def median_seconds(action: Callable[[], object], runs: int) -> float:
    times = []
    for _run in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def refused(raw: bytes) -> str:
    try:
        parse_register(raw, "deliverables.toml")
    except RegisterError as error:
        return error.message
    raise AssertionError("the register was accepted")


def report(name: str, ratio: float, target: float, detail: str) -> None:
    verdict = "ok" if ratio <= target else "MISSED"
    print(f"{name:<58} {ratio:6.2f}x  (target ≤ {target:g}x, {verdict})  {detail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Smaller inputs and fewer runs, for CI.")
    arguments = parser.parse_args()
    runs = 3 if arguments.quick else 7
    small, large = (1_000, 10_000) if arguments.quick else (10_000, 100_000)

    # 1. Problems: linear, and the output bounded.
    few, many = with_problems(small), with_problems(large)
    outputs = {small: len(refused(few).encode()), large: len(refused(many).encode())}
    few_seconds = median_seconds(lambda: refused(few), runs)
    many_seconds = median_seconds(lambda: refused(many), runs)
    report(f"validate: per problem at {large:,} against {small:,}", (many_seconds / large) / (few_seconds / small),
           1.5, f"{few_seconds * 1000:.0f} ms, {many_seconds * 1000:.0f} ms; printed {outputs[small]:,} and "
                f"{outputs[large]:,} bytes")

    # 2. Hostile nesting against the valid register.
    nested = SHIPPED + b"\nx = " + b"{a = " * 5000 + b"1" + b"}" * 5000 + b"\n"
    valid_seconds = median_seconds(lambda: parse_register(SHIPPED, "deliverables.toml"), runs)
    nested_seconds = median_seconds(lambda: refused(nested), runs)
    report("nesting 5,000 deep refused, against reading the register", nested_seconds / valid_seconds, 3,
           f"{nested_seconds * 1000:.0f} ms against {valid_seconds * 1000:.0f} ms")

    # 3. The removal guard against a no-change sync.
    from tracker.store.db import open_engine, write_session
    from tracker.store.migrate import upgrade
    from tracker.store.sync import sync_register

    text = SHIPPED.decode("utf-8")
    starts = [match.start() for match in re.finditer(r"^\[\[deliverable\]\]$", text, flags=re.MULTILINE)]
    whole, half = parse_register(SHIPPED), parse_register(text[: starts[30]].encode())
    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as folder:
        engine = open_engine(f"sqlite:///{Path(folder) / 'tracker.db'}")
        upgrade(engine)
        with write_session(engine) as session:
            sync_register(session, whole, now)

        def unchanged() -> None:
            with write_session(engine) as session:
                sync_register(session, whole, now)

        def guarded() -> None:
            try:
                with write_session(engine) as session:
                    sync_register(session, half, now)
            except SyncRefusedError:
                return
            raise AssertionError("the half-saved register was synced")

        unchanged_seconds = median_seconds(unchanged, runs)
        guarded_seconds = median_seconds(guarded, runs)
        engine.dispose()
    report("half-saved register refused, against a no-change sync", guarded_seconds / unchanged_seconds, 1.5,
           f"{guarded_seconds * 1000:.0f} ms against {unchanged_seconds * 1000:.0f} ms")


if __name__ == "__main__":
    main()
