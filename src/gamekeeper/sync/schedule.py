"""Scheduled syncs: an account's `auto_sync_minutes` makes a periodic `sync_games`.

`run_due_syncs` is one tick of the schedule. The embedded mode calls it from an asyncio
loop (`AutoSyncLoop`, started with `gamekeeper serve`); the procrastinate mode from a
periodic task that procrastinate defers once per tick for all workers together.

Even two schedulers ticking at once start one sync per account and period: each
account's period is claimed by a compare-and-set on its `auto_syncs` row before
anything is created. What the claimed run did is recorded there and logged:

- created: a new scheduled `sync_games` job;
- merged: the account already had a queued sync; the run joins it instead of failing;
- skipped: a sync of the account is running; this period's run is dropped, saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from gamekeeper.errors import Conflict
from gamekeeper.jobs.manager import JobManager
from gamekeeper.storage.base import AutoSyncStore

log = logging.getLogger(__name__)

#: The job a scheduled run creates.
JOB_TYPE = "sync_games"


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduledRun:
    """What one account's scheduled run did."""

    account: str
    #: created, merged or skipped.
    outcome: str
    job_id: str | None
    note: str


async def run_due_syncs(
    store: AutoSyncStore, jobs: JobManager, *, tick_s: float = 60.0
) -> list[ScheduledRun]:
    """Start the syncs that are due: one per account with auto-sync, per period.

    An account is due when its last scheduled run is at least `auto_sync_minutes` old,
    less half a tick, so a run that fell just after a tick is not pushed a whole tick.
    """
    now = jobs.clock.now()
    runs: list[ScheduledRun] = []
    for state in await store.auto_sync_states():
        account = state.account
        period = timedelta(minutes=account.auto_sync_minutes or 0)
        due_before = now - period + min(timedelta(seconds=tick_s / 2), period / 2)
        if state.last_at is not None and state.last_at > due_before:
            continue
        if not await store.claim_auto_sync(account.id, now=now, due_before=due_before):
            continue  # another scheduler took this period
        run = await _start(jobs, account.id, account.owner, account.label)
        await store.record_auto_sync(
            account.id, outcome=run.outcome, job_id=run.job_id, note=run.note
        )
        runs.append(run)
    return runs


async def _start(jobs: JobManager, account_id: int, owner: str, label: str) -> ScheduledRun:
    try:
        job, created = await jobs.schedule(
            JOB_TYPE, owner=owner, parameters={"account_id": account_id}
        )
    except Conflict as conflict:
        note = f"skipped: job {conflict.active_job_id} is running"
        log.info("scheduled sync of %s %s", label, note)
        return ScheduledRun(
            account=label, outcome="skipped", job_id=conflict.active_job_id, note=note
        )
    if created:
        log.info("scheduled sync of %s: job %s", label, job.id)
        return ScheduledRun(account=label, outcome="created", job_id=job.id, note="created")
    note = f"merged into queued job {job.id}"
    log.info("scheduled sync of %s %s", label, note)
    return ScheduledRun(account=label, outcome="merged", job_id=job.id, note=note)


def summary(runs: list[ScheduledRun]) -> dict[str, list[str]]:
    """Runs by outcome, as `account: note` (a periodic task's result, for its log)."""
    out: dict[str, list[str]] = {}
    for run in runs:
        out.setdefault(run.outcome, []).append(f"{run.account}: {run.note}")
    return out


class AutoSyncLoop:
    """The embedded mode's schedule: a tick every `tick_s` seconds in this process."""

    def __init__(self, store: AutoSyncStore, jobs: JobManager, *, tick_s: float = 60.0) -> None:
        self.store = store
        self.jobs = jobs
        self.tick_s = tick_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._forever(), name="auto-sync schedule")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _forever(self) -> None:
        while True:
            try:
                await run_due_syncs(self.store, self.jobs, tick_s=self.tick_s)
            except Exception:  # a database hiccup must not end the schedule
                log.exception("scheduled syncs failed")
            await asyncio.sleep(self.tick_s)
