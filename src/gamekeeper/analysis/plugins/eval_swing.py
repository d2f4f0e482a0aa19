"""`eval_swing`: the largest change of evaluation from one ply to the next."""

from __future__ import annotations

from collections.abc import Sequence

from gamekeeper.analysis.base import EvalPlugin, JsonValue, PositionEval, eval_to_json
from gamekeeper.analysis.evals import force_cp
from gamekeeper.analysis.positions import white_first, white_to_move_at
from gamekeeper.domain.games import Game


class EvalSwingPlugin(EvalPlugin):
    """`{"ply", "from", "to"}` of the largest swing in clamped centipawns, or None."""

    name = "eval_swing"
    version = "1"

    def judge(self, game: Game, evals: Sequence[PositionEval | None]) -> JsonValue:
        """The ply whose move changed the (±1000-clamped) evaluation the most; ties: first."""
        white = white_first(game)
        best: tuple[int, int] | None = None  # (swing, ply)
        for ply in range(1, len(evals)):
            before, after = evals[ply - 1], evals[ply]
            if before is None or after is None:
                continue
            cp_before = force_cp(before.score, white_to_move_at(ply - 1, white))
            cp_after = force_cp(after.score, white_to_move_at(ply, white))
            if cp_before is None or cp_after is None:
                continue
            swing = abs(cp_after - cp_before)
            if best is None or swing > best[0]:
                best = (swing, ply)
        if best is None:
            return None
        ply = best[1]
        before, after = evals[ply - 1], evals[ply]
        assert before is not None and after is not None
        return {
            "ply": ply,
            "swing": best[0],
            "from": {**eval_to_json(before.score)},
            "to": {**eval_to_json(after.score)},
        }
