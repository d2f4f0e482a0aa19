"""The upstream gate across processes: an advisory lock and a row in PostgreSQL.

Each `PostgresHostCoordinators` has its own connections, so two of them in one test
are two workers as far as PostgreSQL is concerned.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest

from gamekeeper.connectors.gate.postgres import LOCK_CLASS, PostgresHostCoordinators, lock_key
from gamekeeper.connectors.gate.upstreams import Upstreams, host_key
from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.emulators.lichess_records import LichessCorpus
from gamekeeper.emulators.server import serve_async
from gamekeeper.settings import Settings
from gamekeeper.storage.sql.store import libpq_url

pytestmark = pytest.mark.postgres

COOLDOWN_S = 1.0


@pytest.fixture
def lichess() -> LichessEmulator:
    return LichessEmulator(LichessCorpus.generate({"alice": 5, "bob": 5}, seed=1))


@pytest.fixture
async def lichess_url(lichess: LichessEmulator) -> AsyncIterator[str]:
    async with serve_async(lichess) as url:
        yield url


@dataclass
class Gates:
    """One worker process's upstream gates, and the Lichess they talk to."""

    upstreams: Upstreams
    lichess_url: str

    async def profile(self, name: str) -> httpx.Response:
        request = httpx.Request("GET", f"{self.lichess_url}/api/user/{name}")
        return await self.upstreams.lichess.send(request)


Worker = Callable[[], AbstractAsyncContextManager[Gates]]


@pytest.fixture
def worker(postgres_url: str, lichess_url: str) -> Worker:
    """`async with worker() as gates:` the gates of one more worker process."""

    @asynccontextmanager
    async def make() -> AsyncIterator[Gates]:
        settings = Settings(
            lichess_url=lichess_url,
            lichess_cooldown_s=COOLDOWN_S,
            upstream_backoff_base_s=0.01,
            upstream_busy_grace_s=60.0,
        )
        coordinators = PostgresHostCoordinators(libpq_url(postgres_url))
        try:
            async with Upstreams(settings, coordinator_for=coordinators.coordinator_for) as up:
                yield Gates(up, lichess_url)
        finally:
            await coordinators.aclose()

    return make


async def test_many_requests_from_two_workers_are_never_in_flight_together(
    worker: Worker, lichess: LichessEmulator
) -> None:
    lichess.faults.latency_s = 0.02  # long enough for overlaps to show, if the gate let any
    async with worker() as one, worker() as two:
        calls = [w.profile(name) for w in (one, two) for name in ("alice", "bob") * 5]
        responses = await asyncio.gather(*calls)
    assert {r.status_code for r in responses} == {200}
    assert len(lichess.log.entries) == 20
    assert lichess.log.max_concurrent == 1  # and so the emulator never answered 429


async def test_a_429_seen_by_one_worker_pauses_the_other_until_the_cooldown_ends(
    worker: Worker, lichess: LichessEmulator, postgres_url: str
) -> None:
    lichess.faults.rate_limit_burst = 1
    async with worker() as one, worker() as two:
        first = await one.profile("alice")  # a 429, a cool-down, then a 200
        assert first.status_code == 200
        limited = [e for e in lichess.log.entries if e.status == 429]
        assert len(limited) == 1
        until = await _cooldown_until(postgres_url, host_key(one.lichess_url))
        assert until is not None

        before = len(lichess.log.entries)
        second = await two.profile("bob")  # the other worker read the shared cool-down
        assert second.status_code == 200
    later = lichess.log.entries[before:]
    assert [e.status for e in later] == [200]
    assert later[0].at >= until  # it waited the cool-down out: no request before its end
    assert all(e.at >= until for e in lichess.log.entries if e.number > limited[0].number)


async def test_a_dead_holder_frees_the_host_and_a_cancelled_wait_leaks_nothing(
    worker: Worker, lichess: LichessEmulator, postgres_url: str, lichess_url: str
) -> None:
    key = lock_key(host_key(lichess_url))
    holder = await psycopg.AsyncConnection.connect(libpq_url(postgres_url), autocommit=True)
    await holder.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_CLASS, key))
    async with worker() as one:
        # A request queued behind the holder, then given up: its wait must not leave
        # the lock taken when the holder goes.
        abandoned = asyncio.create_task(one.profile("alice"))
        await _until_waiting(postgres_url, key)
        abandoned.cancel()
        with pytest.raises(asyncio.CancelledError):
            await abandoned

        waiting = asyncio.create_task(one.profile("bob"))
        await _until_waiting(postgres_url, key)
        assert lichess.log.entries == []  # nothing went out while the slot was held
        await holder.close()  # the holder dies: PostgreSQL lets the lock go with it
        response = await asyncio.wait_for(waiting, timeout=10)
    assert response.status_code == 200
    assert [e.path for e in lichess.log.entries] == ["/api/user/bob"]


async def _until_waiting(postgres_url: str, key: int) -> None:
    """Until some session waits for the host's lock (a bounded poll of pg_locks)."""
    async with await psycopg.AsyncConnection.connect(
        libpq_url(postgres_url), autocommit=True
    ) as conn:
        for _ in range(400):
            cursor = await conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid = %s::oid AND objid = %s::oid AND NOT granted",
                (LOCK_CLASS, key & 0xFFFFFFFF),
            )
            row = await cursor.fetchone()
            if row and row[0]:
                return
            await asyncio.sleep(0.025)
    raise AssertionError("no session ever waited for the host's lock")


async def _cooldown_until(postgres_url: str, host: str) -> Any:
    async with await psycopg.AsyncConnection.connect(libpq_url(postgres_url)) as conn:
        cursor = await conn.execute(
            "SELECT cooldown_until FROM upstream_hosts WHERE host = %s", (host,)
        )
        row = await cursor.fetchone()
    return row[0] if row else None
