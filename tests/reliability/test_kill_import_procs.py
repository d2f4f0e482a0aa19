"""`gamekeeper import` with parse processes running: SIGKILLed mid-file, it resumes
exactly (the same games as an uninterrupted import, none twice) and its parse
processes end with it; stopped by Ctrl-C, it leaves none of them behind."""

from __future__ import annotations

import contextlib
import json
import os
import random
import select
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.acceptance.conftest import gamekeeper_env  # noqa: F401 (a fixture used here)
from tests.reliability.support import (
    RUN_TIMEOUT_S,
    database_file,
    finish,
    integrity,
    job_rows,
    kill_when,
    start,
    stored_ids,
)
from tests.reliability.test_kill_import import active_offset, write_file

SEED = 20261204
KILLS = 4
WORKERS = 2


def parse_processes(parent: int) -> list[int]:
    """The pids of `parent`'s parse processes (spawned multiprocessing children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == parent and b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


@contextlib.contextmanager
def pidfds() -> Iterator[list[int]]:
    """A list to open pidfds into (each readable once its process has ended: a wait
    without polling or sleeps), closed at the end."""
    fds: list[int] = []
    try:
        yield fds
    finally:
        for fd in fds:
            os.close(fd)


def watch_parse_processes(proc: subprocess.Popen[str], db: Path, fds: list[int]) -> bool:
    """Whether the import has committed a batch and its parse processes all run; if so,
    a pidfd of each is in `fds` (opened while they are the import's children, so their
    pids can't have been reused)."""
    if not active_offset(db):
        return False
    pids = parse_processes(proc.pid)
    if len(pids) != WORKERS:
        return False
    fds.extend(os.pidfd_open(pid) for pid in pids)
    return True


def still_running(fds: list[int], timeout_s: float) -> list[int]:
    """The pidfds whose process has not ended within `timeout_s`."""
    waiting = list(fds)
    deadline = timeout_s
    while waiting and deadline > 0:
        ready, _, _ = select.select(waiting, [], [], deadline)
        if not ready:
            break
        waiting = [fd for fd in waiting if fd not in ready]
        deadline = 0.5  # the rest ended already or ends just after
    return waiting


def stored_games(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT platform, platform_game_id, digest FROM games").fetchall()
    return sorted(rows)


@pytest.fixture
def dump_file(tmp_path: Path) -> tuple[Path, int]:
    path = tmp_path / "dump.pgn"
    return path, write_file(path, random.Random(SEED))


def test_a_killed_import_with_parse_processes_resumes_exactly_and_leaves_none(
    gamekeeper_env: dict[str, str],  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    dump_file: tuple[Path, int],
) -> None:
    pgn, pieces = dump_file
    env = {**gamekeeper_env, "GAMEKEEPER_PARSE_WORKERS": str(WORKERS)}
    env["GAMEKEEPER_MAX_ATTEMPTS"] = str(3 * KILLS)
    args = ("import", str(pgn), "--batch-size", "300")
    db = database_file(env)
    rng = random.Random(SEED)
    kills = runs = 0
    while kills < KILLS:
        runs += 1
        assert runs <= 3 * KILLS, "too few runs reached their kill point"
        at = (active_offset(db) or 0) + rng.randint(1, pgn.stat().st_size // 8)
        with start(env, tmp_path, *args) as proc, pidfds() as fds:

            def reached(
                wait_s: float,
                proc: subprocess.Popen[str] = proc,
                at: int = at,
                fds: list[int] = fds,
            ) -> bool:
                return (active_offset(db) or 0) >= at and watch_parse_processes(proc, db, fds)

            if kill_when(proc, reached, step_s=0.02):
                kills += 1
                assert still_running(fds, RUN_TIMEOUT_S / 4) == [], "orphaned parse process"
            else:
                code, out, err = finish(proc)
                assert code == 0, (out[-500:], err)
        ids = stored_ids(db, "lichess")
        assert len(ids) == len(set(ids)), f"duplicates after run {runs}"

    with start(env, tmp_path, *args) as last:
        code, out, err = finish(last)
    assert code == 0, (out[-500:], err)
    assert integrity(db) == "ok"
    assert not [row for row in job_rows(db, "import_pgn") if row[0] == "failed"]
    with sqlite3.connect(db) as conn:
        counters = conn.execute(
            "SELECT counters FROM jobs WHERE job_type = 'import_pgn' AND status = 'completed'"
        ).fetchone()[0]
    assert json.loads(counters)["failed"] == pieces  # each damaged piece, once

    # The same file imported in one go, by the single-process path, into another database.
    whole = tmp_path / "whole"
    whole.mkdir()
    once = {**gamekeeper_env, "GAMEKEEPER_PARSE_WORKERS": "0"}
    once["GAMEKEEPER_DATABASE_URL"] = f"sqlite:///{whole / 'once.db'}"
    with start(once, whole, *args) as single:
        code, out, err = finish(single)
    assert code == 0, (out[-500:], err)
    resumed = stored_games(db)
    assert resumed == stored_games(database_file(once))
    assert len(resumed) == len({(platform, game) for platform, game, _ in resumed})


def test_ctrl_c_stops_the_parse_processes(
    gamekeeper_env: dict[str, str],  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    dump_file: tuple[Path, int],
) -> None:
    pgn, _ = dump_file
    env = {**gamekeeper_env, "GAMEKEEPER_PARSE_WORKERS": str(WORKERS)}
    db = database_file(env)
    proc = start(env, tmp_path, "import", str(pgn), "--batch-size", "100", own_session=True)
    with proc, pidfds() as fds:
        interrupted = interrupt_when(proc, lambda wait_s: watch_parse_processes(proc, db, fds))
        assert interrupted, "the import ended before it was interrupted"
        code, out, err = finish(proc)
        assert code == 130, (out[-500:], err)
        assert still_running(fds, 10) == [], "a parse process outlived Ctrl-C"
    assert "Traceback" not in err, err


def interrupt_when(proc: subprocess.Popen[str], reached: Callable[[float], bool]) -> bool:
    """`kill_when`, with Ctrl-C to the process group instead of SIGKILL."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        if reached(0.02):
            os.killpg(proc.pid, signal.SIGINT)
            return True
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.02)
    return False
