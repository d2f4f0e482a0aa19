from __future__ import annotations

import pytest

from gamekeeper.domain.jobs import JobStatus, Progress, check_transition, new_job_id
from gamekeeper.errors import IllegalTransition


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (JobStatus.QUEUED, JobStatus.RUNNING),
        (JobStatus.RUNNING, JobStatus.WAITING),
        (JobStatus.WAITING, JobStatus.RUNNING),
        (JobStatus.RUNNING, JobStatus.COMPLETED),
        (JobStatus.WAITING, JobStatus.CANCELLED),
        (JobStatus.RUNNING, JobStatus.QUEUED),
    ],
)
def test_legal_transitions(current: JobStatus, target: JobStatus) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (JobStatus.COMPLETED, JobStatus.RUNNING),
        (JobStatus.CANCELLED, JobStatus.QUEUED),
        (JobStatus.FAILED, JobStatus.COMPLETED),
        (JobStatus.QUEUED, JobStatus.WAITING),
        (JobStatus.QUEUED, JobStatus.COMPLETED),
        (JobStatus.WAITING, JobStatus.COMPLETED),
    ],
)
def test_illegal_transitions_are_rejected(current: JobStatus, target: JobStatus) -> None:
    with pytest.raises(IllegalTransition, match=f"{current.value} job cannot become"):
        check_transition(current, target)


def test_job_ids_are_job_and_12_hex() -> None:
    job_id = new_job_id()
    assert job_id.startswith("job_") and len(job_id) == 16
    int(job_id[4:], 16)


def test_progress_fraction() -> None:
    assert Progress(done=5, total=20).fraction == 0.25
    assert Progress(done=5).fraction is None
    assert Progress(done=0, total=0).fraction is None
