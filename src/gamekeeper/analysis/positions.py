"""A game's positions: replaying its moves, and whose turn it is at each ply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import chess

from gamekeeper.analysis.base import PositionEval
from gamekeeper.analysis.evals import INITIAL_CP, force_cp
from gamekeeper.domain.games import Eval, Game, white_first

__all__ = [
    "lichess_cps",
    "lichess_scores",
    "replay",
    "replay_moves",
    "starts_from_standard",
    "white_first",
    "white_to_move_at",
]

_STANDARD_FIELDS: Final = chess.STARTING_FEN.split()[:4]


def replay(game: Game) -> tuple[list[chess.Board], str | None]:
    """The board before move 1 and after each ply, and why the replay stopped early."""
    boards, _, error = replay_moves(game)
    return boards, error


def replay_moves(game: Game) -> tuple[list[chess.Board], list[chess.Move], str | None]:
    """`replay`, with the moves played (`moves[i]` leads from `boards[i]` to the next)."""
    chess960 = game.variant == "chess960"
    try:
        board = (
            chess.Board(game.initial_fen, chess960=chess960)
            if game.initial_fen
            else chess.Board(chess960=chess960)
        )
    except ValueError:
        return [], [], f"unreadable initial position {game.initial_fen!r:.100}"
    # Boards without their move stacks: copying a stack makes a long game quadratic,
    # and a position is judged (and cached) by itself, not by the moves that led to it.
    boards, moves = [board.copy(stack=False)], []
    for ply, san in enumerate(game.moves or (), start=1):
        try:
            moves.append(board.push_san(san))
        except ValueError:
            return boards, moves, f"illegal move {san!r:.20} at ply {ply}"
        boards.append(board.copy(stack=False))
    return boards, moves, None


def lichess_scores(game: Game, evals: Sequence[PositionEval | None]) -> list[Eval | None]:
    """The scores Lichess's formulas read: +15 cp before move 1, no checkmated position.

    Lichess scores the standard start position as +15 cp whatever the engine says (for
    another start, our engine's score of it is kept), and has no evaluation of a
    checkmated position (so the mating move gets no ACPL or accuracy entry).
    """
    start = evals[0] if evals else None
    if starts_from_standard(game) or start is None:
        scores: list[Eval | None] = [Eval(cp=INITIAL_CP)]
    else:
        scores = [_usable(start)]
    scores.extend(_usable(entry) for entry in evals[1:])
    return scores


def lichess_cps(game: Game, evals: Sequence[PositionEval | None]) -> list[int | None]:
    """`lichess_scores` as clamped centipawns from White's side (a mate is ±1000):
    what ACPL and accuracy are computed from. Index 0 is the start position."""
    white = white_first(game)
    return [
        None if score is None else force_cp(score, white_to_move_at(i, white))
        for i, score in enumerate(lichess_scores(game, evals))
    ]


def starts_from_standard(game: Game) -> bool:
    """True when the game starts from the standard position."""
    return not game.initial_fen or game.initial_fen.split()[:4] == _STANDARD_FIELDS


def _usable(entry: PositionEval | None) -> Eval | None:
    if entry is None or entry.score.mate == 0 or entry.score == Eval():
        return None
    return entry.score


def white_to_move_at(index: int, white_starts: bool) -> bool:
    """Whether White is to move in position `index` (0: the start, i: after ply i)."""
    return (index % 2 == 0) == white_starts
