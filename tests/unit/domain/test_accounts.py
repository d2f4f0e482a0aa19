from __future__ import annotations

import pytest

from gamekeeper.domain.accounts import parse_account_ref
from gamekeeper.domain.games import Platform
from gamekeeper.errors import InvalidInput


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("lichess:alice", (Platform.LICHESS, "alice")),
        ("LICHESS:Alice_99", (Platform.LICHESS, "Alice_99")),
        ("chesscom:erik", (Platform.CHESSCOM, "erik")),
        ("chess.com:erik", (Platform.CHESSCOM, "erik")),
    ],
)
def test_parse_account_ref(ref: str, expected: tuple[Platform, str]) -> None:
    assert parse_account_ref(ref) == expected


@pytest.mark.parametrize(
    "ref",
    [
        "alice",
        "lichess:",
        "fics:bob",
        "pgn:x",
        "lichess:a/b",
        "lichess:../x",
        "lichess:" + "a" * 51,
    ],
)
def test_bad_refs_are_invalid_input(ref: str) -> None:
    with pytest.raises(InvalidInput):
        parse_account_ref(ref)
