"""The phases every sync shows, and how they end."""

from __future__ import annotations

from gamekeeper.jobs.context import JobContext


async def finish_phases(ctx: JobContext, *, enriched: bool) -> None:
    """Close `fetching`; `enriching` ran batch by batch with it. `analyzing` comes next
    (`sync.analyze.analyze_synced`, run by the sync kind once the fetch is reported)."""
    count = ctx.counters.get("enriched", 0)
    if enriched:
        await ctx.start_phase("enriching", total=count, note="parsed batch by batch while fetching")
        await ctx.report_progress(count)
    else:
        await ctx.skip_phase("enriching", "metadata only: moves come with sync_moves")
