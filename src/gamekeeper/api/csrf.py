"""Cross-site request forgery: a state-changing request signed in by the dashboard's
cookie must come from the dashboard's own origin.

The cookie is `SameSite=Strict`, which modern browsers honour; this is the second
lock, for browsers or set-ups where that one fails. The rule (a pure ASGI guard):

- methods other than GET, HEAD and OPTIONS, carrying the token cookie and no
  `Authorization` header, and every POST to `/login` (login CSRF), must show they come
  from this origin: `Sec-Fetch-Site: same-origin` (or `none`, a user's own action), or,
  where the browser sends no `Sec-Fetch-Site` (plain HTTP to a LAN address), an
  `Origin` equal to this server's scheme, host and port;
- anything else is a 403, including a request with neither header: browsers always
  send one of them on such requests, so only scripts omit both, and scripts should
  use a bearer token (which a forged request can't carry);
- bearer-token requests are not affected.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from gamekeeper.api.guards import has_body, header, send_error

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_key(scheme: str, netloc: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    return scheme.lower(), (parts.hostname or "").lower(), port


def same_origin(scope: Scope) -> bool:
    """Whether the browser says the request comes from this server's own pages."""
    fetch_site = header(scope, b"sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.strip().lower() in (b"same-origin", b"none")
    origin = header(scope, b"origin")
    host = header(scope, b"host")
    if origin is None or host is None or origin.strip() == b"null":
        return False
    theirs = urlsplit(origin.decode("latin-1").strip())
    mine = _origin_key(scope.get("scheme", "http"), host.decode("latin-1"))
    return mine is not None and _origin_key(theirs.scheme, theirs.netloc) == mine


class SameOriginForCookies:
    """403 for a cookie-signed state-changing request from another origin."""

    def __init__(self, app: ASGIApp, *, cookie: str, always: Iterable[str] = ("/login",)) -> None:
        self.app = app
        self.cookie = cookie
        self.always = frozenset(always)

    def _needs_check(self, scope: Scope) -> bool:
        if scope.get("method", "GET") in SAFE_METHODS:
            return False
        if scope.get("path") in self.always:
            return True
        if header(scope, b"authorization") is not None:
            return False
        cookies = header(scope, b"cookie")
        return cookies is not None and self.cookie in cookie_parser(cookies.decode("latin-1"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._needs_check(scope) and not same_origin(scope):
            await send_error(
                send,
                403,
                "cross_origin",
                "a request signed in by the dashboard's cookie must come from its own pages "
                "(scripts: send Authorization: Bearer TOKEN instead)",
                close=has_body(scope),
            )
            return
        await self.app(scope, receive, send)
