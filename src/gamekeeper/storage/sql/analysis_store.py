"""Analyses, the games pending them and the position cache: the async statements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gamekeeper.storage.analyses import PendingQuery, StoredAnalysis
from gamekeeper.storage.base import StoredGame
from gamekeeper.storage.sql import analyses as sql_analyses
from gamekeeper.storage.sql.runner import SqlRunner


class AnalysisQueries(SqlRunner):
    """`storage.analyses.AnalysisStore` on SQL."""

    async def pending_games(self, query: PendingQuery) -> list[StoredGame]:
        return await self.read(lambda c: sql_analyses.pending_games(c, query))

    async def count_pending(self, query: PendingQuery) -> int:
        return await self.read(lambda c: sql_analyses.count_pending(c, query))

    async def game_analyses(self, game_id: int) -> list[StoredAnalysis]:
        return await self.read(lambda c: sql_analyses.game_analyses(c, game_id))

    async def get_position_evals(self, positions: Sequence[str], engine_key: str) -> dict[str, Any]:
        if not positions:
            return {}
        return await self.read(lambda c: sql_analyses.get_position_evals(c, positions, engine_key))

    async def put_position_evals(self, values: Mapping[str, Any], engine_key: str) -> None:
        if values:
            await self.write(
                lambda tx: sql_analyses.put_position_evals(tx.conn, values, engine_key)
            )
