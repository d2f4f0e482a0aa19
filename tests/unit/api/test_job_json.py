"""A job's JSON, made once per snapshot for every poller and event stream."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import orjson

from gamekeeper.api import views
from gamekeeper.api.schemas.jobs import JobOut
from gamekeeper.domain.accounts import Account
from gamekeeper.domain.games import Platform
from gamekeeper.domain.jobs import Job, JobStatus

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


def running(version: int = 1) -> Job:
    return Job(
        id="j1",
        job_type="sync_games",
        family="sync",
        owner="alice",
        account_id=7,
        status=JobStatus.RUNNING,
        version=version,
        created_at=NOW,
        started_at=NOW,
        heartbeat_at=NOW,
        updated_at=NOW,
    )


def account(username: str = "Alice") -> Account:
    return Account(id=7, owner="alice", platform=Platform.LICHESS, username=username)


def test_the_json_is_jobout_and_made_once_per_snapshot() -> None:
    job = running()
    first = views.job_json(job, account())
    assert orjson.loads(first) == orjson.loads(JobOut.of(job, account()).model_dump_json())
    assert views.job_json(job, account()) is first


def test_a_new_version_a_heartbeat_or_another_account_name_is_new_json() -> None:
    job = running()
    first = views.job_json(job, account())
    later = replace(job, heartbeat_at=NOW + timedelta(seconds=5))
    assert (
        orjson.loads(views.job_json(later, account()))["heartbeat_at"]
        != orjson.loads(first)["heartbeat_at"]
    )
    progressed = replace(job, version=2, counters={**job.counters, "found": 3})
    assert orjson.loads(views.job_json(progressed, account()))["counters"]["found"] == 3
    renamed = orjson.loads(views.job_json(job, account("alice2")))
    assert renamed["account"]["username"] == "alice2"
    assert orjson.loads(views.job_json(job, None))["account"] is None


def test_the_cache_stays_bounded() -> None:
    for version in range(views.JSON_KEPT * 2):
        views.job_json(running(version), account())
    assert len(views._json) <= views.JSON_KEPT
