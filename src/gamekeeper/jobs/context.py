"""`JobContext`: what a running job uses to report, checkpoint, wait and notice cancel.

Every change makes a new snapshot that watchers see at once (through the `LiveHub`);
the row is written at checkpoints, on status changes, and otherwise at most every
`write_interval` seconds, so a busy job doesn't hammer the database. Progress reported
per item is coalesced (`jobs.progress`); a cancel wakes a job in a wait, a pause or a
read (`jobs.interrupt`).

A context belongs to one job run. Its job may run one checkpoint in the background while
it reads on (see `sync.batches.GameBatcher`); writes are serialised by a lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Mapping
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
from gamekeeper.jobs.interrupt import ReadInterrupter
from gamekeeper.jobs.live import LiveHub
from gamekeeper.jobs.progress import ProgressTracker
from gamekeeper.jobs.writes import added, checkpointed, put_phase, to_the_end
from gamekeeper.storage.base import JobStore, JobTx

T = TypeVar("T")

#: What a checkpoint's write returns: counters to add, in the same transaction.
CounterDeltas = Mapping[str, int] | None

#: A job kind's part of a checkpoint. It is given the store's transaction, of which the
#: job package itself uses only the job statements (`JobTx`); a sync kind writes games
#: with `storage.base.GameTx`, the other side of the same transaction.
CheckpointWrite = Callable[[Any], CounterDeltas]


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
        self._progress = ProgressTracker(clock, done=job.progress.done, total=job.progress.total)
        self._reads = ReadInterrupter(self._cancel)
        # A status change is being written (watchers hear of it once it is).
        self._status_in_flight = False

    # -- what the job reads ---------------------------------------------------

    @property
    def job(self) -> Job:
        """The current snapshot (with the latest progress)."""
        return self._current()

    def snapshot(self) -> Job:
        """What others may be shown now: the latest progress, but never a status the
        row does not have yet (one being written is announced once it is)."""
        if self._status_in_flight:
            announced = self._hub.latest(self._job.id)
            if announced is not None:
                return announced
        return self._current()

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
        """The job clock (a test may drive it)."""
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
        done: int = 0,
        note: str | None = None,
        unit: str | None = None,
    ) -> None:
        """Finish the running phase (if any) and start `name` (a resumed run starts at
        the `done` its checkpoint covers)."""
        now = self._clock.now()
        phases = [
            dataclasses.replace(p, status=PhaseStatus.COMPLETED, finished_at=now)
            if p.status is PhaseStatus.RUNNING
            else p
            for p in self._current().phases
        ]
        if total is not None:
            total = max(total, done)
        started = Phase(
            name=name,
            status=PhaseStatus.RUNNING,
            done=done,
            total=total,
            started_at=now,
            note=note,
        )
        phases = put_phase(phases, started)
        self._progress.restart(done=done, total=total)
        progress = Progress(done=done, total=total, unit=unit)
        self._change(phase=name, phases=tuple(phases), progress=progress)
        await self._persist()

    async def skip_phase(self, name: str, note: str) -> None:
        """Mark a phase as not needed this run, saying why."""
        now = self._clock.now()
        skipped = Phase(
            name=name, status=PhaseStatus.SKIPPED, note=note, started_at=now, finished_at=now
        )
        self._change(phases=tuple(put_phase(list(self._current().phases), skipped)))
        await self._persist()

    async def report_progress(self, done: int, total: int | None = None) -> None:
        """Progress of the running phase; `total` None keeps the known total.

        Cheap enough to call per item: watchers get a snapshot at most every
        `PUBLISH_INTERVAL_S`, the row at most every `write_interval_s`. `done` never
        exceeds `total`: a total that turns out too small grows to `done` (the truth
        as far as it is known).
        """
        self._progress.report(done, total, self._publish_progress)
        self._dirty = True
        if self._clock.monotonic() - self._last_write >= self._write_interval_s:
            await self._persist()

    async def advance(self, n: int = 1) -> None:
        """Add `n` to the running phase's done count."""
        await self.report_progress(self._progress.done + n)

    def count(self, **deltas: int) -> None:
        """Add to counters (shown at once, written with the next row write)."""
        self._change(counters=added(self._job.counters, deltas))

    def item_error(self, item: str, message: str) -> None:
        """Record an error about one item; the job goes on. Counts as `failed`."""
        error = ItemError(at=self._clock.now(), item=item, message=message)
        self._change(
            errors=(*self._job.errors, error)[-MAX_ITEM_ERRORS:],
            counters=added(self._job.counters, {"failed": 1}),
        )

    def set_result(self, result: Any) -> None:
        """The job's summary (JSON-able), shown when it ends."""
        self._change(result=result)

    # -- checkpoints ----------------------------------------------------------

    async def checkpoint(self, cursor: Any, write: CheckpointWrite | None = None) -> None:
        """Commit `write`'s data, its counters and `cursor` in one transaction.

        If the process dies after this returns, a resumed run starts at `cursor` with
        the data already there; if it dies before, neither is there.
        """
        async with self._write_lock:
            base = self._current()

            def work(tx: JobTx) -> CounterDeltas:
                deltas = write(tx) if write is not None else None
                job = self._next(base, **checkpointed(base, cursor, deltas))
                if not tx.save_job(job, worker=self.worker):
                    raise JobLost()
                return deltas

            try:
                deltas = await to_the_end(self._store.transaction(work))
            except JobLost:
                self._lost = True
                raise
            # The job may have counted or reported meanwhile (a checkpoint can run while
            # the job reads on): add this commit to what it shows now, losing nothing.
            current = self._current()
            self._job = self._next(current, **checkpointed(current, cursor, deltas))
            self._announce()
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
                await to_the_end(self._set_status(JobStatus.RUNNING, wait=None))
            raise
        self.raise_if_cancelled()
        await self._set_status(JobStatus.RUNNING, wait=None)

    async def sleep(self, seconds: float) -> None:
        """Pause politely (still `running`); a cancel ends the pause at once, raising."""
        self.raise_if_cancelled()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._cancel.wait(), timeout=seconds)
        self.raise_if_cancelled()

    async def until_cancelled(self, items: AsyncIterator[T]) -> AsyncIterator[T]:
        """`items` until a cancel is requested, which interrupts the pending read at once
        (a stalled stream, a cool-down, a backoff); the loop then just ends, and the job
        commits what it received and raises (`raise_if_cancelled`)."""
        async for item in self._reads.until(items):
            yield item

    # -- used by the runner and the manager -----------------------------------

    def request_cancel(self) -> None:
        """Ask the job to stop: at once in a wait or an `until_cancelled` read, else at
        its next boundary (in-process signal)."""
        if self._cancel.is_set():
            return
        self._cancel.set()
        self._change(cancel_requested=True)
        self._reads.interrupt()

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
            for p in self._current().phases
        )
        self._progress.stop_timer()
        progress = dataclasses.replace(self._current().progress, rate_per_s=None, eta_s=None)
        await self._set_status(
            status, wait=None, error=error, finished_at=now, phases=phases, progress=progress
        )
        return self._job

    async def heartbeat(self) -> None:
        """Prove the worker is alive, write pending progress, and notice remote cancels."""
        async with self._write_lock:
            if self._dirty:
                await self._save(self._current())
            flag = await to_the_end(
                self._store.heartbeat(
                    self._job.id, attempt=self._job.attempt, now=self._clock.now()
                )
            )
        if flag is None:
            self._lost = True
            self.request_cancel()  # wakes a waiting job, which then raises JobLost
        elif flag:
            self.request_cancel()

    async def poll_cancel(self) -> None:
        """Look for a cancel requested by another process (a one-column read)."""
        if not self._cancel.is_set() and await to_the_end(
            self._store.cancel_requested(self._job.id)
        ):
            self.request_cancel()

    # -- internals ------------------------------------------------------------

    def _next(self, base: Job, **fields: Any) -> Job:
        now = self._clock.now()
        return dataclasses.replace(
            base, version=base.version + 1, updated_at=now, heartbeat_at=now, **fields
        )

    def _change(self, **fields: Any) -> None:
        self._job = self._next(self._current(), **fields)
        self._dirty = True
        self._announce()

    def _announce(self) -> None:
        """Tell watchers, unless a status change is being written: they hear of this
        with it, once the row has it."""
        if not self._status_in_flight:
            self._hub.publish(self._job)

    def _current(self) -> Job:
        """The snapshot with the progress reported since it was made folded in."""
        if self._progress.pending:
            self._job = self._next(self._progress.fold(self._job))
        return self._job

    def _publish_progress(self) -> None:
        """Push the latest progress to watchers (also the end of a coalescing timer)."""
        self._progress.published()
        if self._progress.pending:
            self._current()
            self._announce()

    async def _set_status(self, status: JobStatus, **fields: Any) -> None:
        """Change status durably: watchers hear of it once the row says so."""
        check_transition(self._job.status, status)
        async with self._write_lock:
            job = self._next(self._current(), status=status, **fields)
            self._job = job
            self._dirty = True
            self._status_in_flight = True
            try:
                await self._save(job)
            finally:
                self._status_in_flight = False
        self._hub.publish(self._current())  # with whatever changed while it was written

    async def _persist(self) -> None:
        async with self._write_lock:
            await self._save(self._current())

    async def _save(self, job: Job) -> None:
        if not await to_the_end(self._store.save_job(job, worker=self.worker)):
            self._lost = True
            raise JobLost()
        if job is self._job:
            self._mark_written()

    def _mark_written(self) -> None:
        self._dirty = False
        self._last_write = self._clock.monotonic()
