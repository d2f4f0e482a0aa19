"""A pool of single-threaded Stockfish processes on python-chess's async UCI client.

Like fishnet: one engine per core but one, each with `Threads=1` and a small hash,
node-limited searches (reproducible, unlike depth or time), a game's positions cut
into chunks of consecutive positions spread over every engine, `ucinewgame` per chunk.
An engine that dies is started again and its position searched once more. Cancelling
`evaluate` cancels the searches, which sends `stop`: python-chess leaves `analyse`
through `AnalysisResult.stop()`, and the engine is usable again once it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import chess
import chess.engine

from gamekeeper.analysis.base import PositionEval
from gamekeeper.domain.games import Eval
from gamekeeper.errors import AnalysisError, EngineNotFound, EngineUnavailable

__all__ = [
    "SUPPORTED_VARIANTS",
    "EnginePool",
    "engine_can_play",
    "resolve_engine_path",
    "terminal_eval",
]

log = logging.getLogger(__name__)

#: Lichess variant keys Stockfish plays (the rest need Fairy-Stockfish).
SUPPORTED_VARIANTS: Final = frozenset({"standard", "chess960", "fromPosition"})
#: Positions one engine searches in a row (fishnet's chunk size).
CHUNK: Final = 6
#: Seconds an engine may take to start and answer `uci`/`isready`.
START_TIMEOUT: Final = 20.0
FALLBACK_PATH: Final = "/usr/games/stockfish"
SETTING: Final = "GAMEKEEPER_STOCKFISH_PATH"


def engine_can_play(variant: str) -> bool:
    """True for the variants Stockfish plays: standard, chess960, fromPosition."""
    return variant in SUPPORTED_VARIANTS


def resolve_engine_path(setting: str | None) -> str:
    """The setting, else `stockfish` on PATH, else /usr/games/stockfish; EngineNotFound."""
    if setting:
        found = shutil.which(setting)
        if found is None:
            raise EngineNotFound(
                f"no executable Stockfish at {setting!r}: set {SETTING} to a Stockfish binary"
            )
        return found
    found = shutil.which("stockfish")
    if found is not None:
        return found
    if os.access(FALLBACK_PATH, os.X_OK):
        return FALLBACK_PATH
    raise EngineNotFound(
        f"Stockfish is not on PATH nor at {FALLBACK_PATH}: "
        f"install it or set {SETTING} to a Stockfish binary"
    )


def terminal_eval(board: chess.Board) -> PositionEval | None:
    """The score of a position without a legal move (mate 0, stalemate 0 cp), else None."""
    if board.is_checkmate():
        return PositionEval(score=Eval(mate=0))
    if board.is_stalemate():
        return PositionEval(score=Eval(cp=0))
    return None


class _Engine:
    """One engine process; `restart` replaces a dead one."""

    def __init__(self, path: str, options: dict[str, int]) -> None:
        self._path = path
        self._options = options
        self.transport: asyncio.SubprocessTransport | None = None
        self.protocol: chess.engine.UciProtocol | None = None
        #: Set while a search cancelled before its `go` winds down (see `_analyse`):
        #: the engine is handed out again once it is done.
        self.settling: asyncio.Future[None] | None = None

    async def start(self) -> None:
        try:
            self.transport, protocol = await asyncio.wait_for(
                chess.engine.popen_uci(self._path), START_TIMEOUT
            )
            self.protocol = protocol
            options = {k: v for k, v in self._options.items() if k in protocol.options}
            await asyncio.wait_for(protocol.configure(options), START_TIMEOUT)
            await asyncio.wait_for(protocol.ping(), START_TIMEOUT)
        except (OSError, chess.engine.EngineError, TimeoutError) as exc:
            self.close()
            raise EngineUnavailable(
                f"{self._path} does not run as a UCI engine ({type(exc).__name__}: {exc}); "
                f"set {SETTING} to a Stockfish binary"
            ) from exc

    async def restart(self) -> None:
        self.close()
        await self.start()

    @property
    def pid(self) -> int | None:
        return self.transport.get_pid() if self.transport is not None else None

    async def quit(self) -> None:
        if self.protocol is not None:
            with contextlib.suppress(chess.engine.EngineError, TimeoutError, OSError):
                await asyncio.wait_for(self.protocol.quit(), 5)
        self.close()

    def close(self) -> None:
        if self.transport is not None:
            with contextlib.suppress(ProcessLookupError, OSError):
                self.transport.close()
        self.transport = self.protocol = None


class EnginePool:
    """N Stockfish processes; `async with EnginePool(path, workers=2) as pool: ...`."""

    def __init__(self, path: str, *, workers: int, hash_mb: int = 32) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.path = path
        self.workers = workers
        self.hash_mb = hash_mb
        #: The engine's `id name`, e.g. "Stockfish 15.1".
        self.name = ""
        #: Searches made (terminal positions need none).
        self.calls = 0
        #: Engine processes started again after they died.
        self.restarts = 0
        self._engines: list[_Engine] = []
        self._idle: asyncio.Queue[_Engine] = asyncio.Queue()

    async def __aenter__(self) -> EnginePool:
        options = {"Threads": 1, "Hash": self.hash_mb}
        self._engines = [_Engine(self.path, options) for _ in range(self.workers)]
        try:
            async with asyncio.TaskGroup() as group:
                for engine in self._engines:
                    group.create_task(engine.start())
        except BaseExceptionGroup as group_error:
            await self._quit_all()
            unavailable = group_error.subgroup(EngineUnavailable)
            if unavailable is not None:
                raise unavailable.exceptions[0] from None
            raise
        protocol = self._engines[0].protocol
        assert protocol is not None
        self.name = protocol.id.get("name", Path(self.path).name)
        for engine in self._engines:
            self._idle.put_nowait(engine)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._quit_all()

    async def _quit_all(self) -> None:
        await asyncio.gather(*(engine.quit() for engine in self._engines))

    @property
    def pids(self) -> list[int]:
        """Process ids of the running engines (for tests and diagnostics)."""
        return [pid for engine in self._engines if (pid := engine.pid) is not None]

    def engine_key(self, nodes: int) -> str:
        """`stockfish-15.1:nodes=150000`: what a cached evaluation depends on (<= 100 chars)."""
        suffix = f":nodes={nodes}"
        slug = re.sub(r"[^a-z0-9.+_-]+", "-", self.name.lower()).strip("-") or "engine"
        return slug[: 100 - len(suffix)] + suffix

    async def evaluate(
        self,
        boards: Sequence[chess.Board],
        nodes: int,
        *,
        on_evaluated: Callable[[int], None] | None = None,
    ) -> list[PositionEval]:
        """Search every board for `nodes` nodes, spread over the engines, in order.

        Args:
            on_evaluated: called with 1 each time a position is done (progress).
        """
        if not self._engines:
            raise AnalysisError("the engine pool is not started (use `async with`)")
        results: list[PositionEval | None] = [None] * len(boards)
        todo: list[int] = []
        for i, board in enumerate(boards):
            terminal = terminal_eval(board)
            if terminal is None:
                todo.append(i)
            else:
                results[i] = terminal
                if on_evaluated is not None:
                    on_evaluated(1)
        chunks = [todo[i : i + CHUNK] for i in range(0, len(todo), CHUNK)]
        limit = chess.engine.Limit(nodes=nodes)
        try:
            async with asyncio.TaskGroup() as group:
                for chunk in chunks:
                    task = self._search_chunk(chunk, boards, limit, results, on_evaluated)
                    group.create_task(task)
        except BaseExceptionGroup as failed:
            # The first failure, as itself: callers catch `AnalysisError`, not a group.
            raise failed.exceptions[0] from None
        return [result for result in results if result is not None]

    async def _search_chunk(
        self,
        chunk: Sequence[int],
        boards: Sequence[chess.Board],
        limit: chess.engine.Limit,
        results: list[PositionEval | None],
        on_evaluated: Callable[[int], None] | None,
    ) -> None:
        engine = await self._idle.get()
        try:
            game = object()  # a new game per chunk: `ucinewgame`, as fishnet sends
            for i in chunk:
                results[i] = await self._search(engine, boards[i], limit, game)
                if on_evaluated is not None:
                    on_evaluated(1)
        finally:
            settling, engine.settling = engine.settling, None
            if settling is None:
                self._idle.put_nowait(engine)
            else:
                # Not before: a command sent meanwhile would cancel the start and the
                # search it then begins (python-chess) would run on unattended.
                settling.add_done_callback(lambda _: self._idle.put_nowait(engine))

    async def _search(
        self, engine: _Engine, board: chess.Board, limit: chess.engine.Limit, game: object
    ) -> PositionEval:
        for attempt in (1, 2):
            try:
                if engine.protocol is None:
                    await engine.restart()
                    self.restarts += 1
                assert engine.protocol is not None
                self.calls += 1
                return _position_eval(await _analyse(engine, board, limit, game))
            except chess.engine.EngineTerminatedError as exc:
                log.warning("engine %s died (%s); starting it again", engine.pid, exc)
                engine.close()
                if attempt == 2:
                    raise AnalysisError(
                        f"the engine died twice on {board.fen()}: {exc}", fen=board.fen()
                    ) from exc
        raise AssertionError("unreachable")


async def _analyse(
    engine: _Engine, board: chess.Board, limit: chess.engine.Limit, game: object
) -> chess.engine.InfoDict:
    """`protocol.analyse`, safe to cancel at any moment.

    Cancelling python-chess's `analyse` while the engine has not answered `isready`
    yet sends `stop` before `go`, and the search then runs on unattended; so does any
    command sent to the engine in that window. So the start is shielded; a search that
    starts after its caller was cancelled is stopped as soon as it begins, and
    `engine.settling` says when it has ended (the pool hands the engine out again then).
    """
    protocol = engine.protocol
    assert protocol is not None
    starting = asyncio.ensure_future(protocol.analysis(board, limit, game=game))
    try:
        # Not `await starting`: if the engine dies between `isready` and `readyok`,
        # python-chess (1.11) never settles `analysis()`, so the process's end is
        # watched too. Like a shield, `asyncio.wait` cancels neither if this task is.
        watched: set[asyncio.Future[Any]] = {starting, protocol.returncode}
        await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        engine.settling = _stopped_once_started(starting, protocol.returncode)
        raise
    if not starting.done():
        starting.cancel()
        code = protocol.returncode.result()
        raise chess.engine.EngineTerminatedError(f"engine process died (exit code: {code})")
    analysis = starting.result()
    with analysis:  # leaving it, cancelled or not, sends `stop` to a running search
        await analysis.wait()
    return analysis.info


def _stopped_once_started(
    starting: asyncio.Future[chess.engine.AnalysisResult], died: asyncio.Future[Any]
) -> asyncio.Future[None]:
    """Stop the search `starting` begins, once it has begun; done when it has ended
    (or the engine has died)."""

    async def settle() -> None:
        await asyncio.wait({starting, died}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            starting.cancel()  # the engine died first: python-chess never settles it
            return
        if starting.cancelled() or starting.exception() is not None:
            return
        analysis = starting.result()
        analysis.stop()
        waiting = asyncio.ensure_future(analysis.wait())
        await asyncio.wait({waiting, died}, return_when=asyncio.FIRST_COMPLETED)
        if waiting.done() and not waiting.cancelled():
            waiting.exception()  # retrieved: a search that ended badly ends here
        else:
            waiting.cancel()

    return asyncio.ensure_future(settle())


def _position_eval(info: chess.engine.InfoDict) -> PositionEval:
    pov = info.get("score")
    if pov is None:
        raise AnalysisError("the engine returned no score")
    score = pov.white()
    mate = score.mate()
    value = Eval(mate=mate) if mate is not None else Eval(cp=score.score())
    pv = info.get("pv")
    return PositionEval(score=value, best=pv[0].uci() if pv else None)
