"""Fixtures shared by every test: clean settings, and real databases (SQLite, PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from gamekeeper.storage import migrator
from gamekeeper.storage.sql.engine import create_engine, normalise_url
from gamekeeper.storage.sql.store import SqlStore, libpq_url

POSTGRES_URL = os.environ.get("GAMEKEEPER_TEST_POSTGRES_URL")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No GAMEKEEPER_* setting leaks in from the machine, and no .env file is read."""
    for name in list(os.environ):
        if name.startswith("GAMEKEEPER_") and name != "GAMEKEEPER_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _admin_conninfo() -> str:
    assert POSTGRES_URL is not None
    url = normalise_url(POSTGRES_URL)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _database_url(name: str) -> str:
    assert POSTGRES_URL is not None
    return normalise_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated template database; each test copies it (CREATE DATABASE ... TEMPLATE)."""
    if POSTGRES_URL is None:
        pytest.skip("GAMEKEEPER_TEST_POSTGRES_URL is not set")
    name = f"gk_template_{os.getpid()}"
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(_database_url(name))
    migrator.upgrade(engine)
    engine.dispose()
    yield name
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    name = f"gk_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    yield _database_url(name)
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def procrastinate_template(postgres_template: str) -> Iterator[str]:
    """The migrated template plus procrastinate's tables (kept apart from the plain
    template, whose schema a test compares with the migrations)."""
    from gamekeeper.storage.sql.queue_schema import apply_schema

    name = f"gk_template_pq_{os.getpid()}"
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    apply_schema(libpq_url(_database_url(name)))
    yield name
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def procrastinate_postgres_url(procrastinate_template: str) -> Iterator[str]:
    """A migrated PostgreSQL database with procrastinate's tables, for one test."""
    name = f"gk_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{procrastinate_template}"')
    yield _database_url(name)
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'gamekeeper.db'}"
    engine = create_engine(url)
    migrator.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database: SQLite always, PostgreSQL when configured."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[SqlStore]:
    store = SqlStore(db_url)
    yield store
    await store.aclose()


def count_statements(engine: sa.Engine, prefix: str) -> list[str]:
    """Record every statement starting with `prefix` run on `engine` from now on."""
    seen: list[str] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(prefix.upper()):
            seen.append(statement)

    return seen
