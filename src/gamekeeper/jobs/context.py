"""`JobContext`: what a running job uses to report, checkpoint, wait and notice cancel.

Every change makes a new snapshot that watchers see at once (through the `LiveHub`);
the row is written at checkpoints, on status changes, and otherwise at most every
`write_interval` seconds, so a busy job doesn't hammer the database. Progress, which a
job reports per item (thousands a second), is folded into a snapshot at most every
`PUBLISH_INTERVAL_S`: the first report after a quiet spell at once, the latest of a
burst when the interval ends.

A cancel request wakes a job wherever it waits: in a wait or a pause (`wait`, `sleep`)
and in a read wrapped by `until_cancelled`, which interrupts the pending read (a
stalled stream included) so the job can commit what it received and stop.

A context belongs to one job run. Its job may run one checkpoint in the background while
it reads on (see `sync.batches.GameBatcher`); writes are serialised by a lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
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

#: Seconds between two progress snapshots pushed to watchers (a burst of reports is
#: coalesced; the last one is never lost).
PUBLISH_INTERVAL_S = 0.1


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
        # Progress reported but not yet folded into a snapshot (see `report_progress`).
        self._done = job.progress.done
        self._total = job.progress.total
        self._progress_pending = False
        self._last_publish = float("-inf")
        self._flush: asyncio.TimerHandle | None = None
        # The task blocked in an `until_cancelled` read, and whether we interrupted it.
        self._reader: asyncio.Task[Any] | None = None
        self._interrupting = False

    # -- what the job reads ---------------------------------------------------

    @property
    def job(self) -> Job:
        """The current snapshot (with the latest progress)."""
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
        phases = _put_phase(phases, started)
        self._rate.reset()
        self._done, self._total, self._progress_pending = done, total, False
        progress = Progress(done=done, total=total, unit=unit)
        self._change(phase=name, phases=tuple(phases), progress=progress)
        await self._persist()

    async def skip_phase(self, name: str, note: str) -> None:
        """Mark a phase as not needed this run, saying why."""
        now = self._clock.now()
        skipped = Phase(
            name=name, status=PhaseStatus.SKIPPED, note=note, started_at=now, finished_at=now
        )
        self._change(phases=tuple(_put_phase(list(self._current().phases), skipped)))
        await self._persist()

    async def report_progress(self, done: int, total: int | None = None) -> None:
        """Progress of the running phase; `total` None keeps the known total.

        Cheap enough to call per item: watchers get a snapshot at most every
        `PUBLISH_INTERVAL_S`, the row at most every `write_interval_s`. `done` never
        exceeds `total`: a total that turns out too small grows to `done` (the truth
        as far as it is known).
        """
        total = self._total if total is None else total
        if total is not None and done > total:
            total = done
        self._done, self._total = done, total
        self._progress_pending = self._dirty = True
        now = self._clock.monotonic()
        if now - self._last_publish >= PUBLISH_INTERVAL_S:
            self._publish_progress()
        elif self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(
                PUBLISH_INTERVAL_S, self._publish_progress
            )
        if now - self._last_write >= self._write_interval_s:
            await self._persist()

    async def advance(self, n: int = 1) -> None:
        """Add `n` to the running phase's done count."""
        await self.report_progress(self._done + n)

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
            base = self._current()

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
            current = self._current()
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

    async def until_cancelled(self, items: AsyncIterator[T]) -> AsyncIterator[T]:
        """`items` until a cancel is requested: a cancel interrupts the pending read at
        once (a stalled stream, a cool-down, a backoff), closing `items`; the loop then
        just ends, and the job commits what it received and raises (`raise_if_cancelled`).

        Only the read is interrupted, never what the job does with an item, so a cancel
        can't land in the middle of a checkpoint.
        """
        task = asyncio.current_task()
        assert task is not None
        try:
            while not self._cancel.is_set():
                self._reader = task
                try:
                    item = await anext(items)
                except StopAsyncIteration:
                    return
                except JobCancelled:
                    return  # a wait inside the read noticed the cancel first
                except asyncio.CancelledError:
                    if not self._interrupting or task.uncancel() > 0:
                        raise  # not (only) ours: e.g. the process is shutting down
                    return
                finally:
                    self._reader = None
                    if self._interrupting:
                        self._interrupting = False
                        if task.cancelling():
                            task.uncancel()  # our interruption was swallowed on the way
                yield item
        finally:
            close = getattr(items, "aclose", None)
            if close is not None:
                await close()

    # -- used by the runner and the manager -----------------------------------

    def request_cancel(self) -> None:
        """Ask the job to stop: at once in a wait or an `until_cancelled` read, else at
        its next boundary (in-process signal)."""
        if self._cancel.is_set():
            return
        self._cancel.set()
        self._change(cancel_requested=True)
        if self._reader is not None and not self._interrupting:
            self._interrupting = True
            self._reader.cancel()

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
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
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
            flag = await _to_the_end(
                self._store.heartbeat(
                    self._job.id, attempt=self._job.attempt, now=self._clock.now()
                )
            )
        if flag is None:
            self._lost = True
            self.request_cancel()  # wakes a waiting job, which then raises JobLost
        elif flag:
            self.request_cancel()

    async def heartbeat_forever(
        self, interval_s: float, cancel_poll_s: float | None = None
    ) -> None:
        """Beat every `interval_s`; between beats, look for a cancel requested by another
        process every `cancel_poll_s` (a one-column read), so it takes effect promptly."""
        poll = interval_s if cancel_poll_s is None else min(cancel_poll_s, interval_s)
        next_beat = self._clock.monotonic() + interval_s
        while True:
            await asyncio.sleep(poll)
            if self._clock.monotonic() >= next_beat:
                next_beat = self._clock.monotonic() + interval_s
                await self.heartbeat()
            elif not self._cancel.is_set() and await _to_the_end(
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
        self._hub.publish(self._job)

    def _current(self) -> Job:
        """The snapshot with the progress reported since it was made folded in."""
        if not self._progress_pending:
            return self._job
        self._progress_pending = False
        job = self._job
        done, total = self._done, self._total
        rate = self._rate.add(self._clock.monotonic(), done)
        eta = (total - done) / rate if rate and total is not None else None
        progress = Progress(
            done=done, total=total, rate_per_s=rate, eta_s=eta, unit=job.progress.unit
        )
        phases = tuple(
            dataclasses.replace(p, done=done, total=total) if p.name == job.phase else p
            for p in job.phases
        )
        self._job = self._next(job, progress=progress, phases=phases)
        return self._job

    def _publish_progress(self) -> None:
        """Push the latest progress to watchers (also the end of a coalescing timer)."""
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        self._last_publish = self._clock.monotonic()
        if self._progress_pending:
            self._hub.publish(self._current())

    async def _set_status(self, status: JobStatus, **fields: Any) -> None:
        """Change status durably: watchers hear of it once the row says so."""
        check_transition(self._job.status, status)
        async with self._write_lock:
            job = self._next(self._current(), status=status, **fields)
            self._job = job
            self._dirty = True
            await self._save(job)
        self._hub.publish(job)

    async def _persist(self) -> None:
        async with self._write_lock:
            await self._save(self._current())

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
