"""Stats: the numbers behind the dashboard's charts, from your accounts' point of view."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from gamekeeper.api.auth import AuthFirstRoute
from gamekeeper.api.deps import CurrentUser, ServicesDep
from gamekeeper.api.errors import ERROR_RESPONSES
from gamekeeper.domain.limits import INT32_MAX
from gamekeeper.services.stats import AccuracyMean, OpeningResult

router = APIRouter(
    prefix="/api/stats", tags=["stats"], responses=ERROR_RESPONSES, route_class=AuthFirstRoute
)

AccountFilter = Annotated[
    int | None,
    Query(ge=1, le=INT32_MAX, description="one account (default: all of yours)"),
]


class RatingPointOut(BaseModel):
    day: str
    rating: int
    games: int


class RatingSeriesOut(BaseModel):
    platform: str
    speed: str
    points: list[RatingPointOut]


class OpeningResultOut(BaseModel):
    name: str
    eco: str | None
    games: int
    wins: int
    draws: int
    losses: int
    score: float


class OpeningsOut(BaseModel):
    white: list[OpeningResultOut]
    black: list[OpeningResultOut]


class MonthOut(BaseModel):
    month: str
    games: int
    wins: int
    draws: int
    losses: int
    other: int


@router.get("/ratings", response_model=list[RatingSeriesOut])
async def ratings(
    user: CurrentUser, services: ServicesDep, account_id: AccountFilter = None
) -> list[RatingSeriesOut]:
    """Average rating per day (weeks or months for long histories), a line per site and
    speed, in rated standard games."""
    series = await services.stats.ratings(user, account_id)
    return [
        RatingSeriesOut(
            platform=s.platform.value,
            speed=s.speed,
            points=[RatingPointOut(day=p.day, rating=p.rating, games=p.games) for p in s.points],
        )
        for s in series
    ]


@router.get("/openings", response_model=OpeningsOut)
async def openings(
    user: CurrentUser,
    services: ServicesDep,
    account_id: AccountFilter = None,
    top: Annotated[int, Query(ge=1, le=50)] = 8,
) -> OpeningsOut:
    """Wins, draws and losses in your most played opening families, as White and as Black."""
    stats = await services.stats.openings(user, account_id, top=top)

    def out(results: tuple[OpeningResult, ...]) -> list[OpeningResultOut]:
        return [
            OpeningResultOut(
                name=r.name,
                eco=r.eco,
                games=r.games,
                wins=r.wins,
                draws=r.draws,
                losses=r.losses,
                score=round(r.score, 4),
            )
            for r in results
        ]

    return OpeningsOut(white=out(stats.white), black=out(stats.black))


@router.get("/monthly", response_model=list[MonthOut])
async def monthly(
    user: CurrentUser, services: ServicesDep, account_id: AccountFilter = None
) -> list[MonthOut]:
    """Games per month (UTC), with your wins, draws and losses (`other`: unfinished)."""
    months = await services.stats.monthly(user, account_id)
    return [
        MonthOut(
            month=m.month,
            games=m.wins + m.draws + m.losses + m.other,
            wins=m.wins,
            draws=m.draws,
            losses=m.losses,
            other=m.other,
        )
        for m in months
    ]


class AccuracyMonthOut(BaseModel):
    month: str
    games: int
    accuracy: float


class AccuracySpeedOut(BaseModel):
    speed: str
    games: int
    accuracy: float


class AccuracyOut(BaseModel):
    by_month: list[AccuracyMonthOut]
    by_speed: list[AccuracySpeedOut]


@router.get("/accuracy", response_model=AccuracyOut)
async def accuracy(
    user: CurrentUser, services: ServicesDep, account_id: AccountFilter = None
) -> AccuracyOut:
    """Your side's mean accuracy (Lichess's, from the `accuracy` analysis) per UTC month
    of the start and per speed, with the analysed games counted; unanalysed games are
    left out."""
    stats = await services.stats.accuracy(user, account_id)

    def month(m: AccuracyMean) -> AccuracyMonthOut:
        return AccuracyMonthOut(month=m.key, games=m.games, accuracy=m.accuracy)

    def speed(m: AccuracyMean) -> AccuracySpeedOut:
        return AccuracySpeedOut(speed=m.key, games=m.games, accuracy=m.accuracy)

    return AccuracyOut(
        by_month=[month(m) for m in stats.by_month], by_speed=[speed(m) for m in stats.by_speed]
    )
