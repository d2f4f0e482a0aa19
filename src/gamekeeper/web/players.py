"""The dashboard's Players page: the crawl frontier, a player's card and opening tree
(click a move to go deeper)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from gamekeeper.errors import InvalidInput, NotFound
from gamekeeper.web.auth import PageUser, services_of
from gamekeeper.web.templating import page_context, page_response

router = APIRouter(include_in_schema=False)


def tree_link(player: str, color: str | None, moves: tuple[str, ...]) -> str:
    query = {"player": player, "moves": " ".join(moves)}
    if color:
        query["color"] = color
    return "/players?" + urlencode(query)


@router.get("/players")
async def players_page(
    request: Request,
    user: PageUser,
    player: Annotated[str | None, Query(max_length=80)] = None,
    color: Annotated[str | None, Query(max_length=5)] = None,
    moves: Annotated[str, Query(max_length=400)] = "",
) -> HTMLResponse:
    services = services_of(request)
    frontier = await services.players.frontier(user)
    context = await page_context(request, user, "players")
    card = tree = None
    problem = None
    if player:
        try:
            platform, _, username = player.partition(":")
            card = await services.players.card(user, platform, username)
            tree = await services.players.tree(user, player, color=color or None, moves=moves)
        except (InvalidInput, NotFound) as exc:
            problem = exc.message
    return page_response(
        "players.html",
        context
        | {
            "frontier": frontier,
            "card": card,
            "tree": tree,
            "player": player,
            "color": color or "",
            "problem": problem,
            "tree_link": tree_link,
        },
    )
