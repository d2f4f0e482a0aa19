"""The analyze command's closing rate: positions over the job's working time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gamekeeper.cli.analyze import rate_line
from gamekeeper.domain.jobs import Job, JobStatus


def finished_job(result: dict[str, object], *, took: timedelta) -> Job:
    started = datetime(2026, 12, 3, 12, tzinfo=UTC)
    return Job(
        id="j",
        job_type="analyze",
        family="analysis",
        owner="admin",
        status=JobStatus.COMPLETED,
        result=result,
        created_at=started,
        started_at=started,
        finished_at=started + took,
    )


def test_a_resumed_job_is_rated_on_its_working_time_not_the_downtime() -> None:
    # Killed, then resumed an hour later: 3,000 positions in 6 s of work.
    job = finished_job(
        {"positions": 3000, "engine_evals": 2000, "cache_hits": 1000, "seconds": 6.0},
        took=timedelta(hours=1),
    )
    assert rate_line(job) == "3,000 positions (2,000 by the engine, 1,000 from the cache), 500/s"


def test_no_rate_without_a_time() -> None:
    assert rate_line(finished_job({"positions": 10}, took=timedelta(seconds=1))) is None
