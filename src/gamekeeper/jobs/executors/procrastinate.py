"""`ProcrastinateExecutor`: jobs delivered by procrastinate to workers on any machine.

Our job row stays the source of truth; procrastinate only carries "run job X" to a
worker. Every job kind is a procrastinate task named `gamekeeper.<kind>` whose only
argument is our job id, and every task does the same thing: `JobRunner.run(job_id)`,
which claims the row only while it is queued. So delivery may be at-least-once:
a second delivery of a job that runs, or ran, is a no-op.

- Creating a job defers its task inside the transaction that inserts the row
  (procrastinate's defer is a SQL function): both commit, or neither does.
- The queueing lock of every delivery is our job id, so at most one delivery of a
  job waits in the queue; re-deliveries (after the sweeper re-queued a job whose
  worker died, or after a worker shut down mid-job) are deduplicated for free.
- Cancel sets `cancel_requested` (the manager does) and asks procrastinate to abort;
  the worker turns the abort into our cooperative cancel instead of killing the task,
  so the job still stops cooperatively (at once in a read or a wait) and keeps what
  it received.
- Our heartbeat and sweeper decide that a job is stuck. Procrastinate's own stalled
  jobs (deliveries held by a worker that stopped beating) are only a backstop here:
  they are retried, which re-delivers; the claim keeps that harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta

import procrastinate
from procrastinate import exceptions as procrastinate_errors
from procrastinate.job_context import AbortReason

from gamekeeper.domain.jobs import Job, JobStatus
from gamekeeper.jobs.runner import JobRunner
from gamekeeper.storage.base import JobQuery, JobTx

log = logging.getLogger(__name__)

#: The procrastinate queue gamekeeper's tasks go to.
QUEUE = "gamekeeper"

#: Deliveries of one of our jobs that are waiting or running (our id is the queueing lock).
_DELIVERIES_SQL = (
    "SELECT id FROM procrastinate_jobs "
    "WHERE queueing_lock = %(job_id)s AND status IN ('todo', 'doing')"
)


#: Hours a failed, cancelled or aborted delivery is kept; and how often to look for them.
KEEP_DELIVERIES_H = 24
CLEANUP_EVERY_S = 3600.0


def task_name(kind: str) -> str:
    """The procrastinate task of a job kind."""
    return f"gamekeeper.{kind}"


def cron_every(seconds: int) -> str:
    """A procrastinate cron expression firing every `seconds` (a 6th field: seconds)."""
    if seconds < 60:
        return f"* * * * * */{seconds}"
    return f"*/{max(1, seconds // 60)} * * * *"


class ProcrastinateExecutor:
    """Enqueues jobs in procrastinate's tables; `run_worker` runs them in this process."""

    def __init__(
        self,
        runner: JobRunner,
        conninfo: str,
        *,
        concurrency: int = 4,
        queue: str = QUEUE,
        poll_interval_s: float = 5.0,
        procrastinate_heartbeat_s: float = 10.0,
        stalled_after_s: float = 30.0,
    ) -> None:
        self.runner = runner
        self.queue = queue
        self.concurrency = concurrency
        self.poll_interval_s = poll_interval_s
        self.procrastinate_heartbeat_s = procrastinate_heartbeat_s
        self.stalled_after_s = stalled_after_s
        self.app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(
                conninfo=conninfo, min_size=1, max_size=max(4, concurrency + 2)
            )
        )
        #: This process's job slots. The worker's concurrency bounds what it fetches;
        #: this bounds what runs (and lets a test hold fetched jobs queued).
        self._slots = asyncio.Semaphore(concurrency)
        self._runs: set[asyncio.Task[None]] = set()
        #: Jobs whose delivery was deferred with their row (`submit` has nothing to do).
        self._enqueued: set[str] = set()
        self._opened = False
        self._worker: asyncio.Task[None] | None = None

    # -- wiring (bootstrap) ------------------------------------------------------

    def register_kinds(self, kinds: Iterable[str]) -> None:
        """One task per job kind, all running our job through the runner."""
        for kind in kinds:

            async def deliver(context: procrastinate.JobContext, job_id: str) -> None:
                await self._deliver(context, job_id)

            self.app.task(name=task_name(kind), queue=self.queue, pass_context=True)(deliver)

    def add_periodic(self, name: str, every_s: int, fn: Callable[[], Awaitable[object]]) -> None:
        """Run `fn` every `every_s` seconds on one of the workers (not on each of them:
        procrastinate defers a periodic task once per tick, under a unique key)."""

        async def tick(timestamp: int) -> object:
            del timestamp  # the tick's time; `fn` reads the clock itself
            return await fn()

        task = self.app.task(name=name, queue=self.queue)(tick)
        self.app.periodic(cron=cron_every(every_s))(task)

    # -- the Executor protocol ---------------------------------------------------

    def enqueue_in(self, tx: JobTx, job: Job) -> None:
        """Defer the job's delivery in the transaction that inserts its row."""
        tx.defer_delivery(
            queue=self.queue,
            task=task_name(job.job_type),
            job_id=job.id,
            args=json.dumps({"job_id": job.id}),
        )
        self._enqueued.add(job.id)

    async def submit(self, job: Job) -> None:
        """Make sure a delivery waits for a queued job (after a sweep re-queued it)."""
        if job.id in self._enqueued:
            self._enqueued.discard(job.id)
            return
        await self._ensure_delivery(job.id)

    async def cancel(self, job_id: str) -> None:
        """Stop the job here, or ask procrastinate to abort it wherever it runs."""
        if self.runner.request_cancel(job_id):
            return
        await self._open()
        rows = await self.app.connector.execute_query_all_async(_DELIVERIES_SQL, job_id=job_id)
        for row in rows:
            with contextlib.suppress(procrastinate_errors.ConnectorException):
                await self.app.job_manager.cancel_job_by_id_async(row["id"], abort=True)

    async def start(self) -> None:
        await self._open()

    async def stop(self) -> None:
        """Stop the worker (its jobs go back to the queue at their checkpoint), close."""
        await self.stop_worker()
        if self._opened:
            await self.app.close_async()
            self._opened = False

    # -- running a worker --------------------------------------------------------

    async def run_worker(
        self, *, concurrency: int | None = None, install_signal_handlers: bool = False
    ) -> None:
        """Run jobs delivered to this queue until stopped (a signal, or `stop_worker`)."""
        await self._open()
        if concurrency is not None:
            self.concurrency = concurrency
            self._slots = asyncio.Semaphore(concurrency)
        backstop = asyncio.create_task(self._backstop_forever(), name="stalled deliveries")
        try:
            await self.app.run_worker_async(
                queues=[self.queue],
                name=self.runner.worker,
                concurrency=self.concurrency,
                install_signal_handlers=install_signal_handlers,
                # Don't wait for long jobs at shutdown: they go back to the queue at
                # their last checkpoint and another worker resumes them.
                shutdown_graceful_timeout=0,
                delete_jobs="successful",
                fetch_job_polling_interval=self.poll_interval_s,
                abort_job_polling_interval=self.poll_interval_s,
                update_heartbeat_interval=self.procrastinate_heartbeat_s,
                stalled_worker_timeout=self.stalled_after_s,
            )
        finally:
            backstop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await backstop

    def start_worker(self, *, concurrency: int | None = None) -> None:
        """Run the worker in the background of this process (tests, embedded use)."""
        if self._worker is None:
            self._worker = asyncio.create_task(
                self.run_worker(concurrency=concurrency), name="procrastinate worker"
            )

    async def stop_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def join(self) -> None:
        """Wait until no job runs in this process (tests)."""
        while self._runs:
            await asyncio.gather(*self._runs, return_exceptions=True)

    @property
    def running_ids(self) -> list[str]:
        """Jobs running in this process."""
        return list(self.runner.contexts)

    # -- internals ---------------------------------------------------------------

    async def _open(self) -> None:
        if not self._opened:
            await self.app.open_async()
            self._opened = True

    async def _deliver(self, context: procrastinate.JobContext, job_id: str) -> None:
        """The body of every task: run our job here, turning aborts into our rules."""
        run = asyncio.ensure_future(self._run_here(job_id))
        self._runs.add(run)
        run.add_done_callback(self._runs.discard)
        while True:
            try:
                await asyncio.shield(run)
                return
            except asyncio.CancelledError:
                if run.done():
                    raise
                if context.abort_reason() is AbortReason.USER_REQUEST:
                    # procrastinate cancels the task to abort it; we want the job to
                    # stop at its next boundary and end `cancelled` with its counters.
                    current = asyncio.current_task()
                    if current is not None:
                        current.uncancel()
                    self.runner.request_cancel(job_id)
                    continue
                # The worker is shutting down: the runner hands the job back to the
                # queue at its checkpoint; make sure some worker gets to resume it.
                run.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await run
                with contextlib.suppress(Exception):
                    await self._ensure_delivery(job_id)
                raise

    async def _run_here(self, job_id: str) -> None:
        async with self._slots:
            await self.runner.run(job_id)

    async def _ensure_delivery(self, job_id: str) -> bool:
        """Defer a delivery for a queued job, unless one already waits (queueing lock);
        whether one was deferred."""
        job = await self.runner.store.get_job(job_id)
        if job is None or job.status is not JobStatus.QUEUED:
            return False
        await self._open()
        deferrer = self.app.configure_task(
            task_name(job.job_type), queueing_lock=job_id, queue=self.queue
        )
        try:
            await deferrer.defer_async(job_id=job_id)
        except procrastinate_errors.AlreadyEnqueued:
            return False
        return True

    async def _backstop_forever(self) -> None:
        cleaned = self.runner.clock.monotonic()
        while True:
            await asyncio.sleep(self.stalled_after_s)
            try:
                await self.recover_stalled()
                if self.runner.clock.monotonic() - cleaned >= CLEANUP_EVERY_S:
                    cleaned = self.runner.clock.monotonic()
                    await self.delete_old_deliveries()
            except Exception:  # a database hiccup must not end the backstop
                log.exception("recovering stalled deliveries failed")

    async def delete_old_deliveries(self) -> None:
        """Forget procrastinate's finished deliveries after a day: our job rows are the
        history (successful ones are deleted at once; the others stay a while to look at)."""
        await self.app.job_manager.delete_old_jobs(
            nb_hours=KEEP_DELIVERIES_H,
            queue=self.queue,
            include_failed=True,
            include_cancelled=True,
            include_aborted=True,
        )

    async def recover_stalled(self) -> int:
        """Retry deliveries held by workers that stopped beating, and re-deliver queued
        jobs that have waited a whole period without one. Returns deliveries made."""
        made = 0
        manager = self.app.job_manager
        stalled = await manager.get_stalled_jobs(
            queue=self.queue, seconds_since_heartbeat=self.stalled_after_s
        )
        for delivery in stalled:
            try:
                await manager.retry_job(delivery)
                made += 1
            except procrastinate_errors.ConnectorException:
                # Another delivery of the same job already waits (queueing lock), or
                # another worker retried this one first: this one is redundant.
                with contextlib.suppress(procrastinate_errors.ConnectorException):
                    await manager.finish_job(
                        delivery, status=procrastinate.jobs.Status.FAILED, delete_job=True
                    )
        horizon = self.runner.clock.now() - timedelta(seconds=self.stalled_after_s)
        page = await self.runner.store.list_jobs(
            JobQuery(statuses=frozenset({JobStatus.QUEUED}), limit=200)
        )
        for job in page.items:
            if (job.updated_at or job.created_at) < horizon and await self._ensure_delivery(job.id):
                made += 1
        return made
