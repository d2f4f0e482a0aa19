"""Live progress: reported per item, folded into a snapshot at most every
`PUBLISH_INTERVAL_S` (the first report after a quiet spell at once, the latest of a
burst when the interval ends), with a rate over the last few seconds."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
from collections.abc import Callable

from gamekeeper.domain.jobs import Job, Progress
from gamekeeper.jobs.clock import Clock

#: Seconds of progress history the rate is measured over.
RATE_WINDOW_S = 10.0

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


class ProgressTracker:
    """The running phase's done/total as reported, ahead of the snapshot that shows it.

    `done` never exceeds `total`: a total that turns out too small grows to `done` (the
    truth as far as it is known).
    """

    def __init__(self, clock: Clock, *, done: int = 0, total: int | None = None) -> None:
        self._clock = clock
        self._rate = RateMeter()
        self.done = done
        self.total = total
        #: Reported but not yet folded into a snapshot.
        self.pending = False
        self._last_publish = float("-inf")
        self._timer: asyncio.TimerHandle | None = None

    def restart(self, *, done: int, total: int | None) -> None:
        """A new phase: its first values, already in the snapshot."""
        self._rate.reset()
        self.done, self.total, self.pending = done, total, False

    def report(self, done: int, total: int | None, publish: Callable[[], None]) -> None:
        """Take a report; `publish` now if the last was long enough ago, else once the
        interval ends (one timer for a whole burst)."""
        total = self.total if total is None else total
        if total is not None and done > total:
            total = done
        self.done, self.total, self.pending = done, total, True
        if self._clock.monotonic() - self._last_publish >= PUBLISH_INTERVAL_S:
            publish()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(PUBLISH_INTERVAL_S, publish)

    def published(self) -> None:
        """A snapshot with the latest progress went out (or is about to)."""
        self.stop_timer()
        self._last_publish = self._clock.monotonic()

    def stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def fold(self, job: Job) -> Job:
        """`job` with the reported progress (its running phase too); call when pending."""
        self.pending = False
        done, total = self.done, self.total
        rate = self._rate.add(self._clock.monotonic(), done)
        eta = (total - done) / rate if rate and total is not None else None
        progress = Progress(
            done=done, total=total, rate_per_s=rate, eta_s=eta, unit=job.progress.unit
        )
        phases = tuple(
            dataclasses.replace(p, done=done, total=total) if p.name == job.phase else p
            for p in job.phases
        )
        return dataclasses.replace(job, progress=progress, phases=phases)
