"""`gamekeeper import` as a user runs it: a subprocess on real files."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
import zstandard

from tests.acceptance.conftest import Gamekeeper, start
from tests.fixtures.pgn.dumps import dump, game_id

#: Big enough that an import is still running when the test acts on it: many batches
#: of `SMALL_BATCH` games, each a transaction.
GAMES = 40_000
SMALL_BATCH = "100"


@pytest.fixture
def db(gamekeeper_env: dict[str, str]) -> Path:
    return Path(gamekeeper_env["GAMEKEEPER_DATABASE_URL"].removeprefix("sqlite:///"))


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "big.pgn"
    path.write_bytes(dump(range(GAMES)))
    return path


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return list(conn.execute(sql))


def stored(db: Path) -> tuple[int, int]:
    [(total, distinct)] = query(db, "SELECT count(*), count(DISTINCT platform_game_id) FROM games")
    return int(total), int(distinct)  # type: ignore[call-overload]


def committed_offset(db: Path) -> int:
    """The import job's committed cursor: 0 until its first checkpoint."""
    rows = query(db, "SELECT checkpoint FROM jobs WHERE job_type = 'import_pgn'")
    checkpoint = json.loads(str(rows[0][0])) if rows and rows[0][0] is not None else None
    return int(checkpoint["offset"]) if isinstance(checkpoint, dict) else 0


def wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    """Poll a condition on the database, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def started(process: subprocess.Popen[str]) -> str:
    """The first line the command prints (the job is created, so the database exists)."""
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "import_pgn job_" in line, line
    return line


def test_import_runs_one_job_per_file_in_turn(
    gamekeeper: Gamekeeper, tmp_path: Path, db: Path
) -> None:
    plain = tmp_path / "a.pgn"
    plain.write_bytes(dump(range(300)))
    packed = tmp_path / "b.pgn.zst"
    packed.write_bytes(zstandard.ZstdCompressor().compress(dump(range(200, 700))))

    first = gamekeeper("import", str(plain), str(packed))
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("completed: found") == 2
    assert "found 300, inserted 300" in first.stdout
    assert "found 500, inserted 400, skipped_existing 100" in first.stdout
    assert "games/s" in first.stdout
    assert stored(db) == (700, 700)

    again = gamekeeper("import", str(packed))
    assert again.returncode == 0, again.stderr
    assert "found 500, skipped_existing 500" in again.stdout
    assert stored(db) == (700, 700)


def test_a_missing_file_is_one_clear_error_before_anything_is_imported(
    gamekeeper: Gamekeeper, tmp_path: Path, db: Path
) -> None:
    good = tmp_path / "good.pgn"
    good.write_bytes(dump(range(10)))
    result = gamekeeper("import", str(good), "missing.pgn")
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: cannot import {tmp_path / 'missing.pgn'}: no such file"
    assert "Traceback" not in result.stderr
    assert not db.exists() or stored(db) == (0, 0)


def test_corrupt_games_are_reported_with_offsets_and_the_rest_imported(
    gamekeeper: Gamekeeper, tmp_path: Path, db: Path
) -> None:
    path = tmp_path / "broken.pgn"
    head = dump(range(5))
    path.write_bytes(head + b"\x00\x01\x02 garbage \xff\n\n" + dump(range(5, 10)))
    result = gamekeeper("import", str(path))
    assert result.returncode == 0, result.stderr
    assert f"item offset {len(head)}: binary data, not PGN" in result.stdout
    assert "failed 1" in result.stdout
    assert stored(db) == (10, 10)


def test_an_import_killed_mid_file_resumes_the_same_job_and_stores_every_game_once(
    gamekeeper_env: dict[str, str], tmp_path: Path, db: Path, big_file: Path
) -> None:
    args = ("import", str(big_file), "--batch-size", SMALL_BATCH)
    with start(gamekeeper_env, tmp_path, *args) as first:
        try:
            started(first)
            wait_until(lambda: committed_offset(db) > 0)
        finally:
            first.send_signal(signal.SIGKILL)
    kept, _ = stored(db)
    assert 0 < kept < GAMES

    with start(gamekeeper_env, tmp_path, *args) as second:
        out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert "resuming import_pgn job_" in out
    assert stored(db) == (GAMES, GAMES)  # every game, each once
    [(job_count,)] = query(db, "SELECT count(*) FROM jobs")
    assert job_count == 1  # the same job, resumed
    [(counters,)] = query(db, "SELECT counters FROM jobs")
    counts = json.loads(str(counters))
    # It went on from its cursor: nothing read twice, nothing skipped.
    assert counts["inserted"] == GAMES
    assert counts["skipped_existing"] == 0
    last = game_id(GAMES - 1)
    [(url,)] = query(db, f"SELECT url FROM games WHERE platform_game_id = '{last}'")
    assert url == f"https://lichess.org/{last}"


def test_a_second_import_of_the_same_file_is_refused_and_ctrl_c_cancels(
    gamekeeper: Gamekeeper,
    gamekeeper_env: dict[str, str],
    tmp_path: Path,
    db: Path,
    big_file: Path,
) -> None:
    args = ("import", str(big_file), "--batch-size", SMALL_BATCH)
    with start(gamekeeper_env, tmp_path, *args) as first:
        try:
            started(first)
            wait_until(lambda: committed_offset(db) > 0)
            second = gamekeeper(*args)
            assert second.returncode == 3
            assert f"{big_file} is already being imported by job job_" in second.stderr
            assert "Traceback" not in second.stderr
            first.send_signal(signal.SIGINT)
            out, err = first.communicate(timeout=60)
        finally:
            first.kill()
    assert first.returncode == 130, err
    assert "cancelled" in out
    assert "Traceback" not in err
    kept, distinct = stored(db)
    assert 0 < kept == distinct < GAMES
