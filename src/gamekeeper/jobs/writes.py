"""Small helpers for writing job rows: a write that outlives its caller's cancellation,
counters added up, checkpoints, phases replaced by name."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from gamekeeper.domain.jobs import Job, Phase

T = TypeVar("T")


async def to_the_end(step: Coroutine[Any, Any, T]) -> T:
    """Run `step` to completion even if the caller is cancelled meanwhile; then re-raise.

    A write handed to a database thread goes on regardless: letting the caller (and its
    lock) go early would let a later write, such as the hand-back at shutdown, land first.
    """
    task = asyncio.ensure_future(step)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


def added(counters: Mapping[str, int], deltas: Mapping[str, int]) -> dict[str, int]:
    merged = dict(counters)
    for name, delta in deltas.items():
        merged[name] = merged.get(name, 0) + delta
    return merged


def checkpointed(job: Job, cursor: Any, deltas: Mapping[str, int] | None) -> dict[str, Any]:
    """The fields a committed checkpoint changes: the cursor, the counters, and which
    attempt committed it (the sweeper tells runs that made progress by it)."""
    return {
        "checkpoint": cursor,
        "checkpoint_attempt": job.attempt,
        "counters": added(job.counters, deltas or {}),
    }


def put_phase(phases: list[Phase], phase: Phase) -> list[Phase]:
    """Replace the phase of the same name, or append it."""
    for i, existing in enumerate(phases):
        if existing.name == phase.name:
            phases[i] = phase
            return phases
    return [*phases, phase]
