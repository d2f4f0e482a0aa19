"""`gamekeeper sync` as a user runs it: a subprocess against the emulated sites."""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.emulators.lichess_records import LichessCorpus
from gamekeeper.emulators.server import serve_in_thread
from gamekeeper.emulators.traffic import LoggedRequest
from gamekeeper.sync.deps import BATCH_SIZE
from tests.acceptance.conftest import Gamekeeper, start

EXPORT = "/api/games/user/alice"


@pytest.fixture
def lichess() -> Iterator[tuple[LichessEmulator, str]]:
    emulator = LichessEmulator(LichessCorpus.generate({"alice": 5000, "bob": 40}, seed=3))
    with serve_in_thread(emulator) as url:
        yield emulator, url


@pytest.fixture
def env(gamekeeper_env: dict[str, str], lichess: tuple[LichessEmulator, str]) -> dict[str, str]:
    gamekeeper_env.update(
        GAMEKEEPER_LICHESS_URL=lichess[1],
        GAMEKEEPER_CHESSCOM_URL="http://127.0.0.1:9",  # unused here
        GAMEKEEPER_LICHESS_COOLDOWN_S="1",
        GAMEKEEPER_UPSTREAM_BACKOFF_BASE_S="0.01",
        GAMEKEEPER_HEARTBEAT_INTERVAL_S="1",
    )
    return gamekeeper_env


def sent(entries: list[LoggedRequest]) -> int:
    return sum(e.items_sent for e in entries if e.path == EXPORT)


def stored(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT platform_game_id) FROM games"
        ).fetchone()
    return total, distinct


def test_sync_then_an_incremental_sync(
    gamekeeper: Gamekeeper, env: dict[str, str], lichess: tuple[LichessEmulator, str]
) -> None:
    first = gamekeeper("sync", "lichess:bob", **env)
    assert first.returncode == 0, first.stderr
    assert "sync_games" in first.stdout and "completed" in first.stdout
    assert "lichess reports 40 games; 40 stored" in first.stdout

    lichess[0].corpus.add_games("bob", 37)
    second = gamekeeper("sync", "lichess:bob", **env)
    assert second.returncode == 0, second.stderr
    assert "inserted 37" in second.stdout
    assert "lichess reports 77 games; 77 stored" in second.stdout


def test_a_sync_killed_mid_stream_resumes_and_loses_nothing(
    env: dict[str, str], lichess: tuple[LichessEmulator, str], tmp_path: Path
) -> None:
    emulator = lichess[0]
    emulator.faults.games_per_s = 2000  # slow enough to be caught mid-stream
    with start(env, tmp_path, "sync", "lichess:alice") as first:
        try:
            assert emulator.log.wait_for(lambda es: sent(es) >= 2500, timeout=60)
        finally:
            first.send_signal(signal.SIGKILL)
    first_run = sent(emulator.log.entries)
    db = Path(env["GAMEKEEPER_DATABASE_URL"].removeprefix("sqlite:///"))
    kept, _ = stored(db)
    assert 0 < kept < 5000

    emulator.faults.games_per_s = None
    emulator.log.clear()
    with start(env, tmp_path, "sync", "lichess:alice") as second:
        out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert "resuming sync_games" in out
    assert stored(db) == (5000, 5000)  # the whole corpus, no duplicates
    refetched = first_run + sent(emulator.log.entries) - 5000
    assert refetched <= BATCH_SIZE + 1  # at most one batch (and the game at the cursor)


def test_second_sync_is_refused_while_one_runs_and_ctrl_c_cancels(
    gamekeeper: Gamekeeper,
    env: dict[str, str],
    lichess: tuple[LichessEmulator, str],
    tmp_path: Path,
) -> None:
    emulator = lichess[0]
    emulator.faults.games_per_s = 500
    with start(env, tmp_path, "sync", "lichess:alice") as first:
        try:
            assert emulator.log.wait_for(lambda es: sent(es) >= 50, timeout=60)
            second = gamekeeper("sync", "lichess:alice", **env)
            assert second.returncode == 3
            assert "lichess:alice already has an active job: job job_" in second.stderr
            assert "Traceback" not in second.stderr
            first.send_signal(signal.SIGINT)
            out, err = first.communicate(timeout=60)
        finally:
            first.kill()
    assert first.returncode == 130, err
    assert "cancelled" in out
    assert "Traceback" not in err


def test_rate_limit_is_shown_as_a_countdown(
    gamekeeper: Gamekeeper, env: dict[str, str], lichess: tuple[LichessEmulator, str]
) -> None:
    lichess[0].faults.rate_limit_burst = 1
    result = gamekeeper("sync", "lichess:bob", **env)
    assert result.returncode == 0, result.stderr
    assert "waiting 1s: " in result.stdout or "waiting 0s: " in result.stdout
    assert "429" in result.stdout


def test_two_syncs_in_two_terminals_never_both_talk_to_lichess(
    env: dict[str, str], lichess: tuple[LichessEmulator, str], tmp_path: Path
) -> None:
    """Two processes on one SQLite database share the site's one request in flight."""
    emulator = lichess[0]
    emulator.faults.games_per_s = 2000  # alice's stream lasts a few seconds
    with start(env, tmp_path, "sync", "lichess:alice") as first:
        try:
            assert emulator.log.wait_for(lambda es: sent(es) >= 50, timeout=60)
            with start(env, tmp_path, "sync", "lichess:bob") as second:
                second_out, second_err = second.communicate(timeout=120)
            first_out, first_err = first.communicate(timeout=120)
        finally:
            first.kill()
    assert (first.returncode, second.returncode) == (0, 0), (first_err, second_err)
    assert "completed" in first_out and "completed" in second_out
    assert emulator.max_concurrent == 1
    assert not [e for e in emulator.log.entries if e.status == 429]
    db = Path(env["GAMEKEEPER_DATABASE_URL"].removeprefix("sqlite:///"))
    assert stored(db) == (5040, 5040)
