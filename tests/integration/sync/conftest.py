"""Sync jobs end to end: real services on a real database, emulated sites over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest

from gamekeeper.bootstrap import Services, build_services
from gamekeeper.domain.accounts import Account
from gamekeeper.domain.games import Game, Platform
from gamekeeper.domain.jobs import Job
from gamekeeper.emulators.chesscom import ChessComEmulator
from gamekeeper.emulators.chesscom_records import ChessComCorpus
from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.emulators.lichess_records import LichessCorpus
from gamekeeper.emulators.server import serve_async
from gamekeeper.settings import Settings
from gamekeeper.storage.base import GameQuery

SEED = 11

#: Settings that keep tests quick: short cool-downs and backoffs, quiet heartbeats.
FAST = {
    "lichess_cooldown_s": 1.0,
    "chesscom_cooldown_s": 1.0,
    "upstream_backoff_base_s": 0.01,
    "upstream_backoff_max_s": 0.05,
    "heartbeat_interval_s": 30.0,
    "sweep_interval_s": 3600.0,
    "job_create_limit": 1000,
}


@pytest.fixture
def lichess() -> LichessEmulator:
    return LichessEmulator(LichessCorpus.generate({"alice": 600, "bob": 30}, seed=SEED))


@pytest.fixture
def chesscom() -> ChessComEmulator:
    return ChessComEmulator(ChessComCorpus.generate({"erik": 250}, seed=SEED))


@pytest.fixture
async def lichess_url(lichess: LichessEmulator) -> AsyncIterator[str]:
    async with serve_async(lichess) as url:
        yield url


@pytest.fixture
async def chesscom_url(chesscom: ChessComEmulator) -> AsyncIterator[str]:
    async with serve_async(chesscom) as url:
        yield url


ServicesFactory = Callable[..., Coroutine[Any, Any, Services]]


@pytest.fixture
async def make_services(
    db_url: str, lichess_url: str, chesscom_url: str
) -> AsyncIterator[ServicesFactory]:
    made: list[Services] = []

    async def make(**overrides: Any) -> Services:
        settings = Settings(
            database_url=db_url,
            lichess_url=lichess_url,
            chesscom_url=chesscom_url,
            **(FAST | overrides),
        )
        services = build_services(settings)
        await services.start(sweep=False)
        made.append(services)
        return services

    yield make
    for services in made:
        await services.aclose()


@pytest.fixture
async def services(make_services: ServicesFactory) -> Services:
    return await make_services()


async def run_job(services: Services, job_type: str, account: Account, **parameters: Any) -> Job:
    """Create a job for `account` and return it once it has ended."""
    job = await services.jobs.create(
        job_type, owner="admin", parameters={"account_id": account.id, **parameters}
    )
    return await finished(services, job.id)


async def stored_games(services: Services, platform: Platform, username: str) -> dict[str, Game]:
    """Every stored game of one player, by game id."""
    found: dict[str, Game] = {}
    cursor = None
    while True:
        page = await services.store.list_games(
            GameQuery(players=((platform, username),), cursor=cursor, limit=500)
        )
        found.update({s.game.platform_game_id: s.game for s in page.items})
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


async def finished(services: Services, job_id: str) -> Job:
    async def follow() -> Job:
        return [j async for j in services.jobs.watch(job_id)][-1]

    return await asyncio.wait_for(follow(), timeout=120)
