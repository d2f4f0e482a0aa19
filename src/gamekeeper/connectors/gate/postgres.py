"""The upstream gate's per-host coordination in PostgreSQL, shared by every worker.

- The one-request-in-flight slot is a session advisory lock, taken on a connection
  kept for that host alone. PostgreSQL releases a session lock when its connection
  ends, so a worker that dies (or loses its connection) frees the host at once, and
  a live holder never loses it to a timeout. In a process, an asyncio lock queues the
  requests first: a session lock is re-entrant, so two tasks on one connection would
  both "hold" it.
- The cool-down after a 429, the strikes and the end of the last request live in a
  row of `upstream_hosts` (the table is in `storage/schema.py`; the statements are here
  because connectors don't import storage). Every worker reads it before a request.

Keep PostgreSQL's `idle_session_timeout` off for gamekeeper's role: the lock
connection sits idle while it holds the slot (see docs/deployment.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg

from gamekeeper.domain.upstreams import HostState
from gamekeeper.errors import StorageError

log = logging.getLogger(__name__)

#: First key of our two-key advisory locks: gamekeeper's upstream slots ("gk").
LOCK_CLASS = 0x676B

_READ_SQL = "SELECT cooldown_until, strikes, last_finished_at FROM upstream_hosts WHERE host = %s"
_WRITE_SQL = (
    "INSERT INTO upstream_hosts (host, cooldown_until, strikes, last_finished_at, updated_at) "
    "VALUES (%s, %s, %s, %s, now()) ON CONFLICT (host) DO UPDATE SET "
    "cooldown_until = excluded.cooldown_until, strikes = excluded.strikes, "
    "last_finished_at = excluded.last_finished_at, updated_at = excluded.updated_at"
)


def lock_key(host: str) -> int:
    """A stable 32-bit key for a host (the same in every process, unlike `hash`)."""
    digest = hashlib.sha256(host.encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


class PostgresHostCoordinators:
    """Makes one `PostgresHostCoordinator` per host, sharing a connection for the rows."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._coordinators: dict[str, PostgresHostCoordinator] = {}
        self._state_conn: psycopg.AsyncConnection[Any] | None = None
        self._state_lock = asyncio.Lock()

    def coordinator_for(self, host: str) -> PostgresHostCoordinator:
        """For `Upstreams(coordinator_for=...)`."""
        coordinator = self._coordinators.get(host)
        if coordinator is None:
            coordinator = PostgresHostCoordinator(host, self)
            self._coordinators[host] = coordinator
        return coordinator

    async def connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            self.conninfo,
            autocommit=True,
            # Notice a dead server instead of waiting on it for hours.
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=10,
            keepalives_count=3,
        )

    async def run(self, query: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """One statement on the shared state connection (reconnecting once if it broke)."""
        try:
            return await self._run(query, params)
        except psycopg.Error as exc:
            raise StorageError(f"upstream gate: database error: {exc}") from exc

    async def _run(self, query: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        async with self._state_lock:
            for attempt in (1, 2):
                if self._state_conn is None or self._state_conn.closed:
                    self._state_conn = await self.connect()
                try:
                    cursor = await self._state_conn.execute(query, params)
                    return await cursor.fetchone() if cursor.description else None
                except psycopg.OperationalError:
                    await self._state_conn.close()
                    self._state_conn = None
                    if attempt == 2:
                        raise
        return None  # pragma: no cover - the loop returns or raises

    async def aclose(self) -> None:
        for coordinator in self._coordinators.values():
            await coordinator.aclose()
        if self._state_conn is not None:
            await self._state_conn.close()
            self._state_conn = None


class PostgresHostCoordinator:
    """`HostCoordinator` across processes: an advisory lock and a row per host."""

    def __init__(self, host: str, coordinators: PostgresHostCoordinators) -> None:
        self.host = host
        self.key = lock_key(host)
        self._coordinators = coordinators
        self._local = asyncio.Lock()
        self._lock_conn: psycopg.AsyncConnection[Any] | None = None

    def slot(self) -> AbstractAsyncContextManager[None]:
        return self._hold()

    @asynccontextmanager
    async def _hold(self) -> AsyncIterator[None]:
        async with self._local:
            try:
                conn = await self._lock()
            except psycopg.Error as exc:
                raise StorageError(f"upstream gate: database error: {exc}") from exc
            try:
                yield
            finally:
                await _to_the_end(self._unlock(conn))

    async def _lock(self) -> psycopg.AsyncConnection[Any]:
        if self._lock_conn is None or self._lock_conn.closed:
            self._lock_conn = await self._coordinators.connect()
        conn = self._lock_conn
        try:
            # Blocks in the server until the holder (any worker) lets go; cancelling
            # the wait cancels the query (psycopg sends a cancel request).
            await conn.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_CLASS, self.key))
        except asyncio.CancelledError:
            # The lock may have been granted just before the cancel: let go of it,
            # whatever happened (this connection holds no other lock).
            await _to_the_end(self._release_all(conn))
            raise
        except psycopg.OperationalError:
            await self._forget(conn)
            raise
        return conn

    async def _unlock(self, conn: psycopg.AsyncConnection[Any]) -> None:
        try:
            cursor = await conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, self.key))
            row = await cursor.fetchone()
            if not (row and row[0]):
                log.warning("upstream slot of %s was already gone (connection lost?)", self.host)
        except psycopg.Error:
            # A broken connection has released the lock with itself.
            await self._forget(conn)

    async def _release_all(self, conn: psycopg.AsyncConnection[Any]) -> None:
        try:
            await conn.execute("SELECT pg_advisory_unlock_all()")
        except psycopg.Error:
            await self._forget(conn)

    async def _forget(self, conn: psycopg.AsyncConnection[Any]) -> None:
        with contextlib.suppress(psycopg.Error):
            await conn.close()
        if self._lock_conn is conn:
            self._lock_conn = None

    async def read(self) -> HostState:
        row = await self._coordinators.run(_READ_SQL, (self.host,))
        if row is None:
            return HostState()
        cooldown_until, strikes, last_finished_at = row
        return HostState(
            cooldown_until=_utc(cooldown_until),
            strikes=int(strikes),
            last_finished_at=_utc(last_finished_at),
        )

    async def write(self, state: HostState) -> None:
        await self._coordinators.run(
            _WRITE_SQL,
            (self.host, state.cooldown_until, state.strikes, state.last_finished_at),
        )

    async def aclose(self) -> None:
        if self._lock_conn is not None:
            await self._lock_conn.close()
            self._lock_conn = None


async def _to_the_end(step: Any) -> None:
    """Finish `step` even if the caller is cancelled meanwhile (then re-raise)."""
    task = asyncio.ensure_future(step)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise
