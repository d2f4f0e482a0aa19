"""Pure ASGI guards in front of the whole server (API and dashboard alike).

They look at a request before it is routed and before anything reads its body, so a
hostile request costs a few header reads, not the memory of what it sends:

- `ForwardedProto`: behind a TLS proxy we trust (`GAMEKEEPER_TRUSTED_PROXY`), take its
  `X-Forwarded-Proto: https`, so the login cookie is `Secure` and origins compare right.
- `RejectNul`: a NUL in the path or the query string is a 422 (it is never meant, and
  PostgreSQL can't store it).
- `BodyLimit`: a body larger than the limit is a 413: at once when `Content-Length`
  says so, else as soon as the streamed (chunked) body grows past it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: An address or network, as `ipaddress` reads them.
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body outgrows its limit.

    An `HTTPException`, so that FastAPI, which turns any other error met while reading a
    body into a 400, passes it on to the error handlers as the 413 it is.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit:,} bytes")
        self.limit = limit


async def send_error(
    send: Send, status: int, code: str, message: str, *, close: bool = False
) -> None:
    """An error in the API's shape, `{"error": {"code", "message"}}`, sent from a guard.

    `close` asks the server to drop the connection after it: the client may still be
    sending a body nobody will read.
    """
    body = orjson.dumps({"error": {"code": code, "message": message}})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of a request header (`name` in lowercase), or None."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def has_body(scope: Scope) -> bool:
    """Whether the request says it sends a body (a length above 0, or chunks)."""
    length = header(scope, b"content-length")
    return header(scope, b"transfer-encoding") is not None or (
        length is not None and length.strip() not in (b"", b"0")
    )


def parse_networks(text: str | None) -> tuple[Network, ...]:
    """`GAMEKEEPER_TRUSTED_PROXY`: addresses or networks, comma-separated."""
    if not text:
        return ()
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(","))


class ForwardedProto:
    """Take `X-Forwarded-Proto: https` from a trusted proxy (and from nobody else)."""

    def __init__(self, app: ASGIApp, *, trusted: Iterable[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    def _trusted(self, scope: Scope) -> bool:
        client = scope.get("client")
        if not client or not self.trusted:
            return False
        try:
            address = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        return any(address in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self._trusted(scope):
            proto = header(scope, b"x-forwarded-proto")
            if proto is not None and proto.split(b",")[0].strip().lower() == b"https":
                scope = dict(scope, scheme="https" if scope["type"] == "http" else "wss")
        await self.app(scope, receive, send)


class RejectNul:
    """422 for a NUL character in the path or the query string, before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = bytes(scope.get("query_string", b""))
            if "\x00" in scope.get("path", "") or b"\x00" in query or b"%00" in query:
                await send_error(
                    send,
                    422,
                    "validation_error",
                    "NUL characters are not allowed in the path or the query",
                    close=has_body(scope),
                )
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """Request bodies of at most `max_bytes` (`limits` per path override it)."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limits = dict(limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope.get("path", ""), self.max_bytes)
        length = header(scope, b"content-length")
        if length is not None:
            if not length.strip().isdigit():
                await send_error(send, 400, "bad_request", "invalid Content-Length", close=True)
                return
            if int(length) > limit:
                message = f"the request body is larger than {limit:,} bytes"
                await send_error(send, 413, "payload_too_large", message, close=True)
                return
        started = False

        async def counted_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, _counting(receive, limit), counted_send)
        except BodyTooLarge as exc:
            # Only reached when nothing between here and the reader turned it into a
            # response (FastAPI's handlers usually do).
            if started:
                raise
            await send_error(send, 413, "payload_too_large", exc.detail, close=True)


def _counting(receive: Receive, limit: int) -> Receive:
    """`receive` that counts body bytes as they arrive and stops past `limit`."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return wrapped
