"""Players met across the board: the opponent crawl's frontier and what it found."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from gamekeeper.domain.games import Platform, SiteUser


class PlayerStatus(enum.StrEnum):
    """Where a player stands in an owner's crawls."""

    #: Found in a game; a crawl will fetch their games.
    QUEUED = "queued"
    #: Their recent games are stored.
    DONE = "done"
    #: The site refused them (unknown user, closed account, 404): see `last_error`.
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class CrawlTarget(SiteUser):
    """One player in a crawl's frontier: who, how far from the account, found by whom."""

    platform: Platform
    username: str
    #: 1 for the account's own opponents, 2 for theirs, and so on.
    depth: int
    #: The username in whose games this player was found.
    discovered_from: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CrawledPlayer(SiteUser):
    """A player as one owner's crawls left them."""

    platform: Platform
    username: str
    depth: int
    status: PlayerStatus
    discovered_from: str | None
    #: Stored games of this player when last crawled.
    games: int
    job_id: str | None
    crawled_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Opponent:
    """Someone a player met in stored games, and how often."""

    username: str
    games: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayerGame:
    """What scouting needs of one stored game, seen from one player."""

    game_id: int
    platform_game_id: str
    color: str  # white or black: the player's
    opponent: str | None
    opponent_id: str | None
    rating: int | None
    opponent_rating: int | None
    #: win, draw, loss (for the player), or None for an unfinished game.
    outcome: str | None
    result: str
    speed: str | None
    time_control: str | None
    start_time: datetime | None
    opening_eco: str | None
    opening_name: str | None
    moves: str | None
    initial_fen: str | None
    variant: str
    url: str | None
