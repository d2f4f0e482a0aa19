"""Statistics for the charts: rating over time, results by opening, games per month,
accuracy over time and by speed.

Every statistic is about *players*: the accounts of the asking user (or one account),
since "my rating" needs a point of view. An admin sees their own accounts by default,
and any single account by id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from gamekeeper.domain.games import Platform
from gamekeeper.domain.users import User
from gamekeeper.errors import AccountNotFound
from gamekeeper.storage.base import AccountStore
from gamekeeper.storage.stats import (
    AccuracyTally,
    MonthTally,
    OpeningTally,
    Players,
    RatingPoint,
    StatsStore,
)

#: Points per rating line above which days are merged into weeks, then months, so a
#: decade of games stays a readable (and light) chart.
MAX_POINTS = 300

#: Speeds from fastest to slowest: the order lines and legends take.
SPEED_ORDER = ("ultraBullet", "bullet", "blitz", "rapid", "classical", "correspondence")


class StatsReadStore(StatsStore, AccountStore, Protocol):
    """What statistics need from storage."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RatingSeries:
    """One line of the rating chart: a speed on a site (ratings differ across sites)."""

    platform: Platform
    speed: str
    points: tuple[RatingPoint, ...]

    @property
    def label(self) -> str:
        return f"{self.platform.value} {self.speed}"


@dataclass(frozen=True, slots=True, kw_only=True)
class OpeningResult:
    """Results in one opening family (the name before its first colon) with one colour."""

    name: str
    eco: str | None
    wins: int
    draws: int
    losses: int

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def score(self) -> float:
        """Points per game for the players (a draw is half a point)."""
        return (self.wins + self.draws / 2) / self.games if self.games else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class OpeningStats:
    white: tuple[OpeningResult, ...]
    black: tuple[OpeningResult, ...]


def opening_family(name: str | None, eco: str | None) -> str:
    """`Sicilian Defense: Alapin Variation` → `Sicilian Defense`; unnamed → the ECO code."""
    if name:
        return name.split(":", 1)[0].strip()
    return eco or "Unknown opening"


def top_openings(tallies: Sequence[OpeningTally], color: str, top: int) -> list[OpeningResult]:
    """The `top` most played opening families with `color`, most played first."""
    families: dict[str, list[int]] = {}
    ecos: dict[str, dict[str, int]] = {}
    for t in tallies:
        if t.color != color:
            continue
        family = opening_family(t.name, t.eco)
        counts = families.setdefault(family, [0, 0, 0])
        counts[0] += t.wins
        counts[1] += t.draws
        counts[2] += t.losses
        if t.eco:
            by_eco = ecos.setdefault(family, {})
            by_eco[t.eco] = by_eco.get(t.eco, 0) + t.wins + t.draws + t.losses
    results = [
        OpeningResult(
            name=family,
            eco=max(ecos[family], key=lambda e: (ecos[family][e], e)) if family in ecos else None,
            wins=w,
            draws=d,
            losses=lost,
        )
        for family, (w, d, lost) in families.items()
    ]
    results.sort(key=lambda r: (-r.games, r.name))
    return results[:top]


def _bucket_start(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def downsample(points: Sequence[RatingPoint], max_points: int = MAX_POINTS) -> list[RatingPoint]:
    """Days as they are, else merged into weeks, else months: the finest that keeps at most
    `max_points` (averages weighted by games; a merged point is dated by its bucket's start)."""
    if len(points) <= max_points:
        return list(points)
    merged: list[RatingPoint] = []
    for unit in ("week", "month"):
        buckets: dict[date, list[RatingPoint]] = {}
        for p in points:
            buckets.setdefault(_bucket_start(date.fromisoformat(p.day), unit), []).append(p)
        merged = [
            RatingPoint(
                day=start.isoformat(),
                platform=group[0].platform,
                speed=group[0].speed,
                rating=round(sum(p.rating * p.games for p in group) / sum(p.games for p in group)),
                games=sum(p.games for p in group),
            )
            for start, group in sorted(buckets.items())
        ]
        if len(merged) <= max_points:
            break
    return merged


def rating_series(points: Sequence[RatingPoint]) -> list[RatingSeries]:
    """Points grouped into lines, fastest speed first."""
    lines: dict[tuple[Platform, str], list[RatingPoint]] = {}
    for p in points:
        lines.setdefault((p.platform, p.speed), []).append(p)

    def order(key: tuple[Platform, str]) -> tuple[str, int, str]:
        platform, speed = key
        rank = SPEED_ORDER.index(speed) if speed in SPEED_ORDER else len(SPEED_ORDER)
        return (platform.value, rank, speed)

    return [
        RatingSeries(platform=key[0], speed=key[1], points=tuple(downsample(lines[key])))
        for key in sorted(lines, key=order)
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class AccuracyMean:
    """The players' mean accuracy over `games` analysed games of a month or a speed."""

    key: str  # YYYY-MM, or the speed
    games: int
    accuracy: float  # two decimals


@dataclass(frozen=True, slots=True, kw_only=True)
class AccuracyStats:
    by_month: tuple[AccuracyMean, ...]  # oldest first, months without analysed games absent
    by_speed: tuple[AccuracyMean, ...]  # fastest first; `unknown` last


def _speed_rank(speed: str) -> tuple[int, str]:
    if speed in SPEED_ORDER:
        return (SPEED_ORDER.index(speed), "")
    return (len(SPEED_ORDER) + (speed == "unknown"), speed)


def accuracy_stats(tallies: Sequence[AccuracyTally]) -> AccuracyStats:
    """Means by month (games with a start time) and by speed, from sums: exact however
    the tallies are grouped."""
    months: dict[str, list[float]] = {}
    speeds: dict[str, list[float]] = {}
    for t in tallies:
        groups = [(speeds, t.speed or "unknown")]
        if t.month is not None:
            groups.append((months, t.month))
        for group, key in groups:
            sums = group.setdefault(key, [0, 0.0])
            sums[0] += t.games
            sums[1] += t.total

    def means(group: dict[str, list[float]], keys: Sequence[str]) -> tuple[AccuracyMean, ...]:
        return tuple(
            AccuracyMean(
                key=k, games=int(group[k][0]), accuracy=round(group[k][1] / group[k][0], 2)
            )
            for k in keys
        )

    return AccuracyStats(
        by_month=means(months, sorted(months)),
        by_speed=means(speeds, sorted(speeds, key=_speed_rank)),
    )


class StatsService:
    """Charts' data for a user's accounts (or one account they may see)."""

    def __init__(self, store: StatsReadStore) -> None:
        self.store = store

    async def scope(self, user: User, account_id: int | None = None) -> Players:
        """The players the statistics are about."""
        if account_id is not None:
            account = await self.store.get_account(account_id)
            if account is None or (not user.is_admin and account.owner != user.name):
                raise AccountNotFound(f"no account {account_id}")
            return ((account.platform, account.player_id),)
        accounts = await self.store.list_accounts(user.name)
        return tuple((a.platform, a.player_id) for a in accounts)

    async def ratings(self, user: User, account_id: int | None = None) -> list[RatingSeries]:
        players = await self.scope(user, account_id)
        return rating_series(await self.store.rating_history(players)) if players else []

    async def openings(
        self, user: User, account_id: int | None = None, *, top: int = 8
    ) -> OpeningStats:
        players = await self.scope(user, account_id)
        tallies = await self.store.opening_results(players) if players else []
        return OpeningStats(
            white=tuple(top_openings(tallies, "white", top)),
            black=tuple(top_openings(tallies, "black", top)),
        )

    async def monthly(self, user: User, account_id: int | None = None) -> list[MonthTally]:
        players = await self.scope(user, account_id)
        return await self.store.games_by_month(players) if players else []

    async def accuracy(self, user: User, account_id: int | None = None) -> AccuracyStats:
        """The players' mean accuracy per month and per speed, over their analysed games."""
        players = await self.scope(user, account_id)
        return accuracy_stats(await self.store.accuracy_tallies(players) if players else [])
