"""`HEAD_REVISION` (what a command's start-up checks, without Alembic) is Alembic's head."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from gamekeeper.storage import migrator


def test_head_revision_constant_is_alembics_head() -> None:
    assert migrator.head_revision() == migrator.HEAD_REVISION


def test_current_revision_without_alembic(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        assert migrator.current_revision(engine) is None
        assert migrator.needs_upgrade(engine)
        migrator.upgrade(engine)
        assert migrator.current_revision(engine) == migrator.HEAD_REVISION
        assert not migrator.needs_upgrade(engine)
    finally:
        engine.dispose()
