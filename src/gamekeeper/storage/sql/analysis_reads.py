"""Reading `analyses` rows: each plugin's newest version for a game."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from gamekeeper.storage.sql.analyses import newest_analyses
from gamekeeper.storage.sql.runner import SqlRunner


def latest_rows(conn: sa.Connection, game_id: int) -> dict[str, Any]:
    """Each plugin's value at its newest version (the rule of `newest_analyses`)."""
    return {plugin: row.value for plugin, row in newest_analyses(conn, game_id).items()}


class AnalysisReads(SqlRunner):
    """The game page's analysis read."""

    async def latest_analyses(self, game_id: int) -> Mapping[str, Any]:
        return await self.read(lambda c: latest_rows(c, game_id))
