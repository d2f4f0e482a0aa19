"""Parse processes for the PGN import: the job's process reads and splits the file
(a thread here), N spawned processes parse the chunks into ready rows, and the job
stores them, so parsing and storing use different cores.

- **Order**: chunk k goes to process k mod N, and results are taken back in the same
  round, so they arrive in file order without a reordering buffer: a batch and the
  byte offset that covers it still commit together, in order.
- **Memory**: at most `depth` chunks are in flight (sent and not yet taken back);
  the splitting thread waits for a free slot. A chunk is about `CHUNK_BYTES` of PGN
  (one game more at most), its rows about twice that.
- **Stopping**: each process reads its chunks from a pipe whose only writer is the
  job's process, and ignores SIGINT (Ctrl-C stops the job, which stops them). If the
  job's process dies, even by SIGKILL, the pipe breaks and each process ends on its
  next read or write: none is left behind. `close` terminates them at once.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import signal
import sys
import threading
import traceback
import types
from collections.abc import Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from typing import Final

from gamekeeper.connectors.pgn import Piece
from gamekeeper.sync.import_parse import Parsed, ParseSpec, parse_chunk

#: PGN text per chunk handed to a parse process.
CHUNK_BYTES: Final = 512 * 1024
#: Chunks in flight per parse process (sent and not yet taken by the job): enough to
#: keep it busy while the job commits a batch, and memory flat (4 MiB of PGN a process).
DEPTH_PER_WORKER: Final = 8
#: How long closing waits for a process to end before it is killed.
_JOIN_S: Final = 5.0
#: Spawned: a fresh interpreter, never a fork of a process with threads and a loop.
_CONTEXT: Final = "spawn"


#: What a parse process sends when it has no more chunks (`Connection.send(None)`).
_END: Final = bytes(ForkingPickler.dumps(None))


class ParseWorkerDied(RuntimeError):
    """A PGN parse process ended without its results (killed, or out of memory)."""


class _Failed:
    """What a parse process sends instead of a result when parsing raised."""

    def __init__(self, message: str) -> None:
        self.message = message


def serve(tasks: Connection, results: Connection, spec: ParseSpec) -> None:
    """A parse process: chunks in, `Parsed` out, until told to stop or the job's
    process is gone (its pipe breaks)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(EOFError, OSError):
        while (task := tasks.recv()) is not None:
            pieces, position = task
            try:
                parsed: Parsed | _Failed = parse_chunk(pieces, position, spec)
            except Exception:  # a bug: the job fails with it, not a silent hang
                parsed = _Failed(traceback.format_exc())
            results.send(parsed)
        results.send(None)


#: Held while `__main__` is swapped out (two imports starting at once).
_MAIN_LOCK: Final = threading.Lock()


@contextlib.contextmanager
def _without_main() -> Iterator[None]:
    """Start processes that do not import the parent's `__main__`: spawn runs it again
    in each child (to find functions defined there), but a parse process needs nothing
    from it, and a script without the `if __name__ == "__main__":` guard would start
    over in every child (the CLI's script would only cost its imports)."""
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
    The job's process gets its own Ctrl-C when the mask is restored; it is what stops
    the children."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class ParsePool:
    """N parse processes fed chunks of one stream, their results read in order.

    Three threads of the job's process keep the processes busy whatever the job does
    (a batch's commit takes a while): one feeds them chunks, one receives results
    into a queue, and the job takes them from it (`start`'s iterator).
    """

    def __init__(self, workers: int, spec: ParseSpec, *, depth: int | None = None) -> None:
        self._spec = spec
        self._workers = workers
        self._slots = threading.Semaphore(depth or DEPTH_PER_WORKER * workers)
        self._closing = threading.Event()
        self._processes: list[BaseProcess] = []
        self._tasks: list[Connection] = []
        self._results: list[Connection] = []
        self._received: queue.SimpleQueue[bytes | BaseException | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._feed_error: BaseException | None = None

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes if p.pid is not None]

    def start(self, chunks: Iterator[tuple[list[Piece], int]]) -> Iterator[Parsed]:
        """Start the processes and the threads feeding them `chunks` ((pieces,
        position) pairs) and receiving their results; the results, in order."""
        context = multiprocessing.get_context(_CONTEXT)
        for n in range(self._workers):
            task_r, task_w = context.Pipe(duplex=False)
            result_r, result_w = context.Pipe(duplex=False)
            process = context.Process(
                target=serve,
                args=(task_r, result_w, self._spec),
                name=f"gamekeeper-parse-{n}",
                daemon=True,
            )
            with _without_main(), _sigint_blocked():
                process.start()
            # The process holds the other ends: only it (or its death) can end them.
            task_r.close()
            result_w.close()
            self._processes.append(process)
            self._tasks.append(task_w)
            self._results.append(result_r)
        for name, target, args in (("feed", self._feed, (chunks,)), ("receive", self._receive, ())):
            thread = threading.Thread(
                target=target, args=args, name=f"gamekeeper-parse-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self._take()

    def _feed(self, chunks: Iterator[tuple[list[Piece], int]]) -> None:
        try:
            for seq, chunk in enumerate(chunks):
                if not self._acquire():
                    return
                self._tasks[seq % self._workers].send(chunk)
        except BaseException as exc:  # raised to the job after the chunks sent before it
            self._feed_error = exc
        for tasks in self._tasks:
            with contextlib.suppress(OSError):  # that process is gone: the receiver says so
                tasks.send(None)

    def _acquire(self) -> bool:
        while not self._closing.is_set():
            if self._slots.acquire(timeout=0.1):
                return True
        return False

    def _receive(self) -> None:
        # Results stay pickled here and are unpickled by the job's thread that takes
        # them: a thread of its own allocating every row would keep a malloc arena of
        # its own, which the rows freed elsewhere leave fragmented (the job's peak RSS
        # was 195-200 MB on 100,000 games that way, 172-174 MB this way).
        seq = 0
        while True:
            try:
                data = self._results[seq % self._workers].recv_bytes()
            except (EOFError, OSError):
                self._received.put(ParseWorkerDied(ParseWorkerDied.__doc__))
                return
            if data == _END:
                if self._feed_error is not None:
                    self._received.put(self._feed_error)
                self._received.put(None)
                return
            self._received.put(data)
            seq += 1

    def _take(self) -> Iterator[Parsed]:
        while (data := self._received.get()) is not None:
            if isinstance(data, BaseException):
                raise data
            result = ForkingPickler.loads(data)
            if isinstance(result, _Failed):
                raise RuntimeError(f"parsing failed:\n{result.message}")
            self._slots.release()
            yield result

    def close(self) -> None:
        """Stop the processes and the threads (at once; idempotent)."""
        self._closing.set()
        for process in self._processes:
            if process.is_alive():
                process.terminate()
        for process in self._processes:
            process.join(_JOIN_S)
            if process.is_alive():
                process.kill()
                process.join()
        # The processes are gone, so their pipes are broken: the threads end.
        for thread in self._threads:
            thread.join(_JOIN_S)
        for conn in (*self._tasks, *self._results):
            conn.close()


def in_process(chunks: Iterator[tuple[list[Piece], int]], spec: ParseSpec) -> Iterator[Parsed]:
    """The single-process path: the same parsing, in the calling thread."""
    for pieces, position in chunks:
        yield parse_chunk(pieces, position, spec)
