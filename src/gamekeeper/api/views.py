"""Turning jobs into API shapes, with the accounts they belong to."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Final

from fastapi import Response

from gamekeeper.api.schemas.jobs import JobOut
from gamekeeper.bootstrap import Services
from gamekeeper.domain.accounts import Account
from gamekeeper.domain.jobs import Job

#: Snapshots whose JSON is kept (a running job's last few versions, for every poller and
#: event stream of it: building and dumping `JobOut` was most of a poll's cost).
JSON_KEPT: Final = 256
_json: dict[Hashable, str] = {}


async def jobs_out(services: Services, jobs: Iterable[Job]) -> list[JobOut]:
    jobs = list(jobs)
    ids = sorted({j.account_id for j in jobs if j.account_id is not None})
    accounts = await services.accounts.by_ids(ids)
    return [
        JobOut.of(j, accounts.get(j.account_id) if j.account_id is not None else None) for j in jobs
    ]


async def job_out(services: Services, job: Job) -> JobOut:
    return (await jobs_out(services, [job]))[0]


def job_json(job: Job, account: Account | None) -> str:
    """`JobOut.of(job, account)` as JSON, made once per snapshot (a heartbeat changes
    `heartbeat_at` without a new version: it is part of the key)."""
    key = (
        job.id,
        job.version,
        job.heartbeat_at,
        job.updated_at,
        None if account is None else (account.id, account.platform, account.username),
    )
    text = _json.get(key)
    if text is None:
        text = JobOut.of(job, account).model_dump_json()
        if len(_json) >= JSON_KEPT:
            del _json[next(iter(_json))]  # the oldest
        _json[key] = text
    return text


async def job_response(services: Services, job: Job) -> Response:
    """`job_out` as a ready response (a route declaring `response_model=JobOut` returns
    it unchanged: the JSON is `JobOut`'s)."""
    return Response(job_json(job, await account_of(services, job)), media_type="application/json")


async def account_of(services: Services, job: Job) -> Account | None:
    """The account the job belongs to, if it has one."""
    if job.account_id is None:
        return None
    return (await services.accounts.by_ids([job.account_id])).get(job.account_id)
