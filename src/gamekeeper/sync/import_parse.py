"""The PGN import's two halves: pieces of PGN made ready rows (`parse_chunk`, run in a
parse process or in a thread), and ready rows cut into the job's batches
(`RowBatcher`, in the job's process), each with the byte offset that covers it.

A chunk is about a megabyte of pieces (`pgn.piece_chunks`); its result, `Parsed`, is
what crosses the process boundary, so it is kept compact: rows as the store's plain
tuples, errors as they are, end offsets as one array.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Final

from gamekeeper.connectors.pgn import PgnError, Piece, read_pieces, record_to_game
from gamekeeper.domain.games import Platform
from gamekeeper.storage.base import GameRow, GameRowEncoder

#: Games between two looks for a cancel while a batch is cut (a few milliseconds).
STOP_CHECK_EVERY: Final = 32


@dataclass(frozen=True, slots=True)
class ParseSpec:
    """What parsing needs besides the text (sent once to each parse process)."""

    #: The store's `Game` → row function.
    encode: GameRowEncoder
    #: Lichess user ids of the synced accounts (see `import_pgn`'s docstring).
    tracked: frozenset[str] = frozenset()
    max_game_bytes: int = 16 * 1024 * 1024


@dataclass(slots=True)
class Parsed:
    """One chunk's items, in file order: game rows and unreadable pieces."""

    items: list[GameRow | PgnError]
    #: Each item's end offset in the decompressed stream.
    ends: array[int]
    #: Bytes of the file as stored consumed when the chunk was cut (progress).
    position: int
    #: Item index → Lichess id, for the games of tracked accounts.
    tracked: dict[int, str] = field(default_factory=dict)


def parse_chunk(pieces: list[Piece], position: int, spec: ParseSpec) -> Parsed:
    """The rows and errors of one chunk of pieces."""
    items: list[GameRow | PgnError] = []
    ends = array("q")
    tracked: dict[int, str] = {}
    encode, accounts = spec.encode, spec.tracked
    for item in read_pieces(pieces, max_game_bytes=spec.max_game_bytes):
        ends.append(item.end_offset)
        if isinstance(item, PgnError):
            items.append(item)
            continue
        game = record_to_game(item)
        if game.opening is None or not game.opening.name:
            # A file without opening tags: named by the book, as Lichess names games
            # (imported here: a dump names its openings, and the book loads python-chess).
            from gamekeeper.sync.openings import named_by_the_book

            game = named_by_the_book(game)
        if (
            accounts
            and game.platform is Platform.LICHESS
            and (game.white.id in accounts or game.black.id in accounts)
        ):
            tracked[len(items)] = game.platform_game_id
        items.append(encode(game))
    return Parsed(items=items, ends=ends, position=position, tracked=tracked)


@dataclass(frozen=True, slots=True, kw_only=True)
class RowBatch:
    """Items read since the last batch, and where the stream stands after them."""

    rows: list[GameRow]
    errors: list[PgnError]
    #: Row index → Lichess id, for the games of tracked accounts.
    tracked: dict[int, str]
    #: The cursor after this batch: where its last item ends in the decompressed stream.
    end_offset: int
    #: Bytes of the file as stored consumed so far.
    position: int
    #: Whether the stream has ended.
    last: bool


class RowBatcher:
    """Cuts parsed chunks, taken in order, into the job's batches (`batch_games` games
    or `batch_bytes` of PGN, whichever comes first); called from a thread."""

    def __init__(
        self, chunks: Iterator[Parsed], *, start_offset: int, batch_games: int, batch_bytes: int
    ) -> None:
        self._chunks = chunks
        self._chunk: Parsed | None = None
        self._index = 0
        self._position = 0
        self._offset = start_offset
        self._batch_games = batch_games
        self._batch_bytes = batch_bytes

    def next_batch(self, stop: Callable[[], bool] = lambda: False) -> RowBatch:
        """The next batch; cut short when `stop()` says so (a cancel: the job commits
        what it read and ends, instead of reading a whole batch first)."""
        rows: list[GameRow] = []
        errors: list[PgnError] = []
        tracked: dict[int, str] = {}
        start = end = self._offset
        count = 0
        last = True
        while True:
            chunk = self._chunk
            if chunk is None or self._index >= len(chunk.items):
                chunk = self._chunk = next(self._chunks, None)
                self._index = 0
                if chunk is None:
                    break
                self._position = chunk.position
                continue
            index = self._index
            self._index = index + 1
            item, end = chunk.items[index], chunk.ends[index]
            if isinstance(item, PgnError):
                errors.append(item)
            else:
                if index in chunk.tracked:
                    tracked[len(rows)] = chunk.tracked[index]
                rows.append(item)
            count += 1
            full = len(rows) >= self._batch_games or end - start >= self._batch_bytes
            if full or (count % STOP_CHECK_EVERY == 0 and stop()):
                last = False
                break
        self._offset = end
        return RowBatch(
            rows=rows,
            errors=errors,
            tracked=tracked,
            end_offset=end,
            position=self._position,
            last=last,
        )
