"""Reading `analyses` rows: each plugin's newest version for a game."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from gamekeeper.storage.sql.runner import SqlRunner
from gamekeeper.storage.sql.schema import analyses


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Order plugin versions "2" < "10" < "10.1" (numbers as numbers, the rest as text)."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in version.split("."))


def latest_rows(conn: sa.Connection, game_id: int) -> dict[str, Any]:
    query = sa.select(analyses.c.plugin, analyses.c.plugin_version, analyses.c.value).where(
        analyses.c.game_id == game_id
    )
    best: dict[str, tuple[tuple[tuple[int, int | str], ...], Any]] = {}
    for plugin, version, value in conn.execute(query):
        key = version_key(version)
        if plugin not in best or key > best[plugin][0]:
            best[plugin] = (key, value)
    return {plugin: value for plugin, (_, value) in best.items()}


class AnalysisReads(SqlRunner):
    """The game page's analysis read."""

    async def latest_analyses(self, game_id: int) -> Mapping[str, Any]:
        return await self.read(lambda c: latest_rows(c, game_id))
