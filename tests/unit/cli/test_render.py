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


def _analysing(result: object, **progress: object) -> Job:
    from gamekeeper.domain.jobs import JobStatus

    return Job(
        id="job_000000000003",
        job_type="analyze",
        family="analysis",
        owner="admin",
        status=JobStatus.RUNNING,
        phase="analyzing",
        progress=Progress(**progress),  # type: ignore[arg-type]
        result=result,  # type: ignore[arg-type]
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_analysis_progress_shows_positions_per_second_and_eta() -> None:
    job = _analysing(
        {"games": 12, "positions": 2520, "engine_evals": 2400, "cache_hits": 120},
        done=12,
        total=40,
        rate_per_s=0.43,
        eta_s=65.1,
    )
    line = "analyzing 12/40 games (30%) · 2,520 positions · 310 positions/s · ETA 1m05s"
    assert format_progress(job, 310.4) == line
    # No rate measured yet: the count alone; a sync's analyzing phase reads its part.
    sync = _analysing({"fetched": 40, "analysis": {"positions": 0}}, done=0, total=40)
    assert format_progress(sync) == "analyzing 0/40 games (0%) · 0 positions"
    # Without positions in the result (not started yet), as any other job.
    assert format_progress(_analysing(None, done=0, total=40)) == "analyzing 0/40 (0%)"


def test_live_display_of_an_analysis() -> None:
    from rich.console import Console

    from gamekeeper.cli.follow import render_live

    job = _analysing({"positions": 1000}, done=5, total=20, eta_s=30)
    console = Console(width=140, record=True)
    console.print(render_live(job, datetime(2026, 1, 1, tzinfo=UTC), 123.6))
    text = console.export_text()
    assert "analyzing 5/20 games (25%) · 1,000 positions · 124 positions/s · ETA 30s" in text


def test_position_rate_over_a_window() -> None:
    from gamekeeper.cli.follow import PositionRate

    rate = PositionRate(window_s=10)
    assert rate.add(100.0, 0) is None  # one sample: no rate yet
    assert rate.add(102.0, 400) == 200.0
    assert rate.add(104.0, 1200) == 300.0  # (1200 - 0) / 4 s
    # Samples beyond the window drop out (the oldest kept covers at least 10 s).
    assert rate.add(113.0, 2600) == 200.0  # (2600 - 400) / (113 - 102)
    assert [at for at, _ in rate.samples] == [102.0, 104.0, 113.0]
    assert rate.add(114.0, 5) is None  # a new run's count starts over
