"""`ProcessOffload`: work runs in niced helper processes, a dead helper is replaced, an
error comes back as one, a cancelled caller never hands its answer to the next, and
closing leaves no helper behind."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gamekeeper.connectors.offload_procs import ProcessOffload
from gamekeeper.connectors.spawn import NICENESS


def read_fifo(path: str) -> str:
    """Blocks until the test writes to the FIFO (work that is surely under way)."""
    with open(path) as fifo:
        return fifo.read()


@pytest.fixture
async def offload() -> AsyncIterator[ProcessOffload]:
    pool = ProcessOffload(1, name="test-offload")
    try:
        yield pool
    finally:
        await asyncio.to_thread(pool.close)


async def test_work_runs_in_a_niced_helper_process(offload: ProcessOffload) -> None:
    pid = await offload(os.getpid)
    assert pid != os.getpid()
    assert offload.pids == [pid]
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, os.nice(0) + NICENESS)
    assert await offload(functools.partial(sorted, [3, 1, 2])) == [1, 2, 3]
    assert await offload(os.getpid) == pid  # the helper stays for the next piece of work


async def test_a_killed_helper_is_replaced(offload: ProcessOffload) -> None:
    first = await offload(os.getpid)
    os.kill(first, signal.SIGKILL)
    second = await offload(os.getpid)
    assert second != first
    assert offload.pids == [second]


async def test_an_error_in_the_work_comes_back_as_an_error(offload: ProcessOffload) -> None:
    with pytest.raises(RuntimeError, match="ValueError: invalid literal"):
        await offload(functools.partial(int, "not a number"))
    assert await offload(functools.partial(int, "7")) == 7


async def test_a_cancelled_call_does_not_hand_its_answer_to_the_next(
    offload: ProcessOffload, tmp_path: Path
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    first = asyncio.create_task(offload(functools.partial(read_fifo, str(fifo))))
    # Opening the FIFO for writing returns once the helper has opened it to read.
    writer = await asyncio.to_thread(open, fifo, "w")
    first.cancel()
    second = asyncio.create_task(offload(functools.partial(str.upper, "second")))
    with writer:
        writer.write("first")
    assert await second == "SECOND"
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_closing_stops_the_helpers(offload: ProcessOffload) -> None:
    pid = await offload(os.getpid)
    await asyncio.to_thread(offload.close)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # ended and reaped
    assert offload.pids == []
    with pytest.raises(RuntimeError):
        await offload(os.getpid)
