"""The storage Protocol of the dashboard's charts (`sql/stats.py`) and the values it
returns, beside `base.py`, which holds the others."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gamekeeper.domain.games import Platform

#: The players a statistic is about: (platform, player id) pairs, as in `GameQuery.players`.
Players = tuple[tuple[Platform, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RatingPoint:
    """The players' average rating on one UTC day, in one speed on one site."""

    day: str  # YYYY-MM-DD
    platform: Platform
    speed: str
    rating: int
    games: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OpeningTally:
    """Finished games in one opening with one colour, by outcome for the players."""

    color: str  # white or black
    eco: str | None
    name: str | None
    wins: int
    draws: int
    losses: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MonthTally:
    """Games started in one UTC month, by outcome for the players (`other`: unfinished)."""

    month: str  # YYYY-MM
    wins: int
    draws: int
    losses: int
    other: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AccuracyTally:
    """The players' accuracy summed over their analysed games of one month and speed."""

    month: str | None  # YYYY-MM (UTC) of the start; None: no start time
    speed: str | None
    games: int
    total: float  # sum of the players' accuracies, so means combine exactly


class StatsStore(Protocol):
    """Aggregates over the games of some players."""

    async def rating_history(self, players: Players) -> list[RatingPoint]: ...

    async def opening_results(self, players: Players) -> list[OpeningTally]: ...

    async def games_by_month(self, players: Players) -> list[MonthTally]: ...

    async def accuracy_tallies(self, players: Players) -> list[AccuracyTally]:
        """Per month and speed, the players' games with an accuracy and its sum."""
        ...
