"""One game through every plugin: its evaluations from the game, the cache or the engine.

Where the evaluations come from, first that applies:

1. the game carries them (Lichess `analysis`, PGN `[%eval]`): used as they are, with
   Lichess's +15 cp for the start position, and no engine;
2. the variant is not one the engine plays, or there is no engine (`pool` None): the
   plugins that need evaluations are skipped, with the reason;
3. the cache, for every distinct position of the game; the engine for the rest, whose
   results go to the cache.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import chess

from gamekeeper.analysis.base import (
    AnalysisPlugin,
    EvalCache,
    JsonValue,
    PositionEval,
    position_key,
)
from gamekeeper.analysis.engine import EnginePool, engine_can_play
from gamekeeper.analysis.evals import INITIAL_CP
from gamekeeper.analysis.positions import replay
from gamekeeper.domain.games import Eval, Game

__all__ = ["GameAnalysis", "analyze_game", "analyze_offline", "carried_evals", "needs_engine"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class GameAnalysis:
    """What the plugins made of one game, and where its evaluations came from."""

    #: Plugin name -> (plugin version, value).
    results: dict[str, tuple[str, JsonValue]]
    #: Plugin name -> why it did not run (variant, no engine, illegal move, error).
    skipped: dict[str, str]
    #: `len(moves) + 1` entries (start position first); empty when there are none.
    evals: tuple[PositionEval | None, ...]
    #: Distinct positions evaluated, and how many of them the engine and the cache gave
    #: (for an engine analysis, positions == engine_evals + cache_hits).
    positions: int
    engine_evals: int
    cache_hits: int


async def analyze_game(
    game: Game,
    plugins: Sequence[AnalysisPlugin],
    *,
    cache: EvalCache | None,
    pool: EnginePool | None,
    nodes: int,
    on_evaluated: Callable[[int], None] | None = None,
) -> GameAnalysis:
    """Run `plugins` on `game`, evaluating its positions if a plugin needs them.

    Args:
        on_evaluated: called with the number of positions done, as they are done.
    """
    if pool is None or not needs_engine(game, plugins):
        return analyze_offline(game, plugins)
    boards, error = replay(game)
    if error is not None:
        return _judged(game, plugins, (), error)
    evals, engine_evals, cache_hits = await _evaluate(boards, cache, pool, nodes, on_evaluated)
    return _judged(game, plugins, evals, None, engine_evals=engine_evals, cache_hits=cache_hits)


def needs_engine(game: Game, plugins: Sequence[AnalysisPlugin]) -> bool:
    """Whether a plugin needs evaluations that only the engine can give this game."""
    return (
        game.moves is not None
        and any(plugin.needs_evals for plugin in plugins)
        and engine_can_play(game.variant)
        and carried_evals(game) is None
    )


def analyze_offline(game: Game, plugins: Sequence[AnalysisPlugin]) -> GameAnalysis:
    """`analyze_game` without an engine: the evaluations the game carries, if any, and
    plain CPU work (fit for a thread: no I/O, nothing shared)."""
    if game.moves is None:
        return _judged(game, plugins, (), "the game's moves are not fetched")
    if not any(plugin.needs_evals for plugin in plugins):
        return _judged(game, plugins, (), None)
    carried = carried_evals(game)
    if carried is not None:
        return _judged(game, plugins, carried, None, positions=sum(e is not None for e in carried))
    if not engine_can_play(game.variant):
        return _judged(game, plugins, (), f"the engine does not play the {game.variant} variant")
    return _judged(game, plugins, (), "no engine")


def _judged(
    game: Game,
    plugins: Sequence[AnalysisPlugin],
    evals: tuple[PositionEval | None, ...],
    why_no_evals: str | None,
    *,
    positions: int | None = None,
    engine_evals: int = 0,
    cache_hits: int = 0,
) -> GameAnalysis:
    results, skipped = _run_plugins(game, plugins, evals, why_no_evals)
    return GameAnalysis(
        results=results,
        skipped=skipped,
        evals=evals,
        positions=engine_evals + cache_hits if positions is None else positions,
        engine_evals=engine_evals,
        cache_hits=cache_hits,
    )


def carried_evals(game: Game) -> tuple[PositionEval | None, ...] | None:
    """The game's own evaluations as `len(moves) + 1` entries, or None if it has none."""
    if game.evals is None or game.moves is None or all(e is None for e in game.evals):
        return None
    after = [
        PositionEval(score=e) if e is not None and (e.cp, e.mate) != (None, None) else None
        for e in game.evals[: len(game.moves)]
    ]
    after += [None] * (len(game.moves) - len(after))
    return (PositionEval(score=Eval(cp=INITIAL_CP)), *after)


async def _evaluate(
    boards: Sequence[chess.Board],
    cache: EvalCache | None,
    pool: EnginePool,
    nodes: int,
    on_evaluated: Callable[[int], None] | None,
) -> tuple[tuple[PositionEval | None, ...], int, int]:
    keys = [position_key(board) for board in boards]
    distinct = list(dict.fromkeys(keys))
    engine_key = pool.engine_key(nodes)
    known = await cache.get_many(distinct, engine_key) if cache is not None else {}
    if on_evaluated is not None and known:
        on_evaluated(len(known))
    first_board = dict(zip(keys, boards, strict=True))
    missing = [key for key in distinct if key not in known]
    searched = await pool.evaluate(
        [first_board[key] for key in missing], nodes, on_evaluated=on_evaluated
    )
    new = dict(zip(missing, searched, strict=True))
    if cache is not None and new:
        await cache.put_many(new, engine_key)
    every = known | new
    return tuple(every[key] for key in keys), len(new), len(known)


def _run_plugins(
    game: Game,
    plugins: Sequence[AnalysisPlugin],
    evals: tuple[PositionEval | None, ...],
    why_no_evals: str | None,
) -> tuple[dict[str, tuple[str, JsonValue]], dict[str, str]]:
    results: dict[str, tuple[str, JsonValue]] = {}
    skipped: dict[str, str] = {}
    for plugin in plugins:
        if game.moves is None:
            skipped[plugin.name] = "the game's moves are not fetched"
            continue
        if plugin.needs_evals and not evals:
            skipped[plugin.name] = why_no_evals or "no evaluations"
            continue
        try:
            value = plugin.analyse(game, evals or None)
        except Exception as exc:  # a broken plugin must not stop the others
            log.exception("plugin %s failed on %s", plugin.name, game.platform_game_id)
            skipped[plugin.name] = f"failed: {type(exc).__name__}: {exc}"[:200]
            continue
        results[plugin.name] = (plugin.version, value)
    return results, skipped
