"""`gamekeeper import` SIGKILLed at twenty-odd random (seeded) moments of a file with
damaged pieces in it: after the reruns every game of the file is stored exactly once,
the damaged pieces are item errors, and SQLite's integrity check passes."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

from tests.acceptance.conftest import gamekeeper_env  # noqa: F401 (a fixture used here)
from tests.fixtures.pgn.dumps import dump, game_id
from tests.reliability.support import (
    database_file,
    finish,
    integrity,
    job_rows,
    kill_when,
    start,
    stored_ids,
)

SEED = 20261203
KILLS = 20
GAMES = 30_000
#: Junk between games: binary bytes, a tag line cut short, a game without its moves.
DAMAGE = [b"\x00\xff\xfe binary junk \x01\x02\n\n", b'[Event "cut\n\n', b"1. e4 {unclosed\n\n"]


def write_file(path: Path, rng: random.Random) -> int:
    """The dump, with a damaged piece every few thousand games; the pieces written."""
    pieces = 0
    with path.open("wb") as out:
        for start_at in range(0, GAMES, 3000):
            out.write(dump(range(start_at, start_at + 3000)))
            out.write(rng.choice(DAMAGE))
            pieces += 1
    return pieces


def active_offset(db: Path) -> int | None:
    """The byte offset the running import has committed (None: no import running)."""
    if not db.exists():
        return None
    with sqlite3.connect(db) as conn:
        try:
            row = conn.execute(
                "SELECT checkpoint FROM jobs WHERE job_type = 'import_pgn' "
                "AND status IN ('queued', 'running', 'waiting') ORDER BY created_at DESC"
            ).fetchone()
        except sqlite3.OperationalError:
            return None
    if row is None:
        return None
    checkpoint = json.loads(row[0]) if isinstance(row[0], str) else row[0]
    return int(checkpoint["offset"]) if checkpoint else 0


def test_an_import_killed_anywhere_loses_and_duplicates_nothing(
    gamekeeper_env: dict[str, str],  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    # Every kill resumes the same job: let it take them all (3 kills of runs that made
    # progress would fail it by design, and the next import would start over).
    gamekeeper_env["GAMEKEEPER_MAX_ATTEMPTS"] = str(3 * KILLS)
    rng = random.Random(SEED)
    pgn = tmp_path / "dump.pgn"
    pieces = write_file(pgn, rng)
    size = pgn.stat().st_size
    db = database_file(gamekeeper_env)
    args = ("import", str(pgn), "--batch-size", "200")
    kills = runs = 0
    while kills < KILLS:
        runs += 1
        assert runs <= 3 * KILLS, "too few runs reached their kill point"
        early = rng.random() < 0.2  # before its first checkpoint, or just after start
        reached_at = (active_offset(db) or 0) + rng.randint(1, size // 12)

        def reached(wait_s: float, early: bool = early, at: int = reached_at) -> bool:
            offset = active_offset(db)
            return offset is not None and (early or offset >= at)

        with start(gamekeeper_env, tmp_path, *args) as proc:
            if kill_when(proc, reached, step_s=0.02):
                kills += 1
            else:
                code, out, err = finish(proc)
                assert code == 0, (out[-500:], err)
        ids = stored_ids(db, "lichess")
        assert len(ids) == len(set(ids)), f"duplicates after run {runs}"

    with start(gamekeeper_env, tmp_path, *args) as last:
        code, out, err = finish(last)
    assert code == 0, (out[-500:], err)
    ids = stored_ids(db, "lichess")
    assert len(ids) == len(set(ids))  # nothing twice
    assert set(ids) == {game_id(n) for n in range(GAMES)}  # nothing lost
    assert integrity(db) == "ok"
    assert not [row for row in job_rows(db, "import_pgn") if row[0] == "failed"]
    with sqlite3.connect(db) as conn:
        counters = conn.execute(
            "SELECT counters FROM jobs WHERE job_type = 'import_pgn' AND status = 'completed' "
            "ORDER BY finished_at DESC"
        ).fetchone()[0]
    assert json.loads(counters)["failed"] == pieces  # each damaged piece, once
