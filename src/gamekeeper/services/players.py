"""Scouting: what a user may know of the players their crawls reached.

A player is visible to a user whose crawl reached them (an admin sees every crawled
player); their stored games are then visible to that user too, without becoming the
user's own (stats count only the games of the user's accounts).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from gamekeeper.domain.accounts import validate_username
from gamekeeper.domain.games import Platform
from gamekeeper.domain.players import CrawledPlayer, PlayerGame
from gamekeeper.domain.users import User
from gamekeeper.errors import InvalidInput, NotFound
from gamekeeper.storage.base import AccountStore
from gamekeeper.storage.players import PlayerGamesQuery, PlayerStore

if TYPE_CHECKING:
    # python-chess costs start-up time; the tree is built only when asked for.
    from gamekeeper.services.opening_tree import OpeningTree

#: Games a card is computed over (the newest).
CARD_GAMES = 2000
#: Games an opening tree is computed over (the newest).
TREE_GAMES = 1000
#: Players listed on one frontier page.
MAX_LIST = 1000


class PlayerNotFound(NotFound):
    """No such player among those your crawls reached."""


class PlayerReadStore(PlayerStore, AccountStore, Protocol):
    """What scouting reads."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Tally:
    wins: int = 0
    draws: int = 0
    losses: int = 0

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def score(self) -> float | None:
        """Points per game (win 1, draw 0.5), None without games."""
        return None if not self.games else (self.wins + self.draws / 2) / self.games

    def add(self, outcome: str | None) -> Tally:
        return Tally(
            wins=self.wins + (outcome == "win"),
            draws=self.draws + (outcome == "draw"),
            losses=self.losses + (outcome == "loss"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeedRating:
    speed: str
    rating: int | None
    games: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OpeningLine:
    color: str
    opening: str
    tally: Tally


@dataclass(frozen=True, slots=True, kw_only=True)
class HeadToHead:
    """The owner's accounts against the player, from the owner's side."""

    games: int = 0
    wins: int = 0
    draws: int = 0
    losses: int = 0
    last_played: datetime | None = None
    last_game_id: int | None = None

    @property
    def score(self) -> float | None:
        decided = self.wins + self.draws + self.losses
        return None if not decided else (self.wins + self.draws / 2) / decided


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayerCard:
    player: CrawledPlayer
    games: int
    ratings: tuple[SpeedRating, ...]
    openings: tuple[OpeningLine, ...]
    time_controls: tuple[tuple[str, int], ...]
    last_games: tuple[PlayerGame, ...]
    head_to_head: HeadToHead = field(default_factory=HeadToHead)


def parse_platform(value: str) -> Platform:
    try:
        return Platform(value.strip().lower())
    except ValueError:
        raise InvalidInput(f"unknown platform {value!r}: lichess or chesscom") from None


def parse_player_ref(text: str) -> tuple[Platform, str]:
    """`lichess:bob` → (Platform.LICHESS, "bob")."""
    platform, sep, username = text.partition(":")
    if not sep:
        raise InvalidInput(f"player {text!r} must look like PLATFORM:USERNAME")
    return parse_platform(platform), validate_username(username.strip())


def head_to_head(games: Sequence[PlayerGame]) -> HeadToHead:
    """From the player's games against the owner's accounts: the owner's record."""
    wins = sum(1 for g in games if g.outcome == "loss")
    draws = sum(1 for g in games if g.outcome == "draw")
    losses = sum(1 for g in games if g.outcome == "win")
    last = games[0] if games else None
    return HeadToHead(
        games=len(games),
        wins=wins,
        draws=draws,
        losses=losses,
        last_played=last.start_time if last else None,
        last_game_id=last.game_id if last else None,
    )


def summarise(
    player: CrawledPlayer, games: Sequence[PlayerGame], meetings: Sequence[PlayerGame], last: int
) -> PlayerCard:
    ratings: dict[str, SpeedRating] = {}
    for game in games:  # newest first: the first rating seen per speed is the latest
        speed = game.speed or "unknown"
        seen = ratings.get(speed)
        rating = seen.rating if seen else game.rating
        count = (seen.games if seen else 0) + 1
        ratings[speed] = SpeedRating(speed=speed, rating=rating, games=count)
    lines: dict[tuple[str, str], Tally] = {}
    for game in games:
        if game.outcome is None:
            continue
        key = (game.color, (game.opening_name or "Unknown").split(":")[0])
        lines[key] = lines.get(key, Tally()).add(game.outcome)
    openings = sorted(
        (OpeningLine(color=c, opening=o, tally=t) for (c, o), t in lines.items()),
        key=lambda line: (line.color, -line.tally.games, line.opening),
    )
    controls = Counter(g.time_control or "unknown" for g in games)
    return PlayerCard(
        player=player,
        games=len(games),
        ratings=tuple(sorted(ratings.values(), key=lambda r: -r.games)),
        openings=tuple(openings),
        time_controls=tuple(sorted(controls.items(), key=lambda i: (-i[1], i[0]))[:5]),
        last_games=tuple(games[:last]),
        head_to_head=head_to_head(meetings),
    )


class PlayerService:
    """The crawl's frontier, player cards and opening trees, as a user may see them."""

    def __init__(self, store: PlayerReadStore) -> None:
        self.store = store

    async def frontier(self, user: User, *, limit: int = MAX_LIST) -> list[CrawledPlayer]:
        """The players the user's crawls reached (every crawled player, for an admin)."""
        if not 1 <= limit <= MAX_LIST:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIST}")
        owner = None if user.is_admin else user.name
        return await self.store.crawled_players(owner, limit=limit)

    async def player(self, user: User, platform: str, username: str) -> CrawledPlayer:
        where = parse_platform(platform)
        name = validate_username(username)
        owner = None if user.is_admin else user.name
        found = await self.store.crawled_player(owner, where, name.lower())
        if found is None:
            raise PlayerNotFound(f"no player {where.value}:{name} among those your crawls reached")
        return found

    async def card(
        self, viewer: User, platform: str, username: str, *, last: int = 10
    ) -> PlayerCard:
        """A player's scouting card: ratings, openings, time controls, last games and
        the viewer's head-to-head with them."""
        player = await self.player(viewer, platform, username)
        query = PlayerGamesQuery(
            platform=player.platform, player_id=player.player_id, limit=CARD_GAMES
        )
        games = await self.store.player_games(query)
        mine = await self.store.owner_player_ids(viewer.name, player.platform)
        meetings = await self.store.player_games(dataclasses.replace(query, against=mine))
        return summarise(player, games, meetings, last)

    async def tree(
        self, user: User, player_ref: str, *, color: str | None, moves: str
    ) -> OpeningTree:
        """The opening tree of a player's games after `moves` (SAN, space-separated)."""
        if color is not None and color not in ("white", "black"):
            raise InvalidInput("color must be white or black")
        platform, username = parse_player_ref(player_ref)
        player = await self.player(user, platform.value, username)
        from gamekeeper.services.opening_tree import build_tree, parse_moves

        line = parse_moves(moves)
        query = PlayerGamesQuery(
            platform=player.platform, player_id=player.player_id, limit=TREE_GAMES, color=color
        )
        games = await self.store.player_games(query)
        return build_tree(player, games, line, color=color)
