"""Parse processes for the PGN import: the job's process reads and splits the file
(a thread here), N spawned processes parse the chunks into ready rows, and the job
stores them, so parsing and storing use different cores.

- **Order**: chunk k goes to process k mod N, and results are taken back in the same
  round, so they arrive in file order without a reordering buffer: a batch and the
  byte offset that covers it still commit together, in order.
- **Memory**: at most `depth` chunks are in flight (sent and not yet taken back);
  the splitting thread waits for a free slot. A chunk is about `CHUNK_BYTES` of PGN
  (one game more at most), its rows about twice that.
- **Stopping**: the processes are `connectors.spawn` helpers, so none outlives the
  job's process, even one killed by SIGKILL; `close` terminates them at once.
"""

from __future__ import annotations

import contextlib
import functools
import queue
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from typing import Final

from gamekeeper.connectors.pgn import Piece
from gamekeeper.connectors.spawn import END, JOIN_S, Failed, start_helper, stop_helper
from gamekeeper.sync.import_parse import Parsed, ParseSpec, parse_chunk

#: PGN text per chunk handed to a parse process.
CHUNK_BYTES: Final = 512 * 1024
#: Chunks in flight per parse process (sent and not yet taken by the job): enough to
#: keep it busy while the job commits a batch, and memory flat (4 MiB of PGN a process).
DEPTH_PER_WORKER: Final = 8


class ParseWorkerDied(RuntimeError):
    """A PGN parse process ended without its results (killed, or out of memory)."""


def parse_task(task: tuple[list[Piece], int], spec: ParseSpec) -> Parsed:
    """What a parse process does with a task: the chunk's rows and errors."""
    pieces, position = task
    return parse_chunk(pieces, position, spec)


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
        handle = functools.partial(parse_task, spec=self._spec)
        for n in range(self._workers):
            process, tasks, results = start_helper(f"gamekeeper-parse-{n}", handle)
            self._processes.append(process)
            self._tasks.append(tasks)
            self._results.append(results)
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
            if data == END:
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
            if isinstance(result, Failed):
                raise RuntimeError(f"parsing failed:\n{result.message}")
            self._slots.release()
            yield result

    def close(self) -> None:
        """Stop the processes and the threads (at once; idempotent)."""
        self._closing.set()
        for process in self._processes:
            stop_helper(process)
        # The processes are gone, so their pipes are broken: the threads end.
        for thread in self._threads:
            thread.join(JOIN_S)
        for conn in (*self._tasks, *self._results):
            conn.close()


def in_process(chunks: Iterator[tuple[list[Piece], int]], spec: ParseSpec) -> Iterator[Parsed]:
    """The single-process path: the same parsing, in the calling thread."""
    for pieces, position in chunks:
        yield parse_chunk(pieces, position, spec)
