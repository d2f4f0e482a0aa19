"""Lines of a Lichess export are parsed off the event loop, in slices, with the same
result as parsing them on it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import aclosing
from typing import Any, TypeVar

import pytest

from gamekeeper.connectors.base import GameOrError
from gamekeeper.connectors.lichess import source as source_module
from gamekeeper.connectors.lichess.source import SLICE, LichessSource
from gamekeeper.connectors.offload import in_thread, inline
from gamekeeper.emulators.lichess import LichessEmulator
from tests.integration.conftest import UpstreamsFor

R = TypeVar("R")


async def collect(source: LichessSource) -> list[GameOrError]:
    async with aclosing(source.iter_games("alice")) as items:
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
