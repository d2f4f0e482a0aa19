"""The advisory-lock keys: distinct within each PostgreSQL key space, stable per host."""

from __future__ import annotations

from gamekeeper.domain import locks


def test_keys_are_distinct_within_each_key_space() -> None:
    assert len(set(locks.SINGLE_KEYS)) == len(locks.SINGLE_KEYS) == 2
    assert len(set(locks.KEY_CLASSES)) == len(locks.KEY_CLASSES) == 2
    # Two-key locks take two int4 values.
    assert all(-(2**31) <= key < 2**31 for key in locks.KEY_CLASSES)


def test_a_host_key_is_pinned() -> None:
    # Every process (and every version, mid-upgrade) must agree on a host's key: a fixed
    # digest, not Python's salted hash.
    assert locks.host_key("lichess.org") == 793444607
    assert locks.host_key("lichess.org") != locks.host_key("api.chess.com")
    assert -(2**31) <= locks.host_key("api.chess.com") < 2**31
