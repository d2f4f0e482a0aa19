"""The plumbing every SQL query class shares: the engine, a thread pool of our own,
reads and transactions, and SQLAlchemy's errors turned into `StorageError`.

Statements run synchronously in worker threads: SQLAlchemy Core's sync API is the
fastest and simplest path on both databases, and batches keep the hops few.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa

from gamekeeper.domain.games import Game, Platform
from gamekeeper.domain.jobs import Job
from gamekeeper.domain.players import CrawlTarget
from gamekeeper.errors import GamekeeperError, InvalidInput, StorageError
from gamekeeper.storage.analyses import AnalysisRow
from gamekeeper.storage.base import GameRow, GameRowEncoder, UpsertResult
from gamekeeper.storage.sql import analyses as sql_analyses
from gamekeeper.storage.sql import games as sql_games
from gamekeeper.storage.sql import jobs as sql_jobs
from gamekeeper.storage.sql import players as sql_players
from gamekeeper.storage.sql.engine import (
    READ_ONLY,
    create_engine,
    lock_for_job_creation,
    normalise_url,
)
from gamekeeper.storage.sql.game_rows import game_row

R = TypeVar("R")
P = ParamSpec("P")

log = logging.getLogger(__name__)


class SqlTx:
    """The statements a job may run inside one transaction (see `storage.base.Tx`)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def insert_job(self, job: Job) -> None:
        sql_jobs.insert_job(self.conn, job)

    def find_active_job(
        self, *, account_id: int | None = None, family: str | None = None
    ) -> Job | None:
        return sql_jobs.find_active_job(self.conn, account_id=account_id, family=family)

    def jobs_created_since(self, owner: str, since: datetime) -> list[datetime]:
        return sql_jobs.jobs_created_since(self.conn, owner, since)

    def save_job(self, job: Job, *, worker: str | None = None) -> bool:
        return sql_jobs.save_job(self.conn, job, worker=worker)

    def upsert_games(self, games: Sequence[Game], *, job_id: str | None) -> UpsertResult:
        return sql_games.upsert_games(self.conn, games, job_id=job_id)

    def upsert_rows(self, rows: Sequence[GameRow], *, job_id: str | None) -> UpsertResult:
        return sql_games.upsert_rows(self.conn, rows, job_id=job_id)

    def existing_game_ids(self, platform: Platform, ids: Iterable[str]) -> set[str]:
        return sql_games.existing_game_ids(self.conn, platform, ids)

    def get_cursor(self, account_id: int, stream: str) -> Any:
        return sql_games.get_cursor(self.conn, account_id, stream)

    def set_cursor(self, account_id: int, stream: str, value: Any) -> None:
        sql_games.set_cursor(self.conn, account_id, stream, value)

    def put_analyses(self, rows: Sequence[AnalysisRow], *, job_id: str | None) -> int:
        return sql_analyses.put_analyses(self.conn, rows, job_id=job_id)

    def defer_delivery(self, *, queue: str, task: str, job_id: str, args: str) -> None:
        sql_jobs.defer_delivery(self.conn, queue=queue, task=task, job_id=job_id, args=args)

    def queue_players(self, owner: str, job_id: str, targets: Sequence[CrawlTarget]) -> None:
        sql_players.queue_players(self.conn, owner, job_id, targets)

    def finish_player(
        self, owner: str, job_id: str, target: CrawlTarget, *, cursor: Any, error: str | None
    ) -> int:
        return sql_players.finish_player(
            self.conn, owner, job_id, target, cursor=cursor, error=error
        )


def libpq_url(url: str) -> str:
    """A PostgreSQL database URL as libpq (and psycopg) takes it: `postgresql://...`."""
    return normalise_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _logged(exc: BaseException) -> str:
    """Log the driver's own words under a fresh reference, and return the reference.

    The words stay in the log: they can quote the statement, its values and the
    database's internals, which API users have no business reading.
    """
    reference = secrets.token_hex(4)
    detail = exc.args[0] if exc.args else exc
    log.error("database error (reference %s): %s: %s", reference, type(exc).__name__, detail)
    return reference


def translated(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn SQLAlchemy's (and the drivers') errors into ours at this boundary: a value
    the database can't take is `InvalidInput`, anything else `StorageError`; the
    message says "database error" with a reference into the log."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except GamekeeperError:
            raise
        except (sa.exc.DataError, OverflowError) as exc:
            # Out of range, or text the column can't hold: the edges bound values so
            # this should not happen, but if it does it is about the input.
            reference = _logged(exc)
            raise InvalidInput(
                f"a value does not fit the database (reference {reference})"
            ) from exc
        except sa.exc.SQLAlchemyError as exc:
            reference = _logged(exc)
            raise StorageError(
                f"database error (reference {reference}; the server log has the details)"
            ) from exc

    return wrapper


#: Seconds to wait before each new try after the database dropped the connection: a
#: restart or failover of PostgreSQL drops them all, and is over in a moment.
RECONNECT_DELAYS_S = (0.1, 0.5, 2.0)


def _reconnecting(once: Callable[[], R]) -> R:
    """`once()`, tried again on a fresh connection when the database dropped the one it
    had (a restart, a failover, `pg_terminate_backend`). The transaction it was in rolled
    back with it, so doing it again does it once; a drop during COMMIT is the one
    ambiguous case, and every write gamekeeper makes can be repeated (games upsert, job
    rows are guarded by their attempt). Other errors are not retried."""
    for delay in RECONNECT_DELAYS_S:
        try:
            return once()
        except sa.exc.DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            log.warning("database connection lost (%s); trying again", type(exc.orig).__name__)
            time.sleep(delay)  # in the store's own thread, never the event loop's
    return once()


class SqlRunner:
    """The plumbing of `SqlStore`: an engine, its threads, reads and transactions."""

    def __init__(self, url: str, *, engine: sa.Engine | None = None, threads: int = 8) -> None:
        self.url = url
        self.engine = engine or create_engine(url)
        # Our own threads, so closing can wait for statements a cancelled task left running.
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="gamekeeper-db")

    def describe(self) -> str:
        """The database URL without its password."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def game_row_encoder(self) -> GameRowEncoder:
        """What makes a `Game` the row `SqlTx.upsert_rows` takes on this database: a
        picklable function, so parse processes can run it."""
        return functools.partial(game_row, sqlite=self.dialect == "sqlite")

    def conninfo(self) -> str:
        """The database as a libpq URL (for psycopg connections beside the engine's)."""
        return libpq_url(self.url)

    async def aclose(self) -> None:
        """Wait for running statements, then close every connection."""
        await asyncio.to_thread(self._threads.shutdown, wait=True)
        await asyncio.to_thread(self.engine.dispose)

    async def _in_thread(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        call = functools.partial(fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._threads, call)

    # -- plumbing -------------------------------------------------------------

    @translated
    def _write(self, work: Callable[[SqlTx], R], *, job_creation: bool = False) -> R:
        def once() -> R:
            with self.engine.begin() as conn:
                if job_creation:
                    lock_for_job_creation(conn)
                return work(SqlTx(conn))

        return _reconnecting(once)

    @translated
    def _read(self, work: Callable[[sa.Connection], R]) -> R:
        def once() -> R:
            with self.engine.connect().execution_options(**{READ_ONLY: True}) as conn:
                return work(conn)

        return _reconnecting(once)

    async def write(self, work: Callable[[SqlTx], R]) -> R:
        return await self._in_thread(self._write, work)

    async def read(self, work: Callable[[sa.Connection], R]) -> R:
        return await self._in_thread(self._read, work)

    async def transaction(self, work: Callable[[SqlTx], R]) -> R:
        return await self._in_thread(self._write, work)

    async def create_job(self, work: Callable[[SqlTx], R]) -> R:
        return await self._in_thread(self._write, work, job_creation=True)

    async def ping(self) -> None:
        await self.read(lambda c: c.execute(sa.text("SELECT 1")))

    def database_file(self) -> str | None:
        """The SQLite database's file, if it is one (None for PostgreSQL or `:memory:`)."""
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return url.database
