"""`accuracy`: each side's accuracy, Lichess's volatility-weighted and harmonic means."""

from __future__ import annotations

from collections.abc import Sequence

from gamekeeper.analysis.base import JsonValue, PositionEval
from gamekeeper.analysis.evals import force_cp, game_accuracy
from gamekeeper.analysis.positions import lichess_scores, white_first, white_to_move_at
from gamekeeper.domain.games import Game


class AccuracyPlugin:
    """`{"white": float | None, "black": float | None}`, in [0, 100], two decimals."""

    name = "accuracy"
    version = "1"
    needs_evals = True

    def analyse(self, game: Game, evals: Sequence[PositionEval | None] | None) -> JsonValue:
        """None for both sides when either has no scored move (as Lichess)."""
        if not evals:
            return None
        white = white_first(game)
        # As lila, plies without a score are dropped (not skipped in place).
        cps = [
            cp
            for i, score in enumerate(lichess_scores(game, evals))
            if i > 0
            and score is not None
            and (cp := force_cp(score, white_to_move_at(i, white))) is not None
        ]
        both = game_accuracy(cps, white_first=white)
        if both is None:
            return {"white": None, "black": None}
        return {"white": round(both[0], 2), "black": round(both[1], 2)}
