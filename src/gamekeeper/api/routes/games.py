"""Games: filtered listing, one game, its PGN, and streamed exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response, StreamingResponse

from gamekeeper.api.auth import AuthFirstRoute
from gamekeeper.api.deps import CurrentUser, ServicesDep
from gamekeeper.api.errors import ERROR_RESPONSES
from gamekeeper.api.schemas.games import GameDetailOut, GameOut, GamePageOut
from gamekeeper.domain.games import Platform
from gamekeeper.domain.limits import INT32_MAX
from gamekeeper.storage.base import GameQuery

router = APIRouter(
    prefix="/api/games", tags=["games"], responses=ERROR_RESPONSES, route_class=AuthFirstRoute
)

GameId = Annotated[int, Path(ge=1, le=INT32_MAX)]
SPEEDS = Literal["ultraBullet", "bullet", "blitz", "rapid", "classical", "correspondence"]
SORTS = Literal["accuracy", "-accuracy", "blunders", "-blunders"]
#: Far above any game's count: a bound, so the integer always fits.
MAX_BLUNDERS = 1000
SIDE_NOTE = (
    "your side's value (the account's; needs account_id unless you have accounts); "
    "games without analysis are left out"
)
MEDIA_TYPES = {
    "pgn": "application/x-chess-pgn",
    "ndjson": "application/x-ndjson",
    "csv": "text/csv",
}


@dataclass(frozen=True, slots=True)
class GameFilters:
    """The filters every game listing and export takes."""

    query: GameQuery
    account_id: int | None


def game_filters(
    account_id: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
    platform: Annotated[Literal["lichess", "chesscom", "pgn"] | None, Query()] = None,
    speed: Annotated[SPEEDS | None, Query()] = None,
    result: Annotated[Literal["1-0", "0-1", "1/2-1/2", "*"] | None, Query()] = None,
    outcome: Annotated[
        Literal["win", "loss", "draw"] | None,
        Query(description="needs account_id unless you have accounts"),
    ] = None,
    color: Annotated[Literal["white", "black"] | None, Query()] = None,
    opening: Annotated[
        str | None, Query(max_length=100, description="ECO prefix (B07) or words of the name")
    ] = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="inclusive")] = None,
    rated: Annotated[bool | None, Query()] = None,
    has_moves: Annotated[bool | None, Query()] = None,
    min_accuracy: Annotated[float | None, Query(ge=0, le=100, description=SIDE_NOTE)] = None,
    max_accuracy: Annotated[float | None, Query(ge=0, le=100, description=SIDE_NOTE)] = None,
    min_blunders: Annotated[int | None, Query(ge=0, le=MAX_BLUNDERS, description=SIDE_NOTE)] = None,
    max_blunders: Annotated[int | None, Query(ge=0, le=MAX_BLUNDERS, description=SIDE_NOTE)] = None,
    sort: Annotated[
        SORTS | None,
        Query(description="by your side's accuracy or blunders (- descending); default newest"),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> GameFilters:
    def start_of(day: date | None, *, days: int = 0) -> datetime | None:
        """Dates are UTC days."""
        if day is None:
            return None
        return datetime.combine(day, time.min, tzinfo=UTC) + timedelta(days=days)

    query = GameQuery(
        platform=Platform(platform) if platform else None,
        speed=speed,
        result=result,
        outcome=outcome,
        color=color,
        opening=opening or None,
        start_from=start_of(date_from),
        start_to=start_of(date_to, days=1),
        rated=rated,
        has_moves=has_moves,
        min_accuracy=min_accuracy,
        max_accuracy=max_accuracy,
        min_blunders=min_blunders,
        max_blunders=max_blunders,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return GameFilters(query=query, account_id=account_id)


Filters = Annotated[GameFilters, Depends(game_filters)]


@router.get("", response_model=GamePageOut)
async def list_games(filters: Filters, user: CurrentUser, services: ServicesDep) -> GamePageOut:
    """Games of your accounts (every game for an admin), newest first, or by your side's
    accuracy or blunders (`sort`; games without analysis last)."""
    page = await services.games.list(user, filters.query, account_id=filters.account_id)
    return GamePageOut(items=[GameOut.of(g) for g in page.items], next_cursor=page.next_cursor)


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}, "description": "The games"}},
)
async def export_games(
    filters: Filters,
    user: CurrentUser,
    services: ServicesDep,
    format: Annotated[Literal["pgn", "ndjson", "csv"], Query()] = "pgn",
) -> StreamingResponse:
    """Every matching game (ignoring `limit`), streamed as PGN, NDJSON or CSV."""
    chunks = await services.games.export(user, filters.query, format, account_id=filters.account_id)
    return StreamingResponse(
        chunks,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="games.{format}"'},
    )


@router.get(
    "/{game_id}.pgn",
    # A plain Response class: the error responses stay documented as JSON.
    response_class=Response,
    responses={200: {"content": {"application/x-chess-pgn": {}}, "description": "The game as PGN"}},
)
async def game_pgn(game_id: GameId, user: CurrentUser, services: ServicesDep) -> Response:
    pgn = await services.analyses.pgn(user, game_id)
    return Response(pgn, media_type="application/x-chess-pgn")


@router.get("/{game_id}", response_model=GameDetailOut)
async def get_game(game_id: GameId, user: CurrentUser, services: ServicesDep) -> GameDetailOut:
    """One game with its moves, clocks, evaluations and the site's raw record."""
    return GameDetailOut.of(await services.games.get(user, game_id))
