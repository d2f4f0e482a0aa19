"""A job killed with SIGKILL mid-transaction resumes in a new process, exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from gamekeeper.domain.jobs import JobStatus
from gamekeeper.jobs.executors.local import LocalExecutor
from gamekeeper.jobs.manager import JobManager, ManagerConfig
from gamekeeper.storage.sql.store import SqlStore
from tests.support.clock import FakeClock
from tests.support.crash_worker import registry
from tests.support.jobkinds import create_item_table, test_items

ROOT = Path(__file__).resolve().parents[2]


def _worker(url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.crash_worker", url, *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _read_until(proc: subprocess.Popen[str], prefix: str) -> str:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(prefix):
            return line.strip()
    raise AssertionError(f"worker ended before printing {prefix!r}")


async def test_killed_job_resumes_from_its_checkpoint_exactly_once(store: SqlStore) -> None:
    create_item_table(store.engine)
    with _worker(store.url, "start", "95", "4") as first:
        try:
            job_id = _read_until(first, "job ").split()[1]
            _read_until(first, "inside-transaction")  # batch 4's rows written, not committed
        finally:
            first.send_signal(signal.SIGKILL)

    mid = await store.get_job(job_id)
    assert mid is not None and mid.status is JobStatus.RUNNING and mid.checkpoint == 40

    with _worker(store.url, "resume", job_id) as second:
        try:
            out, _ = second.communicate(timeout=120)
        finally:
            second.kill()
    assert "final completed attempt 2" in out

    rows = await store.read(
        lambda c: list(c.execute(sa.select(test_items.c.item, test_items.c.attempt)))
    )
    items = sorted(item for item, _ in rows)
    assert items == list(range(95))  # none lost, none twice
    assert {item for item, attempt in rows if attempt == 2} == set(range(40, 95))
    final = await store.get_job(job_id)
    assert final is not None
    assert final.status is JobStatus.COMPLETED
    assert final.counters["inserted"] == 95


async def test_kills_before_the_first_checkpoint_do_not_use_up_the_attempts(
    store: SqlStore,
) -> None:
    """Three SIGKILLs inside the first batch's transaction, then a run that finishes: the
    runs that never reached a checkpoint are counted apart (max_attempts is 3)."""
    create_item_table(store.engine)
    with _worker(store.url, "start", "25", "0", "3") as first:
        try:
            job_id = _read_until(first, "job ").split()[1]
            _read_until(first, "inside-transaction")
        finally:
            first.send_signal(signal.SIGKILL)
    for _ in range(2):
        with _worker(store.url, "resume", job_id) as again:
            try:
                _read_until(again, "inside-transaction")
            finally:
                again.send_signal(signal.SIGKILL)
    stalled = await store.get_job(job_id)
    assert stalled is not None and stalled.status is JobStatus.RUNNING
    assert stalled.attempt == 3 and stalled.checkpoint is None

    with _worker(store.url, "resume", job_id) as last:
        try:
            out, _ = last.communicate(timeout=120)
        finally:
            last.kill()
    assert "final completed attempt 4" in out
    final = await store.get_job(job_id)
    assert final is not None and final.status is JobStatus.COMPLETED
    assert final.stalled_runs == 3
    rows = await store.read(lambda c: list(c.execute(sa.select(test_items.c.item))))
    assert sorted(item for (item,) in rows) == list(range(25))


async def test_runs_lost_before_a_checkpoint_are_bounded_apart(store: SqlStore) -> None:
    """Workers that die before the first checkpoint: the job is not failed after
    `max_attempts` such runs but after `max_stalled_runs` (a poison job still ends)."""
    clock = FakeClock()
    config = ManagerConfig(stale_after_s=60.0, max_attempts=2, max_stalled_runs=4)
    manager = JobManager(store, registry(), config=config, clock=clock)
    executor = LocalExecutor(manager.runner)
    executor._slots = asyncio.Semaphore(0)  # jobs stay queued: the test claims them
    manager.attach(executor)
    job = await manager.create("crash_items", owner="admin", parameters={"count": 1, "crash_at": 9})
    try:
        for run in range(1, 5):
            claimed = await store.claim_job(job.id, worker=f"ghost:{run}", now=clock.now())
            assert claimed is not None and claimed.attempt == run
            clock.advance(61)
            report = await manager.sweep()
            if run < 4:
                assert report.requeued == (job.id,), run
                requeued = await store.get_job(job.id)
                assert requeued is not None and requeued.stalled_runs == run
    finally:
        await manager.stop()
    assert report.failed == (job.id,)
    failed = await store.get_job(job.id)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert failed.error is not None
    assert "gave up after 4 runs that died before their first checkpoint" in failed.error
