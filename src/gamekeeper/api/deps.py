"""Dependencies routes take as `Annotated` aliases: the services, and who is asking."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gamekeeper.bootstrap import Services
from gamekeeper.domain.users import User
from gamekeeper.errors import GamekeeperError, PermissionDenied

#: Cookie the dashboard keeps the token in (browsers can't set headers on EventSource).
TOKEN_COOKIE = "gamekeeper_token"

bearer = HTTPBearer(auto_error=False, description="A token from `gamekeeper users token NAME`.")


class NotAuthenticated(GamekeeperError):
    """A valid bearer token is required."""

    code = "not_authenticated"


async def get_services(request: Request) -> Services:
    # async: FastAPI runs a plain `def` dependency in a worker thread, a hop per request.
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def request_token(request: Request) -> str | None:
    """The token a request carries: `Authorization: Bearer ...`, else the cookie."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.cookies.get(TOKEN_COOKIE) or None


async def authenticate(request: Request) -> User:
    """The user the request's token belongs to (kept on the request); else
    `NotAuthenticated`. Reads headers only, never the body."""
    known: User | None = getattr(request.state, "user", None)
    if known is not None:
        return known
    token = request_token(request)
    services = await get_services(request)
    user = await services.users.authenticate(token) if token else None
    if user is None:
        raise NotAuthenticated()
    request.state.user, request.state.token = user, token
    return user


async def get_user(
    request: Request,
    # Declared for the OpenAPI description (its security scheme); `authenticate`
    # reads the same header.
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    return await authenticate(request)


CurrentUser = Annotated[User, Depends(get_user)]


async def get_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise PermissionDenied("this needs an admin token")
    return user


AdminUser = Annotated[User, Depends(get_admin)]


def owner_filter(user: User) -> str | None:
    """The owner to restrict a query to: the user, or nobody for an admin."""
    return None if user.is_admin else user.name
