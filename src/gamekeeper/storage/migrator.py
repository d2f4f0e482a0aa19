"""Alembic migrations, run from code (`gamekeeper db upgrade`; `serve` and `sync` on start).

Alembic is imported only when a migration runs: a command's start-up asks
`is_current` (one plain query against `HEAD_REVISION`), which costs no Alembic import.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

import sqlalchemy as sa

from gamekeeper.errors import StorageError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"

#: The newest migration's revision. A new migration changes it too
#: (`tests/unit/test_migrator.py` checks it is Alembic's head).
HEAD_REVISION: Final = "0007"


def _config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """Alembic's head, read from the migration scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    """The database's revision (None: never migrated), read without Alembic."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database's schema up to `revision`."""
    from alembic import command

    try:
        with engine.begin() as conn:
            command.upgrade(_config(conn), revision)
    except sa.exc.SQLAlchemyError as exc:
        raise StorageError(f"migration failed: {exc}") from exc


def needs_upgrade(engine: sa.Engine) -> bool:
    return current_revision(engine) != HEAD_REVISION
