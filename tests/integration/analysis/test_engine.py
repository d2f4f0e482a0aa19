"""The Stockfish pool on the real engine: every ply, the cache, a killed engine, cancel."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import stat
import sys
from dataclasses import replace
from pathlib import Path

import chess
import pytest

from gamekeeper.analysis import engine as engine_module
from gamekeeper.analysis.analyzer import analyze_game
from gamekeeper.analysis.base import PositionEval, position_key
from gamekeeper.analysis.cache import InMemoryEvalCache
from gamekeeper.analysis.engine import EnginePool, resolve_engine_path
from gamekeeper.analysis.plugins import builtin_plugins
from gamekeeper.analysis.positions import replay
from gamekeeper.domain.games import Game
from gamekeeper.errors import AnalysisError, EngineNotFound, EngineUnavailable

from .conftest import NODES, lichess_games


def _assert_sound(board: chess.Board, value: PositionEval) -> None:
    """A score, and a best move that is legal in the position."""
    assert (value.score.cp is None) != (value.score.mate is None), value
    assert value.best is not None
    assert chess.Move.from_uci(value.best) in board.legal_moves


async def test_a_40_ply_game_gets_every_ply_evaluated(
    pool: EnginePool, game_40_plies: Game
) -> None:
    cache = InMemoryEvalCache()
    analysis = await analyze_game(
        game_40_plies, builtin_plugins(), cache=cache, pool=pool, nodes=NODES
    )
    boards, _ = replay(game_40_plies)
    assert len(analysis.evals) == 41
    for board, value in zip(boards, analysis.evals, strict=True):
        assert value is not None
        _assert_sound(board, value)
    distinct = len({position_key(board) for board in boards})
    assert analysis.positions == analysis.engine_evals == distinct == pool.calls
    assert analysis.cache_hits == 0 and len(cache) == distinct
    assert analysis.skipped == {}
    assert set(analysis.results) == {"move_count", "eval_swing", "judgments", "acpl", "accuracy"}
    assert pool.name.startswith("Stockfish")
    assert pool.engine_key(NODES).endswith(f":nodes={NODES}")


async def test_the_second_analysis_makes_no_engine_call(
    pool: EnginePool, game_40_plies: Game
) -> None:
    cache = InMemoryEvalCache()
    first = await analyze_game(
        game_40_plies, builtin_plugins(), cache=cache, pool=pool, nodes=NODES
    )
    calls = pool.calls
    second = await analyze_game(
        game_40_plies, builtin_plugins(), cache=cache, pool=pool, nodes=NODES
    )
    assert pool.calls == calls
    assert (second.engine_evals, second.cache_hits) == (0, first.positions)
    assert second.evals == first.evals and second.results == first.results
    # another node budget is another engine key: nothing cached for it
    third = await analyze_game(
        game_40_plies, builtin_plugins(), cache=cache, pool=pool, nodes=NODES + 1
    )
    assert third.cache_hits == 0 and pool.calls == calls + third.engine_evals > calls


async def test_shared_openings_come_from_the_cache(pool: EnginePool, game_40_plies: Game) -> None:
    cache = InMemoryEvalCache()
    assert game_40_plies.moves is not None
    short = replace(game_40_plies, moves=game_40_plies.moves[:30], platform_game_id="short")
    await analyze_game(short, builtin_plugins(), cache=cache, pool=pool, nodes=NODES)
    longer = await analyze_game(
        game_40_plies, builtin_plugins(), cache=cache, pool=pool, nodes=NODES
    )
    assert longer.cache_hits == 31 and longer.engine_evals == longer.positions - 31


async def test_the_edge_case_games(pool: EnginePool) -> None:
    games = lichess_games("edge-cases.ndjson")
    for game_id in ("chess960", "fromPos1", "stalemt1", "aiLevel1"):
        game = games[game_id]
        analysis = await analyze_game(game, builtin_plugins(), cache=None, pool=pool, nodes=NODES)
        assert analysis.skipped == {}, game_id
        assert len(analysis.evals) == len(game.moves or ()) + 1
        boards, _ = replay(game)
        for board, value in zip(boards, analysis.evals, strict=True):
            assert value is not None
            if board.is_checkmate():
                assert value.score.mate == 0 and value.best is None
            elif board.is_stalemate():
                assert value.score.cp == 0 and value.best is None
            else:
                _assert_sound(board, value)


async def test_a_crazyhouse_game_is_skipped_with_a_reason(pool: EnginePool) -> None:
    game = lichess_games("edge-cases.ndjson")["crzyhous"]
    analysis = await analyze_game(game, builtin_plugins(), cache=None, pool=pool, nodes=NODES)
    assert pool.calls == 0
    assert analysis.results == {"move_count": ("1", len(game.moves or ()))}
    assert set(analysis.skipped) == {"eval_swing", "judgments", "acpl", "accuracy"}
    assert set(analysis.skipped.values()) == {"the engine does not play the crazyhouse variant"}


async def test_an_illegal_move_is_skipped_with_a_reason(
    pool: EnginePool, game_40_plies: Game
) -> None:
    assert game_40_plies.moves is not None
    game = replace(game_40_plies, moves=(*game_40_plies.moves[:4], "Ke5"))
    analysis = await analyze_game(game, builtin_plugins(), cache=None, pool=pool, nodes=NODES)
    assert pool.calls == 0
    assert set(analysis.skipped.values()) == {"illegal move 'Ke5' at ply 5"}
    assert analysis.results == {"move_count": ("1", 5)}


async def test_engines_killed_mid_evaluate_are_restarted(
    pool: EnginePool, game_40_plies: Game
) -> None:
    boards, _ = replay(game_40_plies)
    killed: list[int] = []

    def kill_every_engine(done: int) -> None:
        if not killed:  # after the first position: one engine between searches, one searching
            killed.extend(pool.pids)
            for pid in killed:
                os.kill(pid, signal.SIGKILL)

    results = await pool.evaluate(boards, NODES, on_evaluated=kill_every_engine)
    assert len(killed) == 2
    assert len(results) == len(boards)
    for board, value in zip(boards, results, strict=True):
        _assert_sound(board, value)
    assert pool.restarts == 2
    assert not set(pool.pids) & set(killed) and len(pool.pids) == 2
    # and the pool is healthy afterwards
    assert len(await pool.evaluate(boards[:3], NODES)) == 3


class _SentLines(logging.Handler):
    """Lines python-chess sends to the engines; `go` sets an event per search started."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.searching = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if len(record.args or ()) == 2 and record.msg == "%s: << %s":
            line = str(record.args[1])  # type: ignore[index]
            self.lines.append(line)
            if line.startswith("go "):
                self.searching.set()


async def test_cancelling_evaluate_stops_the_searches(
    pool: EnginePool, game_40_plies: Game
) -> None:
    boards, _ = replay(game_40_plies)
    sent = _SentLines()
    chess_log = logging.getLogger("chess.engine")
    chess_log.addHandler(sent)
    chess_log.setLevel(logging.DEBUG)
    try:
        # searches of a billion nodes would take many minutes each
        task = asyncio.create_task(pool.evaluate(boards, 1_000_000_000))
        await sent.searching.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert "stop" in sent.lines
        pids = pool.pids
        # the engines answered `stop` and search again, well within the guard
        async with asyncio.timeout(60):
            results = await pool.evaluate(boards[:4], NODES)
        assert len(results) == 4 and pool.pids == pids and pool.restarts == 0
    finally:
        chess_log.removeHandler(sent)
        chess_log.setLevel(logging.NOTSET)


async def test_the_pool_closes_cleanly_after_a_cancel(
    stockfish_path: str, game_40_plies: Game
) -> None:
    boards, _ = replay(game_40_plies)
    sent = _SentLines()
    chess_log = logging.getLogger("chess.engine")
    chess_log.addHandler(sent)
    chess_log.setLevel(logging.DEBUG)
    try:
        async with EnginePool(stockfish_path, workers=2) as engines:
            task = asyncio.create_task(engines.evaluate(boards, 1_000_000_000))
            await sent.searching.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            pids = engines.pids
    finally:
        chess_log.removeHandler(sent)
        chess_log.setLevel(logging.NOTSET)
    assert engines.pids == [] and len(pids) == 2
    assert sent.lines.count("quit") == 2
    with pytest.raises(AnalysisError, match="not started"):
        await EnginePool(stockfish_path, workers=1).evaluate(boards[:1], NODES)


async def test_a_missing_binary_names_the_setting(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-stockfish")
    with pytest.raises(EngineNotFound, match="GAMEKEEPER_STOCKFISH_PATH"):
        resolve_engine_path(missing)
    with pytest.raises(EngineUnavailable, match="GAMEKEEPER_STOCKFISH_PATH"):
        async with EnginePool(missing, workers=2):
            pass


def test_no_stockfish_anywhere_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(engine_module, "FALLBACK_PATH", str(tmp_path / "stockfish"))
    with pytest.raises(EngineNotFound, match="GAMEKEEPER_STOCKFISH_PATH"):
        resolve_engine_path(None)


def test_the_setting_wins_and_a_name_is_looked_up_on_path(stockfish_path: str) -> None:
    assert resolve_engine_path(stockfish_path) == stockfish_path
    assert os.path.basename(resolve_engine_path("stockfish")) == "stockfish"


@pytest.mark.parametrize(
    "script", ["#!/bin/sh\nexit 3\n", "#!/bin/sh\necho 'I am not a chess engine'\n"]
)
async def test_a_broken_binary_names_the_setting(tmp_path: Path, script: str) -> None:
    broken = tmp_path / "stockfish"
    broken.write_text(script)
    broken.chmod(broken.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(EngineUnavailable, match="GAMEKEEPER_STOCKFISH_PATH"):
        async with EnginePool(str(broken), workers=1):
            pass


#: A UCI "engine" that dies when asked `isready` a second time, before `readyok`: what
#: a kill between python-chess's `ucinewgame`/`isready` and the answer looks like.
DIES_BEFORE_READYOK = f"""#!{sys.executable}
import sys
readies = 0
for line in sys.stdin:
    word = (line.split() or [""])[0]
    if word == "uci":
        print("id name Fragile", "uciok", sep="\\n", flush=True)
    elif word == "isready":
        readies += 1
        if readies == 2:
            sys.exit(9)
        print("readyok", flush=True)
    elif word == "quit":
        break
"""


async def test_an_engine_dying_before_readyok_is_an_error_not_a_hang(tmp_path: Path) -> None:
    """python-chess leaves `analysis()` waiting forever in that window; the pool must not."""
    fragile = tmp_path / "fragile"
    fragile.write_text(DIES_BEFORE_READYOK)
    fragile.chmod(fragile.stat().st_mode | stat.S_IXUSR)
    async with EnginePool(str(fragile), workers=1) as pool:
        search = pool.evaluate([chess.Board()], 1000)
        with pytest.raises(AnalysisError, match="died twice"):
            await asyncio.wait_for(search, timeout=60)  # a hang fails here, not forever
        assert pool.restarts == 1


#: A UCI "engine" that answers its second `isready` only once a byte comes through the
#: FIFO named by its first argument, searches `go nodes 1000000000` until `stop`, and
#: any other `go` at once.
READYOK_ON_CUE = f"""#!{sys.executable}
import sys
readies, searching = 0, False
for line in sys.stdin:
    word = (line.split() or [""])[0]
    if word == "uci":
        print("id name OnCue", "uciok", sep="\\n", flush=True)
    elif word == "isready":
        readies += 1
        if readies == 2:
            with open(sys.argv[1], "rb") as cue:
                cue.read(1)
        print("readyok", flush=True)
    elif word == "go":
        if "1000000000" in line:
            searching = True
        else:
            print("info depth 1 score cp 13 nodes 1000 pv e2e4")
            print("bestmove e2e4", flush=True)
    elif word == "stop" and searching:
        searching = False
        print("info depth 9 score cp 20 nodes 5000 pv d2d4", "bestmove d2d4", sep="\\n", flush=True)
    elif word == "quit":
        break
"""


class _Readies(logging.Handler):
    """Sets `second` once python-chess has sent `isready` twice."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0
        self.second = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s: << %s" and str((record.args or ("", ""))[1]) == "isready":  # type: ignore[index]
            self.count += 1
            if self.count == 2:
                self.second.set()


async def test_an_engine_cancelled_before_its_search_began_is_reused_only_once_stopped(
    tmp_path: Path,
) -> None:
    # Cancelled between `isready` and `readyok`, the search still begins when `readyok`
    # comes. Handed out at once, the engine's next command would cancel that start, and
    # python-chess would then send `go` with nothing left to stop it: a search of a
    # billion nodes, and every later evaluation waiting behind it.
    cue = tmp_path / "cue"
    os.mkfifo(cue)
    script = tmp_path / "oncue.py"
    script.write_text(READYOK_ON_CUE)
    engine = tmp_path / "oncue"
    engine.write_text(f"#!/bin/sh\nexec {sys.executable} {script} {cue}\n")
    engine.chmod(engine.stat().st_mode | stat.S_IXUSR)
    readies = _Readies()
    chess_log = logging.getLogger("chess.engine")
    chess_log.addHandler(readies)
    chess_log.setLevel(logging.DEBUG)
    try:
        async with EnginePool(str(engine), workers=1) as pool:
            first = asyncio.create_task(pool.evaluate([chess.Board()], 1_000_000_000))
            await readies.second.wait()
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            second = asyncio.create_task(pool.evaluate([chess.Board()], 1000))
            # The cue from a thread: `second` asks for the engine meanwhile, well before
            # `readyok` can come back.
            await asyncio.to_thread(cue.write_bytes, b"!")
            async with asyncio.timeout(60):  # the bug is a search that never ends
                [result] = await second
            assert result.score.cp == 13 and pool.restarts == 0
    finally:
        chess_log.removeHandler(readies)
        chess_log.setLevel(logging.NOTSET)
