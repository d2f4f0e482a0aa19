"""CLI start-up: wall time of `gamekeeper --help`, `jobs list` and `sync --help`, against
`python -c pass` (the interpreter alone) in the same run.

Also shown: the floor of `jobs list`'s own dependencies (importing SQLAlchemy,
pydantic-settings and Rich, which every command that reads the database needs), so
a slow figure on a busy machine can be told from a slow gamekeeper. Each figure is the
median of `--runs` runs (the machine may be shared); the database is migrated first.

    python bench/startup.py [--runs 15]
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

#: Goal for `--help` and `jobs list` (wall seconds).
GOAL_S = 0.3


def wall(cmd: list[str], env: dict[str, str], runs: int) -> float:
    """The median wall time of `cmd` over `runs` runs."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    python = sys.executable
    gamekeeper = [python, "-m", "gamekeeper"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GAMEKEEPER_")}
        env["GAMEKEEPER_DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'startup.db'}"
        subprocess.run([*gamekeeper, "db", "upgrade"], env=env, check=True, capture_output=True)
        cases = {
            "python -c pass": [python, "-c", "pass"],
            "deps floor (sqlalchemy+pydantic-settings+rich)": [
                python,
                "-c",
                "import sqlalchemy, pydantic_settings, rich.console, rich.table, asyncio",
            ],
            "gamekeeper --help": [*gamekeeper, "--help"],
            "gamekeeper jobs list": [*gamekeeper, "jobs", "list"],
            "gamekeeper sync --help": [*gamekeeper, "sync", "--help"],
        }
        # Interleaved rounds, so a neighbour's burst hits every case alike.
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, cmd in cases.items():
                samples[name].append(wall(cmd, env, 1))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians["python -c pass"]
    print(f"median of {args.runs} runs each; {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")
    for name, seconds in medians.items():
        goal = (
            f"  (goal <= {GOAL_S} s)"
            if name in {"gamekeeper --help", "gamekeeper jobs list"}
            else ""
        )
        print(
            f"{name:48} {seconds:6.3f} s   {seconds / base:5.1f}x python -c pass   "
            f"+{seconds - base:.3f} s{goal}"
        )


if __name__ == "__main__":
    main()
