"""Importing a PGN file as a job: stream it, store its games batch by batch, and resume
from the byte offset after the last committed game.

- **Cursor**: `{"offset", "path", "size", "mtime_ns"}`. `offset` is in the decompressed
  stream, just after the last committed game; size and modification time are the
  file's when the import started, and a resumed run refuses a file that changed.
- **Batches**: `batch_games` games or `BATCH_BYTES` of PGN text, whichever comes first,
  commit with their cursor in one transaction. Each batch is parsed in a thread, so
  the event loop (heartbeats, watchers, the API) stays free. (Parsing the next batch
  while one is written gained nothing: both hold the GIL; it only cost memory.)
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
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from gamekeeper.connectors.pgn import OpenedPgn, PgnError, open_pgn, read_pgn_games
from gamekeeper.domain.games import Game, Platform
from gamekeeper.errors import InvalidInput, SourceUnavailable
from gamekeeper.jobs.context import JobContext
from gamekeeper.jobs.registry import JobRegistry
from gamekeeper.storage.base import AccountStore, GameTx
from gamekeeper.sync.batches import upsert_counters
from gamekeeper.sync.import_params import (
    BATCH_BYTES,
    BATCH_GAMES,
    check_path,
    validate_import,
)
from gamekeeper.sync.openings import name_untagged

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
#: Games between two looks for a cancel while a batch is read (a few milliseconds).
STOP_CHECK_EVERY: Final = 32


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


def register_import_kinds(registry: JobRegistry, accounts: AccountStore) -> None:
    async def import_pgn(ctx: JobContext, *, path: str, batch_games: int = BATCH_GAMES) -> None:
        """A PGN file (plain, .gz, .bz2, .zst) into the games table, resumable by offset."""
        tracked = frozenset(
            account.player_id
            for account in await accounts.list_accounts()
            if account.platform is Platform.LICHESS
        )
        await import_pgn_file(ctx, path=path, batch_games=batch_games, tracked=tracked)

    registry.add(import_pgn, family=FAMILY, validate=validate_import)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Batch:
    """Games read since the last batch, and where the stream stands after them."""

    games: list[Game]
    errors: list[PgnError]
    #: The cursor after this batch: where its last item ends in the decompressed stream.
    end_offset: int
    #: Bytes of the file as stored consumed so far.
    position: int
    #: Whether the stream has ended.
    last: bool


class _BatchReader:
    """Cuts a PGN stream's items into batches (called from a worker thread)."""

    def __init__(
        self, opened: OpenedPgn, *, start_offset: int, batch_games: int, batch_bytes: int
    ) -> None:
        self._items: Iterator[tuple[Game | PgnError, int]] = read_pgn_games(
            opened.stream, start_offset=start_offset
        )
        self._position = opened.position
        self._offset = start_offset
        self._batch_games = batch_games
        self._batch_bytes = batch_bytes

    def next_batch(self, stop: Callable[[], bool] = lambda: False) -> _Batch:
        """The next batch; cut short when `stop()` says so (a cancel: the job commits
        what it read and ends, instead of reading a whole batch first)."""
        games: list[Game] = []
        errors: list[PgnError] = []
        start, end = self._offset, self._offset
        last = True
        for count, (item, end) in enumerate(self._items, 1):
            if isinstance(item, PgnError):
                errors.append(item)
            else:
                games.append(item)
            full = len(games) >= self._batch_games or end - start >= self._batch_bytes
            if full or (count % STOP_CHECK_EVERY == 0 and stop()):
                last = False
                break
        self._offset = end
        return _Batch(
            # A file without opening tags: named by the book, as Lichess names games.
            games=name_untagged(games),
            errors=errors,
            end_offset=end,
            position=self._position(),
            last=last,
        )


async def import_pgn_file(
    ctx: JobContext,
    *,
    path: str,
    batch_games: int = BATCH_GAMES,
    batch_bytes: int = BATCH_BYTES,
    tracked: frozenset[str] = frozenset(),
) -> None:
    """Store the games of the PGN file at `path`, from the job's cursor on.

    Args:
        tracked: Lichess user ids (lower-cased usernames) of the accounts gamekeeper
            syncs: their stored games are not overwritten (see the module docstring).
    """
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
    reader = _BatchReader(
        opened, start_offset=cursor.offset, batch_games=batch_games, batch_bytes=batch_bytes
    )
    meter = _Meter(path=path, size=stat.st_size, start_offset=cursor.offset)
    try:
        while True:
            batch = await _in_thread(lambda: reader.next_batch(lambda: ctx.cancel_requested))
            for error in batch.errors:
                ctx.item_error(error.item, error.message)
            cursor = ImportCursor(
                offset=batch.end_offset, path=path, size=cursor.size, mtime_ns=cursor.mtime_ns
            )
            await ctx.checkpoint(cursor.to_json(), _writer(batch, ctx.job_id, tracked))
            meter.add(batch)
            await ctx.report_progress(batch.position, stat.st_size)
            ctx.set_result(meter.result())
            ctx.raise_if_cancelled()
            if batch.last:
                break
    finally:
        opened.stream.close()
    damage = opened.damage()
    if damage is not None:
        raise SourceUnavailable(
            f"{path}: {damage} (a truncated download?); the games before it are stored"
        )
    await ctx.skip_phase("analyzing", "no analysis plugins enabled")


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


async def _in_thread(read: Callable[[], _Batch]) -> _Batch:
    """Run `read` in a thread, so the event loop (heartbeats, watchers, the API) stays
    free while a batch is parsed. A cancel waits for the thread: it holds the stream,
    which is closed next."""
    reading = asyncio.get_running_loop().run_in_executor(None, read)
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
    batch: _Batch, job_id: str, tracked: frozenset[str]
) -> Callable[[GameTx], dict[str, int]]:
    """What a batch's checkpoint writes: its games, and the counters that say how."""
    games = batch.games

    def write(tx: GameTx) -> dict[str, int]:
        fresh = _without_synced(tx, games, tracked)
        result = tx.upsert_games(fresh, job_id=job_id) if fresh else None
        # Skipped: stored Lichess games, unchanged games, and repeats within the batch.
        return upsert_counters(games, result, unreadable=len(batch.errors))

    return write


def _without_synced(tx: GameTx, games: Sequence[Game], tracked: frozenset[str]) -> Sequence[Game]:
    """`games` without the stored games of tracked Lichess accounts (see the module
    docstring)."""
    if not tracked:
        return games
    ids = [
        g.platform_game_id
        for g in games
        if g.platform is Platform.LICHESS and (g.white.id in tracked or g.black.id in tracked)
    ]
    stored = tx.existing_game_ids(Platform.LICHESS, ids) if ids else set()
    if not stored:
        return games
    return [
        g for g in games if g.platform is not Platform.LICHESS or g.platform_game_id not in stored
    ]


class _Meter:
    """Games/s and MB/s of this run, for the job's result."""

    def __init__(self, *, path: str, size: int, start_offset: int) -> None:
        self._path = path
        self._size = size
        self._start_offset = start_offset
        self._started = time.monotonic()
        self._games = 0
        self._position = 0

    def add(self, batch: _Batch) -> None:
        self._games += len(batch.games)
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
