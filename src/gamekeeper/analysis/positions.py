"""A game's positions: replaying its moves, and whose turn it is at each ply."""

from __future__ import annotations

from collections.abc import Sequence

import chess

from gamekeeper.analysis.base import PositionEval
from gamekeeper.analysis.evals import INITIAL_CP
from gamekeeper.domain.games import Eval, Game

__all__ = ["lichess_scores", "replay", "white_first", "white_to_move_at"]


def white_first(game: Game) -> bool:
    """True when White makes the first move (always, but from a FEN with Black to move)."""
    if not game.initial_fen:
        return True
    fields = game.initial_fen.split()
    return len(fields) < 2 or fields[1] != "b"


def replay(game: Game) -> tuple[list[chess.Board], str | None]:
    """The board before move 1 and after each ply, and why the replay stopped early."""
    chess960 = game.variant == "chess960"
    try:
        board = (
            chess.Board(game.initial_fen, chess960=chess960)
            if game.initial_fen
            else chess.Board(chess960=chess960)
        )
    except ValueError:
        return [], f"unreadable initial position {game.initial_fen!r:.100}"
    boards = [board.copy()]
    for ply, san in enumerate(game.moves or (), start=1):
        try:
            board.push_san(san)
        except ValueError:
            return boards, f"illegal move {san!r:.20} at ply {ply}"
        boards.append(board.copy())
    return boards, None


def lichess_scores(evals: Sequence[PositionEval | None]) -> list[Eval | None]:
    """The scores Lichess's formulas read: +15 cp before move 1, no checkmated position.

    Lichess scores the start as +15 cp whatever the engine says, and has no evaluation
    of a checkmated position (so the mating move gets no ACPL or accuracy entry).
    """
    scores: list[Eval | None] = [Eval(cp=INITIAL_CP)]
    for entry in evals[1:]:
        if entry is None or entry.score.mate == 0 or entry.score == Eval():
            scores.append(None)
        else:
            scores.append(entry.score)
    return scores


def white_to_move_at(index: int, white_starts: bool) -> bool:
    """Whether White is to move in position `index` (0: the start, i: after ply i)."""
    return (index % 2 == 0) == white_starts
