"""`JobContext`: what a running job uses to report, checkpoint, wait and notice cancel.

Every change makes a new snapshot that watchers see at once (through the `LiveHub`);
the row is written at checkpoints, on status changes, and otherwise at most every
`write_interval` seconds, so a busy job doesn't hammer the database.

A context belongs to one job run. Its job may run one checkpoint in the background while
it reads on (see `sync.batches.GameBatcher`); writes are serialised by a lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any, TypeVar

from gamekeeper.domain.jobs import (
    MAX_ITEM_ERRORS,
    ItemError,
    Job,
    JobStatus,
    Phase,
    PhaseStatus,
    Progress,
    Wait,
    check_transition,
)
from gamekeeper.errors import JobCancelled, JobLost
from gamekeeper.jobs.clock import Clock
from gamekeeper.jobs.live import LiveHub
from gamekeeper.storage.base import JobStore, Tx

T = TypeVar("T")

#: Seconds of progress history the rate is measured over.
RATE_WINDOW_S = 10.0

#: What a checkpoint's write returns: counters to add, in the same transaction.
CounterDeltas = Mapping[str, int] | None


class RateMeter:
    """Items per second over the last few seconds of progress reports."""

    def __init__(self, window_s: float = RATE_WINDOW_S) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, int]] = deque()

    def reset(self) -> None:
        self._samples.clear()

    def add(self, t: float, done: int) -> float | None:
        self._samples.append((t, done))
        while len(self._samples) > 2 and t - self._samples[1][0] >= self.window_s:
            self._samples.popleft()
        t0, done0 = self._samples[0]
        if t - t0 <= 0:
            return None
        return (done - done0) / (t - t0)


class JobContext:
    """The running job's handle on its own row, watchers and cancellation."""

    def __init__(
        self,
        job: Job,
        *,
        store: JobStore,
        hub: LiveHub,
        clock: Clock,
        worker: str,
        write_interval_s: float,
    ) -> None:
        self._job = job
        self._store = store
        self._hub = hub
        self._clock = clock
        self.worker = worker
        self._write_interval_s = write_interval_s
        self._last_write = clock.monotonic()
        self._dirty = False
        self._lost = False
        self._cancel = asyncio.Event()
        if job.cancel_requested:
            self._cancel.set()
        # Serialises row writes, so an older snapshot never lands after a newer one.
        self._write_lock = asyncio.Lock()
        self._rate = RateMeter()

    # -- what the job reads ---------------------------------------------------

    @property
    def job(self) -> Job:
        """The current snapshot."""
        return self._job

    @property
    def job_id(self) -> str:
        return self._job.id

    @property
    def parameters(self) -> Mapping[str, Any]:
        return self._job.parameters

    @property
    def resume_from(self) -> Any:
        """The last committed checkpoint (None on a first run)."""
        return self._job.checkpoint

    @property
    def counters(self) -> Mapping[str, int]:
        return self._job.counters

    def now(self) -> datetime:
        """The engine's clock (a test may drive it)."""
        return self._clock.now()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def raise_if_cancelled(self) -> None:
        """Call at batch boundaries: raises `JobCancelled` (or `JobLost`) when the job must stop."""
        if self._lost:
            raise JobLost()
        if self._cancel.is_set():
            raise JobCancelled()

    # -- phases and progress --------------------------------------------------

    def set_phases(self, *names: str) -> None:
        """Declare the job's phases, all pending."""
        self._change(phases=tuple(Phase(name=n) for n in names))

    async def start_phase(
        self,
        name: str,
        *,
        total: int | None = None,
        note: str | None = None,
        unit: str | None = None,
    ) -> None:
        """Finish the running phase (if any) and start `name`."""
        now = self._clock.now()
        phases = [
            dataclasses.replace(p, status=PhaseStatus.COMPLETED, finished_at=now)
            if p.status is PhaseStatus.RUNNING
            else p
            for p in self._job.phases
        ]
        started = Phase(
            name=name, status=PhaseStatus.RUNNING, total=total, started_at=now, note=note
        )
        phases = _put_phase(phases, started)
        self._rate.reset()
        self._change(phase=name, phases=tuple(phases), progress=Progress(total=total, unit=unit))
        await self._persist()

    async def skip_phase(self, name: str, note: str) -> None:
        """Mark a phase as not needed this run, saying why."""
        now = self._clock.now()
        skipped = Phase(
            name=name, status=PhaseStatus.SKIPPED, note=note, started_at=now, finished_at=now
        )
        self._change(phases=tuple(_put_phase(list(self._job.phases), skipped)))
        await self._persist()

    async def report_progress(self, done: int, total: int | None = None) -> None:
        """Progress of the running phase; `total` None keeps the known total."""
        total = self._job.progress.total if total is None else total
        rate = self._rate.add(self._clock.monotonic(), done)
        eta = (total - done) / rate if rate and total is not None and total >= done else None
        progress = Progress(
            done=done, total=total, rate_per_s=rate, eta_s=eta, unit=self._job.progress.unit
        )
        phases = tuple(
            dataclasses.replace(p, done=done, total=total) if p.name == self._job.phase else p
            for p in self._job.phases
        )
        self._change(progress=progress, phases=phases)
        if self._clock.monotonic() - self._last_write >= self._write_interval_s:
            await self._persist()

    async def advance(self, n: int = 1) -> None:
        """Add `n` to the running phase's done count."""
        await self.report_progress(self._job.progress.done + n)

    def count(self, **deltas: int) -> None:
        """Add to counters (shown at once, written with the next row write)."""
        self._change(counters=_added(self._job.counters, deltas))

    def item_error(self, item: str, message: str) -> None:
        """Record an error about one item; the job goes on. Counts as `failed`."""
        error = ItemError(at=self._clock.now(), item=item, message=message)
        self._change(
            errors=(*self._job.errors, error)[-MAX_ITEM_ERRORS:],
            counters=_added(self._job.counters, {"failed": 1}),
        )

    def set_result(self, result: Any) -> None:
        """The job's summary (JSON-able), shown when it ends."""
        self._change(result=result)

    # -- checkpoints ----------------------------------------------------------

    async def checkpoint(
        self, cursor: Any, write: Callable[[Tx], CounterDeltas] | None = None
    ) -> None:
        """Commit `write`'s data, its counters and `cursor` in one transaction.

        If the process dies after this returns, a resumed run starts at `cursor` with
        the data already there; if it dies before, neither is there.
        """
        async with self._write_lock:
            base = self._job

            def work(tx: Tx) -> CounterDeltas:
                deltas = write(tx) if write is not None else None
                job = self._next(
                    base, checkpoint=cursor, counters=_added(base.counters, deltas or {})
                )
                if not tx.save_job(job, worker=self.worker):
                    raise JobLost()
                return deltas

            try:
                deltas = await _to_the_end(self._store.transaction(work))
            except JobLost:
                self._lost = True
                raise
            # The job may have counted or reported meanwhile (a checkpoint can run while
            # the job reads on): add this commit to what it shows now, losing nothing.
            current = self._job
            self._job = self._next(
                current, checkpoint=cursor, counters=_added(current.counters, deltas or {})
            )
            self._hub.publish(self._job)
            if current is base:
                self._mark_written()

    # -- waiting --------------------------------------------------------------

    async def wait(self, until: datetime, reason: str) -> None:
        """Wait until `until`, shown as `waiting`; returns early only by raising on cancel."""
        self.raise_if_cancelled()
        delay = (until - self._clock.now()).total_seconds()
        if delay <= 0:
            return
        try:
            await self._set_status(JobStatus.WAITING, wait=Wait(reason=reason, resume_at=until))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._cancel.wait(), timeout=delay)
        except asyncio.CancelledError:
            # Whoever waited on us stopped waiting (e.g. the upstream slot came free
            # early): the job runs on, so it must not keep showing `waiting`.
            if self._job.status is JobStatus.WAITING:
                await _to_the_end(self._set_status(JobStatus.RUNNING, wait=None))
            raise
        self.raise_if_cancelled()
        await self._set_status(JobStatus.RUNNING, wait=None)

    async def sleep(self, seconds: float) -> None:
        """Pause politely (still `running`); a cancel ends the pause at once, raising."""
        self.raise_if_cancelled()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._cancel.wait(), timeout=seconds)
        self.raise_if_cancelled()

    # -- used by the runner and the manager -----------------------------------

    def request_cancel(self) -> None:
        """Ask the job to stop at its next boundary or wait (in-process signal)."""
        self._cancel.set()

    async def finish(self, status: JobStatus, *, error: str | None = None) -> Job:
        """Write the job's final state."""
        now = self._clock.now()
        phase_end = {
            JobStatus.COMPLETED: PhaseStatus.COMPLETED,
            JobStatus.FAILED: PhaseStatus.FAILED,
            JobStatus.CANCELLED: PhaseStatus.CANCELLED,
        }[status]
        phases = tuple(
            dataclasses.replace(p, status=phase_end, finished_at=now)
            if p.status is PhaseStatus.RUNNING
            else p
            for p in self._job.phases
        )
        progress = dataclasses.replace(self._job.progress, rate_per_s=None, eta_s=None)
        await self._set_status(
            status, wait=None, error=error, finished_at=now, phases=phases, progress=progress
        )
        return self._job

    async def heartbeat(self) -> None:
        """Prove the worker is alive, write pending progress, and notice remote cancels."""
        async with self._write_lock:
            if self._dirty:
                await self._save(self._job)
            flag = await _to_the_end(
                self._store.heartbeat(
                    self._job.id, attempt=self._job.attempt, now=self._clock.now()
                )
            )
        if flag is None:
            self._lost = True
            self._cancel.set()  # wakes a waiting job, which then raises JobLost
        elif flag:
            self._cancel.set()

    async def heartbeat_forever(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            await self.heartbeat()

    # -- internals ------------------------------------------------------------

    def _next(self, base: Job, **fields: Any) -> Job:
        now = self._clock.now()
        return dataclasses.replace(
            base, version=base.version + 1, updated_at=now, heartbeat_at=now, **fields
        )

    def _change(self, **fields: Any) -> None:
        self._job = self._next(self._job, **fields)
        self._dirty = True
        self._hub.publish(self._job)

    async def _set_status(self, status: JobStatus, **fields: Any) -> None:
        """Change status durably: watchers hear of it once the row says so."""
        check_transition(self._job.status, status)
        async with self._write_lock:
            job = self._next(self._job, status=status, **fields)
            self._job = job
            self._dirty = True
            await self._save(job)
        self._hub.publish(job)

    async def _persist(self) -> None:
        async with self._write_lock:
            await self._save(self._job)

    async def _save(self, job: Job) -> None:
        if not await _to_the_end(self._store.save_job(job, worker=self.worker)):
            self._lost = True
            raise JobLost()
        if job is self._job:
            self._mark_written()

    def _mark_written(self) -> None:
        self._dirty = False
        self._last_write = self._clock.monotonic()


async def _to_the_end(step: Coroutine[Any, Any, T]) -> T:
    """Run `step` to completion even if the caller is cancelled meanwhile; then re-raise.

    A write handed to a database thread goes on regardless: letting the caller (and its
    lock) go early would let a later write, such as the hand-back at shutdown, land first.
    """
    task = asyncio.ensure_future(step)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


def _added(counters: Mapping[str, int], deltas: Mapping[str, int]) -> dict[str, int]:
    merged = dict(counters)
    for name, delta in deltas.items():
        merged[name] = merged.get(name, 0) + delta
    return merged


def _put_phase(phases: list[Phase], phase: Phase) -> list[Phase]:
    """Replace the phase of the same name, or append it."""
    for i, existing in enumerate(phases):
        if existing.name == phase.name:
            phases[i] = phase
            return phases
    return [*phases, phase]
