"""A process that runs one test job, for tests that SIGKILL it and start another.

python -m tests.support.crash_worker DB_URL start COUNT CRASH_AT [CRASH_RUNS]
    creates a `crash_items` job and runs it; on its first CRASH_RUNS attempts (1 by
    default) it stops inside the transaction of batch CRASH_AT (rows written, not
    committed), prints `inside-transaction` and waits to be killed.
python -m tests.support.crash_worker DB_URL resume JOB_ID
    sweeps until the job is re-queued, runs it to its end, prints its final status.
"""

from __future__ import annotations

import asyncio
import sys

from gamekeeper.jobs.context import JobContext
from gamekeeper.jobs.executors.local import LocalExecutor
from gamekeeper.jobs.manager import JobManager, ManagerConfig
from gamekeeper.jobs.registry import JobRegistry
from gamekeeper.jobs.runner import RunnerConfig
from gamekeeper.storage.base import Tx
from gamekeeper.storage.sql.store import SqlStore
from tests.support.jobkinds import write_batch

BATCH = 10


def registry() -> JobRegistry:
    reg = JobRegistry()

    @reg.register("crash_items", family="items")
    async def crash_items(
        ctx: JobContext, *, count: int, crash_at: int, crash_runs: int = 1
    ) -> None:
        start = ctx.resume_from or 0
        await ctx.start_phase("writing", total=count)
        for first in range(start, count, BATCH):
            items = range(first, min(first + BATCH, count))
            attempt = ctx.job.attempt

            def write(tx: Tx, items: range = items, attempt: int = attempt) -> dict[str, int]:
                deltas = write_batch(tx, ctx.job_id, items, attempt)
                if attempt <= crash_runs and items.start == crash_at * BATCH:
                    print("inside-transaction", flush=True)
                    sys.stdin.readline()  # wait here, mid-transaction, to be killed
                return deltas

            await ctx.checkpoint(items.stop, write)
            print(f"committed {items.stop}", flush=True)
            await ctx.report_progress(items.stop)
            ctx.raise_if_cancelled()

    return reg


async def main(url: str, command: str, arg: str, *extra: str) -> None:
    store = SqlStore(url)
    config = ManagerConfig(
        runner=RunnerConfig(heartbeat_interval_s=0.2, progress_write_interval_s=0.5),
        stale_after_s=1.0,
        sweep_interval_s=0.1,
        watch_poll_interval_s=0.1,
    )
    manager = JobManager(store, registry(), config=config)
    executor = LocalExecutor(manager.runner)
    manager.attach(executor)
    try:
        if command == "start":
            await manager.start(sweep=False)
            parameters = {"count": int(arg), "crash_at": int(extra[0]) if extra else 0}
            if len(extra) > 1:
                parameters["crash_runs"] = int(extra[1])
            job = await manager.create("crash_items", owner="admin", parameters=parameters)
            print(f"job {job.id}", flush=True)
            await executor.join()
        else:
            await manager.start(sweep=True)
            final = [job async for job in manager.watch(arg)][-1]
            print(f"final {final.status.value} attempt {final.attempt}", flush=True)
    finally:
        await manager.stop()
        await store.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], *sys.argv[4:]))
