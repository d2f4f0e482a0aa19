"""Scheduled syncs: due once per period, merged into a queued run, skipped (saying so)
beside a running one, and claimed by exactly one of two schedulers."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import sqlalchemy as sa

from gamekeeper.domain.games import Platform
from gamekeeper.domain.jobs import JobStatus
from gamekeeper.jobs.context import JobContext
from gamekeeper.jobs.executors.local import LocalExecutor
from gamekeeper.jobs.manager import JobManager, ManagerConfig
from gamekeeper.jobs.registry import JobRegistry
from gamekeeper.jobs.runner import RunnerConfig
from gamekeeper.storage.base import JobQuery
from gamekeeper.storage.sql.schema import auto_syncs
from gamekeeper.storage.sql.store import SqlStore
from gamekeeper.sync.schedule import AutoSyncLoop, run_due_syncs
from tests.support.clock import FakeClock

QUIET = 3600.0


def registry() -> JobRegistry:
    reg = JobRegistry()

    @reg.register("sync_games", family="sync")
    async def sync_games(ctx: JobContext, *, account_id: int) -> None:
        """Stands in for the real sync: the schedule only creates jobs."""

    _ = sync_games
    return reg


ManagerFactory = Callable[..., JobManager]


@pytest.fixture
async def make_manager(store: SqlStore) -> AsyncIterator[ManagerFactory]:
    made: list[JobManager] = []

    def make(clock: FakeClock, *, run_jobs: bool = False) -> JobManager:
        config = ManagerConfig(
            runner=RunnerConfig(heartbeat_interval_s=QUIET), sweep_interval_s=QUIET
        )
        manager = JobManager(store, registry(), config=config, clock=clock)
        executor = LocalExecutor(manager.runner)
        if not run_jobs:
            executor._slots = asyncio.Semaphore(0)  # jobs stay queued: the test moves them
        manager.attach(executor)
        made.append(manager)
        return manager

    yield make
    for manager in made:
        await manager.stop()


async def auto_account(store: SqlStore, name: str = "alice", minutes: int = 30) -> int:
    account = await store.add_account("admin", Platform.LICHESS, name)
    await store.update_account(dataclasses.replace(account, auto_sync_minutes=minutes))
    return account.id


async def recorded(store: SqlStore, account_id: int) -> dict[str, Any]:
    stmt = auto_syncs.select().where(auto_syncs.c.account_id == account_id)
    return await store.read(lambda c: dict(c.execute(stmt).mappings().one()))


async def sync_jobs(store: SqlStore) -> list[Any]:
    return list((await store.list_jobs(JobQuery(job_type="sync_games"))).items)


async def test_a_due_account_gets_one_run_per_period_merged_or_skipped_beside_others(
    store: SqlStore, make_manager: ManagerFactory
) -> None:
    clock = FakeClock()
    manager = make_manager(clock)
    account = await auto_account(store, minutes=30)
    await auto_account(store, "bob", minutes=0)  # 0 / None: auto-sync off

    runs = await run_due_syncs(store, manager)
    assert [(r.account, r.outcome) for r in runs] == [("lichess:alice", "created")]
    first = (await sync_jobs(store))[0]
    assert first.scheduled and first.parameters == {"account_id": account}

    clock.advance(29 * 60)
    assert await run_due_syncs(store, manager) == []  # not due yet

    # A period later the first run still waits in the queue: the new one joins it.
    clock.advance(60)
    runs = await run_due_syncs(store, manager)
    assert [(r.outcome, r.job_id) for r in runs] == [("merged", first.id)]
    assert len(await sync_jobs(store)) == 1

    # Now it runs: the next period's run is dropped, and says why.
    assert await store.claim_job(first.id, worker="elsewhere:1", now=clock.now()) is not None
    clock.advance(30 * 60)
    runs = await run_due_syncs(store, manager)
    assert [(r.outcome, r.note) for r in runs] == [
        ("skipped", f"skipped: job {first.id} is running")
    ]
    row = await recorded(store, account)
    assert (row["outcome"], row["job_id"], row["last_at"]) == ("skipped", first.id, clock.now())
    assert len(await sync_jobs(store)) == 1


async def test_two_schedulers_ticking_at_once_start_one_run(
    store: SqlStore, make_manager: ManagerFactory
) -> None:
    clock = FakeClock()
    one, two = make_manager(clock), make_manager(clock)
    for name in ("alice", "bob", "carol"):
        await auto_account(store, name)
    for _ in range(3):  # several periods, each raced by both
        runs = await asyncio.gather(run_due_syncs(store, one), run_due_syncs(store, two))
        outcomes = [r.outcome for batch in runs for r in batch]
        assert sorted(outcomes) in (["created"] * 3, ["merged"] * 3)
        clock.advance(30 * 60)
    assert len(await sync_jobs(store)) == 3  # one per account: later periods merged


async def test_the_embedded_loop_ticks_and_jobs_run(
    store: SqlStore, make_manager: ManagerFactory
) -> None:
    clock = FakeClock()
    manager = make_manager(clock, run_jobs=True)
    await auto_account(store)
    loop = AutoSyncLoop(store, manager, tick_s=0.05)
    loop.start()
    try:
        for _ in range(400):  # bounded poll for the first scheduled job to finish
            jobs = await sync_jobs(store)
            if jobs and jobs[0].status is JobStatus.COMPLETED:
                break
            await asyncio.sleep(0.025)
    finally:
        await loop.stop()
    jobs = await sync_jobs(store)
    assert [(j.status, j.scheduled) for j in jobs] == [(JobStatus.COMPLETED, True)]
    count = await store.read(
        lambda c: c.execute(sa.select(sa.func.count()).select_from(auto_syncs)).scalar_one()
    )
    assert count == 1
