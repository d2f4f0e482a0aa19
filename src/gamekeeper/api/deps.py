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


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_user(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    token = credentials.credentials if credentials else request.cookies.get(TOKEN_COOKIE)
    user = await services.users.authenticate(token) if token else None
    if user is None:
        raise NotAuthenticated()
    return user


CurrentUser = Annotated[User, Depends(get_user)]


async def get_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise PermissionDenied("this needs an admin token")
    return user


AdminUser = Annotated[User, Depends(get_admin)]


def owner_filter(user: User) -> str | None:
    """The owner to restrict a query to: the user, or nobody for an admin."""
    return None if user.is_admin else user.name
