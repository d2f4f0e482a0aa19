"""`judgments`: inaccuracy / mistake / blunder per ply, with the engine's best move."""

from __future__ import annotations

from collections.abc import Sequence

import chess

from gamekeeper.analysis.base import EvalPlugin, JsonValue, PositionEval
from gamekeeper.analysis.evals import judgment
from gamekeeper.analysis.positions import (
    lichess_scores,
    replay_moves,
    white_first,
    white_to_move_at,
)
from gamekeeper.domain.games import Game


class JudgmentsPlugin(EvalPlugin):
    """`[{ply, judgment, best}]`, one entry per ply, judged as Lichess judges.

    `best` is the engine's best move in SAN when it was not the move played (None when
    unknown). As in lila, a move that was the engine's best move gets no judgment.
    """

    name = "judgments"
    version = "1"

    def judge(self, game: Game, evals: Sequence[PositionEval | None]) -> JsonValue:
        """One entry per ply."""
        moves = game.moves or ()
        scores = lichess_scores(game, evals)
        boards, played_moves, _ = replay_moves(game)
        white = white_first(game)
        entries: list[JsonValue] = []
        for ply in range(1, len(moves) + 1):
            before = scores[ply - 1] if ply - 1 < len(scores) else None
            after = scores[ply] if ply < len(scores) else None
            position = evals[ply - 1] if ply - 1 < len(evals) else None
            board = boards[ply - 1] if ply - 1 < len(boards) else None
            played = played_moves[ply - 1] if ply - 1 < len(played_moves) else None
            best = _best_move(board, position, played)
            verdict = None
            if before is not None and after is not None and not _played_best(position, played):
                verdict = judgment(before, after, white_to_move_at(ply - 1, white))
            entries.append(
                {"ply": ply, "judgment": verdict.value if verdict else None, "best": best}
            )
        return entries


def _played_best(position: PositionEval | None, played: chess.Move | None) -> bool:
    return position is not None and played is not None and position.best == played.uci()


def _best_move(
    board: chess.Board | None, position: PositionEval | None, played: chess.Move | None
) -> str | None:
    """The engine's best move in SAN, unless it is the move played or unreadable."""
    if board is None or position is None or position.best is None:
        return None
    try:
        move = chess.Move.from_uci(position.best)
    except ValueError:
        return None
    if move == played or not board.is_legal(move):
        return None
    return board.san(move)
