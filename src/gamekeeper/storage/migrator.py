"""Alembic migrations, run from code (`gamekeeper db upgrade`; `serve` and `sync` on start)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from gamekeeper.errors import StorageError

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database's schema up to `revision`."""
    try:
        with engine.begin() as conn:
            command.upgrade(_config(conn), revision)
    except sa.exc.SQLAlchemyError as exc:
        raise StorageError(f"migration failed: {exc}") from exc


def needs_upgrade(engine: sa.Engine) -> bool:
    return current_revision(engine) != head_revision()
