"""Running a connector's CPU work (parsing what arrived) off the event loop.

The API and the jobs share one event loop in `gamekeeper serve`: parsing a whole
received chunk of a stream on it holds every request behind it. A source hands each
slice of work to an `Offload` instead; the default runs it in a worker thread. Under
the GIL that thread still shares a core with the loop, but the interpreter hands the
GIL to a waiting thread at every switch interval (5 ms), so the loop is held for that
long at most, not for the whole chunk. `offload_procs.ProcessOffload` frees the core
too (parse processes); sending parsed `Game`s back costs about as much as parsing them,
so a sync asks for rows instead (`EncodedGame`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

R = TypeVar("R")

#: Runs `work()` somewhere and returns its result (or raises what it raised).
Offload = Callable[[Callable[[], R]], Awaitable[R]]


async def in_thread(work: Callable[[], R]) -> R:
    """`work()` in the loop's default thread pool (the default `Offload`)."""
    return await asyncio.to_thread(work)


async def inline(work: Callable[[], R]) -> R:
    """`work()` right here, on the event loop (for a caller that has no loop to spare)."""
    return work()
