"""What a sync reports is true: no gaps behind a filtered sync, live progress that never
runs past its total, and a cancel that takes effect wherever the job is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from gamekeeper.bootstrap import Services
from gamekeeper.domain.games import Platform
from gamekeeper.domain.jobs import Job, JobStatus
from gamekeeper.emulators.chesscom import ChessComEmulator
from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.emulators.traffic import LoggedRequest
from tests.integration.sync.conftest import ServicesFactory, finished, run_job, stored_games

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def created_ms(lichess: LichessEmulator, username: str, index: int) -> int:
    account = lichess.corpus.account(username)
    assert account is not None
    return account.created[index]


def day_of(ms: int) -> str:
    return (EPOCH + timedelta(milliseconds=ms)).date().isoformat()


class Snapshots:
    """Every snapshot of one job published in this process, in order."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []


@asynccontextmanager
async def watching(services: Services) -> AsyncIterator[Snapshots]:
    seen = Snapshots()

    async def collect(queue: asyncio.Queue[Job]) -> None:
        while True:
            seen.jobs.append(await queue.get())

    with services.jobs.hub.subscribe() as queue:
        task = asyncio.create_task(collect(queue))
        try:
            yield seen
        finally:
            task.cancel()
            while not queue.empty():
                seen.jobs.append(queue.get_nowait())


async def until(services: Services, job_id: str, check: Any, timeout: float = 20) -> Job:
    """The first snapshot of the job for which `check(job)` holds."""

    async def follow() -> Job:
        async for job in services.jobs.watch(job_id):
            if check(job):
                return job
        raise AssertionError("the job ended first")

    return await asyncio.wait_for(follow(), timeout)


def assert_truthful(snapshots: list[Job], *, resumed_from: float | None = None) -> None:
    """done <= total in every snapshot, done never goes back within a phase, and the
    fraction never falls (nor, after a resume, starts below where it had got)."""
    last: dict[str | None, int] = {}
    fraction = resumed_from or 0.0
    for job in snapshots:
        p = job.progress
        if p.total is not None:
            assert p.done <= p.total, (p.done, p.total)
        assert p.done >= last.get(job.phase, 0), (job.phase, p.done, last)
        last[job.phase] = p.done
        if job.phase == "fetching" and p.fraction is not None:
            assert p.fraction >= fraction - 1e-9, (p.fraction, fraction)
            fraction = p.fraction


# -- 1. a filtered sync never makes the history look complete -----------------------


async def test_a_since_sync_then_a_plain_one_stores_the_whole_history(
    services: Services, lichess: LichessEmulator
) -> None:
    since = day_of(created_ms(lichess, "alice", 300))
    account = await services.accounts.add("admin", "lichess", "alice")
    limited = await run_job(services, "sync_games", account, since=since)
    assert limited.status is JobStatus.COMPLETED, limited.error
    kept = limited.counters["inserted"]
    assert 0 < kept < 600
    assert limited.result["missing"] == [{"from": None, "to": since}]
    assert any(f"before {since}" in reason for reason in limited.result["reasons"])
    assert not any("does not return" in reason for reason in limited.result["reasons"])

    lichess.log.clear()
    plain = await run_job(services, "sync_games", account)
    assert plain.status is JobStatus.COMPLETED, plain.error
    stored = await stored_games(services, Platform.LICHESS, "alice")
    assert len(stored) == 600
    assert plain.counters["inserted"] == 600 - kept
    assert plain.result["missing"] == []
    assert plain.result["difference"] == 0
    assert plain.result["reasons"] == []
    exports = [e for e in lichess.log.entries if e.path == "/api/games/user/alice"]
    # The gap before `since`, then what came after the last sync: nothing twice but
    # the boundary games.
    assert "since" not in exports[0].query and "until" in exports[0].query
    assert plain.counters["found"] <= 600 - kept + 3


async def test_filtered_syncs_leave_the_scheduled_plain_sync_nothing_missing(
    services: Services, lichess: LichessEmulator
) -> None:
    """max, then since (a later stretch), then plain: every game once, nothing missing."""
    account = await services.accounts.add("admin", "lichess", "alice")
    first = await run_job(services, "sync_games", account, max=100)
    assert first.counters["inserted"] == 100
    assert first.result["missing"] == []  # the oldest 100: nothing before them is missing
    later = await run_job(
        services, "sync_metadata", account, since=day_of(created_ms(lichess, "alice", 400))
    )
    gap = later.result["missing"]
    assert len(gap) == 1 and gap[0]["from"] is not None
    plain = await run_job(services, "sync_games", account)
    assert plain.result["missing"] == []
    assert len(await stored_games(services, Platform.LICHESS, "alice")) == 600
    assert await services.store.count_games() == 600


async def test_chesscom_since_then_plain_fetches_the_older_months(
    services: Services, chesscom: ChessComEmulator
) -> None:
    player = chesscom.corpus.account("erik")
    assert player is not None
    months = sorted(player.months)
    assert len(months) >= 3
    middle = months[len(months) // 2]
    account = await services.accounts.add("admin", "chesscom", "erik")
    limited = await run_job(services, "sync_games", account, since=middle.replace("/", "-") + "-01")
    assert limited.status is JobStatus.COMPLETED, limited.error
    assert 0 < limited.counters["inserted"] < 250
    assert limited.result["missing"] == [{"from": None, "to": middle}]

    chesscom.log.clear()
    plain = await run_job(services, "sync_games", account)
    assert plain.status is JobStatus.COMPLETED, plain.error
    assert await services.store.count_games() == 250
    assert plain.result["missing"] == []
    asked = [e.path.rsplit("/games/", 1)[1] for e in chesscom.log.entries if "/games/20" in e.path]
    # The months before `since`, then the newest one again (it may have grown).
    assert asked == [m for m in months if m < middle] + [months[-1]]


# -- 2 and 3. live progress, true at every moment -----------------------------------------


async def test_progress_counts_games_as_they_arrive_not_per_batch(
    services: Services, lichess: LichessEmulator
) -> None:
    lichess.faults.stall_streams, lichess.faults.stall_after = 1, 137
    account = await services.accounts.add("admin", "lichess", "alice")
    job = await services.jobs.create(
        "sync_games", owner="admin", parameters={"account_id": account.id}
    )
    stalled = await until(services, job.id, lambda j: j.progress.done == 137)
    assert stalled.counters["inserted"] == 0  # nothing committed yet: a batch is 1,000
    assert stalled.progress.total == 600
    assert stalled.progress.fraction is not None
    assert abs(stalled.progress.fraction - 137 / 600) < 1e-9
    await services.jobs.cancel(job.id)
    await finished(services, job.id)


async def test_progress_is_true_on_a_resync(services: Services, lichess: LichessEmulator) -> None:
    account = await services.accounts.add("admin", "lichess", "alice")
    async with watching(services) as first:
        await run_job(services, "sync_games", account)
    assert_truthful(first.jobs)
    lichess.corpus.add_games("alice", 4)
    async with watching(services) as again:
        job = await run_job(services, "sync_games", account)
    assert_truthful(again.jobs)
    assert job.progress.done == job.progress.total
    assert job.progress.fraction == 1.0
    fetching = [j for j in again.jobs if j.phase == "fetching"]
    assert fetching[0].progress.done == 0
    assert all(j.progress.total is not None and j.progress.total <= 8 for j in fetching)


async def test_progress_of_games_another_user_already_stored(
    services: Services, lichess: LichessEmulator
) -> None:
    theirs = await services.accounts.add("admin", "lichess", "bob")
    await run_job(services, "sync_games", theirs)
    await services.users.add_user("mallory")
    mine = await services.accounts.add("mallory", "lichess", "bob")
    async with watching(services) as seen:
        job = await services.jobs.create(
            "sync_games", owner="mallory", parameters={"account_id": mine.id}
        )
        job = await finished(services, job.id)
    assert_truthful(seen.jobs)
    started = next(j for j in seen.jobs if j.phase == "fetching")
    assert started.progress.total == 30  # this account has fetched nothing yet
    fetching = next(p for p in job.phases if p.name == "fetching")
    assert (fetching.done, fetching.total) == (30, 30)
    # The games were stored by the other user's sync: this one analyses none of them.
    assert (job.progress.done, job.progress.total) == (0, 0)


async def test_progress_goes_on_where_it_stopped_after_a_resume(
    make_services: ServicesFactory, lichess: LichessEmulator
) -> None:
    lichess.corpus.add_games("alice", 1400)  # 2,000 in all
    lichess.faults.stall_streams, lichess.faults.stall_after = 1, 1500
    first = await make_services()
    account = await first.accounts.add("admin", "lichess", "alice")
    job = await first.jobs.create(
        "sync_games", owner="admin", parameters={"account_id": account.id}
    )
    await until(first, job.id, lambda j: j.counters["inserted"] == 1000)
    stopped = await until(first, job.id, lambda j: j.progress.done == 1500)
    await first.aclose()  # the process stops: the job goes back to the queue

    second = await make_services()
    parked = await second.jobs.get(job.id)
    assert parked.status is JobStatus.QUEUED
    checkpoint_fraction = 1000 / 2000
    async with watching(second) as seen:
        await second.jobs.sweep(resubmit_queued=True)
        final = await finished(second, job.id)
    assert final.status is JobStatus.COMPLETED, final.error
    assert stopped.progress.total == 2000
    assert_truthful(seen.jobs, resumed_from=checkpoint_fraction)
    assert (final.progress.done, final.progress.total) == (2000, 2000)
    assert await second.store.count_games() == 2000


# -- 4. cancel takes effect wherever the job is --------------------------------------


async def test_cancel_mid_stream_commits_what_arrived(
    services: Services, lichess: LichessEmulator
) -> None:
    lichess.faults.stall_streams, lichess.faults.stall_after = 1, 250
    account = await services.accounts.add("admin", "lichess", "alice")
    job = await services.jobs.create(
        "sync_games", owner="admin", parameters={"account_id": account.id}
    )
    await until(services, job.id, lambda j: j.progress.done == 250)
    await services.jobs.cancel(job.id)  # the stream is stalled for an hour
    final = await asyncio.wait_for(finished(services, job.id), 15)
    assert final.status is JobStatus.CANCELLED
    assert final.counters["inserted"] == 250
    assert await services.store.count_games() == 250

    lichess.log.clear()
    rest = await run_job(services, "sync_games", account)
    assert rest.counters["inserted"] == 350
    assert await services.store.count_games() == 600


async def test_cancel_during_a_cool_down_keeps_the_games_received(
    make_services: ServicesFactory, lichess: LichessEmulator
) -> None:
    services = await make_services(lichess_cooldown_s=3600.0, upstream_read_timeout_s=0.5)
    # The profile and the export pass; the export goes quiet after 120 games (so it
    # counts as broken), and its retry is answered 429: an hour's cool-down.
    lichess.faults.stall_streams, lichess.faults.stall_after = 1, 120
    lichess.faults.budget, lichess.faults.budget_window_s = 2, 3600.0
    account = await services.accounts.add("admin", "lichess", "alice")
    job = await services.jobs.create(
        "sync_games", owner="admin", parameters={"account_id": account.id}
    )
    waiting = await until(services, job.id, lambda j: j.wait is not None and "429" in j.wait.reason)
    assert waiting.status is JobStatus.WAITING
    await services.jobs.cancel(job.id)
    final = await asyncio.wait_for(finished(services, job.id), 15)
    assert final.status is JobStatus.CANCELLED
    assert final.counters["inserted"] == 120
    assert await services.store.count_games() == 120


async def test_a_cancel_from_another_process_takes_effect_mid_stream(
    make_services: ServicesFactory, lichess: LichessEmulator
) -> None:
    lichess.faults.stall_streams, lichess.faults.stall_after = 1, 50
    running = await make_services()  # heartbeats every 30 s (FAST)
    elsewhere = await make_services()  # e.g. `gamekeeper jobs cancel` in a terminal
    account = await running.accounts.add("admin", "lichess", "alice")
    job = await running.jobs.create(
        "sync_games", owner="admin", parameters={"account_id": account.id}
    )
    await until(running, job.id, lambda j: j.progress.done == 50)
    await elsewhere.jobs.cancel(job.id)
    final = await asyncio.wait_for(finished(running, job.id), 15)
    assert final.status is JobStatus.CANCELLED
    assert final.counters["inserted"] == 50


# -- 5. one request in flight per site, whichever process asks ------------------------


async def test_two_processes_on_one_database_never_both_talk_to_lichess(
    make_services: ServicesFactory, lichess: LichessEmulator
) -> None:
    lichess.faults.games_per_s = 300  # streams long enough to overlap (2 s)
    server = await make_services()  # e.g. `gamekeeper serve`
    terminal = await make_services()  # e.g. `gamekeeper sync` beside it
    alice = await server.accounts.add("admin", "lichess", "alice")
    bob = await terminal.accounts.add("admin", "lichess", "bob")
    first = await server.jobs.create(
        "sync_games", owner="admin", parameters={"account_id": alice.id}
    )

    def streaming(entries: list[LoggedRequest]) -> bool:
        return any(e.path == "/api/games/user/alice" and e.items_sent > 0 for e in entries)

    assert await asyncio.to_thread(lichess.log.wait_for, streaming, timeout=20)
    second = await terminal.jobs.create(
        "sync_games", owner="admin", parameters={"account_id": bob.id}
    )
    done = [await finished(server, first.id), await finished(terminal, second.id)]
    assert [j.status for j in done] == [JobStatus.COMPLETED, JobStatus.COMPLETED]
    assert lichess.max_concurrent == 1
    assert [e for e in lichess.log.entries if e.status == 429] == []
    assert await server.store.count_games() == 630
