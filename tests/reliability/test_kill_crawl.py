"""`gamekeeper crawl` SIGKILLed mid-walk, then run again: the same players and games as
a crawl that was never interrupted, and no finished player fetched twice."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.emulators.network import lichess_network, tree_network
from gamekeeper.emulators.server import serve_in_thread
from gamekeeper.emulators.traffic import LoggedRequest
from tests.acceptance.conftest import gamekeeper_env  # noqa: F401 (a fixture used here)
from tests.reliability.support import finish, integrity, kill_when, start, stored_ids

NETWORK = tree_network("alice", fanout=5, levels=3, games=30)
CRAWL = ("crawl", "lichess:alice", "--depth", "2", "--max-players", "30")
#: Kill once the site has seen this many player exports (of 30) since the last run.
KILL_AFTER = (3, 7, 12)


@pytest.fixture
def lichess() -> Iterator[tuple[LichessEmulator, str]]:
    emulator = LichessEmulator(lichess_network(NETWORK, seed=3))
    with serve_in_thread(emulator) as url:
        yield emulator, url


def environment(base: dict[str, str], url: str, db: Path) -> dict[str, str]:
    return {
        **base,
        "GAMEKEEPER_DATABASE_URL": f"sqlite:///{db}",
        "GAMEKEEPER_LICHESS_URL": url,
        "GAMEKEEPER_CHESSCOM_URL": "http://127.0.0.1:9",
        "GAMEKEEPER_LICHESS_COOLDOWN_S": "0.05",
        "GAMEKEEPER_HEARTBEAT_INTERVAL_S": "1",
        "GAMEKEEPER_MAX_ATTEMPTS": "20",
    }


def exports(entries: list[LoggedRequest]) -> list[str]:
    return [e.path.rsplit("/", 1)[-1] for e in entries if e.path.startswith("/api/games/user/")]


def players(db: Path) -> list[tuple[str, int, str, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT p.username, o.depth, o.status, o.games FROM owner_players o "
            "JOIN players p ON p.id = o.player_id ORDER BY p.username"
        ).fetchall()


def run_to_end(env: dict[str, str], cwd: Path, *args: str) -> None:
    with start(env, cwd, *args) as proc:
        code, out, err = finish(proc)
    assert code == 0, (out[-800:], err[-800:])


def test_a_killed_crawl_resumes_to_the_same_players_and_games(
    gamekeeper_env: dict[str, str],  # noqa: F811 (the fixture imported above)
    lichess: tuple[LichessEmulator, str],
    tmp_path: Path,
) -> None:
    emulator, url = lichess
    straight = environment(gamekeeper_env, url, tmp_path / "straight.db")
    killed = environment(gamekeeper_env, url, tmp_path / "killed.db")
    for env in (straight, killed):
        run_to_end(env, tmp_path, "sync", "lichess:alice")
    run_to_end(straight, tmp_path, *CRAWL)

    fetched: list[str] = []
    emulator.faults.games_per_s = 2000  # a player's stream lasts long enough to be cut
    for target in KILL_AFTER:
        emulator.log.clear()
        with start(killed, tmp_path, *CRAWL) as proc:

            def reached(wait_s: float, target: int = target) -> bool:
                return emulator.log.wait_for(lambda es: len(exports(es)) >= target, timeout=wait_s)

            assert kill_when(proc, reached), "the crawl ended before its kill point"
        fetched.extend(exports(emulator.log.entries))
    emulator.faults.games_per_s = None
    emulator.log.clear()
    run_to_end(killed, tmp_path, *CRAWL)
    fetched.extend(exports(emulator.log.entries))

    assert players(tmp_path / "killed.db") == players(tmp_path / "straight.db")
    assert len(players(tmp_path / "killed.db")) == 30
    ids = stored_ids(tmp_path / "killed.db", "lichess")
    assert len(ids) == len(set(ids))
    assert set(ids) == set(stored_ids(tmp_path / "straight.db", "lichess"))
    # Only a player cut off mid-download is asked for again: one per kill at most.
    assert len(fetched) <= 30 + len(KILL_AFTER)
    assert integrity(tmp_path / "killed.db") == "ok"
