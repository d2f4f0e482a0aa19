"""Admin: every user's jobs, users and tokens, and the stuck-job sweep."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from gamekeeper.api.auth import AuthFirstRoute
from gamekeeper.api.deps import AdminUser, ServicesDep
from gamekeeper.api.errors import ERROR_RESPONSES
from gamekeeper.api.routes.jobs import CREATE_RESPONSES, JobId, parse_statuses
from gamekeeper.api.schemas.jobs import JobCreate, JobOut, JobPageOut, SweepOut
from gamekeeper.api.schemas.users import TokenCreate, TokenInfoOut, TokenOut, UserCreate, UserOut
from gamekeeper.api.views import job_out, jobs_out
from gamekeeper.domain.limits import INT32_MAX
from gamekeeper.domain.users import Role
from gamekeeper.storage.base import JobQuery

router = APIRouter(
    prefix="/api/admin", tags=["admin"], responses=ERROR_RESPONSES, route_class=AuthFirstRoute
)


@router.get("/jobs", response_model=JobPageOut)
async def all_jobs(
    admin: AdminUser,
    services: ServicesDep,
    owner: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[list[str] | None, Query()] = None,
    job_type: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JobPageOut:
    """Every user's jobs, newest first."""
    query = JobQuery(
        owner=owner,
        statuses=parse_statuses(status),
        job_type=job_type.strip().lower() if job_type else None,
        cursor=cursor,
        limit=limit,
    )
    page = await services.jobs.list(query)
    return JobPageOut(items=await jobs_out(services, page.items), next_cursor=page.next_cursor)


@router.post("/jobs", status_code=202, response_model=JobOut, responses=CREATE_RESPONSES)
async def create_job(body: JobCreate, admin: AdminUser, services: ServicesDep) -> JobOut:
    """Queue a job as the admin; takes the same bodies as `POST /api/jobs`, and the
    shapes of the tools gamekeeper replaces (`player_id`, `start_date_ms`, `limit`, `skip`;
    `SYNC_MOVES` without an account covers all your Lichess accounts)."""
    job = await services.job_service.create_for(admin, body.job_type, body.parameters)
    return await job_out(services, job)


@router.get("/jobs/{job_id}", response_model=JobOut)
async def get_job(job_id: JobId, admin: AdminUser, services: ServicesDep) -> JobOut:
    """Any user's job."""
    return await job_out(services, await services.jobs.get(job_id))


@router.post("/jobs/{job_id}/cancel", status_code=202, response_model=JobOut)
async def cancel_job(job_id: JobId, admin: AdminUser, services: ServicesDep) -> JobOut:
    """Ask any user's job to stop."""
    return await job_out(services, await services.jobs.cancel(job_id))


@router.post("/sweep", response_model=SweepOut)
async def sweep(admin: AdminUser, services: ServicesDep) -> SweepOut:
    """Re-queue (or fail, after their attempts) jobs whose worker stopped beating."""
    report = await services.jobs.sweep()
    return SweepOut(
        requeued=list(report.requeued),
        failed=list(report.failed),
        resubmitted=list(report.resubmitted),
    )


@router.get("/users", response_model=list[UserOut])
async def users(admin: AdminUser, services: ServicesDep) -> list[UserOut]:
    return [UserOut.of(u) for u in await services.users.list_users()]


@router.post("/users", status_code=201, response_model=TokenOut)
async def add_user(body: UserCreate, admin: AdminUser, services: ServicesDep) -> TokenOut:
    """Create a user and their first token (shown once)."""
    user = await services.users.add_user(body.name, role=Role(body.role))
    token = await services.users.issue_token(
        user, label="first token", expires_in_days=body.expires_in_days
    )
    return TokenOut(user=UserOut.of(user), token=token)


UserName = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
TokenId = Annotated[int, Path(ge=1, le=INT32_MAX)]


@router.post("/users/{name}/tokens", status_code=201, response_model=TokenOut)
async def add_token(
    name: UserName, admin: AdminUser, services: ServicesDep, body: TokenCreate | None = None
) -> TokenOut:
    """Another token for a user (shown once), optionally expiring after some days."""
    body = body or TokenCreate()
    user = await services.users.get_user(name)
    token = await services.users.issue_token(
        user, label=body.label, expires_in_days=body.expires_in_days
    )
    return TokenOut(user=UserOut.of(user), token=token)


@router.get("/users/{name}/tokens", response_model=list[TokenInfoOut])
async def list_tokens(
    name: UserName, admin: AdminUser, services: ServicesDep
) -> list[TokenInfoOut]:
    """A user's tokens: id, label, when made, last used (to the minute) and expiry."""
    now = services.users.now()
    return [TokenInfoOut.of(t, now) for t in await services.users.tokens(name)]


@router.delete("/users/{name}/tokens/{token_id}", status_code=204, response_class=Response)
async def revoke_token(
    name: UserName, token_id: TokenId, admin: AdminUser, services: ServicesDep
) -> Response:
    """Revoke a token: refused from now on; its open event streams end within
    `GAMEKEEPER_STREAM_AUTH_RECHECK_S`."""
    await services.users.revoke(name, token_id)
    return Response(status_code=204)
