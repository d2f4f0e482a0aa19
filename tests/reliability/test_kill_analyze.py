"""`gamekeeper analyze` SIGKILLed mid-job, then run again: the rerun resumes the job
from its checkpoint and no game committed before the kill is analysed again; and the
CLI without Stockfish: a failed job naming the setting, `--no-engine` still works."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.acceptance.conftest import gamekeeper_env  # noqa: F401 (a fixture used here)
from tests.fixtures.pgn.dumps import dump
from tests.reliability.support import database_file, finish, kill_when, start

#: white0 plays games 0, 97, 194, ...: this many of them (24 plies each).
GAMES = 60


def analyze_done(db: Path) -> int | None:
    """Games the running analyze job has committed (None: none running yet)."""
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT checkpoint FROM jobs WHERE job_type = 'analyze' "
            "AND status IN ('queued', 'running') ORDER BY created_at DESC"
        ).fetchone()
    if row is None or row[0] is None:
        return None
    checkpoint = json.loads(row[0]) if isinstance(row[0], str) else row[0]
    return int(checkpoint.get("done", 0)) if isinstance(checkpoint, dict) else None


def judged(db: Path) -> dict[int, tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT game_id, job_id, created_at FROM analyses WHERE plugin = 'judgments'"
        ).fetchall()
    return {game: (job, created) for game, job, created in rows}


def imported(env: dict[str, str], tmp_path: Path) -> Path:
    pgn = tmp_path / "games.pgn"
    pgn.write_bytes(dump(range(0, 97 * GAMES)))
    with start(env, tmp_path, "import", str(pgn)) as proc:
        code, out, err = finish(proc)
    assert code == 0, (out[-500:], err)
    return database_file(env)


def test_a_killed_analyze_resumes_without_redoing_games(
    gamekeeper_env: dict[str, str],  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    db = imported(gamekeeper_env, tmp_path)
    gamekeeper_env["GAMEKEEPER_ENGINE_WORKERS"] = "1"
    args = ("analyze", "lichess:white0", "--nodes", "20000")
    with start(gamekeeper_env, tmp_path, *args) as proc:
        killed = kill_when(proc, lambda _: (analyze_done(db) or 0) > 0, step_s=0.05)
    assert killed, "the analysis ended before its first checkpoint"
    before = judged(db)
    assert 0 < len(before) < GAMES

    with start(gamekeeper_env, tmp_path, *args) as rerun:
        code, out, err = finish(rerun)
    assert code == 0, (out[-800:], err)
    assert "resuming analyze" in out
    after = judged(db)
    assert len(after) == GAMES
    assert {game: after[game] for game in before} == before  # not analysed again
    assert len({job for job, _ in after.values()}) == 1  # the same job, resumed


def test_without_stockfish_the_job_fails_naming_the_setting(
    gamekeeper_env: dict[str, str],  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    db = imported(gamekeeper_env, tmp_path)
    gamekeeper_env["GAMEKEEPER_STOCKFISH_PATH"] = "/nonexistent"
    with start(gamekeeper_env, tmp_path, "analyze", "lichess:white0") as proc:
        code, out, err = finish(proc)
    assert code == 1
    assert "GAMEKEEPER_STOCKFISH_PATH" in out + err
    with start(gamekeeper_env, tmp_path, "analyze", "lichess:white0", "--no-engine") as proc:
        code, out, err = finish(proc)
    assert code == 0, (out[-800:], err)
    with sqlite3.connect(db) as conn:
        counted = conn.execute(
            "SELECT count(*) FROM analyses WHERE plugin = 'move_count'"
        ).fetchone()[0]
    assert counted >= GAMES
