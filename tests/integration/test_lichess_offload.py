"""Lines of a Lichess export are parsed off the event loop, in slices (in a worker
thread, or made rows in a parse process), with the same result as parsing them on it."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from contextlib import aclosing
from typing import Any, TypeVar

import pytest

from gamekeeper.connectors.base import EncodedGame, GameOrError, RowEncoder
from gamekeeper.connectors.lichess import source as source_module
from gamekeeper.connectors.lichess.source import SLICE, LichessSource
from gamekeeper.connectors.offload import in_thread, inline
from gamekeeper.connectors.offload_procs import ProcessOffload
from gamekeeper.domain.games import Game
from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.storage.sql.game_rows import game_row
from tests.integration.conftest import UpstreamsFor

R = TypeVar("R")


async def collect(
    source: LichessSource, encode: RowEncoder | None = None
) -> list[GameOrError | EncodedGame]:
    async with aclosing(source.iter_games("alice", encode=encode)) as items:
        return [item async for item in items]


async def test_the_export_is_parsed_in_worker_threads_in_slices(
    lichess_emulator: LichessEmulator, lichess_url: str, upstreams_for: UpstreamsFor
) -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []
    sizes: list[int] = []

    async def watched(work: Callable[[], R]) -> R:
        def run() -> R:
            threads.append(threading.get_ident())
            result = work()
            sizes.append(len(result))  # type: ignore[arg-type]
            return result

        return await in_thread(run)

    async with upstreams_for(lichess_url=lichess_url) as upstreams:
        offloaded = await collect(LichessSource(upstreams.lichess, lichess_url, offload=watched))
        on_loop = await collect(LichessSource(upstreams.lichess, lichess_url, offload=inline))
    assert len(offloaded) == 120
    assert offloaded == on_loop  # the same games, in the same order
    assert threads and loop_thread not in threads
    assert sum(sizes) == 120 and max(sizes) <= SLICE


async def test_by_default_no_line_is_parsed_on_the_event_loop(
    lichess_url: str, upstreams_for: UpstreamsFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.get_ident()
    threads: set[int] = set()
    original = source_module.decode_lines

    def recorded(*args: Any, **kwargs: Any) -> Any:
        threads.add(threading.get_ident())
        return original(*args, **kwargs)

    monkeypatch.setattr(source_module, "decode_lines", recorded)
    async with upstreams_for(lichess_url=lichess_url) as upstreams:
        items = await collect(LichessSource(upstreams.lichess, lichess_url))
    assert len(items) == 120
    assert threads and loop_thread not in threads


async def test_a_parse_process_makes_the_rows_of_the_games_parsed_here(
    lichess_url: str, upstreams_for: UpstreamsFor
) -> None:
    encode = functools.partial(game_row, sqlite=True)
    offload = ProcessOffload(1)
    try:
        async with upstreams_for(lichess_url=lichess_url) as upstreams:
            rows = await collect(
                LichessSource(upstreams.lichess, lichess_url, offload=offload), encode
            )
            games = await collect(LichessSource(upstreams.lichess, lichess_url, offload=inline))
        assert offload.pids  # the rows were made in the parse process
    finally:
        await asyncio.to_thread(offload.close)
    assert len(rows) == len(games) == 120
    assert all(isinstance(r, EncodedGame) for r in rows)
    assert all(isinstance(g, Game) for g in games)
    assert [r.row for r in rows if isinstance(r, EncodedGame)] == [
        encode(g) for g in games if isinstance(g, Game)
    ]
    assert [(r.platform_game_id, r.finished, r.start_time, r.has_moves) for r in rows] == [
        (g.platform_game_id, g.finished, g.start_time, g.has_moves) for g in games
    ]
