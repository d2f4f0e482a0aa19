"""`gamekeeper db copy`: every row of one database into another (SQLite → PostgreSQL).

The copy is one transaction on the target: tables in foreign-key order, rows in
batches in primary-key order, then PostgreSQL's sequences moved past the copied ids,
then each table verified (row count and a checksum of its rows) against the source,
still inside the transaction. A mismatch rolls everything back, so the target is
either a verified copy or as empty as it was.

A non-empty target is refused: merging two histories is not a copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from gamekeeper.errors import GamekeeperError, InvalidInput, StorageError
from gamekeeper.storage import migrator
from gamekeeper.storage.sql.engine import READ_ONLY, create_engine
from gamekeeper.storage.sql.schema import metadata

#: Rows read and written per batch.
BATCH = 1000

#: Called after each batch with (table, rows copied so far).
Progress = Callable[[str, int], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class TableCopy:
    """One table's copy: its rows and checksum (the same on both sides, or it failed)."""

    table: str
    rows: int
    checksum: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CopyReport:
    source: str
    target: str
    tables: tuple[TableCopy, ...]

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def copy_database(
    source_url: str, target_url: str, *, batch: int = BATCH, progress: Progress | None = None
) -> CopyReport:
    """Copy every row of `source_url` into the empty database `target_url`, verified.

    The target's schema is created (or migrated) first. Raises `InvalidInput` for a
    target that holds rows or is the source, `StorageError` if anything fails.
    """
    source = create_engine(source_url)
    target = create_engine(target_url)
    try:
        return _copy(source, target, batch=batch, progress=progress)
    except GamekeeperError:
        raise
    except sa.exc.SQLAlchemyError as exc:
        raise StorageError(f"copy failed, target left as it was: {exc}") from exc
    finally:
        source.dispose()
        target.dispose()


def _copy(
    source: sa.Engine, target: sa.Engine, *, batch: int, progress: Progress | None
) -> CopyReport:
    source_name = source.url.render_as_string(hide_password=True)
    target_name = target.url.render_as_string(hide_password=True)
    if source.url == target.url:
        raise InvalidInput(f"the target is the source ({target_name})")
    if migrator.needs_upgrade(source):
        raise StorageError(f"the source {source_name} needs `gamekeeper db upgrade` first")
    migrator.upgrade(target)
    tables = metadata.sorted_tables  # parents before children
    with (
        source.connect().execution_options(**{READ_ONLY: True}) as src,
        target.begin() as dst,
    ):
        occupied = [
            t.name for t in tables if dst.execute(sa.select(1).select_from(t).limit(1)).first()
        ]
        if occupied:
            raise InvalidInput(
                f"the target {target_name} is not empty (rows in {', '.join(occupied)}); "
                "db copy only fills an empty database"
            )
        for table in tables:
            copied = 0
            for rows in _batches(src, table, batch):
                dst.execute(table.insert(), rows)
                copied += len(rows)
                if progress is not None:
                    progress(table.name, copied)
        if dst.dialect.name == "postgresql":
            _reset_sequences(dst, tables)
        report = tuple(_verify(src, dst, table) for table in tables)
    return CopyReport(source=source_name, target=target_name, tables=report)


def _ordered(table: sa.Table) -> sa.Select[Any]:
    return sa.select(table).order_by(*table.primary_key.columns)


def _batches(conn: sa.Connection, table: sa.Table, size: int) -> Iterator[list[dict[str, Any]]]:
    result = conn.execution_options(yield_per=size).execute(_ordered(table))
    for part in result.mappings().partitions(size):
        yield [dict(row) for row in part]


def _reset_sequences(conn: sa.Connection, tables: list[sa.Table]) -> None:
    """Move each serial id's sequence past the copied ids (explicit ids don't advance it)."""
    for table in tables:
        key = list(table.primary_key.columns)
        if len(key) != 1 or not isinstance(key[0].type, sa.Integer) or key[0].foreign_keys:
            continue
        name, column = table.name, key[0].name
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "
                f"COALESCE(MAX({column}), 1), MAX({column}) IS NOT NULL) FROM {name}"
            )
        )


def table_digest(conn: sa.Connection, table: sa.Table) -> tuple[int, str]:
    """(rows, sha256 of every row in primary-key order, values in a canonical JSON form).

    Canonical: JSON objects with sorted keys and datetimes in UTC ISO form, so the same
    row reads the same from SQLite and from PostgreSQL (JSONB reorders keys).
    """
    digest = hashlib.sha256()
    rows = 0
    for part in conn.execution_options(yield_per=BATCH).execute(_ordered(table)).partitions():
        for row in part:
            digest.update(orjson.dumps(list(row), option=orjson.OPT_SORT_KEYS))
            digest.update(b"\n")
            rows += 1
    return rows, digest.hexdigest()


def _verify(src: sa.Connection, dst: sa.Connection, table: sa.Table) -> TableCopy:
    rows, checksum = table_digest(src, table)
    copied, copied_checksum = table_digest(dst, table)
    if (rows, checksum) != (copied, copied_checksum):
        raise StorageError(
            f"copy of {table.name} does not match its source "
            f"({rows} rows {checksum[:12]} → {copied} rows {copied_checksum[:12]}); "
            "nothing was written"
        )
    return TableCopy(table=table.name, rows=rows, checksum=checksum)
