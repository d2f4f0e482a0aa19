"""Interrupting a job's pending read when a cancel is requested.

A cancel must take effect at once wherever a job is: a stream that stalls for a minute,
a 429 cool-down, a backoff. The job wraps its reads in `ReadInterrupter.until`, and a
cancel cancels (asyncio) the task blocked in one of them, the way `asyncio.timeout`
does: the read ends, the loop over it just stops, and the job commits what it received.
Only the read is interrupted, never what the job does with an item, so a cancel can't
land in the middle of a checkpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from gamekeeper.errors import JobCancelled

T = TypeVar("T")


class ReadInterrupter:
    """Knows which task is blocked in a read, and interrupts it once on request."""

    def __init__(self, cancelled: asyncio.Event) -> None:
        self._cancelled = cancelled
        self._reader: asyncio.Task[Any] | None = None
        self._interrupting = False

    def interrupt(self) -> None:
        """Called on cancel: stop the read under way, if there is one."""
        if self._reader is not None and not self._interrupting:
            self._interrupting = True
            self._reader.cancel()

    async def until(self, items: AsyncIterator[T]) -> AsyncIterator[T]:
        """`items` until a cancel; then `items` is closed and the loop ends."""
        task = asyncio.current_task()
        assert task is not None
        try:
            while not self._cancelled.is_set():
                self._reader = task
                try:
                    item = await anext(items)
                except StopAsyncIteration:
                    return
                except JobCancelled:
                    return  # a wait inside the read noticed the cancel first
                except asyncio.CancelledError:
                    if not self._interrupting or task.uncancel() > 0:
                        raise  # not (only) ours: e.g. the process is shutting down
                    return
                finally:
                    self._reader = None
                    if self._interrupting:
                        self._interrupting = False
                        if task.cancelling():
                            task.uncancel()  # our interruption was swallowed on the way
                yield item
        finally:
            close = getattr(items, "aclose", None)
            if close is not None:
                await close()
