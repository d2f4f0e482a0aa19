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
