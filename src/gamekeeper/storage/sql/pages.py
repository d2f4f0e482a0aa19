"""The opaque cursors of paged listings (jobs, games): the sort key of the last item
shown, as URL-safe base64 of a JSON array."""

from __future__ import annotations

import base64
from typing import Any

import orjson

from gamekeeper.errors import InvalidInput


def encode_page_cursor(*key: str | int | None) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode().rstrip("=")


def decode_page_cursor(cursor: str, size: int) -> list[Any]:
    """The `size` values of a cursor made by `encode_page_cursor`; `InvalidInput` for
    anything else (a cursor is a user's input)."""
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise InvalidInput(f"invalid cursor {cursor!r}") from None
    if not isinstance(key, list) or len(key) != size:
        raise InvalidInput(f"invalid cursor {cursor!r}")
    return key
