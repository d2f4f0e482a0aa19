"""`move_count`: the number of plies."""

from __future__ import annotations

from collections.abc import Sequence

from gamekeeper.analysis.base import JsonValue, PositionEval
from gamekeeper.domain.games import Game


class MoveCountPlugin:
    """The number of plies (half-moves) of the game; needs no engine."""

    name = "move_count"
    version = "1"
    needs_evals = False

    def analyse(self, game: Game, evals: Sequence[PositionEval | None] | None) -> JsonValue:
        """`len(game.moves)`."""
        return len(game.moves or ())
