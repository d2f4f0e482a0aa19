"""`gamekeeper sync` SIGKILLed at twenty-odd random (seeded) moments, against an emulated
Lichess that resets streams, sends 5xx bursts and 429s and cuts lines short, while the
account keeps playing: after the reruns every game of the site is stored exactly once
and SQLite's integrity check passes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.emulators.lichess_records import LichessCorpus
from gamekeeper.emulators.server import serve_in_thread
from gamekeeper.emulators.traffic import LoggedRequest
from tests.acceptance.conftest import gamekeeper_env  # noqa: F401 (a fixture used here)
from tests.reliability.support import (
    database_file,
    finish,
    integrity,
    job_rows,
    kill_when,
    start,
    stored_ids,
)

SEED = 20261202
KILLS = 20
PLAYER = "alice"
#: How a job ends whose profile came cut short on every try (each is asked for again).
SITE_FAILURE = "sent an unreadable"


@pytest.fixture
def lichess() -> Iterator[tuple[LichessEmulator, str]]:
    emulator = LichessEmulator(LichessCorpus.generate({PLAYER: 2500}, seed=11))
    with serve_in_thread(emulator) as url:
        yield emulator, url


@pytest.fixture
def env(
    gamekeeper_env: dict[str, str],  # noqa: F811 (the fixture imported above)
    lichess: tuple[LichessEmulator, str],
) -> dict[str, str]:
    gamekeeper_env.update(
        GAMEKEEPER_LICHESS_URL=lichess[1],
        GAMEKEEPER_CHESSCOM_URL="http://127.0.0.1:9",
        GAMEKEEPER_LICHESS_COOLDOWN_S="0.05",
        GAMEKEEPER_UPSTREAM_BACKOFF_BASE_S="0.01",
        GAMEKEEPER_UPSTREAM_BACKOFF_MAX_S="0.05",
        GAMEKEEPER_HEARTBEAT_INTERVAL_S="1",
        # Every kill resumes the same job: let it take them all (by design, 3 kills of
        # runs that made progress, or 10 before their first checkpoint, fail it, and the
        # next sync makes a new job).
        GAMEKEEPER_MAX_ATTEMPTS=str(3 * KILLS),
        GAMEKEEPER_MAX_STALLED_RUNS=str(3 * KILLS),
    )
    return gamekeeper_env


def corpus_ids(emulator: LichessEmulator) -> set[str]:
    account = emulator.corpus.account(PLAYER)
    assert account is not None
    return {game.id for game in account.games}


def sent(entries: list[LoggedRequest]) -> int:
    return sum(e.items_sent for e in entries if e.path.startswith("/api/games/user/"))


def inject_faults(emulator: LichessEmulator, rng: random.Random) -> str:
    """One or two kinds of trouble for the next run."""
    faults = emulator.faults
    faults.reset()
    faults.games_per_s = 4000  # long enough a stream to be caught in the middle
    chosen = rng.sample(["reset", "5xx", "429", "truncate"], k=rng.randint(1, 2))
    if "reset" in chosen:
        faults.reset_streams, faults.reset_after = 1, rng.randint(5, 600)
    if "5xx" in chosen:
        faults.error_burst = rng.randint(1, 3)
    if "429" in chosen:
        faults.rate_limit_burst = 1
    if "truncate" in chosen:
        faults.truncate_streams = 1
    return "+".join(chosen)


def test_a_sync_killed_anywhere_loses_and_duplicates_nothing(
    env: dict[str, str], lichess: tuple[LichessEmulator, str], tmp_path: Path
) -> None:
    emulator = lichess[0]
    rng = random.Random(SEED)
    db = database_file(env)
    kills, runs = 0, 0
    while kills < KILLS:
        runs += 1
        assert runs <= 3 * KILLS, "too few runs reached their kill point"
        emulator.corpus.add_games(PLAYER, rng.randint(0, 120))  # the player goes on playing
        emulator.log.clear()
        faults = inject_faults(emulator, rng)
        remaining = len(corpus_ids(emulator) - set(stored_ids(db, "lichess")))
        if remaining > 50 and rng.random() < 0.75:
            target = rng.randint(1, min(remaining, 1500))

            def reached(wait_s: float, target: int = target) -> bool:
                return emulator.log.wait_for(lambda es: sent(es) >= target, timeout=wait_s)
        else:
            target = rng.randint(1, 3)  # right after the n-th request reaches the site

            def reached(wait_s: float, target: int = target) -> bool:
                return emulator.log.wait_for(lambda es: len(es) >= target, timeout=wait_s)

        with start(env, tmp_path, "sync", f"lichess:{PLAYER}") as proc:
            if kill_when(proc, reached):
                kills += 1
            else:
                code, out, err = finish(proc)
                # A profile cut short is an unreadable answer, and the job fails saying
                # so (the next sync goes on from the cursor); anything else must pass.
                assert code == 0 or SITE_FAILURE in out + err, (faults, out[-500:], err)
        ids = stored_ids(db, "lichess")
        assert len(ids) == len(set(ids)), f"duplicates after run {runs} ({faults})"

    emulator.faults.reset()
    with start(env, tmp_path, "sync", f"lichess:{PLAYER}") as last:
        code, _, err = finish(last)
    assert code == 0, err
    ids = stored_ids(db, "lichess")
    assert len(ids) == len(set(ids))  # nothing twice
    assert set(ids) == corpus_ids(emulator)  # nothing lost
    assert integrity(db) == "ok"
    failed = [row for row in job_rows(db, "sync_games") if row[0] == "failed"]
    assert all(SITE_FAILURE in error for _, error, _ in failed), failed
