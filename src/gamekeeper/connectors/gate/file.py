"""The upstream gate's per-host coordination for processes sharing one SQLite database.

`gamekeeper serve` and a `gamekeeper sync` in a terminal are two processes on one
machine: without this, each would keep its own "one request in flight" and both would
talk to Lichess at once (and be answered 429).

- The slot is an OS file lock (`flock`) on a file next to the database, one per host.
  The kernel drops it when its holder dies, so a killed process frees the host at once.
  Waiting for it happens in a daemon thread (a blocked `flock` wakes as soon as the
  holder lets go: fairer than polling, and a daemon never holds up the process's exit);
  a wait that is given up leaves the thread to take the lock and let go of it at once.
  In a process, an asyncio lock queues the requests first.
- The cool-down after a 429, the strikes and the end of the last request live in the
  database (`upstream_hosts`, as on PostgreSQL), read and written through a
  `HostStateStore` that bootstrap hands in (connectors don't import storage).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import threading
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Protocol

from gamekeeper.domain.upstreams import HostState


class HostStateStore(Protocol):
    """Where the shared state of each host lives (the database, for SQLite)."""

    async def upstream_state(self, host: str) -> HostState | None: ...

    async def save_upstream_state(self, host: str, state: HostState) -> None: ...


def lock_path(database: Path, host: str) -> Path:
    """`gamekeeper.db` → `gamekeeper.db.upstream-lichess.org.lock` (the host made safe)."""
    safe = re.sub(r"[^A-Za-z0-9.-]+", "_", host)
    return database.with_name(f"{database.name}.upstream-{safe}.lock")


class FileHostCoordinators:
    """Makes one `FileHostCoordinator` per host for the SQLite database at `database`."""

    def __init__(self, database: Path, states: HostStateStore) -> None:
        self.database = database
        self.states = states
        self._coordinators: dict[str, FileHostCoordinator] = {}

    def coordinator_for(self, host: str) -> FileHostCoordinator:
        """For `Upstreams(coordinator_for=...)`."""
        coordinator = self._coordinators.get(host)
        if coordinator is None:
            coordinator = FileHostCoordinator(host, lock_path(self.database, host), self)
            self._coordinators[host] = coordinator
        return coordinator

    async def aclose(self) -> None:
        """Nothing to close: every lock is let go of with its request."""


class FileHostCoordinator:
    """`HostCoordinator` across the processes of one machine: a file lock and a row."""

    def __init__(self, host: str, path: Path, coordinators: FileHostCoordinators) -> None:
        self.host = host
        self.path = path
        self._coordinators = coordinators
        self._local = asyncio.Lock()

    def slot(self) -> AbstractAsyncContextManager[None]:
        return self._hold()

    @asynccontextmanager
    async def _hold(self) -> AsyncIterator[None]:
        async with self._local:
            fd = await self._lock()
            try:
                yield
            finally:
                os.close(fd)  # closing the file lets go of its lock

    async def _lock(self) -> int:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd  # free: no thread needed
        except BlockingIOError:
            pass
        loop = asyncio.get_running_loop()
        taken: asyncio.Future[None] = loop.create_future()
        abandoned = threading.Event()

        def wait_for_lock() -> None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if abandoned.is_set():
                os.close(fd)
                return
            loop.call_soon_threadsafe(_settle, taken, abandoned, fd)

        threading.Thread(target=wait_for_lock, name=f"gate {self.host}", daemon=True).start()
        try:
            await taken
        except BaseException:
            abandoned.set()  # the thread lets go of the lock if it gets it now
            if taken.done() and not taken.cancelled():
                os.close(fd)  # it got it just before we gave up
            raise
        return fd

    async def read(self) -> HostState:
        return await self._coordinators.states.upstream_state(self.host) or HostState()

    async def write(self, state: HostState) -> None:
        await self._coordinators.states.save_upstream_state(self.host, state)


def _settle(taken: asyncio.Future[None], abandoned: threading.Event, fd: int) -> None:
    """In the loop: hand the lock to the waiting task, or let go if it gave up."""
    if taken.done():  # cancelled meanwhile
        abandoned.set()
        os.close(fd)
    else:
        taken.set_result(None)
