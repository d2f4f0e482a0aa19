"""What the gate asks of a host coordinator (the per-host slot and shared state)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from gamekeeper.domain.upstreams import HostState


class HostCoordinator(Protocol):
    """Per-host coordination: the one-in-flight slot and the shared state.

    `write` is only called while the caller holds `slot()`, so an implementation
    needs no compare-and-set. The in-process implementation is `LocalHostCoordinator`;
    across processes, `PostgresHostCoordinator` (an advisory lock and a row) and, for
    the embedded SQLite mode, `FileHostCoordinator` (a file lock and a row).
    """

    def slot(self) -> AbstractAsyncContextManager[None]:
        """Hold the host's single request slot for the duration of the block."""
        ...

    async def read(self) -> HostState:
        """The current shared state."""
        ...

    async def write(self, state: HostState) -> None:
        """Replace the shared state (the caller holds the slot)."""
        ...
