"""`LocalExecutor`: jobs as asyncio tasks in this process (the embedded default)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from gamekeeper.domain.jobs import Job
from gamekeeper.jobs.runner import JobRunner
from gamekeeper.storage.base import JobTx

log = logging.getLogger(__name__)


class LocalExecutor:
    """Runs up to `concurrency` jobs at once; more wait their turn, queued."""

    def __init__(self, runner: JobRunner, *, concurrency: int = 4) -> None:
        self.runner = runner
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def enqueue_in(self, tx: JobTx, job: Job) -> None:
        """Nothing to do in the transaction: the task starts after commit."""

    async def submit(self, job: Job) -> None:
        self.submit_id(job.id)

    def submit_id(self, job_id: str) -> None:
        if job_id in self._tasks:
            return
        task = asyncio.create_task(self._run(job_id), name=f"job {job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))

    async def cancel(self, job_id: str) -> None:
        self.runner.request_cancel(job_id)

    async def start(self) -> None:
        """Nothing to start: the manager's sweeper hands over leftover jobs."""

    async def stop(self) -> None:
        """Stop every job here; each is handed back to the queue at its last checkpoint."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def join(self) -> None:
        """Wait until no job runs here (tests, the CLI)."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    @property
    def running_ids(self) -> list[str]:
        return list(self._tasks)

    async def _run(self, job_id: str) -> None:
        async with self._slots:
            try:
                await self.runner.run(job_id)
            except asyncio.CancelledError:
                raise
            except Exception:  # the runner records job failures; this is a storage outage
                log.exception("could not run job %s", job_id)
