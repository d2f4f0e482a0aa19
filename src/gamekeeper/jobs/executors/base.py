"""The `Executor` Protocol: how jobs get from the queue to a worker."""

from __future__ import annotations

from typing import Protocol

from gamekeeper.domain.jobs import Job
from gamekeeper.storage.base import JobTx


class Executor(Protocol):
    """Delivers queued jobs to a `JobRunner`, here or in other processes."""

    def enqueue_in(self, tx: JobTx, job: Job) -> None:
        """Called inside the transaction that inserts the job (for queues in the database)."""
        ...

    async def submit(self, job: Job) -> None:
        """Called after the job's row is committed."""
        ...

    async def cancel(self, job_id: str) -> None:
        """Ask whoever runs the job to stop it (the row's `cancel_requested` is already set)."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
