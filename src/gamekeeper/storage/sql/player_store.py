"""Players reached by opponent crawls, and scouting reads: the async statements."""

from __future__ import annotations

from typing import Any

from gamekeeper.domain.games import Platform
from gamekeeper.domain.players import CrawledPlayer, Opponent, PlayerGame
from gamekeeper.storage.players import PlayerGamesQuery
from gamekeeper.storage.sql import players as sql_players
from gamekeeper.storage.sql.runner import SqlRunner


class PlayerQueries(SqlRunner):
    """The `PlayerStore` side of `SqlStore`."""

    async def player_cursor(self, platform: Platform, player_id: str) -> Any:
        return await self.read(lambda c: sql_players.player_cursor(c, platform, player_id))

    async def opponents_of(self, platform: Platform, player_id: str) -> list[Opponent]:
        return await self.read(lambda c: sql_players.opponents_of(c, platform, player_id))

    async def crawled_players(self, owner: str | None, *, limit: int) -> list[CrawledPlayer]:
        return await self.read(lambda c: sql_players.crawled_players(c, owner, limit=limit))

    async def crawled_player(
        self, owner: str | None, platform: Platform, player_id: str
    ) -> CrawledPlayer | None:
        return await self.read(lambda c: sql_players.crawled_player(c, owner, platform, player_id))

    async def owner_player_ids(self, owner: str, platform: Platform) -> list[str]:
        return await self.read(lambda c: sql_players.owner_player_ids(c, owner, platform))

    async def player_games(self, query: PlayerGamesQuery) -> list[PlayerGame]:
        return await self.read(lambda c: sql_players.player_games(c, query))
