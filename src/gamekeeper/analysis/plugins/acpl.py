"""`acpl`: average centipawn loss per side, as Lichess computes it."""

from __future__ import annotations

from collections.abc import Sequence

from gamekeeper.analysis.base import EvalPlugin, JsonValue, PositionEval
from gamekeeper.analysis.evals import acpl
from gamekeeper.analysis.positions import lichess_cps, white_first
from gamekeeper.domain.games import Game


class AcplPlugin(EvalPlugin):
    """`{"white": int | None, "black": int | None}` (None: that side made no scored move)."""

    name = "acpl"
    version = "1"

    def judge(self, game: Game, evals: Sequence[PositionEval | None]) -> JsonValue:
        """Each side's rounded mean of its moves' clamped centipawn losses."""
        white = white_first(game)
        cps = lichess_cps(game, evals)
        return {
            "white": acpl(cps, True, white_first=white),
            "black": acpl(cps, False, white_first=white),
        }
