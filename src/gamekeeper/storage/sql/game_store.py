"""Games and the statistics over them: the async statements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from gamekeeper.domain.games import Game, Platform, SiteUser
from gamekeeper.storage.base import (
    GamePage,
    GameQuery,
    MissingMovesQuery,
    StoredGame,
    TimeRange,
    UpsertResult,
)
from gamekeeper.storage.sql import game_list
from gamekeeper.storage.sql import games as sql_games
from gamekeeper.storage.sql import stats as sql_stats
from gamekeeper.storage.sql.runner import SqlRunner
from gamekeeper.storage.sql.schema import games
from gamekeeper.storage.stats import AccuracyTally, MonthTally, OpeningTally, Players, RatingPoint


class GameQueries(SqlRunner):
    """Stored games, and the charts' aggregates."""

    # -- games ----------------------------------------------------------------

    async def upsert_games(self, batch: Sequence[Game], *, job_id: str | None) -> UpsertResult:
        return await self.write(lambda tx: tx.upsert_games(batch, job_id=job_id))

    async def games_missing_moves(self, query: MissingMovesQuery) -> list[str]:
        return await self.read(lambda c: sql_games.games_missing_moves(c, query))

    async def count_missing_moves(self, platform: Platform, player_id: str) -> int:
        return await self.read(lambda c: sql_games.count_missing_moves(c, platform, player_id))

    async def count_player_games(self, platform: Platform, player_id: str) -> int:
        return await self.read(lambda c: sql_games.count_player_games(c, platform, player_id))

    async def player_game_ids_at(self, player: SiteUser, times: Sequence[datetime]) -> set[str]:
        return await self.read(
            lambda c: sql_games.player_game_ids_at(c, player.platform, player.player_id, times)
        )

    async def count_player_games_between(
        self, player: SiteUser, ranges: Sequence[TimeRange]
    ) -> list[int]:
        platform, player_id = player.platform, player.player_id
        return await self.read(
            lambda c: sql_games.count_player_games_between(c, platform, player_id, ranges)
        )

    async def list_games(self, query: GameQuery) -> GamePage:
        return await self.read(lambda c: game_list.list_games(c, query))

    async def count_matching_games(self, query: GameQuery) -> int:
        return await self.read(lambda c: game_list.count_games(c, query))

    async def get_game(self, game_id: int) -> StoredGame | None:
        return await self.read(lambda c: game_list.get_game(c, game_id))

    async def count_games(self, **filters: Any) -> int:
        def work(conn: sa.Connection) -> int:
            stmt = sa.select(sa.func.count()).select_from(games)
            for name, value in filters.items():
                stmt = stmt.where(games.c[name] == value)
            return int(conn.execute(stmt).scalar_one())

        return await self.read(work)

    async def get_game_by_key(
        self, platform: Platform, platform_game_id: str
    ) -> Mapping[str, Any] | None:
        def work(conn: sa.Connection) -> Mapping[str, Any] | None:
            stmt = games.select().where(
                games.c.platform == platform.value, games.c.platform_game_id == platform_game_id
            )
            row = conn.execute(stmt).mappings().first()
            return dict(row) if row else None

        return await self.read(work)

    # -- stats (the dashboard's charts) ---------------------------------------

    async def rating_history(self, players: Players) -> list[RatingPoint]:
        return await self.read(lambda c: sql_stats.rating_history(c, players))

    async def opening_results(self, players: Players) -> list[OpeningTally]:
        return await self.read(lambda c: sql_stats.opening_results(c, players))

    async def games_by_month(self, players: Players) -> list[MonthTally]:
        return await self.read(lambda c: sql_stats.games_by_month(c, players))

    async def accuracy_tallies(self, players: Players) -> list[AccuracyTally]:
        return await self.read(lambda c: sql_stats.accuracy_tallies(c, players))
