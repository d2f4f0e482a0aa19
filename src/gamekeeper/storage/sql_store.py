"""`SqlStore`: the async face of the SQL statements, for SQLite and PostgreSQL.

Statements run synchronously in worker threads: SQLAlchemy Core's sync API is the
fastest and simplest path on both databases, and batches keep the hops few.
SQLAlchemy errors stop here and become `StorageError`.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa

from gamekeeper.domain.accounts import Account
from gamekeeper.domain.games import Game, Platform
from gamekeeper.domain.jobs import Job
from gamekeeper.domain.upstreams import HostState
from gamekeeper.domain.users import Role, User
from gamekeeper.errors import GamekeeperError, StorageError
from gamekeeper.storage import sql_accounts, sql_games, sql_hosts, sql_jobs, sql_stats
from gamekeeper.storage.base import (
    AutoSyncState,
    GamePage,
    GameQuery,
    JobPage,
    JobQuery,
    MonthTally,
    OpeningTally,
    Players,
    RatingPoint,
    StoredGame,
    UpsertResult,
)
from gamekeeper.storage.engine import (
    READ_ONLY,
    create_engine,
    lock_for_job_creation,
    normalise_url,
    upsert,
)
from gamekeeper.storage.schema import auto_syncs, games

R = TypeVar("R")
P = ParamSpec("P")


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

    def existing_game_ids(self, platform: Platform, ids: Iterable[str]) -> set[str]:
        return sql_games.existing_game_ids(self.conn, platform, ids)

    def get_cursor(self, account_id: int, stream: str) -> Any:
        return sql_games.get_cursor(self.conn, account_id, stream)

    def set_cursor(self, account_id: int, stream: str, value: Any) -> None:
        sql_games.set_cursor(self.conn, account_id, stream, value)

    def defer_delivery(self, *, queue: str, task: str, job_id: str, args: str) -> None:
        sql_jobs.defer_delivery(self.conn, queue=queue, task=task, job_id=job_id, args=args)


def libpq_url(url: str) -> str:
    """A PostgreSQL database URL as libpq (and psycopg) takes it: `postgresql://...`."""
    return normalise_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _translated(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn SQLAlchemy's errors into `StorageError` at this boundary."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except GamekeeperError:
            raise
        except sa.exc.SQLAlchemyError as exc:
            raise StorageError(
                f"database error: {exc.__class__.__name__}: {exc.args[0] if exc.args else exc}"
            ) from exc

    return wrapper


class SqlStore:
    """Storage on SQLite or PostgreSQL through SQLAlchemy Core."""

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

    @_translated
    def _write(self, work: Callable[[SqlTx], R], *, job_creation: bool = False) -> R:
        with self.engine.begin() as conn:
            if job_creation:
                lock_for_job_creation(conn)
            return work(SqlTx(conn))

    @_translated
    def _read(self, work: Callable[[sa.Connection], R]) -> R:
        with self.engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            return work(conn)

    async def write(self, work: Callable[[SqlTx], R]) -> R:
        return await self._in_thread(self._write, work)

    async def read(self, work: Callable[[sa.Connection], R]) -> R:
        return await self._in_thread(self._read, work)

    async def transaction(self, work: Callable[[SqlTx], R]) -> R:
        return await self._in_thread(self._write, work)

    async def create_job(self, work: Callable[[SqlTx], R]) -> R:
        return await self._in_thread(self._write, work, job_creation=True)

    # -- jobs -----------------------------------------------------------------

    async def get_job(self, job_id: str) -> Job | None:
        return await self.read(lambda c: sql_jobs.get_job(c, job_id))

    async def list_jobs(self, query: JobQuery) -> JobPage:
        return await self.read(lambda c: sql_jobs.list_jobs(c, query))

    async def claim_job(self, job_id: str, *, worker: str, now: datetime) -> Job | None:
        return await self.write(
            lambda tx: sql_jobs.claim_job(tx.conn, job_id, worker=worker, now=now)
        )

    async def save_job(self, job: Job, *, worker: str | None = None) -> bool:
        return await self.write(lambda tx: tx.save_job(job, worker=worker))

    async def heartbeat(self, job_id: str, *, attempt: int, now: datetime) -> bool | None:
        return await self.write(
            lambda tx: sql_jobs.heartbeat(tx.conn, job_id, attempt=attempt, now=now)
        )

    async def request_cancel(self, job_id: str) -> None:
        await self.write(lambda tx: sql_jobs.request_cancel(tx.conn, job_id))

    async def cancel_requested(self, job_id: str) -> bool:
        return await self.read(lambda c: sql_jobs.cancel_requested(c, job_id))

    async def cancel_queued(self, job_id: str, *, now: datetime) -> bool:
        return await self.write(lambda tx: sql_jobs.cancel_queued(tx.conn, job_id, now=now))

    async def job_counts(self) -> dict[str, int]:
        """Jobs by status (every status present, zero if none)."""
        return await self.read(sql_jobs.job_counts)

    async def ping(self) -> None:
        await self.read(lambda c: c.execute(sa.text("SELECT 1")))

    async def job_owners(self, job_ids: Iterable[str]) -> dict[str, str]:
        ids = sorted(set(job_ids))
        return await self.read(lambda c: sql_jobs.job_owners(c, ids))

    async def running_jobs(self) -> list[Job]:
        return await self.read(sql_jobs.running_jobs)

    async def requeue_job(self, job: Job, *, now: datetime) -> bool:
        return await self.write(lambda tx: sql_jobs.requeue_job(tx.conn, job, now=now))

    async def queued_job_ids(self) -> list[str]:
        return await self.read(sql_jobs.queued_job_ids)

    async def prune_finished_jobs(self, owner: str, *, keep: int) -> int:
        return await self.write(lambda tx: sql_jobs.prune_finished_jobs(tx.conn, owner, keep=keep))

    # -- accounts, cursors ----------------------------------------------------

    async def add_account(self, owner: str, platform: Platform, username: str) -> Account:
        def work(tx: SqlTx) -> Account:
            existing = sql_accounts.find_account(tx.conn, owner, platform, username)
            return existing or sql_accounts.add_account(tx.conn, owner, platform, username)

        return await self.write(work)

    async def get_account(self, account_id: int) -> Account | None:
        return await self.read(lambda c: sql_accounts.get_account(c, account_id))

    async def find_account(self, owner: str, platform: Platform, username: str) -> Account | None:
        return await self.read(lambda c: sql_accounts.find_account(c, owner, platform, username))

    async def list_accounts(self, owner: str | None = None) -> list[Account]:
        return await self.read(lambda c: sql_accounts.list_accounts(c, owner))

    async def remove_account(self, account_id: int) -> bool:
        return await self.write(lambda tx: sql_accounts.remove_account(tx.conn, account_id))

    async def update_account(self, account: Account) -> None:
        await self.write(lambda tx: sql_accounts.update_account(tx.conn, account))

    async def get_cursor(self, account_id: int, stream: str) -> Any:
        return await self.read(lambda c: sql_games.get_cursor(c, account_id, stream))

    # -- scheduled syncs ------------------------------------------------------

    async def auto_sync_states(self) -> list[AutoSyncState]:
        def work(conn: sa.Connection) -> list[AutoSyncState]:
            rows = conn.execute(sa.select(auto_syncs.c.account_id, auto_syncs.c.last_at))
            last = {row.account_id: row.last_at for row in rows}
            return [
                AutoSyncState(account=account, last_at=last.get(account.id))
                for account in sql_accounts.list_accounts(conn, None)
                if account.auto_sync_minutes
            ]

        return await self.read(work)

    async def claim_auto_sync(
        self, account_id: int, *, now: datetime, due_before: datetime
    ) -> bool:
        def work(tx: SqlTx) -> bool:
            # Insert-or-update only while the last claim is old enough: one statement,
            # so of two schedulers racing for the same period exactly one gets a row.
            stmt = upsert(
                auto_syncs,
                tx.conn.dialect,
                key=["account_id"],
                update={"last_at": now, "outcome": None, "job_id": None, "note": None},
                where=lambda _new: auto_syncs.c.last_at <= due_before,
            ).values(account_id=account_id, last_at=now)
            # RETURNING, not rowcount: psycopg reports no count for an upsert.
            claimed = stmt.returning(auto_syncs.c.account_id)
            return tx.conn.execute(claimed).first() is not None

        return await self.write(work)

    async def record_auto_sync(
        self, account_id: int, *, outcome: str, job_id: str | None, note: str
    ) -> None:
        stmt = (
            auto_syncs.update()
            .where(auto_syncs.c.account_id == account_id)
            .values(outcome=outcome, job_id=job_id, note=note)
        )
        await self.write(lambda tx: tx.conn.execute(stmt))

    # -- the upstream gate's shared state (embedded mode) ----------------------

    async def upstream_state(self, host: str) -> HostState | None:
        return await self.read(lambda c: sql_hosts.upstream_state(c, host))

    async def save_upstream_state(self, host: str, state: HostState) -> None:
        await self.write(lambda tx: sql_hosts.save_upstream_state(tx.conn, host, state))

    def database_file(self) -> str | None:
        """The SQLite database's file, if it is one (None for PostgreSQL or `:memory:`)."""
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return url.database

    # -- users ----------------------------------------------------------------

    async def add_user(self, name: str, role: Role) -> User:
        return await self.write(lambda tx: sql_accounts.add_user(tx.conn, name, role))

    async def get_user(self, name: str) -> User | None:
        return await self.read(lambda c: sql_accounts.get_user(c, name))

    async def list_users(self) -> list[User]:
        return await self.read(sql_accounts.list_users)

    async def add_token(self, user_id: int, token_hash: str, label: str = "") -> None:
        await self.write(lambda tx: sql_accounts.add_token(tx.conn, user_id, token_hash, label))

    async def user_for_token(self, token_hash: str) -> User | None:
        return await self.read(lambda c: sql_accounts.user_for_token(c, token_hash))

    # -- games ----------------------------------------------------------------

    async def upsert_games(self, batch: Sequence[Game], *, job_id: str | None) -> UpsertResult:
        return await self.write(lambda tx: tx.upsert_games(batch, job_id=job_id))

    async def games_missing_moves(
        self,
        platform: Platform,
        players: Sequence[str],
        limit: int,
        *,
        since: datetime | None = None,
    ) -> list[str]:
        return await self.read(
            lambda c: sql_games.games_missing_moves(c, platform, players, limit, since=since)
        )

    async def count_missing_moves(self, platform: Platform, player_id: str) -> int:
        return await self.read(lambda c: sql_games.count_missing_moves(c, platform, player_id))

    async def count_player_games(self, platform: Platform, player_id: str) -> int:
        return await self.read(lambda c: sql_games.count_player_games(c, platform, player_id))

    async def player_game_ids_at(
        self, platform: Platform, player_id: str, times: Sequence[datetime]
    ) -> set[str]:
        return await self.read(
            lambda c: sql_games.player_game_ids_at(c, platform, player_id, times)
        )

    async def count_player_games_between(
        self,
        platform: Platform,
        player_id: str,
        ranges: Sequence[tuple[datetime | None, datetime | None]],
    ) -> list[int]:
        return await self.read(
            lambda c: sql_games.count_player_games_between(c, platform, player_id, ranges)
        )

    async def list_games(self, query: GameQuery) -> GamePage:
        return await self.read(lambda c: sql_games.list_games(c, query))

    async def count_matching_games(self, query: GameQuery) -> int:
        return await self.read(lambda c: sql_games.count_games(c, query))

    async def get_game(self, game_id: int) -> StoredGame | None:
        return await self.read(lambda c: sql_games.get_game(c, game_id))

    async def count_games(self, **filters: Any) -> int:
        def work(conn: sa.Connection) -> int:
            stmt = sa.select(sa.func.count()).select_from(games)
            for name, value in filters.items():
                stmt = stmt.where(games.c[name] == value)
            return int(conn.execute(stmt).scalar_one())

        return await self.read(work)

    async def get_game_by_key(
        self, platform: Platform, platform_game_id: str
    ) -> Mapping[str, Any] | None:
        def work(conn: sa.Connection) -> Mapping[str, Any] | None:
            stmt = games.select().where(
                games.c.platform == platform.value, games.c.platform_game_id == platform_game_id
            )
            row = conn.execute(stmt).mappings().first()
            return dict(row) if row else None

        return await self.read(work)

    # -- stats (the dashboard's charts) ---------------------------------------

    async def rating_history(self, players: Players) -> list[RatingPoint]:
        return await self.read(lambda c: sql_stats.rating_history(c, players))

    async def opening_results(self, players: Players) -> list[OpeningTally]:
        return await self.read(lambda c: sql_stats.opening_results(c, players))

    async def games_by_month(self, players: Players) -> list[MonthTally]:
        return await self.read(lambda c: sql_stats.games_by_month(c, players))
