"""A game's analysis (accuracy, ACPL, judgments per ply), once a job has made it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from gamekeeper.api.auth import AuthFirstRoute
from gamekeeper.api.deps import CurrentUser, ServicesDep
from gamekeeper.api.errors import ERROR_RESPONSES
from gamekeeper.domain.limits import INT32_MAX
from gamekeeper.services.analysis import analysis_view

router = APIRouter(
    prefix="/api/games", tags=["analysis"], responses=ERROR_RESPONSES, route_class=AuthFirstRoute
)

GameId = Annotated[int, Path(ge=1, le=INT32_MAX)]


@router.get("/{game_id}/analysis")
async def game_analysis(game_id: GameId, user: CurrentUser, services: ServicesDep) -> Any:
    """`{sides: {white|black: {accuracy, acpl, inaccuracies, mistakes, blunders}},
    moves: [{ply, san, eval, judgment, best}], engine, nodes}`; 404 before analysis
    (and for a game you cannot see)."""
    await services.games.get(user, game_id)  # GameNotFound when not visible
    return analysis_view(game_id, await services.store.game_analyses(game_id))
