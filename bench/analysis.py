"""Analysis speed: one python-chess SimpleEngine loop against the engine pool, in one run.

    python bench/analysis.py [--games 12] [--nodes 20000] [--history 60] [--workers N]

(a) the positions of the same games, one by one, through one `SimpleEngine` (one
process, `Threads=1`); (b) the same positions through `EnginePool` with the default
workers (cores - 1, at least 1) or `--workers`. Prints positions/s of each and the
speed-up; then a second pass of (b) with the cache of the first (engine calls must be
0), and a player's whole history (emulator corpus) through one cache: the share of
positions served from it (shared openings, transpositions). Goal: speed-up >= 0.9 x
cores (1.8x on 2 cores). The machine may be shared: the figure is what this run saw.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import replace

import chess
import chess.engine
import orjson

from gamekeeper.analysis.analyzer import analyze_game
from gamekeeper.analysis.cache import InMemoryEvalCache
from gamekeeper.analysis.engine import EnginePool, resolve_engine_path
from gamekeeper.analysis.plugins import builtin_plugins
from gamekeeper.analysis.positions import replay
from gamekeeper.connectors.lichess import parse_game
from gamekeeper.domain.games import Game
from gamekeeper.emulators.lichess_records import LichessCorpus
from gamekeeper.settings import spare_cores


def corpus_games(count: int, seed: int) -> list[Game]:
    corpus = LichessCorpus.generate({"alice": 0}, seed=seed)
    games = []
    for game_id in corpus.add_games("alice", count * 3):
        line = corpus.find(game_id)
        assert line is not None
        # without the evaluations Lichess records carry: the engine is what is measured
        game = replace(parse_game(orjson.loads(line), line.decode()), evals=None)
        if game.variant == "standard" and game.moves and replay(game)[1] is None:
            games.append(game)
    return games[:count]


def simple_loop(path: str, boards: list[chess.Board], nodes: int) -> float:
    with chess.engine.SimpleEngine.popen_uci(path) as engine:
        engine.configure({"Threads": 1, "Hash": 32})
        start = time.perf_counter()
        for board in boards:
            engine.analyse(board, chess.engine.Limit(nodes=nodes))
        return time.perf_counter() - start


async def pool_runs(
    path: str, games: list[Game], history: list[Game], args: argparse.Namespace
) -> float:
    plugins = builtin_plugins()
    async with EnginePool(path, workers=args.workers) as pool:
        cache = InMemoryEvalCache()
        start = time.perf_counter()
        results = await asyncio.gather(
            *(analyze_game(g, plugins, cache=cache, pool=pool, nodes=args.nodes) for g in games)
        )
        elapsed = time.perf_counter() - start
        positions = sum(r.engine_evals for r in results)
        print(
            f"(b) pool, {args.workers} workers: {positions} positions in {elapsed:.2f} s = "
            f"{positions / elapsed:.1f} positions/s"
        )
        calls = pool.calls
        second = [
            await analyze_game(g, plugins, cache=cache, pool=pool, nodes=args.nodes) for g in games
        ]
        print(
            f"second pass: engine calls {pool.calls - calls}, cache hits "
            f"{sum(r.cache_hits for r in second)} of {sum(r.positions for r in second)} positions"
        )
        history_cache = InMemoryEvalCache()
        hits = total = 0
        for game in history:
            result = await analyze_game(
                game, plugins, cache=history_cache, pool=pool, nodes=args.nodes
            )
            hits += result.cache_hits
            total += result.positions
        print(
            f"history of {len(history)} games: {hits} of {total} distinct-per-game positions "
            f"from the cache ({100 * hits / max(1, total):.1f} %)"
        )
    return positions / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--games", type=int, default=12)
    parser.add_argument("--nodes", type=int, default=20000)
    parser.add_argument("--history", type=int, default=60)
    parser.add_argument("--workers", type=int, default=max(1, spare_cores()))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    path = resolve_engine_path(os.environ.get("GAMEKEEPER_STOCKFISH_PATH"))
    games = corpus_games(args.games, args.seed)
    history = corpus_games(args.history, args.seed + 1)
    boards = [b for g in games for b in {b.epd(): b for b in replay(g)[0]}.values()]
    print(
        f"{len(games)} games, {len(boards)} positions, {args.nodes} nodes each, "
        f"{os.cpu_count()} cores"
    )
    elapsed = simple_loop(path, boards, args.nodes)
    simple_rate = len(boards) / elapsed
    print(
        f"(a) SimpleEngine loop: {len(boards)} positions in {elapsed:.2f} s = "
        f"{simple_rate:.1f} positions/s"
    )
    pool_rate = asyncio.run(pool_runs(path, games, history, args))
    print(f"speed-up: {pool_rate / simple_rate:.2f}x (goal >= {0.9 * (os.cpu_count() or 1):.1f}x)")


if __name__ == "__main__":
    main()
