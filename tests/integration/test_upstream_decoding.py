"""A corrupt compressed body (httpx.DecodingError, a RequestError and not a TransportError)
is retried by the gate like a broken-off answer, then becomes a clear SourceUnavailable."""

from __future__ import annotations

import gzip
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
import pytest

from gamekeeper.emulators.server import serve_async
from gamekeeper.errors import SourceUnavailable
from tests.integration.conftest import UpstreamsFor

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

GOOD = gzip.compress(b'{"id": "alice"}')
CORRUPT = GOOD[:10] + b"\x00not-deflate-data\xff" * 4


class BrokenGzip:
    """An ASGI app: the first `corrupt` answers carry a broken gzip body, then good ones."""

    def __init__(self, corrupt: int) -> None:
        self.corrupt = corrupt
        self.served = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.served += 1
        body = CORRUPT if self.served <= self.corrupt else GOOD
        headers = [
            (b"content-type", b"application/json"),
            (b"content-encoding", b"gzip"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def test_a_corrupt_gzip_body_is_retried(upstreams_for: UpstreamsFor) -> None:
    app = BrokenGzip(corrupt=2)
    async with serve_async(app) as url, upstreams_for(lichess_url=url) as upstreams:
        gate = upstreams.lichess
        response = await gate.send(httpx.Request("GET", f"{url}/api/user/alice"))
        stats = gate.stats()
    assert response.json() == {"id": "alice"}
    assert app.served == 3
    assert (stats.retries, stats.failures) == (2, 2)


async def test_a_body_that_never_decodes_is_a_clear_source_error(
    upstreams_for: UpstreamsFor,
) -> None:
    app = BrokenGzip(corrupt=1000)
    async with serve_async(app) as url, upstreams_for(lichess_url=url) as upstreams:
        gate = upstreams.lichess
        with pytest.raises(SourceUnavailable, match="could not be decoded") as caught:
            await gate.send(httpx.Request("GET", f"{url}/api/user/alice"))
        attempts = gate.stats().requests
    assert app.served == attempts > 1
    assert "gave up after" in str(caught.value)
