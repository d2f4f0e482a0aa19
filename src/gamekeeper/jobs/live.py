"""Live job snapshots in memory, pushed to every watcher at once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from gamekeeper.domain.jobs import Job


class LiveHub:
    """The latest snapshot of each job running in this process, and its subscribers.

    Publishing never blocks: each watcher has its own unbounded queue, so a slow
    watcher can't slow a job down, and every change reaches every watcher in order.
    """

    def __init__(self) -> None:
        self._latest: dict[str, Job] = {}
        self._by_job: dict[str, set[asyncio.Queue[Job]]] = {}
        self._all: set[asyncio.Queue[Job]] = set()

    def publish(self, job: Job) -> None:
        self._latest[job.id] = job
        for queue in (*self._by_job.get(job.id, ()), *self._all):
            queue.put_nowait(job)

    def forget(self, job_id: str) -> None:
        """Drop a job's snapshot once its final state is in the database."""
        self._latest.pop(job_id, None)

    def latest(self, job_id: str) -> Job | None:
        return self._latest.get(job_id)

    def running(self) -> list[Job]:
        return list(self._latest.values())

    @contextmanager
    def subscribe(self, job_id: str | None = None) -> Iterator[asyncio.Queue[Job]]:
        """A queue of every snapshot published from now on (of one job, or of all)."""
        queue: asyncio.Queue[Job] = asyncio.Queue()
        target = self._all if job_id is None else self._by_job.setdefault(job_id, set())
        target.add(queue)
        try:
            yield queue
        finally:
            target.discard(queue)
            if job_id is not None and not target:
                self._by_job.pop(job_id, None)
