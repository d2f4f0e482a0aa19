"""The in-process host coordinator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from gamekeeper.domain.upstreams import HostState


class LocalHostCoordinator:
    """`HostCoordinator` for one process: an asyncio lock (FIFO) and a value."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._state = HostState()

    def slot(self) -> AbstractAsyncContextManager[None]:
        return self._hold()

    @asynccontextmanager
    async def _hold(self) -> AsyncIterator[None]:
        async with self._lock:
            yield

    async def read(self) -> HostState:
        return self._state

    async def write(self, state: HostState) -> None:
        self._state = state
