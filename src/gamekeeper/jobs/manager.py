"""`JobManager`: create, read, list, cancel and watch jobs, and keep the lifecycle rules.

The policies at creation (one active job per account and family, the optional single
active job, the per-user rate limit) are checked inside one transaction that holds
the job-creation lock, so two requests can't both pass them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gamekeeper.domain.jobs import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    Job,
    JobStatus,
    after_lost_run,
    new_job_id,
)
from gamekeeper.errors import Conflict, JobNotFound, RateLimited
from gamekeeper.jobs.clock import Clock, SystemClock
from gamekeeper.jobs.executors.base import Executor
from gamekeeper.jobs.live import LiveHub
from gamekeeper.jobs.lost import failed_after_loss, give_up_reason, worker_is_dead
from gamekeeper.jobs.registry import JobRegistry
from gamekeeper.jobs.runner import JobRunner, RunnerConfig
from gamekeeper.storage.base import JobPage, JobQuery, JobStore, JobTx

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagerConfig:
    """The job manager's knobs (bootstrap fills them from `Settings`)."""

    runner: RunnerConfig = field(default_factory=RunnerConfig)
    stale_after_s: float = 60.0
    sweep_interval_s: float = 30.0
    max_attempts: int = 3
    max_stalled_runs: int = 10
    single_active_job: bool = False
    create_limit: int = 30
    create_window_s: float = 60.0
    watch_poll_interval_s: float = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepReport:
    """What a sweep did with stale jobs."""

    requeued: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    resubmitted: tuple[str, ...] = ()


class JobManager:
    """The one entry point to jobs for the API, the CLI and the scheduler."""

    def __init__(
        self,
        store: JobStore,
        registry: JobRegistry,
        *,
        config: ManagerConfig | None = None,
        clock: Clock | None = None,
        worker: str | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.config = config or ManagerConfig()
        self.clock = clock or SystemClock()
        self.hub = LiveHub()
        self.runner = JobRunner(
            store, registry, self.hub, self.clock, self.config.runner, worker=worker
        )
        self._executor: Executor | None = None
        self._sweeper: asyncio.Task[None] | None = None

    # -- wiring ---------------------------------------------------------------

    def attach(self, executor: Executor) -> None:
        self._executor = executor

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            raise RuntimeError("no executor attached to the job manager")
        return self._executor

    async def start(self, *, sweep: bool = True) -> None:
        """Start the executor, hand leftover jobs to it, and sweep periodically."""
        await self.executor.start()
        if sweep:
            await self.sweep(resubmit_queued=True)
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="job sweeper")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        await self.executor.stop()

    # -- creating -------------------------------------------------------------

    async def create(
        self,
        job_type: str,
        *,
        owner: str,
        parameters: Mapping[str, Any] | None = None,
        scheduled: bool = False,
    ) -> Job:
        """Create a job and queue it.

        Raises `Conflict` (naming the active job) if the account already has an active
        job of the same family, or any job is active in `single_active_job` mode;
        `RateLimited` with `retry_after` if the owner created too many jobs lately.
        A scheduled run that finds a queued one of its family returns that one instead.
        """
        job, _ = await self._create(
            job_type, owner=owner, parameters=parameters, scheduled=scheduled
        )
        return job

    async def schedule(
        self, job_type: str, *, owner: str, parameters: Mapping[str, Any] | None = None
    ) -> tuple[Job, bool]:
        """Create a scheduled job: (the job, True), or (the queued job of its family it
        merged into, False). Raises `Conflict` if one of its family is running."""
        return await self._create(job_type, owner=owner, parameters=parameters, scheduled=True)

    async def _create(
        self,
        job_type: str,
        *,
        owner: str,
        parameters: Mapping[str, Any] | None,
        scheduled: bool,
    ) -> tuple[Job, bool]:
        kind = self.registry.get(job_type)
        params = kind.bind(parameters or {})
        account_id = params.get("account_id") if kind.needs_account else None
        executor = self.executor

        def work(tx: JobTx) -> tuple[Job, bool]:
            now = self.clock.now()
            if account_id is not None:
                active = tx.find_active_job(account_id=account_id, family=kind.family)
                if active is not None:
                    if scheduled and active.status is JobStatus.QUEUED:
                        return active, False
                    raise Conflict(
                        f"job {active.id} ({active.job_type}, {active.status.value}) "
                        "is already active for this account",
                        active_job_id=active.id,
                    )
            if self.config.single_active_job:
                active = tx.find_active_job()
                if active is not None:
                    raise Conflict(
                        f"job {active.id} is active and this instance runs one job at a time",
                        active_job_id=active.id,
                    )
            # Scheduled runs count too: a user's many auto-synced accounts must not
            # start more at once than the user could by hand (`sync/schedule.py` plans
            # its ticks within this, so this refuses only when a race beat the plan).
            self._check_rate(tx, owner)
            job = Job(
                id=new_job_id(),
                job_type=kind.name,
                family=kind.family,
                owner=owner,
                account_id=account_id,
                parameters=params,
                scheduled=scheduled,
                created_at=now,
                updated_at=now,
            )
            tx.insert_job(job)
            executor.enqueue_in(tx, job)
            return job, True

        job, created = await self.store.create_job(work)
        if created:
            await executor.submit(job)
        return job, created

    async def creation_budget(self, owner: str) -> int:
        """How many jobs `owner` may create now under the per-user rate limit."""
        since = self.clock.now() - timedelta(seconds=self.config.create_window_s)
        recent = await self.store.transaction(lambda tx: tx.jobs_created_since(owner, since))
        return max(0, self.config.create_limit - len(recent))

    def _check_rate(self, tx: JobTx, owner: str) -> None:
        now = self.clock.now()
        window = timedelta(seconds=self.config.create_window_s)
        recent = tx.jobs_created_since(owner, now - window)
        limit = self.config.create_limit
        if len(recent) >= limit:
            # Room opens when the oldest of the last `limit` creations leaves the window.
            frees_at = recent[len(recent) - limit] + window
            retry_after = max(1.0, (frees_at - now).total_seconds())
            raise RateLimited(
                f"{owner} created {len(recent)} jobs in the last "
                f"{self.config.create_window_s:g} s (limit {limit}); retry in {retry_after:.0f} s",
                retry_after=retry_after,
            )

    # -- reading --------------------------------------------------------------

    async def get(self, job_id: str, *, owner: str | None = None) -> Job:
        """The freshest view of a job; `owner` hides other users' jobs (as not found)."""
        job = self.latest(job_id) or await self.store.get_job(job_id)
        if job is None or (owner is not None and job.owner != owner):
            raise JobNotFound(f"no job {job_id!r}")
        return job

    async def get_many(self, job_ids: Sequence[str]) -> dict[str, Job]:
        """The freshest view of these jobs (one read for those not running here)."""
        found = {i: job for i in job_ids if (job := self.latest(i)) is not None}
        missing = [i for i in job_ids if i not in found]
        found.update({job.id: job for job in await self.store.get_jobs(missing)})
        return found

    def latest(self, job_id: str) -> Job | None:
        """The newest snapshot this process has of a job: from its context if it runs
        here (progress reported a moment ago included), else the last one published."""
        ctx = self.runner.contexts.get(job_id)
        return ctx.snapshot() if ctx is not None else self.hub.latest(job_id)

    async def latest_of_family(self, owner: str, family: str) -> tuple[Job | None, Job | None]:
        """The owner's active job of `family` (if any), and the last one that ended."""
        active = await self.list(JobQuery(owner=owner, statuses=ACTIVE_STATUSES, limit=200))
        running = next((j for j in active.items if j.family == family), None)
        if running is not None:
            return running, None
        ended = await self.list(
            JobQuery(owner=owner, statuses=TERMINAL_STATUSES, family=family, limit=1)
        )
        return None, next(iter(ended.items), None)

    async def list(self, query: JobQuery) -> JobPage:
        page = await self.store.list_jobs(query)
        fresh = tuple(self.latest(j.id) or j for j in page.items)
        return dataclasses.replace(page, items=fresh)

    async def watch(self, job_id: str, *, owner: str | None = None) -> AsyncIterator[Job]:
        """The job now, then every change, ending with its final state."""
        with self.hub.subscribe(job_id) as changes:
            job = await self.get(job_id, owner=owner)
            yield job
            seen = job.version
            while not job.status.terminal:
                try:
                    latest = await asyncio.wait_for(
                        changes.get(), timeout=self.config.watch_poll_interval_s
                    )
                except TimeoutError:
                    # Run by another process? Then the row is all we can see.
                    polled = self.latest(job_id) or await self.store.get_job(job_id)
                    if polled is None:
                        return
                    latest = polled
                if latest.version > seen:
                    job, seen = latest, latest.version
                    yield job

    async def watch_all(self, *, owner: str | None = None) -> AsyncIterator[Job]:
        """Every active job of `owner` (all for None) now, then every change, forever."""
        versions: dict[str, int] = {}
        active = JobQuery(owner=owner, statuses=ACTIVE_STATUSES, limit=200)
        with self.hub.subscribe() as changes:
            candidates = list((await self.list(active)).items)
            while True:
                for job in candidates:
                    if job.version > versions.get(job.id, -1):
                        versions[job.id] = job.version
                        yield job
                try:
                    changed = await asyncio.wait_for(
                        changes.get(), timeout=self.config.watch_poll_interval_s * 5
                    )
                except TimeoutError:
                    # Jobs run by other processes: look at their rows now and then.
                    candidates = list((await self.list(active)).items)
                    continue
                candidates = [changed] if owner is None or changed.owner == owner else []

    # -- cancelling -----------------------------------------------------------

    async def cancel(self, job_id: str, *, owner: str | None = None) -> Job:
        """Ask a job to stop. Queued: cancelled at once. Running or waiting: at its next
        boundary or wait. Finished: unchanged."""
        job = await self.get(job_id, owner=owner)
        if job.status.terminal:
            return job
        if job.status is JobStatus.QUEUED and await self.store.cancel_queued(
            job_id, now=self.clock.now()
        ):
            cancelled = await self.get(job_id)
            self.hub.publish(cancelled)  # tell watchers, then let it go: it never ran here
            self.hub.forget(job_id)
            return cancelled
        # In this process the job hears it at once; the row tells every other one.
        here = self.runner.request_cancel(job_id)
        await self.store.request_cancel(job_id)
        if not here:
            await self.executor.cancel(job_id)
        latest = self.hub.latest(job_id)
        if latest is not None and not latest.cancel_requested:
            self.hub.publish(dataclasses.replace(latest, cancel_requested=True))
        return await self.get(job_id)

    # -- sweeping -------------------------------------------------------------

    async def sweep(self, *, resubmit_queued: bool = False) -> SweepReport:
        """Re-queue jobs whose worker stopped beating (or fail them after `max_attempts`)."""
        now = self.clock.now()
        stale_before = now - timedelta(seconds=self.config.stale_after_s)
        stale = [
            job
            for job in await self.store.running_jobs()
            if job.heartbeat_at is None
            or job.heartbeat_at < stale_before
            or worker_is_dead(job.worker)
        ]
        requeued: list[str] = []
        failed: list[str] = []
        for job in stale:
            if job.id in self.runner.contexts:
                continue  # it runs here: alive, if slow to beat
            lost = after_lost_run(job)
            reason = give_up_reason(
                lost,
                max_attempts=self.config.max_attempts,
                max_stalled_runs=self.config.max_stalled_runs,
            )
            if reason is not None:
                if await self._fail_lost(lost, reason, now=now):
                    failed.append(job.id)
            elif await self.store.requeue_job(lost, now=now):
                requeued.append(job.id)
                log.warning("job %s re-queued after a stale heartbeat", job.id)
        resubmit = requeued
        if resubmit_queued:
            resubmit = await self.store.queued_job_ids()
        for job_id in resubmit:
            queued = await self.store.get_job(job_id)
            if queued is not None:
                await self.executor.submit(queued)
        return SweepReport(
            requeued=tuple(requeued), failed=tuple(failed), resubmitted=tuple(resubmit)
        )

    async def _fail_lost(self, job: Job, reason: str, *, now: datetime) -> bool:
        final = failed_after_loss(job, reason, now=now)
        if not await self.store.save_job(final):
            return False
        log.warning("job %s failed: %s", job.id, final.error)
        return True

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.sweep_interval_s)
            try:
                await self.sweep()
            except Exception:  # a database hiccup must not end the sweeping
                log.exception("job sweep failed")
