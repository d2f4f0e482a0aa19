"""PostgreSQL drops every connection of gamekeeper's database in the middle of a sync
(`pg_terminate_backend`, as a restart or a failover would, without disturbing other
tests' databases): the job goes on and completes, with every game once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest

from gamekeeper.bootstrap import Services, build_services
from gamekeeper.domain.games import Platform
from gamekeeper.domain.jobs import Job, JobStatus
from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.emulators.lichess_records import LichessCorpus
from gamekeeper.emulators.server import serve_async
from gamekeeper.emulators.traffic import LoggedRequest
from gamekeeper.settings import Settings
from gamekeeper.storage.base import GameQuery
from gamekeeper.storage.sql.engine import normalise_url

pytestmark = pytest.mark.postgres

GAMES = 3000


def sent(entries: list[LoggedRequest]) -> int:
    return sum(e.items_sent for e in entries if e.path.startswith("/api/games/user/"))


def terminate_backends(database_url: str) -> int:
    """Close every other connection to the database, as the server would on a restart."""
    url = normalise_url(database_url)
    name = url.database
    admin = url.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return len(rows)


@pytest.fixture
async def lichess() -> AsyncIterator[tuple[LichessEmulator, str]]:
    emulator = LichessEmulator(LichessCorpus.generate({"alice": GAMES}, seed=13))
    emulator.faults.games_per_s = 3000  # a second of streaming: time to pull the plug
    async with serve_async(emulator) as url:
        yield emulator, url


@pytest.fixture
async def services(
    postgres_url: str, lichess: tuple[LichessEmulator, str]
) -> AsyncIterator[Services]:
    settings = Settings(
        database_url=postgres_url,
        lichess_url=lichess[1],
        chesscom_url="http://127.0.0.1:9",
        upstream_backoff_base_s=0.01,
        upstream_backoff_max_s=0.05,
        heartbeat_interval_s=0.5,
        stale_after_s=3.0,
        sweep_interval_s=0.5,
    )
    built = build_services(settings)
    await built.start(sweep=True)
    yield built
    await built.aclose()


async def ended(services: Services, job_id: str, timeout_s: float = 120) -> Job:
    """The job once it has ended (read from its row: connections come and go)."""

    async def follow() -> Job:
        while True:
            job = await services.store.get_job(job_id)
            if job is not None and job.status.terminal:
                return job
            await asyncio.sleep(0.1)  # polling the row: the one view across reconnects

    return await asyncio.wait_for(follow(), timeout=timeout_s)


async def test_a_sync_survives_its_database_connections_being_killed(
    services: Services, lichess: tuple[LichessEmulator, str], postgres_url: str
) -> None:
    emulator = lichess[0]
    account = await services.accounts.add("admin", "lichess", "alice")
    job = await services.jobs.create(
        "sync_games", owner="admin", parameters={"account_id": account.id}
    )
    for mark in (800, 2000):
        assert await asyncio.to_thread(
            emulator.log.wait_for, lambda es, mark=mark: sent(es) >= mark, 60
        )
        assert await asyncio.to_thread(terminate_backends, postgres_url) >= 1

    final = await ended(services, job.id)
    # The same job: its statements met dead connections and were tried again on new ones.
    assert final.status is JobStatus.COMPLETED, final.error
    page = await services.store.list_games(
        GameQuery(players=((Platform.LICHESS, "alice"),), limit=GAMES + 10)
    )
    ids = [s.game.platform_game_id for s in page.items]
    corpus = emulator.corpus.account("alice")
    assert corpus is not None
    assert len(ids) == len(set(ids)) == GAMES
    assert set(ids) == {g.id for g in corpus.games}
