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


async def owned_accounts(store: SqlStore, owner: str, count: int, minutes: int = 5) -> list[int]:
    ids = []
    for i in range(count):
        account = await store.add_account(owner, Platform.LICHESS, f"{owner}{i:03d}{count}")
        await store.update_account(dataclasses.replace(account, auto_sync_minutes=minutes))
        ids.append(account.id)
    return ids


def created_accounts(runs: list[Any], store_jobs: list[Any]) -> set[int]:
    by_id = {j.id: j.account_id for j in store_jobs}
    return {by_id[r.job_id] for r in runs if r.outcome == "created"}


async def test_a_tick_creates_no_more_than_the_owners_limit_and_the_rest_go_first_next(
    store: SqlStore, make_manager: ManagerFactory
) -> None:
    clock = FakeClock()
    manager = make_manager(clock)  # 30 jobs a minute per user, the default
    ids = await owned_accounts(store, "mallory", 40)

    first = await run_due_syncs(store, manager)
    assert sum(r.outcome == "created" for r in first) == 30
    assert sum(r.outcome == "deferred" for r in first) == 10
    started = created_accounts(first, await sync_jobs(store))
    assert len(started) == 30

    clock.advance(30)  # the window is still full: nothing more
    runs = await run_due_syncs(store, manager)
    assert {r.outcome for r in runs} == {"deferred"} and len(runs) == 10

    clock.advance(31)  # a minute after the first tick: the ten that waited, and only them
    second = await run_due_syncs(store, manager)
    assert [r.outcome for r in second] == ["created"] * 10
    assert created_accounts(second, await sync_jobs(store)) == set(ids) - started
    assert len(await sync_jobs(store)) == 40  # one per account


async def test_owners_take_turns_under_the_tick_limit(
    store: SqlStore, make_manager: ManagerFactory
) -> None:
    clock = FakeClock()
    manager = make_manager(clock)
    await owned_accounts(store, "mallory", 20)
    bob = await owned_accounts(store, "bob", 3)
    runs = await run_due_syncs(store, manager, max_per_tick=6)
    created = created_accounts(runs, await sync_jobs(store))
    assert len(created) == 6
    assert set(bob) <= created  # bob's three are not starved by mallory's twenty
    assert sum(r.outcome == "deferred" for r in runs) == 17


async def test_jobs_made_by_hand_count_against_the_same_limit(
    store: SqlStore, make_manager: ManagerFactory
) -> None:
    clock = FakeClock()
    manager = make_manager(clock)
    by_hand = await owned_accounts(store, "alice", 30, minutes=0)
    for account_id in by_hand:
        await manager.create("sync_games", owner="alice", parameters={"account_id": account_id})
    [scheduled] = await owned_accounts(store, "alice", 1)
    runs = await run_due_syncs(store, manager)
    assert [(r.outcome, r.job_id) for r in runs] == [("deferred", None)]
    assert not await store.read(
        lambda c: c.execute(auto_syncs.select().where(auto_syncs.c.account_id == scheduled)).first()
    )  # not claimed: still due
    clock.advance(61)
    assert [r.outcome for r in await run_due_syncs(store, manager)] == ["created"]
