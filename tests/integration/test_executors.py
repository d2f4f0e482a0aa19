"""The procrastinate executor beyond the shared contract: one transaction for the row and
its delivery, jobs crossing processes, abort as a cooperative cancel, hand-over at
shutdown, re-delivery after a sweep, and the stalled-delivery backstop.

Two `JobManager`s on one database stand for two processes (a server and a worker, or
two workers): they share nothing but PostgreSQL.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from gamekeeper.bootstrap import build_services
from gamekeeper.domain.jobs import Job, JobStatus, new_job_id
from gamekeeper.errors import ConfigurationError, StorageError
from gamekeeper.jobs.executors.procrastinate import ProcrastinateExecutor
from gamekeeper.jobs.manager import JobManager, ManagerConfig
from gamekeeper.jobs.runner import RunnerConfig
from gamekeeper.settings import Settings
from gamekeeper.storage.base import JobQuery, Tx
from gamekeeper.storage.sql.store import SqlStore, libpq_url
from tests.support.jobkinds import Controls, create_item_table, make_registry, test_items

QUIET = 3600.0


@dataclass
class Node:
    """One process's job engine."""

    manager: JobManager
    executor: ProcrastinateExecutor
    controls: Controls

    async def finished(self, job_id: str) -> Job:
        async def follow() -> Job:
            return [job async for job in self.manager.watch(job_id)][-1]

        return await asyncio.wait_for(follow(), timeout=30)


NodeFactory = Callable[..., Node]


@pytest.fixture
async def store(procrastinate_postgres_url: str) -> AsyncIterator[SqlStore]:
    store = SqlStore(procrastinate_postgres_url)
    create_item_table(store.engine)
    yield store
    await store.aclose()


@pytest.fixture
async def node(store: SqlStore) -> AsyncIterator[NodeFactory]:
    made: list[Node] = []

    def make(*, worker: bool, name: str, stale_after_s: float = 60.0) -> Node:
        config = ManagerConfig(
            runner=RunnerConfig(heartbeat_interval_s=QUIET),
            sweep_interval_s=QUIET,
            stale_after_s=stale_after_s,
            watch_poll_interval_s=0.05,
        )
        controls = Controls()
        manager = JobManager(store, make_registry(controls), config=config, worker=name)
        executor = ProcrastinateExecutor(
            manager.runner,
            libpq_url(store.url),
            concurrency=2,
            poll_interval_s=0.2,
            stalled_after_s=1.0,
        )
        executor.register_kinds(manager.registry.names())
        manager.attach(executor)
        if worker:
            executor.start_worker()
        made.append(Node(manager, executor, controls))
        return made[-1]

    yield make
    for made_node in made:
        await made_node.manager.stop()


async def deliveries(store: SqlStore) -> list[dict[str, Any]]:
    def work(conn: sa.Connection) -> list[dict[str, Any]]:
        rows = conn.execute(
            sa.text(
                "SELECT task_name, queueing_lock, args, status::text AS status "
                "FROM procrastinate_jobs ORDER BY id"
            )
        )
        return [dict(row) for row in rows.mappings()]

    return await store.read(work)


async def items(store: SqlStore, job_id: str) -> list[tuple[int, int]]:
    stmt = (
        sa.select(test_items.c.item, test_items.c.attempt)
        .where(test_items.c.job_id == job_id)
        .order_by(test_items.c.item)
    )
    return await store.read(lambda c: [tuple(r) for r in c.execute(stmt)])


@pytest.mark.postgres
async def test_creating_a_job_enqueues_its_delivery_in_the_same_transaction(
    store: SqlStore, node: NodeFactory
) -> None:
    server = node(worker=False, name="server:1")
    job = await server.manager.create("write_items", owner="admin", parameters={"count": 5})
    assert await deliveries(store) == [
        {
            "task_name": "gamekeeper.write_items",
            "queueing_lock": job.id,
            "args": {"job_id": job.id},
            "status": "todo",
        }
    ]

    # A transaction that fails after the insert leaves neither a row nor a delivery.
    def fails(tx: Tx) -> None:
        doomed = dataclasses.replace(job, id=new_job_id())
        tx.insert_job(doomed)
        server.executor.enqueue_in(tx, doomed)
        raise RuntimeError("the transaction fails after the enqueue")

    with pytest.raises(RuntimeError):
        await store.create_job(fails)
    assert len(await deliveries(store)) == 1
    assert len((await store.list_jobs(JobQuery())).items) == 1


@pytest.mark.postgres
async def test_no_row_is_left_without_its_delivery(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """On a database without procrastinate's tables the enqueue fails: so does the row."""
    store = SqlStore(postgres_url)
    try:
        manager = JobManager(store, make_registry())
        manager.attach(ProcrastinateExecutor(manager.runner, libpq_url(postgres_url)))
        with pytest.raises(StorageError, match="database error"):
            await manager.create("write_items", owner="admin", parameters={"count": 1})
        # The driver's words are in the log, under the reference the error gives.
        assert "procrastinate_job_to_defer_v1" in caplog.text
        assert (await store.list_jobs(JobQuery())).items == ()
    finally:
        await manager.stop()
        await store.aclose()


@pytest.mark.postgres
async def test_a_job_created_by_the_server_runs_on_a_worker_and_cancels_from_there(
    store: SqlStore, node: NodeFactory
) -> None:
    server = node(worker=False, name="server:1")
    worker = node(worker=True, name="worker:1")
    worker.controls.hold.add("batch:3")
    job = await server.manager.create("write_items", owner="admin", parameters={"count": 100})
    await asyncio.wait_for(worker.controls.reached["batch:3"].wait(), 10)
    assert job.id in worker.executor.running_ids

    # The server can't signal the job in-process: procrastinate carries the abort,
    # and the worker turns it into our cooperative cancel (no heartbeat needed here).
    await server.manager.cancel(job.id)
    worker_ctx = worker.manager.runner.contexts[job.id]
    for _ in range(200):
        if worker_ctx.cancel_requested:
            break
        await asyncio.sleep(0.05)
    assert worker_ctx.cancel_requested
    worker.controls.release["batch:3"].set()

    final = await server.finished(job.id)
    assert final.status is JobStatus.CANCELLED
    assert final.counters["inserted"] == 40  # batch 3 was under way: committed, then stop
    assert [item for item, _ in await items(store, job.id)] == list(range(40))


@pytest.mark.postgres
async def test_a_stopping_worker_hands_its_job_to_another_at_the_checkpoint(
    store: SqlStore, node: NodeFactory
) -> None:
    first = node(worker=True, name="worker:1")
    first.controls.hold.add("batch:2")
    job = await first.manager.create("write_items", owner="admin", parameters={"count": 50})
    await asyncio.wait_for(first.controls.reached["batch:2"].wait(), 10)

    await first.executor.stop_worker()  # SIGTERM: jobs are not waited for
    handed_back = await store.get_job(job.id)
    assert handed_back is not None
    assert handed_back.status is JobStatus.QUEUED and handed_back.checkpoint == 20
    assert [d["status"] for d in await deliveries(store)][-1] == "todo"

    second = node(worker=True, name="worker:2")
    final = await second.finished(job.id)
    assert final.status is JobStatus.COMPLETED and final.attempt == 2
    assert final.counters["inserted"] == 50
    written = await items(store, job.id)
    assert [item for item, _ in written] == list(range(50))  # none twice, none lost
    assert {item for item, attempt in written if attempt == 2} == set(range(20, 50))


@pytest.mark.postgres
async def test_the_sweeper_redelivers_a_dead_workers_job_and_the_backstop_clears_its_delivery(
    store: SqlStore, node: NodeFactory
) -> None:
    creator = node(worker=False, name="server:1", stale_after_s=5.0)
    job = await creator.manager.create("write_items", owner="admin", parameters={"count": 10})

    # A worker takes the delivery and the job, then dies without a word.
    app = creator.executor.app
    await creator.executor.start()
    ghost = await app.job_manager.register_worker()
    taken = await app.job_manager.fetch_job(queues=None, worker_id=ghost)
    assert taken is not None and taken.task_kwargs == {"job_id": job.id}
    claimed = await store.claim_job(job.id, worker="elsewhere:1", now=creator.manager.clock.now())
    assert claimed is not None

    # Our heartbeat is the authority: once it is stale, the sweeper re-queues the job
    # and defers a new delivery, which a live worker resumes.
    await _age(store, job.id, seconds=10)
    report = await creator.manager.sweep()
    assert report.requeued == (job.id,)
    live = node(worker=True, name="worker:2")
    final = await live.finished(job.id)
    assert final.status is JobStatus.COMPLETED and final.attempt == 2

    # The dead worker's delivery is still "doing"; procrastinate's stalled-job retry,
    # our backstop, re-delivers it once that worker's heartbeat is stale: a no-op run.
    await _age_procrastinate_worker(store, ghost, seconds=10)
    assert await live.executor.recover_stalled() >= 1
    for _ in range(200):
        if all(d["status"] not in ("doing", "todo") for d in await deliveries(store)):
            break
        await asyncio.sleep(0.05)
    assert all(d["status"] not in ("doing", "todo") for d in await deliveries(store))
    await live.executor.delete_old_deliveries()  # a day's grace: nothing is that old yet
    assert all(d["status"] not in ("doing", "todo") for d in await deliveries(store))
    assert len(await items(store, job.id)) == 10
    assert (await store.get_job(job.id)) == final


async def _age(store: SqlStore, job_id: str, *, seconds: float) -> None:
    stmt = sa.text(
        "UPDATE jobs SET heartbeat_at = heartbeat_at - make_interval(secs => :s) WHERE id = :id"
    )
    await store.write(lambda tx: tx.conn.execute(stmt, {"s": seconds, "id": job_id}))


async def _age_procrastinate_worker(store: SqlStore, worker_id: int, *, seconds: float) -> None:
    with psycopg.connect(libpq_url(store.url), autocommit=True) as conn:
        conn.execute(
            "UPDATE procrastinate_workers SET last_heartbeat = now() - make_interval(secs => %s) "
            "WHERE id = %s",
            (seconds, worker_id),
        )


def test_procrastinate_mode_refuses_sqlite(tmp_path: Any) -> None:
    settings = Settings(executor="procrastinate", database_url=f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(ConfigurationError, match="needs PostgreSQL"):
        build_services(settings)
