"""Event streams that end when their token does.

A stream is authenticated once, when it opens, but may stay open for days (the
dashboard's `/api/events`). `while_signed_in` re-checks the token at least every
`GAMEKEEPER_STREAM_AUTH_RECHECK_S` seconds, whether events flow or not, and ends the
stream once the token is revoked or expired.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from fastapi import Request

from gamekeeper.bootstrap import Services

T = TypeVar("T")


async def while_valid(
    events: AsyncIterator[T], still_valid: Callable[[], Awaitable[bool]], *, every_s: float
) -> AsyncIterator[T]:
    """`events` until `still_valid()` says no; it is asked every `every_s` seconds."""
    loop = asyncio.get_running_loop()
    next_check = loop.time() + every_s
    pending: asyncio.Task[T] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(events))
            done, _ = await asyncio.wait({pending}, timeout=max(0.0, next_check - loop.time()))
            if pending in done:
                try:
                    item = pending.result()
                except StopAsyncIteration:
                    return
                pending = None
                yield item
            if loop.time() >= next_check:
                if not await still_valid():
                    return
                next_check = loop.time() + every_s
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


def while_signed_in(
    request: Request, services: Services, events: AsyncIterator[T]
) -> AsyncIterator[T]:
    """`events` for as long as the request's token stays valid."""
    token: str | None = getattr(request.state, "token", None)

    async def still_valid() -> bool:
        return token is not None and await services.users.authenticate(token) is not None

    return while_valid(events, still_valid, every_s=services.settings.stream_auth_recheck_s)
