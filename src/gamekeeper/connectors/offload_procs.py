"""An `Offload` that runs a connector's parsing in helper processes, so it uses
another core than the event loop's (the API's and the jobs' one, under the GIL).

Work must be picklable (a module-level function with its arguments, as
`functools.partial` makes it), and so must its result; a compact result (a game's
row rather than the `Game`) costs little to send back. Each of N threads of our own
owns one helper process and sends it one piece of work at a time; work waits in the
threads' queue for a free one. The processes start on first use and stay for the
next sync; they are `connectors.spawn` helpers, so none outlives this process.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Final, TypeVar

from gamekeeper.connectors.spawn import Failed, start_helper, stop_helper

R = TypeVar("R")

#: Tries of one piece of work: a process that died is replaced once (killed by hand,
#: say); a second death on the same work is that work's doing, and is raised.
_TRIES: Final = 2


class HelperDied(RuntimeError):
    """A parse process ended before it answered (killed, or out of memory)."""


def run(work: Callable[[], Any]) -> Any:
    """What a helper does with a task: the work, done."""
    return work()


class _Helper:
    """One helper process and its pipes, owned by one thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.process: BaseProcess | None = None
        self._tasks: Connection | None = None
        self._results: Connection | None = None

    def call(self, work: Callable[[], Any], closed: threading.Event) -> Any:
        """`work()` in the process (started, or started again, as needed); blocking."""
        for attempt in range(_TRIES):
            if closed.is_set():
                raise HelperDied("the parse processes were stopped")
            if self.process is None or not self.process.is_alive():
                self.stop()
                self.process, self._tasks, self._results = start_helper(self.name, run)
            assert self._tasks is not None and self._results is not None
            try:
                self._tasks.send(work)
                result = self._results.recv()
            except (EOFError, OSError):
                self.stop()
                if attempt + 1 == _TRIES or closed.is_set():
                    raise HelperDied(f"{self.name} ended before it answered") from None
                continue
            if isinstance(result, Failed):
                raise RuntimeError(f"parsing failed in {self.name}:\n{result.message}")
            return result
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self.process is not None:
            stop_helper(self.process)
        for conn in (self._tasks, self._results):
            if conn is not None:
                conn.close()
        self.process = self._tasks = self._results = None


class ProcessOffload:
    """`await offload(work)` runs `work()` in one of up to `processes` helpers."""

    def __init__(self, processes: int, *, name: str = "gamekeeper-parse") -> None:
        self._name = name
        self._threads = ThreadPoolExecutor(max_workers=processes, thread_name_prefix=name)
        self._local = threading.local()
        self._helpers: list[_Helper] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()

    @property
    def pids(self) -> list[int]:
        """The helper processes running now."""
        with self._lock:
            return [h.process.pid for h in self._helpers if h.process and h.process.pid]

    async def __call__(self, work: Callable[[], R]) -> R:
        # A caller cancelled while its work is queued takes it off the queue; one
        # cancelled while it runs leaves the thread to take the answer and go on.
        result: R = await asyncio.get_running_loop().run_in_executor(
            self._threads, self._call, work
        )
        return result

    def _call(self, work: Callable[[], Any]) -> Any:
        helper: _Helper | None = getattr(self._local, "helper", None)
        if helper is None:
            with self._lock:
                helper = _Helper(f"{self._name}-{len(self._helpers)}")
                self._helpers.append(helper)
            self._local.helper = helper
        return helper.call(work, self._closed)

    def close(self) -> None:
        """Stop the processes and threads (idempotent); work under way raises
        `HelperDied`, work not started is dropped."""
        self._closed.set()
        self._threads.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            helpers = list(self._helpers)
        for helper in helpers:  # a thread waiting for its answer gets EOF and ends
            if helper.process is not None:
                stop_helper(helper.process)
        self._threads.shutdown(wait=True)
        for helper in helpers:  # the threads are gone: their pipes can be closed
            helper.stop()
