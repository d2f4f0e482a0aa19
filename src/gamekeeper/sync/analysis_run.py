"""Running analysis plugins over pending games, batch by batch: the `analyze` job and a
sync's `analyzing` phase both run this.

Pending games come newest first in batches (an anti-join: no row yet for one of the
requested plugin versions). Each game's positions go to the cache, then to the engine
pool (started once per run); the plugins' values are written as `analyses` rows with
the job's checkpoint, one transaction per batch, so a killed run resumes after the
last committed game. A cancel interrupts the search under way (the pool sends `stop`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from gamekeeper.analysis.analyzer import GameAnalysis, analyze_game, analyze_offline
from gamekeeper.analysis.base import AnalysisPlugin, JsonValue, eval_to_json
from gamekeeper.analysis.engine import EnginePool, resolve_engine_path
from gamekeeper.analysis.positions import white_first
from gamekeeper.domain.games import Game, Platform
from gamekeeper.errors import EngineUnavailable, JobError, StorageError
from gamekeeper.jobs.context import JobContext
from gamekeeper.storage.analyses import (
    AnalysisRow,
    AnalysisStore,
    AnalysisTx,
    PendingQuery,
)
from gamekeeper.storage.base import AccountStore, GameStore, StoredGame, UserStore
from gamekeeper.sync.analysis_state import AnalysisState
from gamekeeper.sync.eval_cache import StoredEvalCache

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Games per batch: one checkpoint commits their rows (a killed run redoes at most these).
ANALYSIS_BATCH = 20
#: Without the engine a game takes about a millisecond: larger batches, fewer commits.
ENGINELESS_BATCH = 500
#: Of those, games per hop to a thread: a cancel waits for one hop (milliseconds).
OFFLINE_CHUNK = 25
#: The live result (positions, cache hits) is refreshed at most this often within a
#: batch: a refresh per game sent every watcher an event per game.
RESULT_EVERY_S = 0.25
#: The judgments counted per side in the stored `judgments` value's `counts`.
JUDGMENT_KINDS = ("inaccuracy", "mistake", "blunder")


class AnalysisJobStore(AccountStore, GameStore, UserStore, AnalysisStore, Protocol):
    """Storage as the analysis jobs see it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisDeps:
    """What analysis jobs need, handed to them by bootstrap (from `Settings`)."""

    store: AnalysisJobStore
    #: The plugins installed (built-ins and entry points), by name.
    plugins: Callable[[], Mapping[str, AnalysisPlugin]]
    #: GAMEKEEPER_STOCKFISH_PATH (None: look on PATH, then /usr/games/stockfish).
    engine_path: str | None
    workers: int
    hash_mb: int
    #: Nodes per position unless a job asks for another number.
    nodes: int
    batch_size: int = ANALYSIS_BATCH


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisPlan:
    """Which games, which plugins, with the engine or not."""

    query: PendingQuery
    plugins: tuple[AnalysisPlugin, ...]
    engine: bool
    nodes: int
    #: At most this many games (None: every pending one).
    limit: int | None = None


def eval_source(
    game: Game, analysis: GameAnalysis, pool: EnginePool | None, nodes: int
) -> tuple[str | None, int | None]:
    """Who evaluated the game's positions: the pool's engine (with its nodes), or the
    site or file the evaluations came with ("lichess" / "pgn")."""
    if not any(e is not None for e in analysis.evals):
        return None, None
    carried = pool is None or (analysis.engine_evals == 0 and analysis.cache_hits == 0)
    if carried and game.evals is not None:
        return ("lichess" if game.platform is Platform.LICHESS else "pgn"), None
    return (pool.name if pool is not None else None), nodes


def judgments_value(
    game: Game, value: JsonValue, analysis: GameAnalysis, source: tuple[str | None, int | None]
) -> dict[str, Any]:
    """The stored `judgments` value: every ply with its SAN, the evaluation after it,
    the plugin's judgment and best move, and who evaluated (`engine`, `nodes`)."""
    entries: Any = value.get("moves") if isinstance(value, dict) else value
    by_ply: dict[int, Any] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("ply"), int):
            by_ply[entry["ply"]] = entry
    moves = []
    evals = analysis.evals
    for ply, san in enumerate(game.moves or (), start=1):
        entry = by_ply.get(ply, {})
        searched = evals[ply] if ply < len(evals) else None
        score = eval_to_json(searched.score) if searched is not None else None
        moves.append(
            {
                "ply": ply,
                "san": san,
                "eval": score or None,
                "judgment": entry.get("judgment"),
                "best": entry.get("best"),
            }
        )
    engine, nodes = source
    return {"moves": moves, "counts": side_counts(game, moves), "engine": engine, "nodes": nodes}


def side_counts(game: Game, moves: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Each side's inaccuracies, mistakes and blunders, stored with the moves so the games
    listing reads a number instead of walking the moves (ply 1 is White's unless the
    game began with Black to move)."""
    first = white_first(game)
    counts = {side: dict.fromkeys(JUDGMENT_KINDS, 0) for side in ("white", "black")}
    for move in moves:
        kind = move.get("judgment")
        if kind in JUDGMENT_KINDS:
            side = "white" if (move["ply"] % 2 == 1) == first else "black"
            counts[side][kind] += 1
    return counts


def rows_of(
    stored: StoredGame, analysis: GameAnalysis, pool: EnginePool | None, nodes: int
) -> list[AnalysisRow]:
    source = eval_source(stored.game, analysis, pool, nodes)
    rows = []
    for name, (version, value) in analysis.results.items():
        if name == "judgments":
            value = judgments_value(stored.game, value, analysis, source)
        rows.append(
            AnalysisRow(game_id=stored.id, plugin=name, plugin_version=version, value=value)
        )
    return rows


@contextlib.asynccontextmanager
async def engine_for(deps: AnalysisDeps, wanted: bool) -> AsyncIterator[EnginePool | None]:
    """The run's engine pool, started once (None when the run needs no engine)."""
    if not wanted:
        yield None
        return
    path = resolve_engine_path(deps.engine_path)
    async with EnginePool(path, workers=deps.workers, hash_mb=deps.hash_mb) as pool:
        yield pool


async def _once(work: Awaitable[T]) -> AsyncIterator[T]:
    yield await work


class AnalysisRunner:
    """One run over the pending games of a plan."""

    def __init__(
        self,
        ctx: JobContext,
        deps: AnalysisDeps,
        plan: AnalysisPlan,
        state: AnalysisState,
        *,
        checkpoint_of: Callable[[dict[str, Any]], Any],
        on_result: Callable[[dict[str, Any]], None],
    ) -> None:
        self.ctx, self.deps, self.plan, self.state = ctx, deps, plan, state
        self.checkpoint_of, self.on_result = checkpoint_of, on_result
        self.pool: EnginePool | None = None
        self.cache = StoredEvalCache(deps.store)
        self._reported = -RESULT_EVERY_S
        self._started, self._earlier_s = time.monotonic(), state.seconds

    def _timed(self) -> AnalysisState:
        """The state with this run's time so far added to the earlier runs'."""
        seconds = self._earlier_s + time.monotonic() - self._started
        self.state = dataclasses.replace(self.state, seconds=seconds)
        return self.state

    def report(self, *, throttled: bool = False) -> None:
        now = time.monotonic()
        if throttled and now - self._reported < RESULT_EVERY_S:
            return
        self._reported = now
        engine = self.pool.name if self.pool is not None else None
        nodes = self.plan.nodes if self.pool is not None else None
        self.on_result(self._timed().summary(engine, nodes))

    async def run(self) -> AnalysisState:
        needs_engine = self.plan.engine and any(p.needs_evals for p in self.plan.plugins)
        async with engine_for(self.deps, needs_engine) as pool:
            self.pool = pool
            self.report()
            size = self.deps.batch_size if pool is not None else ENGINELESS_BATCH
            while self.state.done < self.state.total:
                left = self.state.total - self.state.done
                query = dataclasses.replace(
                    self.plan.query, after=self.state.after, limit=min(size, left)
                )
                batch = await self.deps.store.pending_games(query)
                if not batch:
                    break  # fewer than counted (analysed meanwhile): the total shrinks
                await self.batch(batch)
                self.ctx.raise_if_cancelled()
        return self.state

    async def batch(self, games: Sequence[StoredGame]) -> None:
        rows: list[AnalysisRow] = []
        analyzed = self.state.analyzed
        async for stored, analysis in self._analysed(games):
            rows.extend(rows_of(stored, analysis, self.pool, self.plan.nodes))
            self.state = self.state.with_game(stored, analysis)
            await self.ctx.report_progress(self.state.done)
            self.report(throttled=True)
        self.report()
        delta = self.state.analyzed - analyzed
        job_id = self.ctx.job_id

        def write(tx: AnalysisTx) -> dict[str, int]:
            tx.put_analyses(rows, job_id=job_id)
            return {"analyzed": delta}

        await self.ctx.checkpoint(self.checkpoint_of(self._timed().to_json()), write)

    async def _analysed(
        self, games: Sequence[StoredGame]
    ) -> AsyncIterator[tuple[StoredGame, GameAnalysis]]:
        """Each game with its analysis, in order, until a cancel (the games finished
        before it are committed)."""
        if self.pool is None:
            # Plain CPU work: in a thread, a few games at a time, so that the event loop
            # (the API, the dashboard's streams) is never held for a whole batch.
            for start in range(0, len(games), OFFLINE_CHUNK):
                if self.ctx.cancel_requested:
                    return
                chunk = games[start : start + OFFLINE_CHUNK]
                outcomes = await asyncio.to_thread(_offline, chunk, self.plan.plugins)
                for stored, outcome in zip(chunk, outcomes, strict=True):
                    if isinstance(outcome, Exception):
                        outcome = self._failed(stored, outcome)
                    yield stored, outcome
            return
        for stored in games:
            analysis = await self.game(stored)
            if analysis is None:
                return
            yield stored, analysis

    async def game(self, stored: StoredGame) -> GameAnalysis | None:
        """The game's analysis; None when a cancel interrupted it."""
        work = analyze_game(
            stored.game,
            self.plan.plugins,
            cache=self.cache,
            pool=self.pool,
            nodes=self.plan.nodes,
        )
        try:
            async for analysis in self.ctx.until_cancelled(_once(work)):
                return analysis
        except (EngineUnavailable, StorageError, JobError):
            raise
        except Exception as exc:  # one unreadable game must not stop the others
            return self._failed(stored, exc)
        finally:
            work.close()
        return None

    def _failed(self, stored: StoredGame, exc: Exception) -> GameAnalysis:
        """An item error for the game; the run goes on without its results."""
        log.error("analysis of game %s failed", stored.id, exc_info=exc)
        self.ctx.item_error(f"game {stored.id}", f"analysis failed: {exc}")
        return GameAnalysis(
            results={}, skipped={}, evals=(), positions=0, engine_evals=0, cache_hits=0
        )


def _offline(
    games: Sequence[StoredGame], plugins: Sequence[AnalysisPlugin]
) -> list[GameAnalysis | Exception]:
    """`analyze_offline` of each game (in a thread); a game's failure is its outcome."""
    outcomes: list[GameAnalysis | Exception] = []
    for stored in games:
        try:
            outcomes.append(analyze_offline(stored.game, plugins))
        except Exception as exc:  # reported on the event loop, as an item error
            outcomes.append(exc)
    return outcomes


async def run_analysis(
    ctx: JobContext,
    deps: AnalysisDeps,
    plan: AnalysisPlan,
    *,
    resume: Any = None,
    checkpoint_of: Callable[[dict[str, Any]], Any] = lambda state: state,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> AnalysisState:
    """Analyse the plan's pending games in the `analyzing` phase (declared by the caller);
    `resume` is this run's part of the last checkpoint."""
    state = AnalysisState.from_json(resume)
    if not state.resumed:
        total = await deps.store.count_pending(plan.query)
        if plan.limit is not None:
            total = min(total, plan.limit)
        state = dataclasses.replace(state, total=total)
    await ctx.start_phase("analyzing", total=state.total, done=state.done)
    runner = AnalysisRunner(
        ctx,
        deps,
        plan,
        state,
        checkpoint_of=checkpoint_of,
        on_result=on_result or ctx.set_result,
    )
    if state.done < state.total:
        state = await runner.run()
    else:
        runner.report()
    # What was there is all done: the total is now what it turned out to be.
    await ctx.report_progress(state.done, state.done)
    return state
