"""A Lichess dump game and the same game synced from the API are one row, whichever
comes first; the API's richer record is never overwritten by a dump."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from gamekeeper.bootstrap import Services, build_services
from gamekeeper.domain.accounts import Account
from gamekeeper.domain.games import Platform
from gamekeeper.domain.jobs import Job, JobStatus
from gamekeeper.emulators.lichess import LichessEmulator, render_pgn
from gamekeeper.emulators.lichess_records import FULL
from gamekeeper.settings import Settings
from gamekeeper.storage.sql.schema import games


@pytest.fixture
async def services(db_url: str, lichess_url: str) -> AsyncIterator[Services]:
    settings = Settings(
        database_url=db_url,
        lichess_url=lichess_url,
        lichess_cooldown_s=1.0,
        upstream_backoff_base_s=0.01,
        heartbeat_interval_s=30.0,
        sweep_interval_s=3600.0,
    )
    services = build_services(settings)
    await services.start(sweep=False)
    yield services
    await services.aclose()


def write_dump(emulator: LichessEmulator, path: Path, *usernames: str) -> set[str]:
    """The players' games as the Lichess dump writes them; their ids."""
    ids: set[str] = set()
    with path.open("w", encoding="utf-8") as out:
        for username in usernames:
            account = emulator.corpus.account(username)
            assert account is not None
            for line in account.lines:
                record = orjson.loads(line)
                ids.add(record["id"])
                out.write(render_pgn(record, FULL))
    return ids


async def run(services: Services, job_type: str, **parameters: object) -> Job:
    job = await services.jobs.create(job_type, owner="admin", parameters=parameters)

    async def follow() -> Job:
        return [j async for j in services.jobs.watch(job.id)][-1]

    final = await asyncio.wait_for(follow(), timeout=120)
    assert final.status is JobStatus.COMPLETED, final.error
    return final


async def sync(services: Services, username: str) -> tuple[Account, Job]:
    account = await services.accounts.add("admin", "lichess", username)
    return account, await run(services, "sync_games", account_id=account.id)


async def rows(services: Services) -> dict[str, tuple[str, str]]:
    """(platform, raw's first character) of every stored game, by id; one entry per row."""
    found = await services.store.read(
        lambda c: list(
            c.execute(sa.select(games.c.platform_game_id, games.c.platform, games.c.raw))
        )
    )
    by_id = {game_id: (platform, raw[:1]) for game_id, platform, raw in found}
    assert len(by_id) == len(found), "a game is stored twice"
    return by_id


async def test_a_dump_imported_after_a_sync_adds_no_row_and_keeps_the_api_record(
    services: Services, lichess_emulator: LichessEmulator, tmp_path: Path
) -> None:
    _, synced = await sync(services, "alice")
    alice = synced.counters["inserted"]
    assert alice == 120
    path = tmp_path / "lichess_db_standard_rated.pgn"
    ids = write_dump(lichess_emulator, path, "alice", "bob")

    job = await run(services, "import_pgn", path=str(path))

    stored = await rows(services)
    assert set(stored) == ids  # bob's games are new; alice's are the same rows
    assert await services.store.count_games() == len(ids)
    assert job.counters["inserted"] == len(ids) - alice
    assert job.counters["skipped_existing"] == alice
    assert job.counters["updated"] == 0
    alice_ids = write_dump(lichess_emulator, tmp_path / "alice.pgn", "alice")
    # The synced rows still hold the API's record (JSON), not the dump's PGN.
    assert {stored[i] for i in alice_ids} == {("lichess", "{")}


async def test_a_sync_after_a_dump_import_adds_no_row_and_refreshes_it(
    services: Services, lichess_emulator: LichessEmulator, tmp_path: Path
) -> None:
    path = tmp_path / "dump.pgn"
    ids = write_dump(lichess_emulator, path, "alice")
    imported = await run(services, "import_pgn", path=str(path))
    assert imported.counters["inserted"] == len(ids) == 120
    assert set((await rows(services)).values()) == {("lichess", "[")}

    _, synced = await sync(services, "alice")

    stored = await rows(services)
    assert set(stored) == ids
    assert await services.store.count_games() == 120
    assert synced.counters["inserted"] == 0
    assert synced.counters["updated"] == 120
    assert set(stored.values()) == {("lichess", "{")}
    game = await services.store.get_game_by_key(Platform.LICHESS, sorted(ids)[0])
    assert game is not None and game["end_time"] is not None  # the API's lastMoveAt
