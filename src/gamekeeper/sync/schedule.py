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

A tick is bounded: each owner's runs count against their per-user creation limit
(`GAMEKEEPER_JOB_CREATE_LIMIT` per `_WINDOW_S`, the same as jobs made by hand), and one
tick starts at most `GAMEKEEPER_AUTO_SYNC_MAX_PER_TICK` in all. What doesn't fit is not
claimed, so it is still due at the next tick ("deferred"), where it goes first: due
accounts are taken longest-waiting first, one owner after another in turn, so one
user's three hundred accounts can't hold back everybody else's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from gamekeeper.domain.accounts import Account
from gamekeeper.errors import Conflict, RateLimited
from gamekeeper.jobs.manager import JobManager
from gamekeeper.storage.base import AutoSyncState, AutoSyncStore

log = logging.getLogger(__name__)

#: The job a scheduled run creates.
JOB_TYPE = "sync_games"


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduledRun:
    """What one account's scheduled run did."""

    account: str
    #: created, merged, skipped or deferred.
    outcome: str
    job_id: str | None
    note: str


async def run_due_syncs(
    store: AutoSyncStore,
    jobs: JobManager,
    *,
    tick_s: float = 60.0,
    max_per_tick: int | None = None,
) -> list[ScheduledRun]:
    """Start the syncs that are due: one per account with auto-sync, per period, within
    each owner's creation limit and `max_per_tick` (the rest are "deferred").

    An account is due when its last scheduled run is at least `auto_sync_minutes` old,
    less half a tick, so a run that fell just after a tick is not pushed a whole tick.
    """
    now = jobs.clock.now()
    due = [
        (state, before)
        for state in await store.auto_sync_states()
        if (before := _due(state, now, tick_s))
    ]
    # Longest waiting first (never run before all), then by id: the order is stable, so
    # what a tick defers is first in line at the next.
    due.sort(
        key=lambda item: (item[0].last_at is not None, item[0].last_at or now, item[0].account.id)
    )
    queues: dict[str, deque[tuple[AutoSyncState, datetime]]] = {}
    for item in due:
        queues.setdefault(item[0].account.owner, deque()).append(item)
    budgets = {owner: await jobs.creation_budget(owner) for owner in queues}
    runs: list[ScheduledRun] = []
    created = 0
    while queues and (max_per_tick is None or created < max_per_tick):
        for owner in list(queues):  # one run per owner per round: owners take turns
            if max_per_tick is not None and created >= max_per_tick:
                break
            queue = queues[owner]
            if budgets[owner] > 0:
                state, due_before = queue.popleft()
                run = await _claim_and_start(store, jobs, state, now=now, due_before=due_before)
                if run is not None:
                    runs.append(run)
                    if run.outcome == "created":
                        budgets[owner] -= 1
                        created += 1
                    elif run.outcome == "deferred":
                        budgets[owner] = 0
            if not queue or budgets[owner] <= 0:
                runs += [_deferred(s.account, "its owner's job creation limit") for s, _ in queue]
                del queues[owner]
    runs += [_deferred(s.account, "this tick's limit") for q in queues.values() for s, _ in q]
    return runs


def _due(state: AutoSyncState, now: datetime, tick_s: float) -> datetime | None:
    """The claim's `due_before` if the account's scheduled run is due, else None."""
    period = timedelta(minutes=state.account.auto_sync_minutes or 0)
    due_before = now - period + min(timedelta(seconds=tick_s / 2), period / 2)
    if state.last_at is not None and state.last_at > due_before:
        return None
    return due_before


def _deferred(account: Account, reason: str) -> ScheduledRun:
    note = f"deferred to the next tick: {reason} is reached"
    log.info("scheduled sync of %s %s", account.label, note)
    return ScheduledRun(account=account.label, outcome="deferred", job_id=None, note=note)


async def _claim_and_start(
    store: AutoSyncStore,
    jobs: JobManager,
    state: AutoSyncState,
    *,
    now: datetime,
    due_before: datetime,
) -> ScheduledRun | None:
    """Claim the account's period and start its run; None if another scheduler has it."""
    account = state.account
    if not await store.claim_auto_sync(account.id, now=now, due_before=due_before):
        return None  # another scheduler took this period
    try:
        run = await _start(jobs, account.id, account.owner, account.label)
    except RateLimited:
        # Someone created jobs between the plan and now: give the period back, so the
        # account stays due (and first in line) at the next tick.
        await store.release_auto_sync(account.id, claimed_at=now, previous=state.last_at)
        return _deferred(account, "its owner's job creation limit")
    await store.record_auto_sync(account.id, outcome=run.outcome, job_id=run.job_id, note=run.note)
    return run


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

    def __init__(
        self,
        store: AutoSyncStore,
        jobs: JobManager,
        *,
        tick_s: float = 60.0,
        max_per_tick: int | None = None,
    ) -> None:
        self.store = store
        self.jobs = jobs
        self.tick_s = tick_s
        self.max_per_tick = max_per_tick
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
                await run_due_syncs(
                    self.store, self.jobs, tick_s=self.tick_s, max_per_tick=self.max_per_tick
                )
            except Exception:  # a database hiccup must not end the schedule
                log.exception("scheduled syncs failed")
            await asyncio.sleep(self.tick_s)
