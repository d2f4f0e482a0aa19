"""Running one job: claim it, call its kind with a context, record how it ended.

Every executor runs jobs through a `JobRunner`, so the lifecycle rules are the same
whether the job runs in the server process or in a procrastinate worker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
from dataclasses import dataclass

from gamekeeper.domain.jobs import Job, JobStatus, Progress, after_lost_run
from gamekeeper.errors import GamekeeperError, JobCancelled, JobLost
from gamekeeper.jobs.clock import Clock
from gamekeeper.jobs.context import JobContext
from gamekeeper.jobs.live import LiveHub
from gamekeeper.jobs.registry import JobRegistry
from gamekeeper.storage.base import JobStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunnerConfig:
    heartbeat_interval_s: float = 5.0
    #: How often a running job looks for a cancel requested by another process.
    cancel_poll_interval_s: float = 0.2
    progress_write_interval_s: float = 2.0
    #: Finished jobs kept per owner.
    retention: int = 100


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class JobRunner:
    """Runs jobs in this process and knows which ones are running here."""

    def __init__(
        self,
        store: JobStore,
        registry: JobRegistry,
        hub: LiveHub,
        clock: Clock,
        config: RunnerConfig,
        *,
        worker: str | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.hub = hub
        self.clock = clock
        self.config = config
        self.worker = worker or default_worker_name()
        #: Contexts of the jobs running in this process, by job id.
        self.contexts: dict[str, JobContext] = {}

    def request_cancel(self, job_id: str) -> bool:
        """Signal a job running here; False if it doesn't run here."""
        ctx = self.contexts.get(job_id)
        if ctx is None:
            return False
        ctx.request_cancel()
        return True

    async def run(self, job_id: str) -> Job | None:
        """Run a queued job to its end; None if another worker had claimed it."""
        job = await self.store.claim_job(job_id, worker=self.worker, now=self.clock.now())
        if job is None:
            return None
        # What an earlier run showed may be ahead of its last checkpoint (the items it
        # received after it are fetched again): the kind says where this run starts.
        job = dataclasses.replace(job, progress=Progress(unit=job.progress.unit))
        ctx = JobContext(
            job,
            store=self.store,
            hub=self.hub,
            clock=self.clock,
            worker=self.worker,
            write_interval_s=self.config.progress_write_interval_s,
        )
        self.contexts[job_id] = ctx
        self.hub.publish(job)
        heartbeat = asyncio.create_task(self._beat(ctx))
        try:
            status, error = await self._call(ctx)
            if status is None:
                return None
            final = await ctx.finish(status, error=error)
        except JobLost:
            log.warning("job %s was taken over by another worker; stopping here", job_id)
            return None
        except asyncio.CancelledError:
            # This process is shutting down: hand the job back so it resumes from its
            # checkpoint at the next start instead of waiting to be swept.
            handed_back = after_lost_run(ctx.job)
            await asyncio.shield(self.store.requeue_job(handed_back, now=self.clock.now()))
            raise
        finally:
            heartbeat.cancel()
            self.contexts.pop(job_id, None)
            self.hub.forget(job_id)
        await self.store.prune_finished_jobs(final.owner, keep=self.config.retention)
        return final

    async def _beat(self, ctx: JobContext) -> None:
        """Beat every heartbeat interval; between beats, look for a cancel from another
        process every `cancel_poll_interval_s`, so it takes effect promptly."""
        loop = asyncio.get_running_loop()
        interval = self.config.heartbeat_interval_s
        poll = min(self.config.cancel_poll_interval_s, interval)
        next_beat = loop.time() + interval
        while True:
            await asyncio.sleep(poll)
            if loop.time() >= next_beat:
                next_beat = loop.time() + interval
                await ctx.heartbeat()
            else:
                await ctx.poll_cancel()

    async def _call(self, ctx: JobContext) -> tuple[JobStatus | None, str | None]:
        """Call the job's kind; how it ended, as (status, error). None: the job was lost."""
        job = ctx.job
        try:
            kind = self.registry.get(job.job_type)
            ctx.raise_if_cancelled()
            await kind.fn(ctx, **job.parameters)
        except JobCancelled:
            return JobStatus.CANCELLED, None
        except JobLost:
            return None, None
        except GamekeeperError as exc:
            return JobStatus.FAILED, exc.message
        except Exception as exc:  # a bug in a job kind must not kill the worker
            log.exception("job %s (%s) crashed", job.id, job.job_type)
            return JobStatus.FAILED, f"internal error: {type(exc).__name__}: {exc}"
        return JobStatus.COMPLETED, None
