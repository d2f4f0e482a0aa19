"""Engines for SQLite and PostgreSQL, and the one place dialects differ (upsert, locks)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from gamekeeper.domain import locks
from gamekeeper.errors import ConfigurationError

#: Milliseconds a SQLite writer waits for another writer before failing.
SQLITE_BUSY_TIMEOUT_MS = 30_000

#: Execution option that marks a read-only transaction (SQLite then begins DEFERRED).
READ_ONLY = "gamekeeper_read_only"


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _json_loads(value: Any) -> Any:
    # SQLite gives JSON columns NUMERIC affinity: a stored `30` comes back as an int.
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def normalise_url(url: str) -> sa.URL:
    """Accept `postgresql://` and `postgres://` URLs and use psycopg 3 for them."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigurationError(f"invalid database URL {url!r}: {exc}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigurationError(
            f"unsupported database {parsed.drivername!r}: use sqlite or postgresql"
        )
    return parsed


def create_engine(url: str) -> sa.Engine:
    """An engine with the pragmas and JSON codec gamekeeper expects."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(parsed)
    return sa.create_engine(
        parsed,
        json_serializer=_json_dumps,
        json_deserializer=_json_loads,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
    )


def _create_sqlite_engine(url: sa.URL) -> sa.Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        json_serializer=_json_dumps,
        json_deserializer=_json_loads,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        # Reuse the most recent connection: each one keeps its own page cache, and a
        # round-robin pool would fill several of them (memory on a small machine).
        pool_use_lifo=True,
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling begins lazily and can't BEGIN IMMEDIATE;
        # we turn it off and emit BEGIN ourselves (the recipe in SQLAlchemy's SQLite docs).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",  # readers never block the writer
            "synchronous=NORMAL",  # durable at checkpoints of the WAL; safe with WAL
            "foreign_keys=ON",
            f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            "cache_size=-32000",  # 32 MB page cache
            "temp_store=MEMORY",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # A write transaction takes the write lock at once: a deferred one that later
        # upgrades can fail with SQLITE_BUSY whatever busy_timeout says.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def upsert(
    table: sa.TableClause,
    dialect: sa.Dialect,
    *,
    key: list[str],
    update: dict[str, Any],
    where: Callable[[Any], sa.ColumnElement[bool]] | None = None,
) -> sa.Insert:
    """INSERT ... ON CONFLICT (key) DO UPDATE [WHERE ...], for SQLite and PostgreSQL alike.

    `update` maps columns to values or to functions of `excluded` (the new row); `where`,
    a function of `excluded`, limits which conflicting rows are updated at all.
    """
    insert_fn = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    stmt = insert_fn(table)
    values = {
        name: (expr(stmt.excluded) if callable(expr) else expr) for name, expr in update.items()
    }
    condition = where(stmt.excluded) if where is not None else None
    return stmt.on_conflict_do_update(index_elements=key, set_=values, where=condition)


def insert_ignoring(table: sa.TableClause, dialect: sa.Dialect, *, key: list[str]) -> sa.Insert:
    """INSERT ... ON CONFLICT (key) DO NOTHING, for SQLite and PostgreSQL alike."""
    insert_fn = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    return insert_fn(table).on_conflict_do_nothing(index_elements=key)


def one_of(
    column: sa.ColumnElement[Any], values: list[str], dialect: sa.Dialect
) -> sa.ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `= ANY(array)` with one parameter.

    psycopg prepares a statement it sees often, and PostgreSQL may then settle on a
    generic plan: with 500 separate parameters that became a sequential scan checking
    each row against each value, slower with every game stored. One array parameter
    keeps the index plan.
    """
    if dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(sa.String)))
    return column.in_(values)


def lock_for_job_creation(conn: sa.Connection) -> None:
    """Serialise job creation so the "one active job" checks can't race.

    SQLite already holds the write lock (BEGIN IMMEDIATE); PostgreSQL takes a
    transaction-level advisory lock, released at commit.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": locks.JOB_CREATION})
