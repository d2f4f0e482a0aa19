"""Runs that were lost (their worker died, or handed the job back): whether the worker
is gone, and when to stop trying.

Runs that made progress (committed a checkpoint) count against `max_attempts`; runs
that died before their first checkpoint count apart, against the larger
`max_stalled_runs`. A worker killed early (out of memory, a deploy, a power cut) says
little about the job; but a poison job that kills every worker before it gets anywhere
must still end.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from datetime import datetime

from gamekeeper.domain.jobs import Job, JobStatus, check_transition, progressed_runs


def worker_is_dead(worker: str | None) -> bool:
    """True for a `host:pid` worker on this host whose process is gone.

    Lets a restarted process take over at once what a killed one on the same machine
    left, instead of waiting out the heartbeat window.
    """
    if not worker or ":" not in worker:
        return False
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def give_up_reason(lost: Job, *, max_attempts: int, max_stalled_runs: int) -> str | None:
    """Why a job whose run was lost (`after_lost_run` applied) should fail; None: run it
    again from its checkpoint."""
    if progressed_runs(lost) >= max_attempts:
        return f"gave up after {progressed_runs(lost)} attempts that made progress"
    if lost.stalled_runs >= max_stalled_runs:
        return f"gave up after {lost.stalled_runs} runs that died before their first checkpoint"
    return None


def failed_after_loss(job: Job, reason: str, *, now: datetime) -> Job:
    """The job, failed because its worker is gone and `reason`."""
    check_transition(job.status, JobStatus.FAILED)
    last_beat = job.heartbeat_at.isoformat() if job.heartbeat_at else "never"
    return dataclasses.replace(
        job,
        status=JobStatus.FAILED,
        error=f"worker lost: no heartbeat since {last_beat}; {reason}",
        wait=None,
        finished_at=now,
        updated_at=now,
        version=job.version + 1,
    )
