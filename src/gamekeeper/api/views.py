"""Turning jobs into API shapes, with the accounts they belong to."""

from __future__ import annotations

from collections.abc import Iterable

from gamekeeper.api.schemas import JobOut
from gamekeeper.bootstrap import Services
from gamekeeper.domain.jobs import Job


async def jobs_out(services: Services, jobs: Iterable[Job]) -> list[JobOut]:
    jobs = list(jobs)
    ids = {j.account_id for j in jobs if j.account_id is not None}
    accounts = {}
    for account_id in ids:
        account = await services.store.get_account(account_id)
        if account is not None:
            accounts[account_id] = account
    return [
        JobOut.of(j, accounts.get(j.account_id) if j.account_id is not None else None) for j in jobs
    ]


async def job_out(services: Services, job: Job) -> JobOut:
    return (await jobs_out(services, [job]))[0]
