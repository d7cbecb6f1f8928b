"""How fast the coordinators' commands start, as ratios measured in one run.

    .venv/bin/python bench/cli_startup.py [--runs N] [--quick]

Each command is timed against its floor on the same machine in the same run,
interleaved so that noise from a shared machine hits both alike:

- `tracker --help` and `tracker validate` against `python -c pass`
  (target: under 0.3 s each);
- `tracker list` against `python -c "import sqlmodel"`, the price any
  sqlmodel command pays (target: within 1.3x of it).

It prints medians and ratios; it asserts nothing (targets are reported, not
tested, because this machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON = sys.executable
TRACKER = str(Path(PYTHON).parent / "tracker")


def _time(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="3 runs: for CI, to prove the benchmark works")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs

    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, TRACKER_HOME=home, TRACKER_LANG="en")
        env.pop("DATABASE_URL", None)
        subprocess.run([TRACKER, "sync"], env=env, check=True, stdout=subprocess.DEVNULL)
        commands = {
            "python -c pass": [PYTHON, "-c", "pass"],
            "python -c 'import sqlmodel'": [PYTHON, "-c", "import sqlmodel"],
            "tracker --help": [TRACKER, "--help"],
            "tracker validate": [TRACKER, "validate"],
            "tracker list": [TRACKER, "list", "--today", "2026-11-23"],
        }
        for command in commands.values():  # warm the file cache once
            _time(command, env)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, command in commands.items():
                samples[name].append(_time(command, env))

    median = {name: statistics.median(values) for name, values in samples.items()}
    print(f"CLI start-up, median of {runs} interleaved runs (Python {sys.version.split()[0]})")
    for name, seconds in median.items():
        print(f"  {name:<30} {seconds * 1000:7.0f} ms")
    floor, sqlmodel_floor = median["python -c pass"], median["python -c 'import sqlmodel'"]
    rows = [
        ("tracker --help", floor, "python -c pass", "< 0.3 s"),
        ("tracker validate", floor, "python -c pass", "< 0.3 s"),
        ("tracker list", sqlmodel_floor, "import sqlmodel", "<= 1.3x"),
    ]
    print("Ratios:")
    for name, base, base_name, target in rows:
        print(f"  {name:<18} {median[name] / base:5.2f}x {base_name:<16} ({median[name]:.3f} s; target {target})")


if __name__ == "__main__":
    main()
