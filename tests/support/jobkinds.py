"""Job kinds for testing the engine: they write one row per item, in checkpointed batches."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from gamekeeper.jobs.context import JobContext
from gamekeeper.jobs.registry import JobRegistry
from gamekeeper.storage.base import Tx
from gamekeeper.storage.sql.store import SqlTx
from tests.support.clock import FakeClock

item_metadata = sa.MetaData()
#: No unique key on purpose: a replayed batch would show up as a duplicate row.
test_items = sa.Table(
    "test_items",
    item_metadata,
    sa.Column("job_id", sa.String(20), nullable=False),
    sa.Column("item", sa.Integer, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
)


def create_item_table(engine: sa.Engine) -> None:
    item_metadata.create_all(engine)


def write_batch(tx: Tx, job_id: str, items: range, attempt: int) -> dict[str, int]:
    assert isinstance(tx, SqlTx)
    tx.conn.execute(
        test_items.insert(), [{"job_id": job_id, "item": i, "attempt": attempt} for i in items]
    )
    return {"inserted": len(items)}


@dataclass
class Controls:
    """Events a test uses to hold a job at a point and to learn it got there."""

    reached: defaultdict[str, asyncio.Event] = field(
        default_factory=lambda: defaultdict(asyncio.Event)
    )
    release: defaultdict[str, asyncio.Event] = field(
        default_factory=lambda: defaultdict(asyncio.Event)
    )
    hold: set[str] = field(default_factory=set)

    async def point(self, name: str) -> None:
        self.reached[name].set()
        if name in self.hold:
            await self.release[name].wait()


def make_registry(controls: Controls | None = None, clock: FakeClock | None = None) -> JobRegistry:
    controls = controls or Controls()
    registry = JobRegistry()

    @registry.register("write_items", family="items")
    async def write_items(
        ctx: JobContext, *, count: int, batch: int = 10, account_id: int | None = None
    ) -> None:
        ctx.set_phases("writing", "checking")
        start = ctx.resume_from or 0
        await ctx.start_phase("writing", total=count)
        await ctx.report_progress(start)
        for first in range(start, count, batch):
            await controls.point(f"batch:{first // batch}")
            items = range(first, min(first + batch, count))
            await ctx.checkpoint(
                items.stop,
                lambda tx, items=items: write_batch(tx, ctx.job_id, items, ctx.job.attempt),
            )
            await ctx.report_progress(items.stop)
            ctx.raise_if_cancelled()
        await ctx.skip_phase("checking", "nothing to check")
        ctx.set_result({"written": count - start})

    @registry.register("waits", family="items")
    async def waits(ctx: JobContext, *, seconds: float, account_id: int | None = None) -> None:
        until = ctx.now() + timedelta(seconds=seconds)
        await controls.point("before-wait")
        await ctx.wait(until, "testing a long wait")

    @registry.register("abandoned_wait")
    async def abandoned_wait(ctx: JobContext) -> None:
        """Like the upstream gate: start a wait, then stop waiting early (asyncio cancel)."""
        waiting = asyncio.create_task(ctx.wait(ctx.now() + timedelta(hours=1), "slot busy"))
        while ctx.job.status.value != "waiting":  # noqa: ASYNC110 - a yield loop, no timer
            await asyncio.sleep(0)  # let the wait begin (a yield, not a timer)
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        ctx.set_result({"status_after_wait": ctx.job.status.value})

    @registry.register("progress_steps")
    async def progress_steps(ctx: JobContext, *, steps: int, step_s: float) -> None:
        assert clock is not None, "progress_steps needs the test's FakeClock"
        await ctx.start_phase("stepping", total=steps)
        for done in range(1, steps + 1):
            clock.advance(step_s)
            await ctx.report_progress(done)

    @registry.register("fails")
    async def fails(ctx: JobContext, *, message: str) -> None:
        raise ValueError(message)

    @registry.register("holds", family="items")
    async def holds(ctx: JobContext, *, account_id: int | None = None) -> None:
        await controls.point("holding")

    return registry
