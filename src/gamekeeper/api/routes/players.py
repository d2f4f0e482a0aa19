"""Scouting: the players your crawls reached, a player's card, and opening trees."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from gamekeeper.api.auth import AuthFirstRoute
from gamekeeper.api.deps import CurrentUser, ServicesDep
from gamekeeper.api.errors import ERROR_RESPONSES
from gamekeeper.domain.players import CrawledPlayer
from gamekeeper.services.players import MAX_LIST, PlayerCard

router = APIRouter(tags=["players"], responses=ERROR_RESPONSES, route_class=AuthFirstRoute)

Username = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
PlatformName = Annotated[str, Path(pattern=r"^(lichess|chesscom)$")]


class PlayerOut(BaseModel):
    platform: str
    username: str
    depth: int
    status: str
    games: int
    discovered_from: str | None
    crawled_at: datetime | None
    last_error: str | None


def player_out(p: CrawledPlayer) -> PlayerOut:
    return PlayerOut(
        platform=p.platform.value,
        username=p.username,
        depth=p.depth,
        status=p.status.value,
        games=p.games,
        discovered_from=p.discovered_from,
        crawled_at=p.crawled_at,
        last_error=p.last_error,
    )


def card_json(card: PlayerCard) -> dict[str, Any]:
    p, h = card.player, card.head_to_head
    return {
        "player": player_out(p).model_dump(mode="json"),
        "games": card.games,
        "ratings": [{"speed": r.speed, "rating": r.rating, "games": r.games} for r in card.ratings],
        "openings": [
            {
                "color": o.color,
                "opening": o.opening,
                "games": o.tally.games,
                "wins": o.tally.wins,
                "draws": o.tally.draws,
                "losses": o.tally.losses,
                "score": o.tally.score,
            }
            for o in card.openings
        ],
        "time_controls": [{"time_control": tc, "games": n} for tc, n in card.time_controls],
        "last_games": [
            {
                "id": g.game_id,
                "platform_game_id": g.platform_game_id,
                "color": g.color,
                "opponent": g.opponent,
                "outcome": g.outcome,
                "result": g.result,
                "speed": g.speed,
                "opening": g.opening_name,
                "start_time": g.start_time.isoformat() if g.start_time else None,
            }
            for g in card.last_games
        ],
        "head_to_head": {
            "games": h.games,
            "wins": h.wins,
            "draws": h.draws,
            "losses": h.losses,
            "score": h.score,
            "last_played": h.last_played.isoformat() if h.last_played else None,
            "last_game_id": h.last_game_id,
        },
    }


@router.get("/api/players", summary="The players your crawls reached")
async def list_players(
    services: ServicesDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 200,
) -> list[PlayerOut]:
    found = await services.players.frontier(user, limit=limit)
    return [player_out(p) for p in found]


@router.get("/api/players/{platform}/{username}", summary="A player's scouting card")
async def player_card(
    services: ServicesDep, user: CurrentUser, platform: PlatformName, username: Username
) -> dict[str, Any]:
    return card_json(await services.players.card(user, platform, username))


@router.get("/api/openings/tree", summary="Opening tree of a player's games")
async def opening_tree(
    services: ServicesDep,
    user: CurrentUser,
    player: Annotated[str, Query(min_length=3, max_length=80, description="lichess:bob")],
    color: Annotated[str | None, Query(pattern=r"^(white|black)$")] = None,
    moves: Annotated[str, Query(max_length=400, description="SAN, e.g. e4 e5")] = "",
) -> dict[str, Any]:
    tree = await services.players.tree(user, player, color=color, moves=moves)
    return {
        "player": f"{tree.player.platform.value}:{tree.player.username}",
        "color": tree.color,
        "moves": list(tree.moves),
        "fen": tree.fen,
        "games": tree.games,
        "next": [
            {
                "san": m.san,
                "games": m.games,
                "white": m.white,
                "draws": m.draws,
                "black": m.black,
                "score": m.score,
            }
            for m in tree.next_moves
        ],
    }
