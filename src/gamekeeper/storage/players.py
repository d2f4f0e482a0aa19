"""The storage Protocol of the opponent crawl and scouting (`sql/players.py`), beside
`base.py`, which holds the others."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gamekeeper.domain.games import Platform
from gamekeeper.domain.players import CrawledPlayer, Opponent, PlayerGame


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayerGamesQuery:
    """A player's stored games: at most `limit`, newest first; with `color` only as
    that colour, with `against` only those against one of these player ids."""

    platform: Platform
    player_id: str
    limit: int
    color: str | None = None
    against: Sequence[str] | None = None


class PlayerStore(Protocol):
    """Players reached by crawls, and their stored games seen from them."""

    async def player_cursor(self, platform: Platform, player_id: str) -> Any: ...

    async def opponents_of(self, platform: Platform, player_id: str) -> list[Opponent]:
        """Who the player met in stored games, most games first, then by id."""
        ...

    async def crawled_players(self, owner: str | None, *, limit: int) -> list[CrawledPlayer]:
        """The players `owner`'s crawls reached (None: everyone's), nearest first."""
        ...

    async def crawled_player(
        self, owner: str | None, platform: Platform, player_id: str
    ) -> CrawledPlayer | None: ...

    async def owner_player_ids(self, owner: str, platform: Platform) -> list[str]:
        """The player ids of the owner's accounts on `platform`."""
        ...

    async def player_games(self, query: PlayerGamesQuery) -> list[PlayerGame]:
        """The player's stored games, newest first."""
        ...
