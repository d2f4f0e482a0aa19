"""The opening tree: positions are the key, so transpositions merge."""

from __future__ import annotations

import pytest

from gamekeeper.domain.games import Platform
from gamekeeper.domain.players import CrawledPlayer, PlayerGame, PlayerStatus
from gamekeeper.errors import InvalidInput
from gamekeeper.services.opening_tree import build_tree, parse_moves

PLAYER = CrawledPlayer(
    platform=Platform.LICHESS,
    username="bob",
    depth=1,
    status=PlayerStatus.DONE,
    discovered_from="alice",
    games=3,
    job_id=None,
    crawled_at=None,
    last_error=None,
)


def game(number: int, moves: str, result: str, color: str = "white") -> PlayerGame:
    won = {"1-0": "white", "0-1": "black"}.get(result)
    outcome = "draw" if result == "1/2-1/2" else ("win" if won == color else "loss")
    return PlayerGame(
        game_id=number,
        platform_game_id=str(number),
        color=color,
        opponent="x",
        opponent_id="x",
        rating=1500,
        opponent_rating=1500,
        outcome=outcome,
        result=result,
        speed="blitz",
        time_control="180+0",
        start_time=None,
        opening_eco=None,
        opening_name=None,
        moves=moves,
        initial_fen=None,
        variant="standard",
        url=None,
    )


def test_a_transposition_counts_under_the_position() -> None:
    games = [
        game(1, "e4 e5 Nf3 Nc6 Bb5", "1-0"),
        game(2, "Nf3 Nc6 e4 e5 Bc4", "0-1"),
        game(3, "e4 e5 Nf3 Nf6 Nxe5", "1/2-1/2"),
        game(4, "d4 d5", "1-0"),
    ]
    tree = build_tree(PLAYER, games, parse_moves("e4 e5 Nf3 Nc6"))
    assert tree.games == 2
    assert [(m.san, m.games, m.white, m.draws, m.black) for m in tree.next_moves] == [
        ("Bb5", 1, 1, 0, 0),
        ("Bc4", 1, 0, 0, 1),
    ]
    assert [m.score for m in tree.next_moves] == [1.0, 0.0]
    root = build_tree(PLAYER, games, ())
    assert [(m.san, m.games) for m in root.next_moves] == [("e4", 2), ("Nf3", 1), ("d4", 1)]


@pytest.mark.parametrize("moves", ["e5", "e4 e4", "x" * 11, " ".join(["Nf3 Nf6 Ng1 Ng8"] * 11)])
def test_bad_lines_are_refused(moves: str) -> None:
    with pytest.raises(InvalidInput):
        parse_moves(moves)
