"""The REST API on a FastAPI application: its routes and error handlers, and the guards
every request to the server passes first."""

from __future__ import annotations

from fastapi import FastAPI

from gamekeeper.api.csrf import SameOriginForCookies
from gamekeeper.api.deps import TOKEN_COOKIE
from gamekeeper.api.errors import install_error_handlers
from gamekeeper.api.guards import BodyLimit, ForwardedProto, RejectNul, parse_networks
from gamekeeper.api.metrics import RequestTimer, TimedRequests
from gamekeeper.api.routes import accounts, admin, analysis, games, jobs, players, stats, system
from gamekeeper.settings import Settings

#: The login form is a token and a path: anything bigger is not one.
MAX_LOGIN_BODY = 4096


def install_api(app: FastAPI) -> None:
    """Add the API's routes (under `/api`, plus `/healthz` and `/metrics`) to `app`."""
    app.state.timer = RequestTimer()
    install_error_handlers(app)
    for module in (jobs, accounts, analysis, games, stats, players, admin, system):
        app.include_router(module.router)


def install_guards(app: FastAPI, settings: Settings) -> None:
    """The pure ASGI guards in front of every route (API and dashboard), outermost
    first: the request timer (so refusals are counted too), the trusted proxy's scheme,
    NUL in the path or query, the body limit, and the cookie's same-origin rule."""
    # Starlette wraps in reverse order of adding: the last added runs first.
    app.add_middleware(SameOriginForCookies, cookie=TOKEN_COOKIE)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        limits={"/login": min(MAX_LOGIN_BODY, settings.max_body_bytes)},
    )
    app.add_middleware(RejectNul)
    app.add_middleware(ForwardedProto, trusted=parse_networks(settings.trusted_proxy))
    app.add_middleware(TimedRequests, timer=app.state.timer)
