"""`accuracy`: each side's accuracy, Lichess's volatility-weighted and harmonic means."""

from __future__ import annotations

from collections.abc import Sequence

from gamekeeper.analysis.base import EvalPlugin, JsonValue, PositionEval
from gamekeeper.analysis.evals import game_accuracy
from gamekeeper.analysis.positions import lichess_cps, white_first
from gamekeeper.domain.games import Game


class AccuracyPlugin(EvalPlugin):
    """`{"white": float | None, "black": float | None}`, in [0, 100], two decimals."""

    name = "accuracy"
    version = "1"

    def judge(self, game: Game, evals: Sequence[PositionEval | None]) -> JsonValue:
        """None for both sides when either has no scored move (as Lichess)."""
        # As lila, plies without a score are dropped (not skipped in place).
        cps = [cp for cp in lichess_cps(game, evals)[1:] if cp is not None]
        both = game_accuracy(cps, white_first=white_first(game))
        if both is None:
            return {"white": None, "black": None}
        return {"white": round(both[0], 2), "black": round(both[1], 2)}
