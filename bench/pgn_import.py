"""PGN import speed: gamekeeper against python-chess and pgn-extract, in the same run.

    python bench/pgn_import.py [FILE] [--games 200000] [--side import] [--slice 5000]

Without FILE, a Lichess-dump-style file of `--games` games is generated once
(bench/pgn_gen.py) and kept in the system temp directory. Each side runs in its own
process, so its peak RSS is its own:

- gamekeeper: the `--side` function over the whole file (see SIDES). The default,
  `import`, is the `import_pgn` job into a fresh SQLite database, as `gamekeeper
  import` runs it; `games` and `reader` leave the database out;
- python-chess: `chess.pgn.read_game` over the first `--slice` games, scaled to games/s;
- pgn-extract: `pgn-extract -s FILE -o /dev/null` over the whole file (it keeps
  comments and checks legality).

A compressed FILE (.gz, .bz2, .zst) is measured on the gamekeeper side only.

Goals (issue 7): at least pgn-extract's games/s, at least 30x python-chess's, and a
peak RSS of at most 200 MB whatever the file size. Rates are shown on wall time and on
CPU time (user + system) of each side's process; the goals are judged on CPU time, so
that other work on a shared machine does not skew the ratios (the load average is
printed before and after, to judge the wall figures by).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

GOAL_VS_PGN_EXTRACT = 1.0
GOAL_VS_PYTHON_CHESS = 30.0
GOAL_PEAK_RSS_MB = 200.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Measure:
    """One side's run."""

    games: int
    seconds: float
    cpu_seconds: float
    bytes_read: int
    peak_rss_mb: float
    errors: int = 0

    @property
    def games_per_s(self) -> float:
        return self.games / self.seconds

    @property
    def games_per_cpu_s(self) -> float:
        return self.games / self.cpu_seconds

    @property
    def mb_per_s(self) -> float:
        return self.bytes_read / 1e6 / self.seconds


# --- the gamekeeper side: a function from a file to (games, errors) ------------------
# Swap in another (e.g. the import_pgn job into SQLite) by adding it here.


def side_reader(path: Path) -> tuple[int, int]:
    """The reader alone: records (tags, parsed movetext) with offsets."""
    from gamekeeper.connectors.pgn import PgnError, iter_pgn, open_pgn

    games = errors = 0
    with open_pgn(path).stream as stream:
        for item in iter_pgn(stream):
            if isinstance(item, PgnError):
                errors += 1
            else:
                games += 1
    return games, errors


def side_games(path: Path) -> tuple[int, int]:
    """The reader and `record_to_game`: what the import job stores."""
    from gamekeeper.connectors.pgn import PgnError, open_pgn, read_pgn_games

    games = errors = 0
    with open_pgn(path).stream as stream:
        for item, _ in read_pgn_games(stream):
            if isinstance(item, PgnError):
                errors += 1
            else:
                games += 1
    return games, errors


def side_import(path: Path) -> tuple[int, int] | Timed:
    """The `import_pgn` job into a fresh SQLite database, as `gamekeeper import` runs it:
    read, map, upsert and checkpoint batch by batch. Timed from the job's creation to
    its end (the database is created and migrated before)."""
    import asyncio

    from gamekeeper.bootstrap import build_services, upgrade_database
    from gamekeeper.settings import Settings

    absolute = str(path.resolve())

    async def run(database: Path) -> Timed:
        services = build_services(Settings(database_url=f"sqlite:///{database}"))
        await upgrade_database(services)
        await services.start(sweep=False)
        try:
            started, cpu_started = time.perf_counter(), _cpu_seconds()
            job = await services.jobs.create(
                "import_pgn", owner="bench", parameters={"path": absolute}
            )
            final = [seen async for seen in services.jobs.watch(job.id)][-1]
            seconds, cpu_seconds = time.perf_counter() - started, _cpu_seconds() - cpu_started
        finally:
            await services.aclose()
        if final.status.value != "completed":
            raise SystemExit(f"import ended {final.status.value}: {final.error}")
        counters = final.counters
        games = counters.get("found", 0) - counters.get("failed", 0)
        stored = counters.get("inserted", 0)
        if stored != games:
            raise SystemExit(f"{games} games read but {stored} stored: {counters}")
        return Timed(games, counters.get("failed", 0), seconds, cpu_seconds)

    with tempfile.TemporaryDirectory() as workdir:
        return asyncio.run(run(Path(workdir) / "bench.db"))


class Timed(NamedTuple):
    """What a side that times itself (leaving out its set-up) returns."""

    games: int
    errors: int
    seconds: float
    cpu_seconds: float


SIDES: dict[str, Callable[[Path], tuple[int, int] | Timed]] = {
    "import": side_import,
    "reader": side_reader,
    "games": side_games,
}


def _peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM: unlike ru_maxrss, not inherited)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    # Elsewhere, ru_maxrss (kilobytes on Linux).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure_side(name: str, path: Path) -> Measure:
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    outcome = SIDES[name](path)
    seconds, cpu_seconds = time.perf_counter() - started, _cpu_seconds() - cpu_started
    if isinstance(outcome, Timed):
        games, errors, seconds, cpu_seconds = outcome
    else:
        games, errors = outcome
    return Measure(
        games=games,
        errors=errors,
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        bytes_read=path.stat().st_size,
        peak_rss_mb=_peak_rss_mb(),
    )


def measure_python_chess(path: Path, games: int) -> Measure:
    import chess.pgn

    # Cut the slice first, so only reading is timed.
    sliced = bytearray()
    with path.open("rb") as source:
        count = 0
        for line in source:
            if line.startswith(b"[Event ") and sliced:
                count += 1
                if count == games:
                    break
            sliced += line
    with tempfile.NamedTemporaryFile(suffix=".pgn") as handle:
        handle.write(sliced)
        handle.flush()
        with open(handle.name, encoding="utf-8") as text:
            started, cpu_started = time.perf_counter(), _cpu_seconds()
            read = 0
            while chess.pgn.read_game(text) is not None:
                read += 1
            seconds = time.perf_counter() - started
            cpu_seconds = _cpu_seconds() - cpu_started
    return Measure(
        games=read,
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        bytes_read=len(sliced),
        peak_rss_mb=_peak_rss_mb(),
    )


def measure_pgn_extract(path: Path) -> Measure | None:
    binary = shutil.which("pgn-extract") or shutil.which("pgn-extract", path="/usr/games")
    if binary is None:
        return None
    started = time.perf_counter()
    process = subprocess.Popen(
        [binary, "-s", str(path), "-o", os.devnull],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    counts = [int(n) for n in re.findall(rb"Games: (\d+)", stderr)]
    return Measure(
        games=max(counts, default=0),
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        bytes_read=path.stat().st_size,
        peak_rss_mb=usage.ru_maxrss / 1024,
    )


def _in_subprocess(*args: str) -> Measure:
    output = subprocess.run(
        [sys.executable, __file__, "--measure", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return Measure(**json.loads(output.strip().splitlines()[-1]))


def _default_file(games: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"gamekeeper-bench-{games}.pgn"
    if not path.exists():
        print(f"generating {path} ({games} games)...", file=sys.stderr)
        partial = path.with_suffix(".partial")
        generator = Path(__file__).with_name("pgn_gen.py")
        command = [sys.executable, str(generator), str(partial), "--games", str(games)]
        subprocess.run(command, check=True)
        partial.rename(path)
    return path


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _row(name: str, result: Measure, note: str = "") -> str:
    return (
        f"{name:<26} {result.games:>8} {result.seconds:>8.2f} {result.games_per_s:>9.0f}"
        f" {result.games_per_cpu_s:>11.0f} {result.mb_per_s:>6.1f} {result.peak_rss_mb:>7.0f}"
        f"  {note}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--games", type=int, default=200_000)
    parser.add_argument("--side", choices=sorted(SIDES), default="import")
    parser.add_argument("--slice", type=int, default=5_000)
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.measure:
        kind, target = args.measure
        if kind == "python-chess":
            measured = measure_python_chess(Path(target), args.slice)
        else:
            measured = measure_side(kind, Path(target))
        print(json.dumps(asdict(measured)))
        return 0

    path: Path = args.file or _default_file(args.games)
    size_mb = path.stat().st_size / 1e6
    print(f"file: {path} ({size_mb:.1f} MB)")
    print(f"machine: {os.cpu_count()} CPUs, load average {_load()} before")
    ours = _in_subprocess(args.side, str(path))
    if path.suffix in (".gz", ".bz2", ".zst"):
        print(_row(f"gamekeeper ({args.side})", ours, f"{ours.errors} errors"))
        print(f"load average {_load()} after; compressed: the other readers are not run")
        return 0
    chess_slice = _in_subprocess("python-chess", str(path), "--slice", str(args.slice))
    extract = measure_pgn_extract(path)
    print(f"load average {_load()} after")

    header = f"{'':<26} {'games':>8} {'wall s':>8} {'games/s':>9} {'games/cpu-s':>11}"
    print(f"{header} {'MB/s':>6} {'RSS MB':>7}")
    print(_row(f"gamekeeper ({args.side})", ours, f"{ours.errors} errors"))
    print(_row("python-chess read_game", chess_slice, f"first {chess_slice.games} games"))
    if extract:
        print(_row("pgn-extract -s", extract))
    else:
        print("pgn-extract: not installed (apt install pgn-extract)")

    vs_chess = ours.games_per_cpu_s / chess_slice.games_per_cpu_s
    vs_chess_wall = ours.games_per_s / chess_slice.games_per_s
    chess_goal = f">= {GOAL_VS_PYTHON_CHESS:.0f}x"
    rss_goal = f"<= {GOAL_PEAK_RSS_MB:.0f} MB"
    checks = [
        (
            f"{vs_chess:.1f}x python-chess (wall {vs_chess_wall:.1f}x)",
            vs_chess >= GOAL_VS_PYTHON_CHESS,
            chess_goal,
        ),
        (f"peak RSS {ours.peak_rss_mb:.0f} MB", ours.peak_rss_mb <= GOAL_PEAK_RSS_MB, rss_goal),
    ]
    if extract:
        vs_extract = ours.games_per_cpu_s / extract.games_per_cpu_s
        vs_extract_wall = ours.games_per_s / extract.games_per_s
        label = f"{vs_extract:.2f}x pgn-extract (wall {vs_extract_wall:.2f}x)"
        checks.insert(0, (label, vs_extract >= GOAL_VS_PGN_EXTRACT, ">= 1x"))
    for label, ok, goal in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}  (goal {goal})")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
