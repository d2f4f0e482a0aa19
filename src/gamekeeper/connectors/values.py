"""Reading values out of decoded JSON records, the same way for every site: a value of
the wrong type is as good as absent."""

from __future__ import annotations

from typing import Any, cast


def json_int(value: object) -> int | None:
    """An integer, or None (a JSON `true` is a bool, never a number here)."""
    # `type(...) is int` rather than isinstance: bools are ints to Python, and this runs
    # dozens of times per game, so it stays this cheap.
    return value if type(value) is int else None


def json_str(value: object) -> str | None:
    """A non-empty string, or None."""
    return value if isinstance(value, str) and value else None


def json_dict(value: object) -> dict[str, Any]:
    """An object, or an empty one."""
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}
