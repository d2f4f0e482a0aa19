"""Helper processes that work beside the job's process: spawned, fed tasks through a
pipe, and sure to end with it.

- **Spawned**: a fresh interpreter, never a fork of a process with threads and a loop;
  it does not import the parent's `__main__` (see `_without_main`).
- **Ending**: each process reads its tasks from a pipe whose only writer is the parent,
  and ignores SIGINT (Ctrl-C stops the parent's job, which stops them). If the parent
  dies, even by SIGKILL, the pipe breaks and the process ends on its next read or
  write: none is left behind.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import traceback
import types
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from typing import Any, Final

#: What a helper sends when it has no more tasks (`Connection.send(None)`).
END: Final = bytes(ForkingPickler.dumps(None))
#: A helper's niceness: the work it does is background work, and on a busy machine the
#: event loop (the API) and the database writer should get a core before it does.
NICENESS: Final = 10
#: How long closing waits for a process to end before it is killed.
JOIN_S: Final = 5.0


class Failed:
    """What a helper sends instead of a result when its task raised (a bug: the job
    fails with the traceback, rather than hanging)."""

    def __init__(self, message: str) -> None:
        self.message = message


def serve(tasks: Connection, results: Connection, handle: Callable[[Any], Any]) -> None:
    """A helper process: `handle(task)` for each task, its result sent back, until told
    to stop (a `None` task) or the parent is gone (its pipe breaks)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICENESS)
    with contextlib.suppress(EOFError, OSError):
        while (task := tasks.recv()) is not None:
            try:
                result = handle(task)
            except Exception:
                result = Failed(traceback.format_exc())
            results.send(result)
        results.send(None)


#: Held while `__main__` is swapped out (two helpers starting at once).
_MAIN_LOCK: Final = threading.Lock()


@contextlib.contextmanager
def _without_main() -> Iterator[None]:
    """Start processes that do not import the parent's `__main__`: spawn runs it again
    in each child (to find functions defined there), but a helper needs nothing from
    it, and a script without the `if __name__ == "__main__":` guard would start over
    in every child (the CLI's script would only cost its imports)."""
    with _MAIN_LOCK:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Start processes with SIGINT blocked: a child inherits the mask, so a Ctrl-C sent
    to the terminal's group while it is still importing our modules (before `serve`
    ignores SIGINT) stays pending instead of printing a KeyboardInterrupt traceback.
    The parent gets its own Ctrl-C when the mask is restored; it is what stops the
    children."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def start_helper(
    name: str, handle: Callable[[Any], Any]
) -> tuple[BaseProcess, Connection, Connection]:
    """A started helper process running `serve` with `handle` (picklable): the process,
    the pipe to send it tasks, and the pipe its results come back on."""
    context = multiprocessing.get_context("spawn")
    task_r, task_w = context.Pipe(duplex=False)
    result_r, result_w = context.Pipe(duplex=False)
    process = context.Process(target=serve, args=(task_r, result_w, handle), name=name, daemon=True)
    with _without_main(), _sigint_blocked():
        process.start()
    # The process holds the other ends: only it (or its death) can end them.
    task_r.close()
    result_w.close()
    return process, task_w, result_r


def stop_helper(process: BaseProcess) -> None:
    """Stop a helper at once (terminate, then kill if it lingers) and wait for it."""
    if process.is_alive():
        process.terminate()
    process.join(JOIN_S)
    if process.is_alive():
        process.kill()
        process.join()
