"""procrastinate's tables in our PostgreSQL database, created and migrated by
`gamekeeper db upgrade` (like our own schema), so switching to workers takes no step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from procrastinate.schema import SchemaManager

from gamekeeper.domain import locks

#: Which of procrastinate's migration files this database has (applied in name order).
_APPLIED_TABLE = "gamekeeper_procrastinate_migrations"


def apply_schema(conninfo: str) -> str:
    """Create procrastinate's tables, or bring them up to the installed procrastinate.

    Idempotent. A new database gets procrastinate's `schema.sql` (and every migration
    shipped with it counts as applied); an existing one gets the migration files it
    has not had yet, in name (= version) order. Returns what was done, for humans.
    """
    migrations = sorted(Path(SchemaManager.get_migrations_path()).glob("*.sql"))
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (locks.QUEUE_SCHEMA,))
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {_APPLIED_TABLE} ("
            "name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        exists = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        applied = {row[0] for row in conn.execute(f"SELECT name FROM {_APPLIED_TABLE}")}
        if exists is None or exists[0] is None:
            conn.execute(SchemaManager.get_schema())
            _mark_applied(conn, [m.name for m in migrations])
            return f"procrastinate schema created ({len(migrations)} migrations included)"
        if not applied:
            # Made by procrastinate's own CLI (or an older gamekeeper): trust it is current.
            _mark_applied(conn, [m.name for m in migrations])
            return "procrastinate schema found; recorded as current"
        pending = [m for m in migrations if m.name not in applied]
        for migration in pending:
            conn.execute(migration.read_text(encoding="utf-8"))
            _mark_applied(conn, [migration.name])
        if pending:
            return f"procrastinate schema migrated ({len(pending)} migrations)"
        return "procrastinate schema is up to date"


def _mark_applied(conn: psycopg.Connection[Any], names: list[str]) -> None:
    with conn.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {_APPLIED_TABLE} (name) VALUES (%s) ON CONFLICT DO NOTHING",
            [(name,) for name in names],
        )
