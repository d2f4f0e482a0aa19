"""`gamekeeper sync` with its Lichess lines parsed in a helper process: SIGKILLed
mid-stream, its helper ends with it and the next sync stores every game exactly once;
stopped by Ctrl-C, it leaves no helper behind."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gamekeeper.emulators.lichess import LichessEmulator
from tests.acceptance.conftest import gamekeeper_env  # noqa: F401 (used by `env`)
from tests.reliability.support import (
    RUN_TIMEOUT_S,
    database_file,
    finish,
    integrity,
    kill_when,
    start,
    stored_ids,
)
from tests.reliability.test_kill_import_procs import (
    interrupt_when,
    parse_processes,
    pidfds,
    still_running,
)
from tests.reliability.test_kill_sync import PLAYER, corpus_ids, env, lichess  # noqa: F401

#: Games served a second: a stream long enough to be caught in the middle.
RATE = 3000


@pytest.fixture
def procs_env(
    env: dict[str, str],  # noqa: F811 (the fixture imported above)
    lichess: tuple[LichessEmulator, str],  # noqa: F811 (the fixture imported above)
) -> dict[str, str]:
    lichess[0].faults.games_per_s = RATE
    return {**env, "GAMEKEEPER_PARSE_WORKERS": "1"}


def helper_running(proc: subprocess.Popen[str], db: Path, fds: list[int]) -> bool:
    """Whether the sync has committed a batch with its helper running; if so, a pidfd
    of the helper is in `fds`."""
    if not stored_ids(db, "lichess"):
        return False
    pids = parse_processes(proc.pid)
    fds.extend(os.pidfd_open(pid) for pid in pids)
    return bool(pids)


def test_a_killed_sync_leaves_no_helper_and_the_next_one_stores_each_game_once(
    procs_env: dict[str, str],
    lichess: tuple[LichessEmulator, str],  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    emulator = lichess[0]
    db = database_file(procs_env)
    with start(procs_env, tmp_path, "sync", f"lichess:{PLAYER}") as proc, pidfds() as fds:
        killed = kill_when(proc, lambda wait_s: helper_running(proc, db, fds), step_s=0.02)
        assert killed, "the sync ended before it was killed"
        assert fds, "no helper process was seen"
        assert still_running(fds, RUN_TIMEOUT_S / 4) == [], "orphaned helper process"
    stored = stored_ids(db, "lichess")
    assert 0 < len(stored) < len(corpus_ids(emulator))  # killed mid-stream, after a batch

    emulator.faults.games_per_s = None
    with start(procs_env, tmp_path, "sync", f"lichess:{PLAYER}") as last:
        code, out, err = finish(last)
    assert code == 0, (out[-500:], err)
    ids = stored_ids(db, "lichess")
    assert len(ids) == len(set(ids))  # nothing twice
    assert set(ids) == corpus_ids(emulator)  # nothing lost
    assert integrity(db) == "ok"


def test_ctrl_c_stops_the_sync_helper(procs_env: dict[str, str], tmp_path: Path) -> None:
    db = database_file(procs_env)
    proc = start(procs_env, tmp_path, "sync", f"lichess:{PLAYER}", own_session=True)
    with proc, pidfds() as fds:
        interrupted = interrupt_when(proc, lambda wait_s: helper_running(proc, db, fds))
        assert interrupted, "the sync ended before it was interrupted"
        code, out, err = finish(proc)
        assert code == 130, (out[-500:], err)
        assert fds and still_running(fds, 10) == [], "a helper outlived Ctrl-C"
    assert "Traceback" not in err, err
