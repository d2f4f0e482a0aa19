"""The `gamekeeper.errors` value of an upstream's final error status."""

from __future__ import annotations

import contextlib

import httpx

from gamekeeper.errors import (
    AccountNotFound,
    ConfigurationError,
    GamekeeperError,
    RateLimited,
    SourceError,
    SourceGone,
    SourceUnavailable,
)

#: How much of an error body is quoted in an error message.
_BODY_QUOTE = 200


def error_for_status(response: httpx.Response, host: str) -> GamekeeperError | None:
    """The `gamekeeper.errors` value for a final error status, None for a usable answer."""
    status = response.status_code
    if status < 400:
        return None
    where = f"{response.request.method} {response.request.url.path}"
    details = {"status": status, "url": str(response.request.url)}
    if status == 404:
        return AccountNotFound(f"{host} has no such account ({where}: 404)", **details)
    if status == 410:
        return SourceGone(f"{host} says {where} is gone for good (410)", **details)
    if status == 401:
        return ConfigurationError(f"{host} rejected our credentials (401): check the token")
    if status == 429:
        return RateLimited(f"{host} is rate limiting us (429)", retry_after=0.0)
    if status >= 500:
        return SourceUnavailable(f"{host} is failing ({where}: {status})", **details)
    body = ""
    with contextlib.suppress(httpx.ResponseNotRead, UnicodeDecodeError):
        body = response.text[:_BODY_QUOTE]
    return SourceError(f"{host} refused {where} ({status}): {body}".rstrip(": "), **details)
