"""Importing a PGN file as a job: stream it, store its games batch by batch, and resume
from the byte offset after the last committed game.

- **Cursor**: `{"offset", "path", "size", "mtime_ns"}`. `offset` is in the decompressed
  stream, just after the last committed game; size and modification time are the
  file's when the import started, and a resumed run refuses a file that changed.
- **Batches**: `batch_games` games or `BATCH_BYTES` of PGN text, whichever comes first,
  commit with their cursor in one transaction, in file order.
- **Parse processes** (`parse_workers`, `import_procs`): the job's process splits the
  file into chunks of games; that many spawned processes parse them into ready rows
  while the job stores the rows before, so parsing and storing use two cores (the GIL
  made them take turns in one process). With 0, the single-process path: each batch is
  parsed in a thread, so the event loop (heartbeats, watchers, the API) stays free.
- **Progress** is in bytes of the file as stored (compressed bytes for a compressed
  file); `result` carries games/s and MB/s of this run.
- **Counters**: `found` counts every piece read, games and unreadable pieces;
  `failed` the unreadable ones (each an item error `offset N`); every game is one of
  `inserted`, `updated` or `skipped_existing`.
- **Games of your Lichess accounts** (keyed by their Lichess id, like the API sync's)
  that are already stored are left as they are: the API's record is the richer one
  (milliseconds, last move time, centisecond clocks, exact termination), and a sync
  fetches only from its cursor, so nothing would ever restore it. Only those games
  are looked up first, so a dump of millions of other players' games costs no extra
  query. Other games upsert as usual (a changed record updates the row). A sync after
  an import refreshes the imported games of its account with the API's records.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from gamekeeper.connectors.pgn import OpenedPgn, open_pgn, piece_chunks
from gamekeeper.domain.games import Platform
from gamekeeper.errors import InvalidInput, SourceUnavailable
from gamekeeper.jobs.context import JobContext
from gamekeeper.jobs.registry import JobRegistry
from gamekeeper.storage.base import AccountStore, GameRow, GameRowEncoder, GameTx
from gamekeeper.sync.batches import upsert_counters
from gamekeeper.sync.import_params import (
    BATCH_BYTES,
    BATCH_GAMES,
    check_path,
    validate_import,
)
from gamekeeper.sync.import_parse import ParseSpec, RowBatch, RowBatcher
from gamekeeper.sync.import_procs import CHUNK_BYTES, ParsePool, in_process

__all__ = [
    "BATCH_BYTES",
    "BATCH_GAMES",
    "FAMILY",
    "ImportCursor",
    "check_path",
    "import_pgn_file",
    "register_import_kinds",
]

#: Imports are their own family; they have no account, so the engine's one-active-job
#: rule does not apply to them (the CLI refuses a second import of the same file).
FAMILY: Final = "import"


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportCursor:
    """Where a resumed import starts, and the file it was reading."""

    offset: int
    path: str
    size: int
    mtime_ns: int

    @classmethod
    def from_json(cls, value: Any) -> ImportCursor | None:
        if not isinstance(value, dict):
            return None
        return cls(
            offset=int(value["offset"]),
            path=str(value["path"]),
            size=int(value["size"]),
            mtime_ns=int(value["mtime_ns"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "offset": self.offset,
            "path": self.path,
            "size": self.size,
            "mtime_ns": self.mtime_ns,
        }


def register_import_kinds(
    registry: JobRegistry,
    accounts: AccountStore,
    *,
    encoder: GameRowEncoder,
    parse_workers: int = 0,
) -> None:
    """Register `import_pgn`.

    Args:
        encoder: The store's `Game` → row function (run in the parse processes).
        parse_workers: Parse processes per import; 0 parses in the job's process.
    """

    async def import_pgn(ctx: JobContext, *, path: str, batch_games: int = BATCH_GAMES) -> None:
        """A PGN file (plain, .gz, .bz2, .zst) into the games table, resumable by offset."""
        tracked = frozenset(
            account.player_id
            for account in await accounts.list_accounts()
            if account.platform is Platform.LICHESS
        )
        spec = ParseSpec(encode=encoder, tracked=tracked)
        await import_pgn_file(
            ctx, path=path, spec=spec, batch_games=batch_games, parse_workers=parse_workers
        )

    registry.add(import_pgn, family=FAMILY, validate=validate_import)


async def import_pgn_file(
    ctx: JobContext,
    *,
    path: str,
    spec: ParseSpec,
    batch_games: int = BATCH_GAMES,
    batch_bytes: int = BATCH_BYTES,
    parse_workers: int = 0,
) -> None:
    """Store the games of the PGN file at `path`, from the job's cursor on."""
    stat = _stat(path)
    cursor = ImportCursor.from_json(ctx.resume_from)
    if cursor is None:
        cursor = ImportCursor(offset=0, path=path, size=stat.st_size, mtime_ns=stat.st_mtime_ns)
    elif (cursor.path, cursor.size, cursor.mtime_ns) != (path, stat.st_size, stat.st_mtime_ns):
        raise InvalidInput(
            f"{path} changed since this import started (it was {cursor.size:,} bytes, "
            f"now {stat.st_size:,}, or was modified): start a new import"
        )
    ctx.set_phases("importing", "analyzing")
    await ctx.start_phase(
        "importing",
        total=stat.st_size,
        note="bytes of the file as stored (compressed, if it is)",
        unit="bytes",
    )
    opened = _open(path)
    chunks = (
        (pieces, opened.position())
        for pieces in piece_chunks(opened.stream, cursor.offset, spec.max_game_bytes, CHUNK_BYTES)
    )
    pool = ParsePool(parse_workers, spec) if parse_workers > 0 else None
    try:
        parsed = pool.start(chunks) if pool is not None else in_process(chunks, spec)
        reader = RowBatcher(
            parsed, start_offset=cursor.offset, batch_games=batch_games, batch_bytes=batch_bytes
        )
        await _store_batches(ctx, reader, cursor, stat.st_size, spec.tracked)
    finally:
        if pool is not None:
            await asyncio.to_thread(pool.close)
        opened.stream.close()
    damage = opened.damage()
    if damage is not None:
        raise SourceUnavailable(
            f"{path}: {damage} (a truncated download?); the games before it are stored"
        )
    await ctx.skip_phase("analyzing", "no analysis plugins enabled")


async def _store_batches(
    ctx: JobContext,
    reader: RowBatcher,
    cursor: ImportCursor,
    size: int,
    tracked: frozenset[str],
) -> None:
    """Commit each batch with the cursor after it, until the stream ends or a cancel.

    A batch commits while the next one is read (the database's work, outside the GIL,
    overlaps the job's own); the next commit waits for it, so checkpoints land in file
    order and at most two batches are held. Progress and the result count a batch once
    it is committed.
    """
    meter = _Meter(path=cursor.path, size=size, start_offset=cursor.offset)

    async def commit(batch: RowBatch, cursor: ImportCursor) -> None:
        await ctx.checkpoint(cursor.to_json(), _writer(batch, ctx.job_id, tracked))
        meter.add(batch)
        await ctx.report_progress(batch.position, size)
        ctx.set_result(meter.result())

    committing: asyncio.Future[None] | None = None
    # One thread reads every batch: the rows it unpickles are malloc'd in its arena, and
    # the default executor's changing threads would spread them over several (the job's
    # peak RSS grows by the fragments).
    reading = ThreadPoolExecutor(1, thread_name_prefix="gamekeeper-import-read")
    try:
        while True:
            batch = await _in_thread(
                reading, lambda: reader.next_batch(lambda: ctx.cancel_requested)
            )
            for error in batch.errors:
                ctx.item_error(error.item, error.message)
            cursor = dataclasses.replace(cursor, offset=batch.end_offset)
            if committing is not None:
                await committing
            committing = asyncio.ensure_future(commit(batch, cursor))
            if batch.last or ctx.cancel_requested:
                break
        done, committing = committing, None
        await done
        ctx.raise_if_cancelled()
    finally:
        reading.shutdown(wait=False)
        if committing is not None:
            # Reading failed or the job was interrupted: the commit under way still
            # lands (or fails) whole before the job ends; the first error wins.
            with contextlib.suppress(Exception):
                await asyncio.shield(committing)


def _stat(path: str) -> os.stat_result:
    try:
        return Path(path).stat()
    except OSError as exc:
        raise SourceUnavailable(f"cannot read {path}: {exc.strerror}") from None


def _open(path: str) -> OpenedPgn:
    try:
        return open_pgn(path)
    except OSError as exc:
        raise SourceUnavailable(f"cannot read {path}: {exc.strerror}") from None


async def _in_thread(executor: Executor, read: Callable[[], RowBatch]) -> RowBatch:
    """Run `read` in a thread, so the event loop (heartbeats, watchers, the API) stays
    free while a batch is parsed. A cancel waits for the thread: it holds the stream,
    which is closed next."""
    reading = asyncio.get_running_loop().run_in_executor(executor, read)
    try:
        return await asyncio.shield(reading)
    except asyncio.CancelledError:
        while not reading.done():
            # Even through another cancel: the first one is raised once it is done.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([reading])
        if not reading.cancelled():
            reading.exception()  # retrieved: the cancel, not this, is what ends the job
        raise


def _writer(
    batch: RowBatch, job_id: str, tracked: frozenset[str]
) -> Callable[[GameTx], dict[str, int]]:
    """What a batch's checkpoint writes: its games, and the counters that say how."""
    rows = batch.rows

    def write(tx: GameTx) -> dict[str, int]:
        fresh = _without_synced(tx, batch) if tracked else rows
        result = tx.upsert_rows(fresh, job_id=job_id) if fresh else None
        # Skipped: stored Lichess games, unchanged games, and repeats within the batch.
        return upsert_counters(rows, result, unreadable=len(batch.errors))

    return write


def _without_synced(tx: GameTx, batch: RowBatch) -> Sequence[GameRow]:
    """The batch's rows without the stored games of tracked Lichess accounts (see the
    module docstring)."""
    ids = list(batch.tracked.values())
    stored = tx.existing_game_ids(Platform.LICHESS, ids) if ids else set()
    if not stored:
        return batch.rows
    dropped = {index for index, game_id in batch.tracked.items() if game_id in stored}
    return [row for index, row in enumerate(batch.rows) if index not in dropped]


class _Meter:
    """Games/s and MB/s of this run, for the job's result."""

    def __init__(self, *, path: str, size: int, start_offset: int) -> None:
        self._path = path
        self._size = size
        self._start_offset = start_offset
        self._started = time.monotonic()
        self._games = 0
        self._position = 0

    def add(self, batch: RowBatch) -> None:
        self._games += len(batch.rows)
        self._position = batch.position

    def result(self) -> dict[str, Any]:
        seconds = max(time.monotonic() - self._started, 1e-9)
        return {
            "path": self._path,
            "bytes": self._size,
            "resumed_at_offset": self._start_offset,
            "games": self._games,
            "seconds": round(seconds, 3),
            "games_per_s": round(self._games / seconds, 1),
            "mb_per_s": round(self._position / 1e6 / seconds, 2),
        }
