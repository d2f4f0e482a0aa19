from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gamekeeper.cli.render import format_duration, format_progress, format_wait
from gamekeeper.domain.jobs import Job, Progress, Wait


def test_format_duration() -> None:
    assert [format_duration(s) for s in (0, 42.4, 185, 3725)] == ["0s", "42s", "3m05s", "1h02m"]


def test_wait_countdown_says_how_long_and_why() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    wait = Wait(reason="lichess.org rate limit (429)", resume_at=now + timedelta(seconds=42))
    text = format_wait(wait, now)
    assert text.startswith("waiting 42s: lichess.org rate limit (429) (resumes ")
    assert format_wait(wait, now + timedelta(seconds=40)).startswith("waiting 2s:")


def test_progress_line() -> None:
    job = Job(
        id="job_000000000001",
        job_type="sync_games",
        family="sync",
        owner="admin",
        phase="fetching",
        progress=Progress(done=1200, total=5000, rate_per_s=310.4, eta_s=12.2),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert format_progress(job) == "fetching 1,200/5,000 (24%) · 310/s · ETA 12s"


def test_live_display_shows_the_countdown_while_waiting() -> None:
    from rich.console import Console

    from gamekeeper.cli.follow import describe_change, render_live
    from gamekeeper.domain.jobs import JobStatus

    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    running = Job(
        id="job_000000000001",
        job_type="sync_games",
        family="sync",
        owner="admin",
        status=JobStatus.RUNNING,
        phase="fetching",
        progress=Progress(done=10, total=100),
        created_at=now,
    )
    waiting = Job(
        **{
            **{f: getattr(running, f) for f in running.__dataclass_fields__},
            "status": JobStatus.WAITING,
            "wait": Wait(reason="lichess.org answered 429", resume_at=now + timedelta(seconds=60)),
        }
    )
    console = Console(width=120, record=True)
    console.print(render_live(waiting, now + timedelta(seconds=15)))
    text = console.export_text()
    assert "waiting 45s: lichess.org answered 429" in text
    assert "fetching 10/100 (10%)" in text
    assert describe_change(running, waiting, now) is not None
    assert describe_change(running, waiting, now).startswith("waiting 1m00s")  # type: ignore[union-attr]
    assert describe_change(waiting, waiting, now) is None


def test_progress_in_bytes_is_shown_in_megabytes() -> None:
    job = Job(
        id="job_000000000002",
        job_type="import_pgn",
        family="import",
        owner="admin",
        phase="importing",
        progress=Progress(done=120_500_000, total=521_000_000, rate_per_s=26_600_000, unit="bytes"),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert format_progress(job) == "importing 120.5 MB/521.0 MB (23%) · 26.6 MB/s"
