"""`acpl`: average centipawn loss per side, as Lichess computes it."""

from __future__ import annotations

from collections.abc import Sequence

from gamekeeper.analysis.base import JsonValue, PositionEval
from gamekeeper.analysis.evals import acpl, force_cp
from gamekeeper.analysis.positions import lichess_scores, white_first, white_to_move_at
from gamekeeper.domain.games import Game


class AcplPlugin:
    """`{"white": int | None, "black": int | None}` (None: that side made no scored move)."""

    name = "acpl"
    version = "1"
    needs_evals = True

    def analyse(self, game: Game, evals: Sequence[PositionEval | None] | None) -> JsonValue:
        """Each side's rounded mean of its moves' clamped centipawn losses."""
        if not evals:
            return None
        white = white_first(game)
        cps = [
            None if score is None else force_cp(score, white_to_move_at(i, white))
            for i, score in enumerate(lichess_scores(game, evals))
        ]
        return {
            "white": acpl(cps, True, white_first=white),
            "black": acpl(cps, False, white_first=white),
        }
