"""The dashboard's pages: login, Tasks, Accounts, Games, one game, Charts.

Pages read through the same services as the API and render Jinja2 templates; the
browser's scripts call the API (with the same cookie) for actions and live updates.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from gamekeeper.bootstrap import Services
from gamekeeper.domain.accounts import Account
from gamekeeper.domain.jobs import ACTIVE_STATUSES, TERMINAL_STATUSES
from gamekeeper.domain.limits import INT32_MAX
from gamekeeper.domain.users import Role, User
from gamekeeper.errors import AccountNotFound, GameNotFound, InvalidInput
from gamekeeper.storage.base import JobQuery, StoredGame
from gamekeeper.web import charts, players
from gamekeeper.web.accuracy_chart import accuracy_chart
from gamekeeper.web.auth import (
    LoginRequired,
    PageUser,
    login_redirect,
    safe_next,
    services_of,
    sign_in,
    sign_out,
    token_user,
)
from gamekeeper.web.board import board_svg
from gamekeeper.web.games import (
    COLORS,
    PLATFORMS,
    RESULTS,
    SPEEDS,
    game_rows,
    game_view,
    parse_account_id,
    parse_filters,
)
from gamekeeper.web.jobs import job_card
from gamekeeper.web.templating import (
    STATIC_DIR,
    owner_filter,
    page_context,
    page_response,
)

router = APIRouter(include_in_schema=False)

#: Finished jobs the Tasks page lists.
HISTORY_SIZE = 20
#: A login form is a token and a path; anything bigger is not one.
MAX_LOGIN_BODY = 4096

#: Any positive number: one beyond the id column is simply a game that is not there.
GameId = Annotated[int, Path(ge=1)]


class DashboardStatic(StaticFiles):
    """Static files the browser revalidates (a cheap 304): the modules `app.js` imports
    carry no version in their URLs, so an upgrade must not leave stale copies cached."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def mount_dashboard(app: FastAPI) -> None:
    """Serve the dashboard from `app`: pages, static files, and the login redirect."""
    app.include_router(router)
    app.include_router(players.router)
    app.mount("/static", DashboardStatic(directory=STATIC_DIR), name="static")
    app.add_exception_handler(LoginRequired, login_redirect)


# -- signing in and out -------------------------------------------------------------------


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/tasks", status_code=303)


async def _sign_in(request: Request, token: str, next_path: str | None) -> Response:
    user = await token_user(request, token)
    if user is None:
        context = {"request": request, "user": None, "page": "login", "next": safe_next(next_path)}
        context["error"] = "That token is not valid. Check it, or ask for a new one."
        return page_response("login.html", context, status_code=401)
    response = RedirectResponse(safe_next(next_path), status_code=303)
    sign_in(response, request, token.strip())
    return response


#: Said when a login link was opened from another site's page (login CSRF).
LINKED_FROM_ELSEWHERE = (
    "That login link was opened from another site, so it did not sign you in: "
    "paste your token here if you meant to."
)


@router.get("/login", response_model=None)
async def login_page(
    request: Request,
    token: Annotated[str | None, Query(max_length=200)] = None,
    next: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """The login form; `?token=` (the link `gamekeeper serve` prints) signs in at once,
    unless another site's page sent the browser here (it could sign you in as someone
    else: login CSRF)."""
    context = {"request": request, "user": None, "page": "login", "next": safe_next(next)}
    if token:
        fetch_site = request.headers.get("sec-fetch-site", "").lower()
        if fetch_site not in ("cross-site", "same-site"):
            return await _sign_in(request, token, next)
        return page_response("login.html", context | {"error": LINKED_FROM_ELSEWHERE})
    return page_response("login.html", context | {"error": None})


@router.post("/login", response_model=None)
async def login_submit(request: Request) -> Response:
    # The body limit (4 KiB here) and the same-origin rule are checked before this runs
    # (`api.guards`, `api.csrf`); this is the last word on size all the same.
    body = await request.body()
    if len(body) > MAX_LOGIN_BODY:
        return HTMLResponse("request too large", status_code=413)
    form = parse_qs(body.decode("utf-8", "replace"))
    token, next_path = form.get("token", [""])[0], form.get("next", [None])[0]
    if "\x00" in token or (next_path is not None and "\x00" in next_path):
        raise InvalidInput("NUL characters are not allowed in the login form")
    return await _sign_in(request, token, next_path)


@router.post("/logout")
async def logout() -> RedirectResponse:
    """POST only (the pages' logout control is a form): a link or an image can't log
    anyone out."""
    response = RedirectResponse("/login", status_code=303)
    sign_out(response)
    return response


# -- tasks --------------------------------------------------------------------------------


async def _accounts_by_id(services: Services, user: User) -> dict[int, Account]:
    return {a.id: a for a in await services.accounts.list(owner_filter(user))}


async def _task_lists(request: Request, user: User) -> dict[str, Any]:
    services = services_of(request)
    owner = owner_filter(user)
    active = await services.jobs.list(JobQuery(owner=owner, statuses=ACTIVE_STATUSES, limit=50))
    history = await services.jobs.list(
        JobQuery(owner=owner, statuses=TERMINAL_STATUSES, limit=HISTORY_SIZE)
    )
    accounts = await _accounts_by_id(services, user)
    return {
        "active": [job_card(j, accounts) for j in active.items],
        "history": [job_card(j, accounts) for j in history.items],
    }


@router.get("/tasks")
async def tasks_page(request: Request, user: PageUser) -> HTMLResponse:
    context = await page_context(request, user, "tasks")
    return page_response("tasks.html", context | await _task_lists(request, user))


@router.get("/tasks/lists")
async def task_lists(request: Request, user: PageUser) -> HTMLResponse:
    """The active and finished lists alone: the page swaps them in when a job starts or ends."""
    context = {"request": request, "user": user} | await _task_lists(request, user)
    return page_response("_task_lists.html", context)


# -- accounts -----------------------------------------------------------------------------


@router.get("/accounts")
async def accounts_page(request: Request, user: PageUser) -> HTMLResponse:
    services = services_of(request)
    rows = await services.accounts.summaries(owner_filter(user), viewer=user)
    context = await page_context(request, user, "accounts")
    return page_response("accounts.html", context | {"rows": rows})


# -- games --------------------------------------------------------------------------------


@router.get("/games")
async def games_page(request: Request, user: PageUser) -> HTMLResponse:
    services = services_of(request)
    filters = parse_filters(request.query_params)
    accounts = await services.accounts.list(owner_filter(user))
    mine = [a for a in accounts if a.owner == user.name]
    problems = list(filters.problems)
    rows, next_cursor = [], None
    viewer = user
    if (
        user.is_admin
        and filters.account_id is None
        and (filters.query.color or filters.query.outcome in ("win", "loss"))
    ):
        # "Won" or "as White" needs a side: for an admin, that of their own accounts.
        viewer = dataclasses.replace(user, role=Role.USER)
    try:
        page = await services.games.list(viewer, filters.query, account_id=filters.account_id)
        rows, next_cursor = game_rows(page.items, mine or accounts), page.next_cursor
    except (InvalidInput, GameNotFound) as exc:
        problems.append(exc.message)
    context = await page_context(request, user, "games")
    return page_response(
        "games.html",
        context
        | {
            "filters": filters,
            "accounts": accounts,
            "accounts_options": [
                (str(a.id), a.label + ("" if a.owner == user.name else f" ({a.owner})"))
                for a in accounts
            ],
            "rows": rows,
            "next_cursor": next_cursor,
            "problems": problems,
            "options": {
                "platform": PLATFORMS,
                "speed": SPEEDS,
                "result": RESULTS,
                "color": COLORS,
            },
        },
    )


async def _game(services: Services, user: User, game_id: int) -> StoredGame:
    if game_id > INT32_MAX:  # beyond the id column: not there (and no driver error)
        raise GameNotFound(f"no game {game_id}")
    return await services.games.get(user, game_id)


@router.get("/games/{game_id}")
async def game_page(
    request: Request,
    user: PageUser,
    game_id: GameId,
    ply: Annotated[int | None, Query(ge=0, le=10_000)] = None,
    flip: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    """One game; `?ply=N` shows the board after N plies (how it works without scripts)."""
    services = services_of(request)
    context = await page_context(request, user, "games")
    try:
        stored = await _game(services, user, game_id)
    except GameNotFound:
        return page_response(
            "not_found.html", context | {"what": f"game {game_id}"}, status_code=404
        )
    mine = await services.accounts.list(user.name)
    analysis = await services.analyses.for_game(user, game_id)
    view = game_view(stored, mine, ply=ply, flip=flip, analysis=analysis)
    return page_response("game.html", context | {"view": view, "flip": flip})


@router.get("/games/{game_id}/board.svg")
async def game_board(
    request: Request,
    user: PageUser,
    game_id: GameId,
    ply: Annotated[int, Query(ge=0, le=10_000)] = 0,
    orient: Annotated[Literal["white", "black"], Query()] = "white",
) -> Response:
    """The board after `ply` plies, as SVG, with `orient`'s side at the bottom."""
    services = services_of(request)
    try:
        stored = await _game(services, user, game_id)
    except GameNotFound:
        return Response("no such game", status_code=404, media_type="text/plain")
    view = game_view(stored, [], ply=ply, flip=False)
    return Response(
        board_svg(view.played, view.ply, flipped=orient == "black"),
        media_type="image/svg+xml",
        # A stored game's moves never change once fetched: let the browser keep boards.
        headers={"Cache-Control": "private, max-age=3600"},
    )


# -- charts -------------------------------------------------------------------------------


@router.get("/charts")
async def charts_page(
    request: Request,
    user: PageUser,
    account: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    services = services_of(request)
    accounts = await services.accounts.list(owner_filter(user))
    account_id = parse_account_id(account)
    context = await page_context(request, user, "charts")
    problem = None
    try:
        ratings = await services.stats.ratings(user, account_id)
        openings = await services.stats.openings(user, account_id)
        monthly = await services.stats.monthly(user, account_id)
        accuracy = await services.stats.accuracy(user, account_id)
    except AccountNotFound:
        problem = f"No account {account_id}: showing all of yours."
        account_id = None
        ratings = await services.stats.ratings(user)
        openings = await services.stats.openings(user)
        monthly = await services.stats.monthly(user)
        accuracy = await services.stats.accuracy(user)
    scoped = [a for a in accounts if a.id == account_id] or [
        a for a in accounts if a.owner == user.name
    ]
    return page_response(
        "charts.html",
        context
        | {
            "accounts": accounts,
            "account_id": account_id,
            "scoped": scoped,
            "problem": problem,
            "ratings": ratings,
            "openings": openings,
            "monthly": charts.fill_months(monthly),
            "accuracy": accuracy,
            "svg": {
                "accuracy": accuracy_chart(accuracy.by_month),
                "ratings": charts.rating_chart(ratings),
                "white": charts.openings_chart(
                    openings.white, color="white", chart_id="chart-openings-white"
                ),
                "black": charts.openings_chart(
                    openings.black, color="black", chart_id="chart-openings-black"
                ),
                "monthly": charts.monthly_chart(monthly),
            },
        },
    )
