"""Jobs, scheduled syncs and the upstream gate's host state: the async statements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from gamekeeper.domain.jobs import Job
from gamekeeper.domain.upstreams import HostState
from gamekeeper.storage.base import (
    AutoSyncState,
    JobPage,
    JobQuery,
)
from gamekeeper.storage.sql import accounts as sql_accounts
from gamekeeper.storage.sql import hosts as sql_hosts
from gamekeeper.storage.sql import jobs as sql_jobs
from gamekeeper.storage.sql.engine import upsert
from gamekeeper.storage.sql.runner import SqlRunner, SqlTx
from gamekeeper.storage.sql.schema import auto_syncs


class JobQueries(SqlRunner):
    """Job rows, the bookkeeping of scheduled syncs, and shared upstream state."""

    # -- jobs -----------------------------------------------------------------

    async def get_jobs(self, job_ids: Sequence[str]) -> list[Job]:
        return await self.read(lambda c: sql_jobs.get_jobs(c, job_ids))

    async def get_job(self, job_id: str) -> Job | None:
        return await self.read(lambda c: sql_jobs.get_job(c, job_id))

    async def list_jobs(self, query: JobQuery) -> JobPage:
        return await self.read(lambda c: sql_jobs.list_jobs(c, query))

    async def claim_job(self, job_id: str, *, worker: str, now: datetime) -> Job | None:
        return await self.write(
            lambda tx: sql_jobs.claim_job(tx.conn, job_id, worker=worker, now=now)
        )

    async def save_job(self, job: Job, *, worker: str | None = None) -> bool:
        return await self.write(lambda tx: tx.save_job(job, worker=worker))

    async def heartbeat(self, job_id: str, *, attempt: int, now: datetime) -> bool | None:
        return await self.write(
            lambda tx: sql_jobs.heartbeat(tx.conn, job_id, attempt=attempt, now=now)
        )

    async def request_cancel(self, job_id: str) -> None:
        await self.write(lambda tx: sql_jobs.request_cancel(tx.conn, job_id))

    async def cancel_requested(self, job_id: str) -> bool:
        return await self.read(lambda c: sql_jobs.cancel_requested(c, job_id))

    async def cancel_queued(self, job_id: str, *, now: datetime) -> bool:
        return await self.write(lambda tx: sql_jobs.cancel_queued(tx.conn, job_id, now=now))

    async def job_counts(self) -> dict[str, int]:
        """Jobs by status (every status present, zero if none)."""
        return await self.read(sql_jobs.job_counts)

    async def job_owners(self, job_ids: Iterable[str]) -> dict[str, str]:
        ids = sorted(set(job_ids))
        return await self.read(lambda c: sql_jobs.job_owners(c, ids))

    async def running_jobs(self) -> list[Job]:
        return await self.read(sql_jobs.running_jobs)

    async def requeue_job(self, job: Job, *, now: datetime) -> bool:
        return await self.write(lambda tx: sql_jobs.requeue_job(tx.conn, job, now=now))

    async def queued_job_ids(self) -> list[str]:
        return await self.read(sql_jobs.queued_job_ids)

    async def prune_finished_jobs(self, owner: str, *, keep: int) -> int:
        return await self.write(lambda tx: sql_jobs.prune_finished_jobs(tx.conn, owner, keep=keep))

    # -- scheduled syncs ------------------------------------------------------

    async def auto_sync_states(self) -> list[AutoSyncState]:
        def work(conn: sa.Connection) -> list[AutoSyncState]:
            rows = conn.execute(sa.select(auto_syncs.c.account_id, auto_syncs.c.last_at))
            last = {row.account_id: row.last_at for row in rows}
            return [
                AutoSyncState(account=account, last_at=last.get(account.id))
                for account in sql_accounts.list_accounts(conn, None)
                if account.auto_sync_minutes
            ]

        return await self.read(work)

    async def claim_auto_sync(
        self, account_id: int, *, now: datetime, due_before: datetime
    ) -> bool:
        def work(tx: SqlTx) -> bool:
            # Insert-or-update only while the last claim is old enough: one statement,
            # so of two schedulers racing for the same period exactly one gets a row.
            stmt = upsert(
                auto_syncs,
                tx.conn.dialect,
                key=["account_id"],
                update={"last_at": now, "outcome": None, "job_id": None, "note": None},
                where=lambda _new: auto_syncs.c.last_at <= due_before,
            ).values(account_id=account_id, last_at=now)
            # RETURNING, not rowcount: psycopg reports no count for an upsert.
            claimed = stmt.returning(auto_syncs.c.account_id)
            return tx.conn.execute(claimed).first() is not None

        return await self.write(work)

    async def record_auto_sync(
        self, account_id: int, *, outcome: str, job_id: str | None, note: str
    ) -> None:
        stmt = (
            auto_syncs.update()
            .where(auto_syncs.c.account_id == account_id)
            .values(outcome=outcome, job_id=job_id, note=note)
        )
        await self.write(lambda tx: tx.conn.execute(stmt))

    async def release_auto_sync(
        self, account_id: int, *, claimed_at: datetime, previous: datetime | None
    ) -> None:
        mine = sa.and_(auto_syncs.c.account_id == account_id, auto_syncs.c.last_at == claimed_at)
        stmt: sa.Delete | sa.Update = (
            auto_syncs.delete().where(mine)
            if previous is None
            else auto_syncs.update().where(mine).values(last_at=previous)
        )
        await self.write(lambda tx: tx.conn.execute(stmt))

    # -- the upstream gate's shared state (embedded mode) ----------------------

    async def upstream_state(self, host: str) -> HostState | None:
        return await self.read(lambda c: sql_hosts.upstream_state(c, host))

    async def save_upstream_state(self, host: str, state: HostState) -> None:
        await self.write(lambda tx: sql_hosts.save_upstream_state(tx.conn, host, state))
