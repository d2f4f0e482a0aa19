"""Turning jobs into API shapes, with the accounts they belong to."""

from __future__ import annotations

from collections.abc import Iterable

from gamekeeper.api.schemas.jobs import JobOut
from gamekeeper.bootstrap import Services
from gamekeeper.domain.jobs import Job


async def jobs_out(services: Services, jobs: Iterable[Job]) -> list[JobOut]:
    jobs = list(jobs)
    ids = sorted({j.account_id for j in jobs if j.account_id is not None})
    accounts = await services.accounts.by_ids(ids)
    return [
        JobOut.of(j, accounts.get(j.account_id) if j.account_id is not None else None) for j in jobs
    ]


async def job_out(services: Services, job: Job) -> JobOut:
    return (await jobs_out(services, [job]))[0]
