"""What the kill tests share: `gamekeeper` run as a subprocess and killed at a chosen
moment, and the state of its SQLite database afterwards."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

#: Seconds one run may take before the test gives up on it (it never should).
RUN_TIMEOUT_S = 120


def start(
    env: dict[str, str], cwd: Path, *args: str, own_session: bool = False
) -> subprocess.Popen[str]:
    """`gamekeeper *args` in the background; `own_session`: in a session of its own, so
    that Ctrl-C (`os.killpg`) reaches its whole group, as a terminal sends it."""
    return subprocess.Popen(
        [sys.executable, "-m", "gamekeeper", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=own_session,
    )


def kill_when(
    proc: subprocess.Popen[str], reached: Callable[[float], bool], *, step_s: float = 0.2
) -> bool:
    """SIGKILL `proc` once `reached(step_s)` holds; False if the process ended first.

    `reached` may wait up to `step_s` on its condition (the emulator's log can); if it
    returns at once, the wait between looks is on the process itself, so its end is
    seen at once too.
    """
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        looked = time.monotonic()
        if reached(step_s):
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return True
        left = step_s - (time.monotonic() - looked)
        if left > 0:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=left)
    raise AssertionError("the run neither reached its kill point nor ended")


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    return proc.returncode, out, err


def database_file(env: dict[str, str]) -> Path:
    return Path(env["GAMEKEEPER_DATABASE_URL"].removeprefix("sqlite:///"))


def stored_ids(db: Path, platform: str) -> list[str]:
    """Every stored game id of `platform`, duplicates kept (there must be none)."""
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            rows = conn.execute(
                "SELECT platform_game_id FROM games WHERE platform = ?", (platform,)
            ).fetchall()
        except sqlite3.OperationalError:  # killed before the schema was made
            return []
    return [row[0] for row in rows]


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def job_rows(db: Path, job_type: str) -> list[tuple[str, str, int]]:
    """(status, error, attempt) of every job of `job_type`."""
    with sqlite3.connect(db) as conn:
        return [
            (row[0], row[1] or "", row[2])
            for row in conn.execute(
                "SELECT status, error, attempt FROM jobs WHERE job_type = ?", (job_type,)
            )
        ]
