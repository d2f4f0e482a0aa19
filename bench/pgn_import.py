"""PGN import speed: gamekeeper against pgn-extract and python-chess, in the same run.

    python bench/pgn_import.py [FILE] [--games 100000] [--sides import,import0] [--repeat 1]

Without FILE, a Lichess-dump-style file of `--games` games is generated once
(bench/pgn_gen.py) and kept in the system temp directory. Each side runs in its own
process, so its peak RSS is its own:

- gamekeeper: each of `--sides` (see SIDES) over the whole file. `import` is the
  `import_pgn` job into a fresh SQLite database, as `gamekeeper import` runs it, with
  the default parse processes (`GAMEKEEPER_PARSE_WORKERS` unset: cores - 1);
  `import0` the same with 0 (the single-process path), `import2` with 2 (on two
  cores: three busy processes); `games` and `reader` leave
  the database out. Its peak RSS is the job process's VmHWM plus each parse process's
  (a sum of peaks: an upper bound of the peak of the sum); its CPU time counts the
  parse processes' too;
- pgn-extract: `pgn-extract -s FILE -o /dev/null` over the whole file (it keeps
  comments and checks legality);
- python-chess: `chess.pgn.read_game` over the first `--slice` games, scaled to games/s.

A compressed FILE (.gz, .bz2, .zst) is measured on the gamekeeper side only. With
`--repeat N` the sides and pgn-extract run N times, interleaved, and each one's fastest
run is shown (the load of a shared machine changes from one minute to the next).

Goals (issue 15): the import (default parse processes) at least pgn-extract's games/s
on wall time on two cores, and a peak RSS of at most 250 MB, every game stored once.
On a machine shared with other work the wall figures move with the load: the load
average is printed before and after, and CPU-time rates beside the wall ones.
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
GOAL_PEAK_RSS_MB = 250.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Measure:
    """One side's run."""

    games: int
    seconds: float
    cpu_seconds: float
    bytes_read: int
    peak_rss_mb: float
    errors: int = 0
    #: Of `peak_rss_mb`, the parse processes' part.
    children_rss_mb: float = 0.0

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


def side_import(path: Path, workers: int | None = None) -> tuple[int, int] | Timed:
    """The `import_pgn` job into a fresh SQLite database, as `gamekeeper import` runs it:
    read, parse (in `workers` parse processes; None: the default), upsert and
    checkpoint batch by batch. Timed from the job's creation to its end (the database
    is created and migrated before)."""
    import asyncio

    from gamekeeper.bootstrap import build_services, upgrade_database
    from gamekeeper.settings import Settings

    absolute = str(path.resolve())

    async def run(database: Path) -> Timed:
        settings = Settings(database_url=f"sqlite:///{database}", parse_workers=workers)
        services = build_services(settings)
        await upgrade_database(services)
        await services.start(sweep=False)
        try:
            started, cpu_started = time.perf_counter(), _cpu_seconds()
            job = await services.jobs.create(
                "import_pgn", owner="bench", parameters={"path": absolute}
            )
            final = job
            async for seen in services.jobs.watch(job.id):
                final = seen  # only the last: a list of every snapshot would count here
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
        rows = _count_rows(database)
        if rows != games:
            raise SystemExit(f"{games} games read but {rows} rows in the table")
        return Timed(games, counters.get("failed", 0), seconds, cpu_seconds)

    with tempfile.TemporaryDirectory() as workdir:
        return asyncio.run(run(Path(workdir) / "bench.db"))


def side_import0(path: Path) -> tuple[int, int] | Timed:
    """`side_import` on the single-process path (`GAMEKEEPER_PARSE_WORKERS=0`)."""
    return side_import(path, workers=0)


def side_import2(path: Path) -> tuple[int, int] | Timed:
    """`side_import` with two parse processes (`GAMEKEEPER_PARSE_WORKERS=2`)."""
    return side_import(path, workers=2)


def _count_rows(database: Path) -> int:
    import sqlite3

    with sqlite3.connect(database) as conn:
        return int(conn.execute("SELECT count(*) FROM games").fetchone()[0])


class Timed(NamedTuple):
    """What a side that times itself (leaving out its set-up) returns."""

    games: int
    errors: int
    seconds: float
    cpu_seconds: float


SIDES: dict[str, Callable[[Path], tuple[int, int] | Timed]] = {
    "import": side_import,
    "import0": side_import0,
    "import2": side_import2,
    "reader": side_reader,
    "games": side_games,
}


def _vm_hwm_mb(pid: int | str = "self") -> float | None:
    """A process's peak resident set (VmHWM: unlike ru_maxrss, not inherited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def _peak_rss_mb() -> float:
    """This process's peak resident set; elsewhere than Linux, ru_maxrss (kilobytes)."""
    own = _vm_hwm_mb()
    return own if own is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ChildPeaks:
    """The VmHWM of this process's children (the parse processes), looked at every
    20 ms from a thread, last value kept per child (VmHWM only grows)."""

    def __init__(self) -> None:
        import threading

        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.02):
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                if ppid == me and (peak := _vm_hwm_mb(entry.name)) is not None:
                    self.peaks[int(entry.name)] = peak

    def stop(self) -> float:
        """Stop watching; the sum of the children's peaks, in MB."""
        self._stop.set()
        self._thread.join()
        return sum(self.peaks.values())


def _cpu_seconds() -> float:
    """CPU time of this process and of its children that ended (the parse processes)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def measure_side(name: str, path: Path) -> Measure:
    children = ChildPeaks()
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    outcome = SIDES[name](path)
    children_peak_mb = children.stop()
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
        peak_rss_mb=_peak_rss_mb() + children_peak_mb,
        children_rss_mb=children_peak_mb,
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
    parser.add_argument("--games", type=int, default=100_000)
    parser.add_argument("--sides", default="import,import0", help="comma-separated SIDES")
    parser.add_argument("--slice", type=int, default=5_000)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each side, interleaved; the fastest kept"
    )
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

    sides = [name for name in args.sides.split(",") if name]
    unknown = sorted(set(sides) - set(SIDES))
    if unknown or not sides:
        parser.error(f"--sides: choose among {', '.join(sorted(SIDES))}")
    path: Path = args.file or _default_file(args.games)
    size_mb = path.stat().st_size / 1e6
    print(f"file: {path} ({size_mb:.1f} MB)")
    print(f"machine: {os.cpu_count()} CPUs, load average {_load()} before")
    compressed = path.suffix in (".gz", ".bz2", ".zst")
    runs: dict[str, list[Measure]] = {name: [] for name in [*sides, "pgn-extract"]}
    for _ in range(max(args.repeat, 1)):
        # Interleaved, so that a change of load on a shared machine hits every side.
        for name in sides:
            runs[name].append(_in_subprocess(name, str(path)))
        if not compressed and (measured := measure_pgn_extract(path)) is not None:
            runs["pgn-extract"].append(measured)
    ours = {name: min(runs[name], key=lambda m: m.seconds) for name in sides}
    extracts = runs["pgn-extract"]
    extract = min(extracts, key=lambda m: m.seconds) if extracts else None
    chess_slice = (
        None
        if compressed
        else _in_subprocess("python-chess", str(path), "--slice", str(args.slice))
    )
    print(f"load average {_load()} after")

    header = f"{'':<26} {'games':>8} {'wall s':>8} {'games/s':>9} {'games/cpu-s':>11}"
    print(f"{header} {'MB/s':>6} {'RSS MB':>7}")
    for name, measured in ours.items():
        print(_row(f"gamekeeper ({name})", measured, f"{measured.errors} errors"))
    if extract:
        print(_row("pgn-extract -s", extract))
    elif not compressed:
        print("pgn-extract: not installed (apt install pgn-extract)")
    if chess_slice:
        print(_row("python-chess read_game", chess_slice, f"first {chess_slice.games} games"))
    if compressed:
        print("compressed: the other readers are not run")
    checks = _checks(ours, extract, chess_slice)
    for label, ok, goal in checks:
        mark = "    " if goal is None else ("PASS" if ok else "FAIL")
        print(f"{mark}  {label}" + ("" if goal is None else f"  (goal {goal})"))
    return 0 if all(ok for _, ok, goal in checks if goal is not None) else 1


def _checks(
    ours: dict[str, Measure], extract: Measure | None, chess_slice: Measure | None
) -> list[tuple[str, bool, str | None]]:
    """(label, passed, goal; None for a figure shown without a goal)."""
    checks: list[tuple[str, bool, str | None]] = []
    for name, measured in ours.items():
        judged = name == "import"
        if extract and extract.games:
            wall = measured.games_per_s / extract.games_per_s
            cpu = measured.games_per_cpu_s / extract.games_per_cpu_s
            label = f"{name}: {wall:.2f}x pgn-extract on wall time (on CPU time {cpu:.2f}x)"
            checks.append((label, wall >= GOAL_VS_PGN_EXTRACT, ">= 1x" if judged else None))
        if chess_slice:
            wall = measured.games_per_s / chess_slice.games_per_s
            checks.append((f"{name}: {wall:.1f}x python-chess on wall time", True, None))
        rss, parse = measured.peak_rss_mb, measured.children_rss_mb
        goal = f"<= {GOAL_PEAK_RSS_MB:.0f} MB" if judged else None
        label = (
            f"{name}: peak RSS {rss:.0f} MB (job {rss - parse:.0f} + parse processes {parse:.0f})"
        )
        checks.append((label, rss <= GOAL_PEAK_RSS_MB, goal))
    if "import" in ours and "import0" in ours:
        speedup = ours["import"].games_per_s / ours["import0"].games_per_s
        checks.append((f"parse processes: {speedup:.2f}x the single-process path", True, None))
    return checks


if __name__ == "__main__":
    sys.exit(main())
