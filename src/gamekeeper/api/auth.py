"""Who is asking, found before anything reads the request's body.

FastAPI reads and parses a route's body before it solves the route's dependencies, so
a token checked in a dependency comes too late: an anonymous client could make the
server read (and parse) a body of any size first. API routes therefore use
`AuthFirstRoute`, which authenticates from the headers alone and answers 401 at once,
dropping the connection if a body was on its way.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from gamekeeper.api.deps import NotAuthenticated, authenticate
from gamekeeper.api.errors import error_response
from gamekeeper.api.guards import has_body


class AuthFirstRoute(APIRoute):
    """An API route whose caller is authenticated before its body is read."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def authenticated(request: Request) -> Response:
            try:
                await authenticate(request)
            except NotAuthenticated as exc:
                response = error_response(401, exc.code, exc.message)
                if has_body(request.scope):
                    response.headers["Connection"] = "close"
                return response
            return await handler(request)

        return authenticated
