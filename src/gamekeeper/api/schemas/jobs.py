"""Jobs as the API shows and takes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from gamekeeper.api.schemas.base import Strict
from gamekeeper.domain.accounts import Account
from gamekeeper.domain.jobs import Job, Phase, PhaseStatus

# -- jobs -------------------------------------------------------------------------

#: Parameters a job may be given (the kinds take fewer than ten).
MAX_PARAMETERS = 32


class AccountRef(BaseModel):
    id: int
    platform: str
    username: str


class PhaseOut(BaseModel):
    name: str
    status: str
    done: int
    total: int | None
    #: 100 * done / total, one decimal; null while the total is unknown.
    percent: float | None = None
    started_at: datetime | None
    finished_at: datetime | None
    note: str | None
    #: The last item error recorded during this phase (or the job's error, if it failed).
    last_error: str | None = None
    #: While this phase waits out a rate limit or a backoff: when it goes on.
    rate_limit_reset_at: datetime | None = None

    @classmethod
    def of(cls, phase: Phase, job: Job) -> PhaseOut:
        running = phase.status is PhaseStatus.RUNNING
        errors = [
            e.message
            for e in job.errors
            if phase.started_at is not None
            and e.at >= phase.started_at
            and (phase.finished_at is None or e.at <= phase.finished_at)
        ]
        if phase.status is PhaseStatus.FAILED and job.error:
            errors.append(job.error)
        return cls(
            name=phase.name,
            status=phase.status.value,
            done=phase.done,
            total=phase.total,
            percent=round(100 * phase.done / phase.total, 1) if phase.total else None,
            started_at=phase.started_at,
            finished_at=phase.finished_at,
            note=phase.note,
            last_error=errors[-1] if errors else None,
            rate_limit_reset_at=job.wait.resume_at if running and job.wait else None,
        )


class ProgressOut(BaseModel):
    fraction: float | None
    done: int
    total: int | None
    rate_per_s: float | None
    eta_s: float | None
    #: "bytes" for file imports; null when items (games, months) are counted.
    unit: str | None = None


class WaitOut(BaseModel):
    reason: str
    resume_at: datetime


class ItemErrorOut(BaseModel):
    at: datetime
    item: str
    message: str


class JobOut(BaseModel):
    id: str
    job_type: str
    owner: str
    account: AccountRef | None
    parameters: dict[str, Any]
    status: str
    phase: str | None
    phases: list[PhaseOut]
    progress: ProgressOut
    counters: dict[str, int]
    errors: list[ItemErrorOut]
    error: str | None
    wait: WaitOut | None
    #: Where a resumed run would start (the job kind's checkpoint: e.g. a sync's count
    #: and the newest game stored, an import's byte offset); null before the first one.
    checkpoint: Any = None
    result: Any = None
    attempt: int
    cancel_requested: bool
    scheduled: bool
    version: int
    created_at: datetime
    started_at: datetime | None
    updated_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job, account: Account | None = None) -> JobOut:
        p = job.progress
        return cls(
            id=job.id,
            job_type=job.job_type,
            owner=job.owner,
            account=(
                AccountRef(
                    id=account.id, platform=account.platform.value, username=account.username
                )
                if account is not None
                else None
            ),
            parameters=dict(job.parameters),
            status=job.status.value,
            phase=job.phase,
            phases=[PhaseOut.of(ph, job) for ph in job.phases],
            progress=ProgressOut(
                fraction=p.fraction,
                done=p.done,
                total=p.total,
                rate_per_s=p.rate_per_s,
                eta_s=p.eta_s,
                unit=p.unit,
            ),
            counters=dict(job.counters),
            errors=[ItemErrorOut(at=e.at, item=e.item, message=e.message) for e in job.errors],
            error=job.error,
            wait=WaitOut(reason=job.wait.reason, resume_at=job.wait.resume_at)
            if job.wait
            else None,
            checkpoint=job.checkpoint,
            result=job.result,
            attempt=job.attempt,
            cancel_requested=job.cancel_requested,
            scheduled=job.scheduled,
            version=job.version,
            created_at=job.created_at,
            started_at=job.started_at,
            updated_at=job.updated_at,
            heartbeat_at=job.heartbeat_at,
            finished_at=job.finished_at,
        )


class JobCreate(Strict):
    job_type: str = Field(min_length=1, max_length=40, examples=["sync_games"])
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        # No job kind takes more than a handful: a body of many thousand keys is refused
        # before anything walks it.
        max_length=MAX_PARAMETERS,
        examples=[{"platform": "lichess", "username": "alice"}, {"account_id": 1}],
    )


class JobPageOut(BaseModel):
    items: list[JobOut]
    next_cursor: str | None


class IdleOut(BaseModel):
    """No sync is active: `last` is the one that ended last (null if none ever ran)."""

    status: Literal["idle"] = "idle"
    last: JobOut | None = None


class SweepOut(BaseModel):
    requeued: list[str]
    failed: list[str]
    resubmitted: list[str]
