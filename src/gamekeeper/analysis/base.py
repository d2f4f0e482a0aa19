"""What analysis is made of: a searched position, a plugin, an evaluation cache.

The evaluations of a game are one sequence of `len(game.moves) + 1` entries:
`evals[0]` is the start position (before move 1) and `evals[i]` the position after
ply `i`. An entry is None where no evaluation is known. Every score is from White's
point of view, like `gamekeeper.domain.games.Eval`; `Eval(mate=0)` (UCI `score mate 0`)
is a position whose side to move is checkmated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

import chess

from gamekeeper.domain.games import Eval, Game
from gamekeeper.errors import InvalidInput

__all__ = [
    "AnalysisPlugin",
    "EvalCache",
    "JsonValue",
    "PositionEval",
    "eval_from_json",
    "eval_to_json",
    "position_eval_from_json",
    "position_eval_to_json",
    "position_key",
]

#: A value `json.dumps` / `orjson.dumps` accepts: what a plugin returns.
JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionEval:
    """One searched position: its score and the engine's best move there."""

    #: White's point of view.
    score: Eval
    #: The engine's best move in this position, in UCI; None if unknown (or none: mate).
    best: str | None = None


class AnalysisPlugin(Protocol):
    """One analysis: a function of a game and its evaluations to a JSON value.

    Results are stored under (`name`, `version`): a new version makes every game
    pending for this plugin again.
    """

    #: Stable identifier, e.g. "accuracy".
    name: str
    #: e.g. "1"; bump it when the value changes meaning or is computed differently.
    version: str
    #: True when `analyse` needs evaluations: then it is not run without them.
    needs_evals: bool

    def analyse(self, game: Game, evals: Sequence[PositionEval | None] | None) -> JsonValue:
        """The plugin's value for `game`.

        Args:
            evals: `len(game.moves) + 1` entries, `evals[0]` the start position and
                `evals[i]` the position after ply `i` (None where unknown); None when the
                game has no evaluations (only passed to plugins with `needs_evals` False).
        """
        ...


class EvalPlugin:
    """Base of the plugins that need evaluations: the analyzer runs them only with
    evaluations, and a direct call without them gets None. Subclasses set `name` and
    `version` and write `judge`."""

    name: str
    version: str
    needs_evals = True

    def analyse(self, game: Game, evals: Sequence[PositionEval | None] | None) -> JsonValue:
        """`judge`, or None without evaluations."""
        return self.judge(game, evals) if evals else None

    def judge(self, game: Game, evals: Sequence[PositionEval | None]) -> JsonValue:
        """The plugin's value for `game`, from its evaluations (see `AnalysisPlugin`)."""
        raise NotImplementedError


class EvalCache(Protocol):
    """Evaluations of positions already searched, per engine key (engine, version, nodes)."""

    async def get_many(self, positions: Sequence[str], engine_key: str) -> dict[str, PositionEval]:
        """The known evaluations among `positions` (keys from `position_key`)."""
        ...

    async def put_many(self, evals: Mapping[str, PositionEval], engine_key: str) -> None:
        """Remember `evals` (position key -> evaluation); an existing entry may be kept."""
        ...


def position_key(board: chess.Board) -> str:
    """The position as a FEN without the halfmove and fullmove counters.

    The en passant square is kept only when a legal en passant capture exists, so
    transpositions meet (python-chess `Board.epd()` semantics).
    """
    return board.epd()


def eval_to_json(score: Eval) -> dict[str, int]:
    """`{"cp": n}` or `{"mate": n}` (mate wins when both are set); `{}` for an empty Eval."""
    if score.mate is not None:
        return {"mate": score.mate}
    if score.cp is not None:
        return {"cp": score.cp}
    return {}


def eval_from_json(value: object) -> Eval:
    """The inverse of `eval_to_json`; InvalidInput for anything else."""
    if isinstance(value, Mapping):
        mate, cp = value.get("mate"), value.get("cp")
        if type(mate) is int and cp is None:
            return Eval(mate=mate)
        if type(cp) is int and mate is None:
            return Eval(cp=cp)
    raise InvalidInput(f"not an evaluation: {value!r:.80}")


def position_eval_to_json(value: PositionEval) -> dict[str, int | str]:
    """`{"cp": n, "best": "e2e4"}` / `{"mate": n}`: the score, plus the best move if known."""
    data: dict[str, int | str] = dict(eval_to_json(value.score))
    if value.best is not None:
        data["best"] = value.best
    return data


def position_eval_from_json(value: object) -> PositionEval:
    """The inverse of `position_eval_to_json`; InvalidInput for anything else."""
    if not isinstance(value, Mapping):
        raise InvalidInput(f"not a position evaluation: {value!r:.80}")
    best = value.get("best")
    if best is not None and not isinstance(best, str):
        raise InvalidInput(f"not a best move: {best!r:.80}")
    score = eval_from_json({k: v for k, v in value.items() if k != "best"})
    return PositionEval(score=score, best=best)
