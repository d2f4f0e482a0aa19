"""The job engine's contract: lifecycle, cancel, policies, retention, live progress."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from gamekeeper.domain.games import Platform
from gamekeeper.domain.jobs import Job, JobStatus, PhaseStatus
from gamekeeper.errors import Conflict, InvalidInput, JobNotFound, RateLimited
from gamekeeper.jobs.executors.local import LocalExecutor
from gamekeeper.jobs.executors.procrastinate import ProcrastinateExecutor
from gamekeeper.jobs.manager import JobManager, ManagerConfig
from gamekeeper.jobs.runner import RunnerConfig
from gamekeeper.storage.base import JobQuery
from gamekeeper.storage.sql.store import SqlStore, libpq_url
from tests.conftest import count_statements
from tests.support.clock import FakeClock
from tests.support.jobkinds import Controls, create_item_table, make_registry, test_items

#: Long enough that no heartbeat or sweep fires during a test unless it asks for one.
QUIET = 3600.0


#: The contract holds for every executor: (executor, database).
BACKENDS = [
    pytest.param(("local", "sqlite"), id="local-sqlite"),
    pytest.param(("local", "postgresql"), id="local-postgresql", marks=pytest.mark.postgres),
    pytest.param(
        ("procrastinate", "postgresql"), id="procrastinate-postgresql", marks=pytest.mark.postgres
    ),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def db_url(backend: tuple[str, str], request: pytest.FixtureRequest) -> str:
    """Overrides conftest's: the database that goes with the executor under test."""
    executor, database = backend
    if database == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    if executor == "procrastinate":
        return str(request.getfixturevalue("procrastinate_postgres_url"))
    return str(request.getfixturevalue("postgres_url"))


@dataclass
class Engine:
    store: SqlStore
    manager: JobManager
    executor: LocalExecutor | ProcrastinateExecutor
    controls: Controls
    clock: FakeClock

    async def account(self, name: str = "alice") -> int:
        return (await self.store.add_account("admin", Platform.LICHESS, name)).id

    async def finished(self, job_id: str) -> Job:
        """The job once it has ended (followed through the watcher, bounded by a timeout)."""

        async def follow() -> Job:
            return [job async for job in self.manager.watch(job_id)][-1]

        return await asyncio.wait_for(follow(), timeout=30)

    async def items(self, job_id: str) -> list[int]:
        stmt = sa.select(test_items.c.item).where(test_items.c.job_id == job_id)
        return sorted(await self.store.read(lambda c: list(c.execute(stmt).scalars())))


EngineFactory = Callable[..., Engine]


@pytest.fixture
async def make_engine(store: SqlStore, backend: tuple[str, str]) -> AsyncIterator[EngineFactory]:
    create_item_table(store.engine)
    made: list[Engine] = []

    def factory(**overrides: object) -> Engine:
        runner = RunnerConfig(
            heartbeat_interval_s=QUIET,
            progress_write_interval_s=float(overrides.pop("write_interval", 2.0)),  # type: ignore[arg-type]
            retention=int(overrides.pop("retention", 100)),  # type: ignore[call-overload]
        )
        config = ManagerConfig(runner=runner, sweep_interval_s=QUIET, **overrides)  # type: ignore[arg-type]
        controls, clock = Controls(), FakeClock()
        manager = JobManager(store, make_registry(controls, clock), config=config, clock=clock)
        executor: LocalExecutor | ProcrastinateExecutor
        if backend[0] == "procrastinate":
            # A worker in this process and loop, so the test's controls reach the jobs.
            executor = ProcrastinateExecutor(
                manager.runner, libpq_url(store.url), concurrency=4, poll_interval_s=0.5
            )
            executor.register_kinds(manager.registry.names())
            executor.start_worker()
        else:
            executor = LocalExecutor(manager.runner, concurrency=4)
        manager.attach(executor)
        engine = Engine(store, manager, executor, controls, clock)
        made.append(engine)
        return engine

    yield factory
    for engine in made:
        await engine.manager.stop()


async def test_job_runs_queued_running_completed_with_live_state(
    make_engine: EngineFactory,
) -> None:
    eng = make_engine()
    eng.controls.hold.add("batch:2")
    job = await eng.manager.create("write_items", owner="admin", parameters={"count": 30})
    assert job.status is JobStatus.QUEUED

    await asyncio.wait_for(eng.controls.reached["batch:2"].wait(), 10)
    running = await eng.manager.get(job.id)
    assert running.status is JobStatus.RUNNING
    assert running.phase == "writing"
    assert running.counters["inserted"] == 20
    assert (running.progress.done, running.progress.total) == (20, 30)
    assert running.progress.fraction == pytest.approx(20 / 30)
    assert [p.status for p in running.phases] == [PhaseStatus.RUNNING, PhaseStatus.PENDING]

    eng.controls.release["batch:2"].set()
    final = await eng.finished(job.id)
    stored = await eng.store.get_job(job.id)
    assert stored is not None
    for seen in (final, stored):
        assert seen.status is JobStatus.COMPLETED
        assert seen.counters["inserted"] == 30
        assert (seen.progress.done, seen.progress.total) == (30, 30)
        assert [(p.name, p.status) for p in seen.phases] == [
            ("writing", PhaseStatus.COMPLETED),
            ("checking", PhaseStatus.SKIPPED),
        ]
        assert seen.result == {"written": 30}
        assert seen.started_at is not None and seen.finished_at is not None
    assert await eng.items(job.id) == list(range(30))


async def test_cancel_while_running_stops_at_the_next_boundary_keeping_commits(
    make_engine: EngineFactory,
) -> None:
    eng = make_engine()
    eng.controls.hold.add("batch:3")
    job = await eng.manager.create("write_items", owner="admin", parameters={"count": 100})
    await asyncio.wait_for(eng.controls.reached["batch:3"].wait(), 10)

    cancelling = await eng.manager.cancel(job.id)
    assert cancelling.cancel_requested and cancelling.status is JobStatus.RUNNING
    eng.controls.release["batch:3"].set()

    final = await eng.finished(job.id)
    assert final.status is JobStatus.CANCELLED
    # Batch 3 was already under way; the job stopped right after committing it.
    assert await eng.items(job.id) == list(range(40))
    assert final.counters["inserted"] == 40
    assert final.checkpoint == 40
    assert [p.status for p in final.phases] == [PhaseStatus.CANCELLED, PhaseStatus.PENDING]


async def test_cancel_while_waiting_ends_at_once(make_engine: EngineFactory) -> None:
    eng = make_engine()
    job = await eng.manager.create("waits", owner="admin", parameters={"seconds": 3600})
    async for seen in eng.manager.watch(job.id):
        if seen.status is JobStatus.WAITING:
            assert seen.wait is not None
            assert seen.wait.reason == "testing a long wait"
            assert (seen.wait.resume_at - eng.clock.now()).total_seconds() == 3600
            break
    stored = await eng.store.get_job(job.id)
    assert stored is not None and stored.status is JobStatus.WAITING

    await eng.manager.cancel(job.id)
    final = await eng.finished(job.id)  # bounded: the wait would take an hour
    assert final.status is JobStatus.CANCELLED
    assert final.wait is None


async def test_a_wait_abandoned_by_its_caller_returns_the_job_to_running(
    make_engine: EngineFactory,
) -> None:
    eng = make_engine()
    job = await eng.manager.create("abandoned_wait", owner="admin")
    final = await eng.finished(job.id)
    assert final.status is JobStatus.COMPLETED
    assert final.result == {"status_after_wait": "running"}


async def test_cancel_of_a_queued_job_is_immediate(make_engine: EngineFactory) -> None:
    eng = make_engine()
    eng.executor._slots = asyncio.Semaphore(0)
    job = await eng.manager.create("write_items", owner="admin", parameters={"count": 5})
    cancelled = await eng.manager.cancel(job.id)
    assert cancelled.status is JobStatus.CANCELLED
    assert (await eng.manager.cancel(job.id)).status is JobStatus.CANCELLED  # idempotent


async def test_a_failing_job_ends_failed_with_its_error(make_engine: EngineFactory) -> None:
    eng = make_engine()
    job = await eng.manager.create("fails", owner="admin", parameters={"message": "boom"})
    final = await eng.finished(job.id)
    assert final.status is JobStatus.FAILED
    assert final.error == "internal error: ValueError: boom"


async def test_second_job_for_an_account_conflicts_until_the_first_ends(
    make_engine: EngineFactory,
) -> None:
    eng = make_engine()
    eng.controls.hold.add("holding")
    account = await eng.account()
    first = await eng.manager.create("holds", owner="admin", parameters={"account_id": account})
    with pytest.raises(Conflict) as exc:
        await eng.manager.create(
            "write_items", owner="admin", parameters={"count": 1, "account_id": account}
        )
    assert exc.value.active_job_id == first.id
    assert first.id in str(exc.value)

    # Another account is fine.
    other = await eng.account("bob")
    await eng.manager.create("holds", owner="admin", parameters={"account_id": other})

    eng.controls.release["holding"].set()
    await eng.finished(first.id)
    later = await eng.manager.create(
        "write_items", owner="admin", parameters={"count": 1, "account_id": account}
    )
    assert (await eng.finished(later.id)).status is JobStatus.COMPLETED


async def test_concurrent_creations_for_one_account_admit_exactly_one(
    make_engine: EngineFactory,
) -> None:
    eng = make_engine()
    eng.controls.hold.add("holding")
    account = await eng.account()
    results = await asyncio.gather(
        *(
            eng.manager.create("holds", owner="admin", parameters={"account_id": account})
            for _ in range(6)
        ),
        return_exceptions=True,
    )
    created = [r for r in results if isinstance(r, Job)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(created) == 1 and len(conflicts) == 5
    assert {c.active_job_id for c in conflicts} == {created[0].id}
    eng.controls.release["holding"].set()


async def test_single_active_job_mode_refuses_any_second_job(make_engine: EngineFactory) -> None:
    eng = make_engine(single_active_job=True)
    eng.controls.hold.add("holding")
    first = await eng.manager.create("holds", owner="admin")
    with pytest.raises(Conflict) as exc:
        await eng.manager.create("write_items", owner="someone-else", parameters={"count": 1})
    assert exc.value.active_job_id == first.id
    eng.controls.release["holding"].set()
    await eng.finished(first.id)
    await eng.manager.create("write_items", owner="someone-else", parameters={"count": 1})


async def test_creation_rate_limit_per_user(make_engine: EngineFactory) -> None:
    eng = make_engine(create_limit=3, create_window_s=60.0)
    for _ in range(3):
        await eng.manager.create("write_items", owner="alice", parameters={"count": 1})
        eng.clock.advance(10)
    with pytest.raises(RateLimited) as exc:
        await eng.manager.create("write_items", owner="alice", parameters={"count": 1})
    # The first creation (30 s ago) leaves the 60 s window in 30 s.
    assert exc.value.retry_after == pytest.approx(30)

    await eng.manager.create("write_items", owner="bob", parameters={"count": 1})
    eng.clock.advance(31)
    await eng.manager.create("write_items", owner="alice", parameters={"count": 1})


async def test_retention_keeps_the_configured_number_of_finished_jobs(
    make_engine: EngineFactory,
) -> None:
    eng = make_engine(retention=3)
    bob_job = await eng.manager.create("write_items", owner="bob", parameters={"count": 1})
    await eng.finished(bob_job.id)
    ids = []
    for _ in range(5):
        job = await eng.manager.create("write_items", owner="alice", parameters={"count": 1})
        await eng.finished(job.id)
        eng.clock.advance(1)
        ids.append(job.id)
    await eng.executor.join()
    kept = await eng.store.list_jobs(JobQuery(owner="alice"))
    assert [j.id for j in kept.items] == list(reversed(ids[-3:]))
    assert len((await eng.store.list_jobs(JobQuery(owner="bob"))).items) == 1


async def test_watcher_sees_every_change_while_row_writes_are_throttled(
    make_engine: EngineFactory,
) -> None:
    eng = make_engine(write_interval=2.0)
    updates = count_statements(eng.store.engine, "UPDATE jobs")
    # 100 progress steps, 0.1 s apart on the engine's clock: 10 s in all.
    job = await eng.manager.create(
        "progress_steps", owner="admin", parameters={"steps": 100, "step_s": 0.1}
    )
    seen = [j.progress.done async for j in eng.manager.watch(job.id) if j.phase == "stepping"]
    await eng.executor.join()

    steps = [d for i, d in enumerate(seen) if i == 0 or d != seen[i - 1]]
    assert steps == list(range(0, 101))
    # Row writes: claim, start_phase, finish, and progress at most once per 2 s of 10 s.
    progress_writes = len(updates) - 3
    assert progress_writes <= 10 / 2


async def test_unknown_job_types_and_bad_parameters_are_invalid_input(
    make_engine: EngineFactory,
) -> None:
    eng = make_engine()
    with pytest.raises(InvalidInput, match="unknown job type"):
        await eng.manager.create("nope", owner="admin")
    with pytest.raises(InvalidInput):
        await eng.manager.create("write_items", owner="admin", parameters={"count": "ten"})
    with pytest.raises(InvalidInput):
        await eng.manager.create("write_items", owner="admin", parameters={"bogus": 1})
    job = await eng.manager.create("WRITE_ITEMS", owner="admin", parameters={"count": 1})
    assert job.job_type == "write_items"


async def test_other_users_jobs_are_not_found(make_engine: EngineFactory) -> None:
    eng = make_engine()
    job = await eng.manager.create("write_items", owner="alice", parameters={"count": 1})
    with pytest.raises(JobNotFound):
        await eng.manager.get(job.id, owner="bob")
    with pytest.raises(JobNotFound):
        await eng.manager.cancel(job.id, owner="bob")
    assert (await eng.manager.get(job.id, owner="alice")).id == job.id


async def test_sweeper_requeues_stale_jobs_then_fails_them_after_max_attempts(
    make_engine: EngineFactory, store: SqlStore
) -> None:
    eng = make_engine(stale_after_s=60.0, max_attempts=2)
    eng.executor._slots = asyncio.Semaphore(0)
    job = await eng.manager.create("write_items", owner="admin", parameters={"count": 1})

    # Pretend a worker elsewhere claimed it, committed a checkpoint, then died.
    claimed = await store.claim_job(job.id, worker="ghost:1", now=eng.clock.now())
    assert claimed is not None and claimed.attempt == 1
    assert await store.save_job(dataclasses.replace(claimed, checkpoint=1, checkpoint_attempt=1))
    eng.clock.advance(30)
    assert await eng.manager.sweep() == type(await eng.manager.sweep())()  # not stale yet

    eng.clock.advance(31)
    report = await eng.manager.sweep()
    assert report.requeued == (job.id,)
    requeued = await store.get_job(job.id)
    assert requeued is not None and requeued.status is JobStatus.QUEUED

    again = await store.claim_job(job.id, worker="ghost:2", now=eng.clock.now())
    assert again is not None and again.attempt == 2
    again = dataclasses.replace(again, checkpoint=2, checkpoint_attempt=2)
    assert await store.save_job(again)
    eng.clock.advance(61)
    report = await eng.manager.sweep()
    assert report.failed == (job.id,)
    failed = await store.get_job(job.id)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert failed.error is not None and "gave up after 2 attempts" in failed.error
    # A late write from the dead worker can't resurrect it.
    assert not await store.save_job(dataclasses.replace(again, status=JobStatus.COMPLETED))
