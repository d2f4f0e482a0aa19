"""Jobs as values: status, phases, progress, counters, and the rules between statuses."""

from __future__ import annotations

import dataclasses
import enum
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gamekeeper.errors import IllegalTransition


class JobStatus(enum.StrEnum):
    """Where a job is in its life."""

    #: Created, waiting for a worker.
    QUEUED = "queued"
    #: A worker runs it.
    RUNNING = "running"
    #: Paused by an upstream rate limit or backoff; `wait` says until when.
    WAITING = "waiting"
    #: Ended with all its work done.
    COMPLETED = "completed"
    #: Ended by an error; `error` says which.
    FAILED = "failed"
    #: Ended on request, keeping what it had committed.
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        return self in ACTIVE_STATUSES

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES


ACTIVE_STATUSES = frozenset({JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.WAITING})
TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})

#: The legal moves between statuses. Running and waiting may go back to queued: that is
#: the sweeper re-queueing a job whose worker died.
TRANSITIONS: Mapping[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED, JobStatus.FAILED}),
    JobStatus.RUNNING: frozenset(
        {
            JobStatus.WAITING,
            JobStatus.COMPLETED,
            JobStatus.FAILED,
            JobStatus.CANCELLED,
            JobStatus.QUEUED,
        }
    ),
    JobStatus.WAITING: frozenset(
        {JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED}
    ),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


def check_transition(current: JobStatus, target: JobStatus) -> None:
    """Raise `IllegalTransition` unless a job may move from `current` to `target`."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"a {current.value} job cannot become {target.value}")


def sources_of(target: JobStatus) -> frozenset[JobStatus]:
    """The statuses a job may be in to move to `target` (for conditional updates)."""
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)


class PhaseStatus(enum.StrEnum):
    """Where a phase of a job is."""

    #: Not started yet.
    PENDING = "pending"
    #: Under way.
    RUNNING = "running"
    #: Done.
    COMPLETED = "completed"
    #: Not needed this time (the note says why).
    SKIPPED = "skipped"
    #: Stopped by the job's failure.
    FAILED = "failed"
    #: Stopped by the job's cancellation.
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True, kw_only=True)
class Phase:
    """One step of a job (e.g. fetching, enriching, analyzing)."""

    name: str
    status: PhaseStatus = PhaseStatus.PENDING
    done: int = 0
    total: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """How far the running phase is: done/total, rate and estimated time left."""

    done: int = 0
    total: int | None = None
    rate_per_s: float | None = None
    eta_s: float | None = None
    #: What is counted: "bytes" for a file import, None for items (games, months...).
    unit: str | None = None

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


@dataclass(frozen=True, slots=True, kw_only=True)
class Wait:
    """Why a job is waiting and when it resumes."""

    reason: str
    resume_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemError:
    """An error about one item (a game, a line, a byte offset); the job went on."""

    at: datetime
    item: str
    message: str


#: Counters every job shows, zero until counted.
COUNTER_NAMES = (
    "found",
    "inserted",
    "updated",
    "skipped_existing",
    "enriched",
    "analyzed",
    "failed",
)

#: Item errors kept per job; older ones are dropped (the `failed` counter keeps the total).
MAX_ITEM_ERRORS = 50


def new_job_id() -> str:
    """`job_` and 12 hex digits."""
    return "job_" + secrets.token_hex(6)


def zero_counters() -> dict[str, int]:
    return dict.fromkeys(COUNTER_NAMES, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """A durable, observable, cancellable, resumable unit of work."""

    id: str
    job_type: str
    #: Jobs of one family (e.g. every kind of sync) exclude each other per account.
    family: str
    owner: str
    account_id: int | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    status: JobStatus = JobStatus.QUEUED
    phase: str | None = None
    phases: tuple[Phase, ...] = ()
    progress: Progress = Progress()
    counters: Mapping[str, int] = field(default_factory=zero_counters)
    errors: tuple[ItemError, ...] = ()
    error: str | None = None
    wait: Wait | None = None
    #: Where a resumed run starts (JSON-able, owned by the job kind).
    checkpoint: Any = None
    #: The job kind's summary when it ends (JSON-able), e.g. a sync's reconciliation.
    result: Any = None
    attempt: int = 0
    #: The attempt whose run committed the last checkpoint (0: none yet).
    checkpoint_attempt: int = 0
    #: Runs that ended (a dead worker, a shutdown) before committing any checkpoint.
    stalled_runs: int = 0
    cancel_requested: bool = False
    #: Created by the scheduler rather than a person.
    scheduled: bool = False
    #: Grows with every change; the SSE event id, so a client can tell new from old.
    version: int = 0
    #: `host:pid` of the process running it.
    worker: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    updated_at: datetime | None = None
    heartbeat_at: datetime | None = None
    finished_at: datetime | None = None


def after_lost_run(job: Job) -> Job:
    """The job once its current run is over without finishing (its worker died, or
    handed it back): a run that committed no checkpoint counts as stalled."""
    if job.attempt == 0 or job.checkpoint_attempt == job.attempt:
        return job
    return dataclasses.replace(job, stalled_runs=job.stalled_runs + 1)


def progressed_runs(job: Job) -> int:
    """Runs of the job that committed at least one checkpoint (the current one included)."""
    return job.attempt - job.stalled_runs
