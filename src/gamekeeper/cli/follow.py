"""Following a job in the foreground: a live display, Ctrl-C as a clean cancel."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from gamekeeper.cli.render import analysis_positions, counters_line, format_progress, format_wait
from gamekeeper.domain.jobs import Job, JobStatus

if TYPE_CHECKING:
    from gamekeeper.bootstrap import Services

#: Exit codes of a job followed in the foreground (0: completed): it failed; it was
#: cancelled or Ctrl-C stopped it (128 + SIGINT, as a shell reports it).
FAILED_EXIT, CANCELLED_EXIT = 1, 130


def exit_code(final: Job, interrupted: bool) -> int:
    """The command's exit code for the job's final state."""
    if final.status is JobStatus.CANCELLED or interrupted:
        return CANCELLED_EXIT
    return 0 if final.status is JobStatus.COMPLETED else FAILED_EXIT


#: Seconds between redraws of the live display (the countdown ticks with them).
REFRESH_S = 0.25
#: The positions rate is measured over about this many seconds of the latest snapshots.
RATE_WINDOW_S = 10.0


class PositionRate:
    """Positions per second of a followed analysis, over the last `window_s` seconds."""

    def __init__(self, window_s: float = RATE_WINDOW_S) -> None:
        self.window_s = window_s
        self.samples: collections.deque[tuple[float, int]] = collections.deque()

    def add(self, at: float, positions: int) -> float | None:
        """Take a snapshot's count at monotonic time `at`; the rate (None: not known yet)."""
        if self.samples and positions < self.samples[-1][1]:
            self.samples.clear()  # another run's count: start again
        self.samples.append((at, positions))
        while len(self.samples) > 2 and at - self.samples[1][0] >= self.window_s:
            self.samples.popleft()
        first_at, first = self.samples[0]
        if at <= first_at or positions <= first:
            return None
        return (positions - first) / (at - first_at)


def render_live(job: Job, now: datetime, positions_per_s: float | None = None) -> RenderableType:
    """What the terminal shows while a job runs: phase, bar, rate, ETA, or the countdown."""
    title = Text(f"{job.job_type} {job.id}", style="bold")
    lines: list[RenderableType] = [title]
    if job.status is JobStatus.WAITING and job.wait is not None:
        lines.append(Text(format_wait(job.wait, now), style="yellow"))
    progress = job.progress
    bar = ProgressBar(
        total=float(progress.total) if progress.total else None,
        completed=float(progress.done),
        width=40,
    )
    row = Table.grid(padding=(0, 1))
    row.add_row(bar, Text(format_progress(job, positions_per_s)))
    lines.append(row)
    lines.append(Text(counters_line(job), style="dim"))
    if job.cancel_requested and job.status.active:
        lines.append(Text("cancelling: keeping what was received…", style="yellow"))
    return Group(*lines)


def describe_change(previous: Job | None, job: Job, now: datetime) -> str | None:
    """A line for a log-style display (no terminal): status, phase and waits, not every tick."""
    if previous is None:
        return f"{job.job_type} {job.id}: {job.status.value}"
    if job.status is JobStatus.WAITING and job.wait is not None and job.wait != previous.wait:
        return format_wait(job.wait, now)
    if job.status is not previous.status:
        return f"{job.status.value}"
    if job.phase != previous.phase and job.phase:
        total = f" ({job.progress.total:,} to do)" if job.progress.total else ""
        return f"phase {job.phase}{total}"
    return None


def summary_lines(job: Job) -> list[str]:
    """What is printed when a followed job ends."""
    lines = [f"{job.job_type} {job.id} {job.status.value}: {counters_line(job)}"]
    if job.error:
        lines.append(f"error: {job.error}")
    result = job.result if isinstance(job.result, dict) else {}
    if "site_total" in result:
        site_total = result["site_total"]
        counted = "unknown" if site_total is None else f"{site_total:,}"
        lines.append(
            f"{result.get('site', 'site')} reports {counted} games; {result['stored']:,} stored"
        )
        lines.extend(f"  - {reason}" for reason in result.get("reasons", []))
    for error in job.errors[-5:]:
        lines.append(f"  item {error.item}: {error.message}")
    return lines


async def follow_job(
    services: Services,
    job: Job,
    console: Console,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> tuple[Job, bool]:
    """Show a job until it ends; the first Ctrl-C asks it to stop cleanly.

    Returns the final job and whether the user interrupted.
    """
    interrupted = asyncio.Event()
    cancelling: list[asyncio.Task[Job]] = []
    loop = asyncio.get_running_loop()

    def on_interrupt() -> None:
        interrupted.set()
        # A second Ctrl-C gets Python's default: stop at once (the job is handed back).
        loop.remove_signal_handler(signal.SIGINT)
        console.print("cancelling: keeping what was received (Ctrl-C again to quit now)…")
        cancelling.append(loop.create_task(services.jobs.cancel(job.id)))

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, on_interrupt)
    latest = [job]  # the lambda below redraws whatever arrived last
    rate = PositionRate()
    rates: list[float | None] = [None]
    try:
        if console.is_terminal:
            with Live(
                get_renderable=lambda: render_live(latest[0], clock(), rates[0]),
                console=console,
                refresh_per_second=1 / REFRESH_S,
                transient=True,
            ):
                async for seen in services.jobs.watch(job.id):
                    positions = analysis_positions(seen)
                    if positions is not None:
                        rates[0] = rate.add(time.monotonic(), positions)
                    latest[0] = seen
        else:
            previous: Job | None = None
            async for seen in services.jobs.watch(job.id):
                line = describe_change(previous, seen, clock())
                if line:
                    console.print(line, highlight=False)
                previous = latest[0] = seen
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
        # The job may end before the cancel request is through: let it finish before the
        # services close under it (its outcome is the job's, shown above).
        for task in cancelling:
            with contextlib.suppress(Exception):
                await task
    return latest[0], interrupted.is_set()
