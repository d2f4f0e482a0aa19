from __future__ import annotations

import re

import pytest

from gamekeeper.domain.accounts import parse_account_ref, validate_username
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


@pytest.mark.parametrize(
    "name", ["alice", "A-b_9", "x", "a" * 50, "éva", "Ωmega", "名前", "bob\x00", "a b", "١٢٣"]
)
def test_one_username_rule_the_api_pattern_and_the_domain_agree(name: str) -> None:
    """The sites' rule (ASCII letters, digits, - and _; 1-50) is the same everywhere."""
    from gamekeeper.api.schemas.base import USERNAME_PATTERN

    by_pattern = re.fullmatch(USERNAME_PATTERN.strip("^$"), name) is not None
    try:
        validate_username(name)
        by_domain = True
    except InvalidInput:
        by_domain = False
    assert by_pattern == by_domain
    assert by_domain == (name.isascii() and re.fullmatch(r"[A-Za-z0-9_-]{1,50}", name) is not None)
