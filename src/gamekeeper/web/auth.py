"""Who is looking at a page: the token in the dashboard's cookie, or off to /login."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from gamekeeper.bootstrap import Services
from gamekeeper.domain.users import User

#: The cookie the dashboard keeps the token in; `api.deps` reads the same one, so the
#: browser's calls to the API (and its EventSource, which can't set headers) are signed in.
TOKEN_COOKIE = "gamekeeper_token"

#: A signed-in browser stays signed in this long (the token itself does not expire).
COOKIE_MAX_AGE_S = 30 * 24 * 3600


class LoginRequired(Exception):
    """The page needs a signed-in browser; `next` is where to return after login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def token_user(request: Request, token: str | None) -> User | None:
    if not token:
        return None
    return await services_of(request).users.authenticate(token.strip())


async def page_user(request: Request) -> User:
    """The signed-in user; otherwise `LoginRequired` (turned into a redirect to /login)."""
    user = await token_user(request, request.cookies.get(TOKEN_COOKIE))
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return user


PageUser = Annotated[User, Depends(page_user)]


def safe_next(value: str | None) -> str:
    """A local path to return to after login (never another site: no `//host`, no scheme)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/tasks"
    return value


def login_redirect(request: Request, exc: Exception) -> Response:
    """The exception handler for `LoginRequired`."""
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)


def sign_in(response: Response, request: Request, token: str) -> None:
    """Keep the token in an HttpOnly, SameSite=Strict cookie (Secure over HTTPS)."""
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        max_age=COOKIE_MAX_AGE_S,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def sign_out(response: Response) -> None:
    response.delete_cookie(TOKEN_COOKIE, path="/", httponly=True, samesite="strict")
