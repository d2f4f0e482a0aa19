"""How jobs look in a terminal: pure functions from a `Job` to text and Rich renderables."""

from __future__ import annotations

from datetime import datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from gamekeeper.domain.jobs import Job, JobStatus, Wait


def format_duration(seconds: float) -> str:
    """`42s`, `3m05s`, `1h02m`."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def format_wait(wait: Wait, now: datetime) -> str:
    """The countdown shown while a job waits: `waiting 42s: <reason> (resumes 12:00:42)`."""
    left = (wait.resume_at - now).total_seconds()
    at = wait.resume_at.astimezone().strftime("%H:%M:%S")
    return f"waiting {format_duration(left)}: {wait.reason} (resumes {at})"


def format_amount(value: float, unit: str | None) -> str:
    """A count (`1,200`), or bytes in MB (`12.5 MB`)."""
    if unit == "bytes":
        return f"{value / 1_000_000:,.1f} MB"
    return f"{value:,.0f}"


def analysis_positions(job: Job) -> int | None:
    """Positions evaluated so far while a job is `analyzing` (its live result's
    `positions`, or a sync's `analysis.positions`); None otherwise."""
    if job.phase != "analyzing" or not isinstance(job.result, dict):
        return None
    part = job.result.get("analysis", job.result)
    positions = part.get("positions") if isinstance(part, dict) else None
    if isinstance(positions, int) and not isinstance(positions, bool) and positions >= 0:
        return positions
    return None


def format_progress(job: Job, positions_per_s: float | None = None) -> str:
    """`fetching 1,200/5,000 (24%) · 310/s · ETA 12s` (bytes shown in MB); while
    analysing, `analyzing 12/40 games (30%) · 2,520 positions · 310 positions/s · ETA 1m05s`
    (the progress counts games, the rate is the engine's, in positions)."""
    progress = job.progress
    unit = progress.unit
    positions = analysis_positions(job)
    things = " games" if positions is not None else ""
    parts = [job.phase or job.status.value]
    if progress.total is not None:
        fraction = progress.fraction or 0.0
        done, total = format_amount(progress.done, unit), format_amount(progress.total, unit)
        parts[0] += f" {done}/{total}{things} ({fraction:.0%})"
    else:
        parts[0] += f" {format_amount(progress.done, unit)}{things}"
    if positions is not None:
        parts.append(f"{positions:,} positions")
        if positions_per_s:
            parts.append(f"{positions_per_s:,.0f} positions/s")
    elif progress.rate_per_s:
        parts.append(f"{format_amount(progress.rate_per_s, unit)}/s")
    if progress.eta_s is not None:
        parts.append(f"ETA {format_duration(progress.eta_s)}")
    return " · ".join(parts)


def counters_line(job: Job) -> str:
    shown = [f"{name} {value:,}" for name, value in job.counters.items() if value]
    return ", ".join(shown) or "nothing counted"


def job_summary(job: Job) -> str:
    """One line about a job, for listings and the end of a command."""
    if job.status is JobStatus.FAILED:
        return f"failed: {job.error}"
    if job.status is JobStatus.WAITING and job.wait is not None:
        return job.wait.reason
    if job.status.active:
        return format_progress(job)
    return counters_line(job)


def render_job(job: Job) -> RenderableType:
    """A job in full, for `gamekeeper jobs show`."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    account = f"account {job.account_id}" if job.account_id is not None else "-"
    rows = [
        ("id", job.id),
        ("type", job.job_type),
        ("status", job.status.value + (" (cancel requested)" if job.cancel_requested else "")),
        ("account", account),
        ("parameters", ", ".join(f"{k}={v}" for k, v in job.parameters.items()) or "-"),
        ("progress", format_progress(job)),
        ("counters", counters_line(job)),
        ("attempt", str(job.attempt)),
        ("created", job.created_at.isoformat(timespec="seconds")),
        ("finished", job.finished_at.isoformat(timespec="seconds") if job.finished_at else "-"),
    ]
    if job.wait is not None:
        rows.append(("waiting", f"{job.wait.reason} until {job.wait.resume_at.isoformat()}"))
    if job.error:
        rows.append(("error", job.error))
    if job.result:
        rows.append(("result", str(job.result)))
    for name, value in rows:
        table.add_row(name, Text(value))
    parts: list[RenderableType] = [table]
    if job.phases:
        phases = Table("phase", "status", "done", "total", "note", title="phases")
        for p in job.phases:
            total = f"{p.total:,}" if p.total is not None else "-"
            phases.add_row(p.name, p.status.value, f"{p.done:,}", total, p.note or "")
        parts.append(phases)
    if job.errors:
        errors = Table("at", "item", "message", title=f"recent item errors ({len(job.errors)})")
        for e in job.errors:
            errors.add_row(e.at.strftime("%H:%M:%S"), e.item, Text(e.message))
        parts.append(errors)
    return Group(*parts)
