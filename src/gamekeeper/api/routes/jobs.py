"""Jobs: create, list, read, cancel, and follow them live (server-sent events)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

from gamekeeper.api.auth import AuthFirstRoute
from gamekeeper.api.deps import CurrentUser, ServicesDep, owner_filter
from gamekeeper.api.errors import ERROR_RESPONSES
from gamekeeper.api.schemas.base import ErrorBody
from gamekeeper.api.schemas.jobs import IdleOut, JobCreate, JobOut, JobPageOut
from gamekeeper.api.streams import while_signed_in
from gamekeeper.api.views import account_of, job_json, job_out, job_response, jobs_out
from gamekeeper.domain.accounts import Account
from gamekeeper.domain.jobs import Job, JobStatus
from gamekeeper.domain.limits import INT32_MAX
from gamekeeper.errors import InvalidInput
from gamekeeper.storage.base import JobQuery

router = APIRouter(
    prefix="/api", tags=["jobs"], responses=ERROR_RESPONSES, route_class=AuthFirstRoute
)

CREATE_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "Another job is active for this account"},
    429: {
        "model": ErrorBody,
        "description": "Too many jobs created lately",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
    },
}


def parse_statuses(status: list[str] | None) -> frozenset[JobStatus] | None:
    if not status:
        return None
    try:
        return frozenset(JobStatus(s.strip().lower()) for s in status)
    except ValueError:
        raise InvalidInput(
            f"unknown status in {status}; use {', '.join(s.value for s in JobStatus)}"
        ) from None


@router.post("/jobs", status_code=202, response_model=JobOut, responses=CREATE_RESPONSES)
async def create_job(body: JobCreate, user: CurrentUser, services: ServicesDep) -> JobOut:
    """Queue a job. For syncs, `parameters` holds `account_id`, or `platform` and
    `username` (the account is added if needed)."""
    job = await services.job_service.create_for(user, body.job_type, body.parameters)
    return await job_out(services, job)


@router.get("/jobs", response_model=JobPageOut)
async def list_jobs(
    user: CurrentUser,
    services: ServicesDep,
    status: Annotated[list[str] | None, Query()] = None,
    job_type: Annotated[str | None, Query(max_length=40)] = None,
    account_id: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JobPageOut:
    """Your jobs, newest first; pass `next_cursor` back as `cursor` for the next page."""
    query = JobQuery(
        owner=user.name,
        statuses=parse_statuses(status),
        job_type=job_type.strip().lower() if job_type else None,
        account_id=account_id,
        cursor=cursor,
        limit=limit,
    )
    page = await services.jobs.list(query)
    return JobPageOut(items=await jobs_out(services, page.items), next_cursor=page.next_cursor)


#: A job id in a path: `job_` and 12 hex digits (anything else is simply not found).
JobId = Annotated[str, Path(max_length=40)]


async def visible_job(job_id: JobId, user: CurrentUser, services: ServicesDep) -> Job:
    """The job, if the user may see it (admins see all); else 404."""
    return await services.jobs.get(job_id, owner=owner_filter(user))


VisibleJob = Annotated[Job, Depends(visible_job)]


@router.get("/jobs/{job_id}", response_model=JobOut)
async def get_job(job: VisibleJob, services: ServicesDep) -> Response:
    # Polled by dashboards while the job runs: the snapshot's JSON is made once.
    return await job_response(services, job)


@router.post("/jobs/{job_id}/cancel", status_code=202, response_model=JobOut)
async def cancel_job(job: VisibleJob, services: ServicesDep) -> JobOut:
    """Ask the job to stop: at once if queued, at its next boundary if running."""
    return await job_out(services, await services.jobs.cancel(job.id))


def _last_version(value: str | None) -> int:
    try:
        return int(value) if value else -1
    except ValueError:
        return -1


@router.get("/jobs/{job_id}/events", response_class=EventSourceResponse)
async def job_events(
    request: Request,
    job: VisibleJob,
    services: ServicesDep,
    last_event_id: Annotated[str | None, Header(max_length=40)] = None,
) -> AsyncIterator[ServerSentEvent]:
    """The job now (`job` events, id = its version), every change, then an `end` event.

    Reconnect with `Last-Event-ID` to skip what you saw: every event is a full snapshot,
    so the first one after a reconnect carries everything you missed. The stream ends
    early, without `end`, once its token is revoked or expires.
    """
    seen = _last_version(last_event_id)
    # A job's account is fixed: read once per stream, not once per event (a sync sends
    # many, to every watcher).
    account = await account_of(services, job)
    snapshots = while_signed_in(request, services, services.jobs.watch(job.id))
    async for snapshot in snapshots:
        if snapshot.version > seen:
            seen = snapshot.version
            # One JSON per snapshot for every stream of the job (see `job_json`).
            yield ServerSentEvent(raw_data=job_json(snapshot, account), event="job", id=str(seen))
    if await services.users.authenticate(request.state.token) is not None:
        yield ServerSentEvent(data={"status": "end"}, event="end")


#: Jobs whose account an `/api/events` stream remembers (it may stay open for days).
STREAM_ACCOUNTS_KEPT = 64


@router.get("/events", response_class=EventSourceResponse)
async def all_events(
    request: Request, user: CurrentUser, services: ServicesDep
) -> AsyncIterator[ServerSentEvent]:
    """Every change to your jobs (all jobs for an admin): active ones first, then changes,
    until the token is revoked or expires."""
    changes = services.jobs.watch_all(owner=owner_filter(user))
    # A job's account is fixed: read once per job (the latest jobs') per stream, not
    # once per event (keyed by job: an account id may be reused after a removal).
    accounts: dict[str, Account | None] = {}
    async for job in while_signed_in(request, services, changes):
        if job.id not in accounts:
            if len(accounts) >= STREAM_ACCOUNTS_KEPT:
                del accounts[next(iter(accounts))]  # the oldest
            accounts[job.id] = await account_of(services, job)
        # One JSON per snapshot for every stream of the job (see `job_json`).
        yield ServerSentEvent(raw_data=job_json(job, accounts[job.id]), event="job", id=job.id)


@router.get("/sync/status", response_model=JobOut | IdleOut)
async def sync_status(user: CurrentUser, services: ServicesDep) -> JobOut | IdleOut:
    """Your active sync; else `{"status": "idle", "last": …}` with the last one that ran."""
    active, last = await services.job_service.sync_status(user.name)
    if active is not None:
        return await job_out(services, active)
    return IdleOut(last=None if last is None else await job_out(services, last))
