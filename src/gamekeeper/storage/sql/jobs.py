"""Every statement about the `jobs` table, and the mapping between rows and `Job`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from gamekeeper.domain import jobs as domain
from gamekeeper.errors import InvalidInput
from gamekeeper.storage.base import JobPage, JobQuery
from gamekeeper.storage.sql.pages import decode_page_cursor, encode_page_cursor
from gamekeeper.storage.sql.schema import jobs

_ACTIVE = [s.value for s in domain.ACTIVE_STATUSES]
_TERMINAL = [s.value for s in domain.TERMINAL_STATUSES]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def job_to_row(job: domain.Job) -> dict[str, Any]:
    """The job's columns, JSON parts as plain data."""
    return {
        "id": job.id,
        "job_type": job.job_type,
        "family": job.family,
        "owner": job.owner,
        "account_id": job.account_id,
        "parameters": dict(job.parameters),
        **mutable_fields(job),
        "scheduled": job.scheduled,
        "created_at": job.created_at,
    }


def mutable_fields(job: domain.Job) -> dict[str, Any]:
    """The columns a running job changes."""
    return {
        "status": job.status.value,
        "phase": job.phase,
        "phases": [
            {
                "name": p.name,
                "status": p.status.value,
                "done": p.done,
                "total": p.total,
                "started_at": _iso(p.started_at),
                "finished_at": _iso(p.finished_at),
                "note": p.note,
            }
            for p in job.phases
        ],
        "progress": {
            "done": job.progress.done,
            "total": job.progress.total,
            "rate_per_s": job.progress.rate_per_s,
            "eta_s": job.progress.eta_s,
            "unit": job.progress.unit,
        },
        "counters": dict(job.counters),
        "errors": [
            {"at": e.at.isoformat(), "item": e.item, "message": e.message} for e in job.errors
        ],
        "error": job.error,
        "wait": (
            {"reason": job.wait.reason, "resume_at": job.wait.resume_at.isoformat()}
            if job.wait
            else None
        ),
        "checkpoint": job.checkpoint,
        "result": job.result,
        "attempt": job.attempt,
        "checkpoint_attempt": job.checkpoint_attempt,
        "cancel_requested": job.cancel_requested,
        "version": job.version,
        "started_at": job.started_at,
        "updated_at": job.updated_at,
        "heartbeat_at": job.heartbeat_at,
        "finished_at": job.finished_at,
    }


def row_to_job(row: sa.RowMapping) -> domain.Job:
    wait = row["wait"]
    return domain.Job(
        id=row["id"],
        job_type=row["job_type"],
        family=row["family"],
        owner=row["owner"],
        account_id=row["account_id"],
        parameters=row["parameters"] or {},
        status=domain.JobStatus(row["status"]),
        phase=row["phase"],
        phases=tuple(
            domain.Phase(
                name=p["name"],
                status=domain.PhaseStatus(p["status"]),
                done=p["done"],
                total=p["total"],
                started_at=_dt(p["started_at"]),
                finished_at=_dt(p["finished_at"]),
                note=p.get("note"),
            )
            for p in row["phases"]
        ),
        progress=domain.Progress(**row["progress"]),
        counters=row["counters"],
        errors=tuple(
            domain.ItemError(
                at=datetime.fromisoformat(e["at"]), item=e["item"], message=e["message"]
            )
            for e in row["errors"]
        ),
        error=row["error"],
        wait=(
            domain.Wait(reason=wait["reason"], resume_at=datetime.fromisoformat(wait["resume_at"]))
            if wait
            else None
        ),
        checkpoint=row["checkpoint"],
        result=row["result"],
        attempt=row["attempt"],
        checkpoint_attempt=row["checkpoint_attempt"],
        stalled_runs=row["stalled_runs"],
        cancel_requested=row["cancel_requested"],
        scheduled=row["scheduled"],
        version=row["version"],
        worker=row["worker"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        updated_at=row["updated_at"],
        heartbeat_at=row["heartbeat_at"],
        finished_at=row["finished_at"],
    )


def insert_job(conn: sa.Connection, job: domain.Job) -> None:
    conn.execute(jobs.insert().values(job_to_row(job)))


def get_job(conn: sa.Connection, job_id: str) -> domain.Job | None:
    row = conn.execute(jobs.select().where(jobs.c.id == job_id)).mappings().first()
    return row_to_job(row) if row else None


def find_active_job(
    conn: sa.Connection, *, account_id: int | None = None, family: str | None = None
) -> domain.Job | None:
    stmt = jobs.select().where(jobs.c.status.in_(_ACTIVE))
    if account_id is not None:
        stmt = stmt.where(jobs.c.account_id == account_id)
    if family is not None:
        stmt = stmt.where(jobs.c.family == family)
    row = conn.execute(stmt.order_by(jobs.c.created_at).limit(1)).mappings().first()
    return row_to_job(row) if row else None


def jobs_created_since(conn: sa.Connection, owner: str, since: datetime) -> list[datetime]:
    stmt = (
        sa.select(jobs.c.created_at)
        .where(jobs.c.owner == owner, jobs.c.created_at > since)
        .order_by(jobs.c.created_at)
    )
    return list(conn.execute(stmt).scalars())


def save_job(conn: sa.Connection, job: domain.Job, *, worker: str | None = None) -> bool:
    """Write a job's state, guarded by its attempt so a presumed-dead worker can't."""
    values = mutable_fields(job)
    # A cancel request from another process must survive this process's writes.
    values["cancel_requested"] = sa.or_(jobs.c.cancel_requested, sa.literal(job.cancel_requested))
    if worker is not None:
        values["worker"] = worker
    # A terminal row is final: never overwrite it (a late write from a lost worker).
    stmt = (
        jobs.update()
        .where(jobs.c.id == job.id, jobs.c.attempt == job.attempt, jobs.c.status.not_in(_TERMINAL))
        .values(values)
    )
    return conn.execute(stmt).rowcount == 1


def claim_job(conn: sa.Connection, job_id: str, *, worker: str, now: datetime) -> domain.Job | None:
    stmt = (
        jobs.update()
        .where(jobs.c.id == job_id, jobs.c.status == domain.JobStatus.QUEUED.value)
        .values(
            status=domain.JobStatus.RUNNING.value,
            attempt=jobs.c.attempt + 1,
            worker=worker,
            started_at=sa.func.coalesce(jobs.c.started_at, now),
            heartbeat_at=now,
            updated_at=now,
            version=jobs.c.version + 1,
            wait=None,
        )
    )
    if conn.execute(stmt).rowcount != 1:
        return None
    return get_job(conn, job_id)


def heartbeat(conn: sa.Connection, job_id: str, *, attempt: int, now: datetime) -> bool | None:
    stmt = (
        jobs.update()
        .where(jobs.c.id == job_id, jobs.c.attempt == attempt, jobs.c.status.in_(_ACTIVE))
        .values(heartbeat_at=now)
    )
    if conn.execute(stmt).rowcount != 1:
        return None
    flag = conn.execute(sa.select(jobs.c.cancel_requested).where(jobs.c.id == job_id)).scalar()
    return bool(flag)


def cancel_requested(conn: sa.Connection, job_id: str) -> bool:
    stmt = sa.select(jobs.c.cancel_requested).where(jobs.c.id == job_id)
    return bool(conn.execute(stmt).scalar())


def request_cancel(conn: sa.Connection, job_id: str) -> None:
    conn.execute(
        jobs.update()
        .where(jobs.c.id == job_id, jobs.c.status.in_(_ACTIVE))
        .values(cancel_requested=True)
    )


def cancel_queued(conn: sa.Connection, job_id: str, *, now: datetime) -> bool:
    stmt = (
        jobs.update()
        .where(jobs.c.id == job_id, jobs.c.status == domain.JobStatus.QUEUED.value)
        .values(
            status=domain.JobStatus.CANCELLED.value,
            cancel_requested=True,
            finished_at=now,
            updated_at=now,
            version=jobs.c.version + 1,
        )
    )
    return conn.execute(stmt).rowcount == 1


def running_jobs(conn: sa.Connection) -> list[domain.Job]:
    """Jobs a worker holds (running or waiting)."""
    stmt = jobs.select().where(
        jobs.c.status.in_([domain.JobStatus.RUNNING.value, domain.JobStatus.WAITING.value])
    )
    return [row_to_job(r) for r in conn.execute(stmt).mappings()]


def requeue_job(conn: sa.Connection, job: domain.Job, *, now: datetime) -> bool:
    """Put a stale job back in the queue, keeping its checkpoint and counters."""
    stmt = (
        jobs.update()
        .where(
            jobs.c.id == job.id,
            jobs.c.attempt == job.attempt,
            jobs.c.status.in_([s.value for s in domain.sources_of(domain.JobStatus.QUEUED)]),
        )
        .values(
            status=domain.JobStatus.QUEUED.value,
            worker=None,
            wait=None,
            stalled_runs=job.stalled_runs,
            updated_at=now,
            version=jobs.c.version + 1,
        )
    )
    return conn.execute(stmt).rowcount == 1


def queued_job_ids(conn: sa.Connection) -> list[str]:
    stmt = (
        sa.select(jobs.c.id)
        .where(jobs.c.status == domain.JobStatus.QUEUED.value)
        .order_by(jobs.c.created_at)
    )
    return list(conn.execute(stmt).scalars())


def prune_finished_jobs(conn: sa.Connection, owner: str, *, keep: int) -> int:
    """Delete an owner's finished jobs beyond the `keep` most recent.

    One statement: on PostgreSQL (read committed) a separate SELECT of the ids to keep
    would let the DELETE see a job another worker finished in between, and delete it.
    """
    newest = (
        sa.select(jobs.c.id)
        .where(jobs.c.owner == owner, jobs.c.status.in_(_TERMINAL))
        .order_by(jobs.c.finished_at.desc(), jobs.c.id.desc())
        .limit(keep)
        .scalar_subquery()
    )
    stmt = jobs.delete().where(
        jobs.c.owner == owner, jobs.c.status.in_(_TERMINAL), jobs.c.id.not_in(newest)
    )
    return conn.execute(stmt).rowcount


def list_jobs(conn: sa.Connection, query: JobQuery) -> JobPage:
    stmt = jobs.select()
    if query.owner is not None:
        stmt = stmt.where(jobs.c.owner == query.owner)
    if query.statuses:
        stmt = stmt.where(jobs.c.status.in_([s.value for s in query.statuses]))
    if query.job_type is not None:
        stmt = stmt.where(jobs.c.job_type == query.job_type)
    if query.family is not None:
        stmt = stmt.where(jobs.c.family == query.family)
    if query.account_id is not None:
        stmt = stmt.where(jobs.c.account_id == query.account_id)
    if query.cursor:
        created_at, job_id = decode_cursor(query.cursor)
        stmt = stmt.where(
            sa.or_(
                jobs.c.created_at < created_at,
                sa.and_(jobs.c.created_at == created_at, jobs.c.id < job_id),
            )
        )
    stmt = stmt.order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(query.limit + 1)
    rows = [row_to_job(r) for r in conn.execute(stmt).mappings()]
    page, more = rows[: query.limit], len(rows) > query.limit
    next_cursor = (
        encode_page_cursor(page[-1].created_at.isoformat(), page[-1].id) if more and page else None
    )
    return JobPage(items=tuple(page), next_cursor=next_cursor)


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    created_at, job_id = decode_page_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(created_at), str(job_id)
    except (TypeError, ValueError):
        raise InvalidInput(f"invalid cursor {cursor!r}") from None


def get_jobs(conn: sa.Connection, job_ids: Sequence[str]) -> list[domain.Job]:
    if not job_ids:
        return []
    stmt = jobs.select().where(jobs.c.id.in_(list(job_ids)))
    return [row_to_job(r) for r in conn.execute(stmt).mappings()]


def job_owners(conn: sa.Connection, job_ids: list[str]) -> dict[str, str]:
    if not job_ids:
        return {}
    stmt = sa.select(jobs.c.id, jobs.c.owner).where(jobs.c.id.in_(job_ids))
    return {str(row[0]): str(row[1]) for row in conn.execute(stmt)}


def job_counts(conn: sa.Connection) -> dict[str, int]:
    stmt = sa.select(jobs.c.status, sa.func.count()).group_by(jobs.c.status)
    counts = {s.value: 0 for s in domain.JobStatus}
    counts.update({str(row[0]): int(row[1]) for row in conn.execute(stmt)})
    return counts


#: Defers one procrastinate task in the caller's transaction: `procrastinate_defer_jobs_v1`
#: is what procrastinate's own `defer` calls (`procrastinate/sql/queries.sql`, `defer_jobs`);
#: the job's id is the queueing lock, so a job has one waiting delivery at most.
_DEFER_SQL = sa.text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, :job_id, "
    "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1])"
)


def defer_delivery(conn: sa.Connection, *, queue: str, task: str, job_id: str, args: str) -> None:
    conn.execute(_DEFER_SQL, {"queue": queue, "task": task, "job_id": job_id, "args": args})
