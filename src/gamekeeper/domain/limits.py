"""Bounds that values from outside are held to before they reach storage.

Integers are checked against the column type they end up in (PostgreSQL refuses an
`INTEGER` beyond 2^31 - 1, SQLite and JSON anything beyond 64 bits), text against NUL
(PostgreSQL text can't hold it, and it is never meant). Every edge (API, CLI, the
scheduler) goes through these, so one rule holds whoever asks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from gamekeeper.errors import InvalidInput

#: The largest value of an `INTEGER` column on PostgreSQL (ids, counts, minutes).
INT32_MAX = 2**31 - 1
#: The largest value of a `BIGINT`, of SQLite's `INTEGER` and of a JSON number we store.
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
#: The last millisecond a `datetime` can hold (9999-12-31T23:59:59.999 UTC).
MAX_EPOCH_MS = 253_402_300_799_999
#: Longest text a job parameter may be (a path: Linux's PATH_MAX).
MAX_PARAMETER_TEXT = 4096
#: How deep nested parameter values are looked into (deeper is refused, not recursed).
MAX_DEPTH = 8


def check_int(name: str, value: object, *, low: int, high: int) -> int:
    """`value` if it is an integer (not a bool) in [low, high]; else `InvalidInput`."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"{name} must be an integer")
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low:,} and {high:,}")
    return value


def check_optional_int(
    parameters: Mapping[str, Any], name: str, *, low: int, high: int
) -> int | None:
    """The parameter `name`, checked as by `check_int`, or None when absent or null."""
    value = parameters.get(name)
    return None if value is None else check_int(name, value, low=low, high=high)


def check_text(name: str, value: str, *, max_length: int = MAX_PARAMETER_TEXT) -> str:
    """`value` if it has no NUL and at most `max_length` characters; else `InvalidInput`."""
    if "\x00" in value:
        raise InvalidInput(f"{name} must not contain NUL characters")
    if len(value) > max_length:
        raise InvalidInput(f"{name} is longer than {max_length:,} characters")
    return value


def check_json_value(name: str, value: Any, *, depth: int = 0) -> None:
    """Walk a JSON value: no NUL in any string (keys too), no integer beyond 64 bits,
    no NaN or infinity, no nesting deeper than `MAX_DEPTH`."""
    if depth > MAX_DEPTH:
        raise InvalidInput(f"{name} is nested too deeply")
    if isinstance(value, str):
        check_text(name, value)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        check_int(name, value, low=INT64_MIN, high=INT64_MAX)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"{name} must be a finite number")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_text(f"{name} key", str(key))
            check_json_value(f"{name}.{key}", item, depth=depth + 1)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_json_value(f"{name}[{index}]", item, depth=depth + 1)
