"""The opaque cursors of paged listings (jobs, games): the sort key of the last item
shown, as URL-safe base64 of a JSON array."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa

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


def after_key(
    keys: Sequence[tuple[sa.ColumnElement[Any], bool]], values: Sequence[Any]
) -> sa.ColumnElement[bool]:
    """Rows after `values` in the order of `keys` ((column, descending) pairs, every
    column with NULLs last): the keyset condition of the next page."""
    terms = []
    for i, ((column, descending), value) in enumerate(zip(keys, values, strict=True)):
        if value is None:
            continue  # nothing comes after NULL in this column: the next ones decide
        same = [
            c.is_(None) if v is None else c == v
            for (c, _), v in zip(keys[:i], values[:i], strict=True)
        ]
        beyond = column < value if descending else column > value
        terms.append(sa.and_(*same, sa.or_(beyond, column.is_(None))))
    return sa.or_(*terms) if terms else sa.false()
