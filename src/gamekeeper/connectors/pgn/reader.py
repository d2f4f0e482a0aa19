"""Stream PGN files of any size into game records with byte offsets, without a board.

The reader works in three steps, each on big pieces of text so that Python does little
per character:

1. **Split** (`pgn.segments`): the pieces between game starts, from megabyte chunks.
2. **Tags** (`pgn.tags`): the tag section, by string methods when it has the usual
   shape, else line by line.
3. **Movetext** (`pgn.movetext`): mainline SAN moves, clocks, evals and result.

What the reader cannot make sense of becomes a `PgnError` (a `RecordError`) with its
byte range, and reading goes on: a game without a termination marker (truncated), a
malformed tag line, text between games that is no game (binary garbage), a game larger
than `max_game_bytes`. Legality is not checked here: that is the analysis stage's job.

Offsets are in the decompressed byte stream. An item's `end_offset` is where the next
one starts (or the whitespace, byte order mark or comment lines before it), so
`iter_pgn(stream, start_offset=end)` resumes just after that item.

Each game is decoded as UTF-8, or as Latin-1 when it is not valid UTF-8 (lossless, and
right for most legacy PGN files).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import BinaryIO, Final

from gamekeeper.connectors.base import RecordError
from gamekeeper.connectors.pgn.fast import read_exported
from gamekeeper.connectors.pgn.movetext import (
    Movetext,
    movetext_end,
    parse_movetext,
    read_general_movetext,
)
from gamekeeper.connectors.pgn.segments import CHUNK_BYTES, segments
from gamekeeper.connectors.pgn.tags import fast_header, slow_header

__all__ = ["DEFAULT_MAX_GAME_BYTES", "PgnError", "PgnRecord", "iter_pgn", "read_pieces"]

#: A game bigger than this is reported and skipped: no real game comes close, and the
#: bound keeps memory flat whatever the file holds.
DEFAULT_MAX_GAME_BYTES: Final = 16 * 1024 * 1024
#: How much of an unreadable piece of text an error keeps.
_ERROR_RAW_CHARS: Final = 4096
_BOM: Final = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True, kw_only=True)
class PgnRecord:
    """One game as read from a PGN stream, before it becomes a `Game`."""

    #: Byte offset of the game's first byte in the (decompressed) stream.
    offset: int
    #: Byte offset just past the game: where the next item starts, and the resume point.
    end_offset: int
    #: Tag pairs in file order, values unescaped; empty for a game without tags.
    tags: Mapping[str, str]
    #: The movetext as written.
    movetext: str
    #: The parsed mainline of `movetext`.
    mainline: Movetext
    #: The whole game text (tags and movetext) as written, without trailing blank lines.
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PgnError(RecordError):
    """A piece of a PGN stream that is no readable game; `item` is `"offset N"`."""

    offset: int
    end_offset: int


_NON_SPACE_RE: Final = re.compile(r"\S")
# Where a game without tags may start: a move number or a comment after whitespace.
_UNTAGGED_GAME_RE: Final = re.compile(r"(?<!\S)(?:\d+\.|\{)")
_COMMENT_RE: Final = re.compile(r"\{[^}]*\}|;[^\n]*|(?m:^%[^\n]*)")
# Control characters (but tab, newline, carriage return, form feed): text that holds
# them is binary data, not a game. (Not C1 ones: Windows-1252 text read as Latin-1 has
# its curly quotes there.)
_BINARY_RE: Final = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
#: Whitespace, and the DOS end-of-file mark old PGN files end with.
_BLANK: Final = " \t\r\n\x0c\x1a"


def iter_pgn(
    stream: BinaryIO,
    *,
    start_offset: int = 0,
    max_game_bytes: int = DEFAULT_MAX_GAME_BYTES,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[PgnRecord | PgnError]:
    """Yield each game of a binary PGN stream, and an error for each unreadable piece.

    Args:
        start_offset: Where to start in the decompressed stream: 0, or the `end_offset`
            of an item read before. A stream that cannot seek is read up to it.
    """
    pieces = segments(stream, start_offset, max_game_bytes, chunk_bytes)
    return read_pieces(pieces, max_game_bytes=max_game_bytes)


def read_pieces(
    pieces: Iterable[tuple[int, int, bytes | None]],
    *,
    max_game_bytes: int = DEFAULT_MAX_GAME_BYTES,
) -> Iterator[PgnRecord | PgnError]:
    """The games and errors of pieces cut by `segments.segments` (offset, end offset,
    bytes or None for an oversized piece): `iter_pgn` without its split, so that the
    split and the rest can run in different processes."""
    for offset, end, data in pieces:
        if data is None:
            yield _error(offset, end, f"game larger than {max_game_bytes} bytes", "")
        elif (record := _read_usual(offset, end, data)) is not None:
            yield record
        else:
            yield from _read_segment(offset, end, data)


def _read_usual(offset: int, end: int, data: bytes) -> PgnRecord | None:
    """The usual piece, one exported game and nothing else, read without a generator;
    None for anything else, which `_read_segment` then reads with every check."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    header = fast_header(text)
    if header is None:
        return None
    tags, body_start, _ = header
    body_bytes = body_start if len(data) == len(text) else len(text[:body_start].encode())
    mainline = read_exported(data[body_bytes:])
    if mainline is None or mainline.result is None:
        return None
    return PgnRecord(
        offset=offset,
        end_offset=end,
        tags=tags,
        movetext=text[body_start:],
        mainline=mainline,
        text=text.rstrip(),
    )


def _error(offset: int, end_offset: int, message: str, raw: str) -> PgnError:
    return PgnError(
        item=f"offset {offset}",
        message=message,
        raw=raw[:_ERROR_RAW_CHARS],
        offset=offset,
        end_offset=end_offset,
    )


def _decode(data: bytes) -> tuple[str, str]:
    """The text of a piece and the codec that gave it."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _byte_length(text: str, encoding: str) -> int:
    return len(text) if text.isascii() or encoding == "latin-1" else len(text.encode(encoding))


def _read_segment(offset: int, end: int, data: bytes) -> Iterator[PgnRecord | PgnError]:
    """The games (and errors) in the bytes between two game starts."""
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
        offset += len(_BOM)
    text, encoding = _decode(data)
    header = fast_header(text) or slow_header(text)
    if isinstance(header, str):
        yield _error(offset, end, header, text)
        return
    tags, body_start, split_at = header
    if split_at is not None:
        # A tag seen twice: the tags before it belong to a game cut off before its
        # moves (a truncated file glued to the next one).
        cut = offset + _byte_length(text[:split_at], encoding)
        message = "game has tags but no moves (truncated?)"
        yield _error(offset, cut, message, text[:split_at])
        yield from _read_segment(cut, end, data[cut - offset :])
        return
    if not tags:
        yield from _read_untagged(offset, end, text, encoding)
        return
    movetext = text[body_start:]
    mainline, movetext_stop, junk = _read_movetext(data, text, body_start)
    if movetext_stop == len(movetext):
        if junk:
            yield _error(offset, end, "binary data in the movetext", text)
        elif mainline.result is None:
            yield _error(offset, end, "game has no termination marker (truncated?)", text)
        else:
            yield PgnRecord(
                offset=offset,
                end_offset=end,
                tags=tags,
                movetext=movetext,
                mainline=mainline,
                text=text.rstrip(),
            )
        return
    # More text after the game's result: another game without tags, or garbage.
    stop = body_start + movetext_stop
    rest = _skip_space(text, stop)
    rest_offset = offset + _byte_length(text[:rest], encoding)
    if junk:
        yield _error(offset, rest_offset, "binary data in the movetext", text[:stop])
    else:
        record = PgnRecord(
            offset=offset,
            end_offset=rest_offset,
            tags=tags,
            movetext=movetext[:movetext_stop],
            mainline=mainline,
            text=text[:stop],
        )
        yield from _with_following(record, end, text[rest:], encoding)
        return
    yield from _read_untagged(rest_offset, end, text[rest:], encoding)


def _read_movetext(data: bytes, text: str, body_start: int) -> tuple[Movetext, int, bool]:
    """The mainline of a piece's movetext, where it stops, and whether it is junk."""
    movetext = text[body_start:]
    # The movetext's bytes too, for the fast path (same length when one byte a char).
    body_bytes = body_start if len(data) == len(text) else len(text[:body_start].encode())
    exported = read_exported(data[body_bytes:])
    if exported is not None:
        # The fast path accepts nothing but well-formed words: no junk to look for.
        return exported, len(movetext), False
    mainline, movetext_stop = read_general_movetext(movetext)
    return mainline, movetext_stop, _is_junk(movetext[:movetext_stop], mainline)


def _with_following(
    record: PgnRecord, end: int, rest: str, encoding: str
) -> Iterator[PgnRecord | PgnError]:
    """A game with tags, then the games without tags in the text after it."""
    following = _read_untagged(record.end_offset, end, rest, encoding)
    first = next(following, None)
    # Nothing but comments after the game: it ends where the piece ends, so the
    # items still tile the stream up to its end.
    yield record if first is not None else replace(record, end_offset=end)
    if first is None:
        return
    yield first
    yield from following


def _is_junk(movetext: str, mainline: Movetext) -> bool:
    """Whether a movetext off the fast path is junk rather than a game's moves.

    A game cut short and followed by binary junk must not take moves (or a `*`) from it:
    control characters give junk away, and so does a movetext without moves that holds
    more than move numbers, comments and the termination marker.
    """
    if _BINARY_RE.search(movetext):
        return True
    if mainline.moves:
        return False
    rest = _COMMENT_RE.sub("", movetext).strip()
    if mainline.result and rest.endswith(mainline.result):
        rest = rest[: -len(mainline.result)]
    return bool(rest.strip("0123456789. \t\r\n\x0c"))


def _skip_space(text: str, position: int) -> int:
    match = _NON_SPACE_RE.search(text, position)
    return len(text) if match is None else match.start()


class _ByteOffsets:
    """Byte offsets of increasing text indexes, counted incrementally (not quadratically)."""

    def __init__(self, text: str, encoding: str, offset: int) -> None:
        self._text = text
        self._encoding = encoding
        self._done = 0
        self._at = offset

    def __call__(self, index: int) -> int:
        done, text = self._done, self._text
        if index >= done:
            self._at += _byte_length(text[done:index], self._encoding)
        else:
            self._at -= _byte_length(text[index:done], self._encoding)
        self._done = index
        return self._at


def _read_untagged(
    offset: int, end: int, text: str, encoding: str
) -> Iterator[PgnRecord | PgnError]:
    """Games without tags, one after the other, and errors for text that is no game.

    Such a game starts at a move number or a comment that follows whitespace, and ends
    at its termination marker; text before it that is not a comment is reported.
    """
    position = _skip_space(text, 0)
    # Unreadable pieces next to each other make one error.
    bad_start: int | None = None
    byte_offset = _ByteOffsets(text, encoding, offset)
    # The last game read, held back until we know whether more than comments follow
    # it: if not, it ends where the piece ends, so the items tile the stream.
    pending: PgnRecord | None = None
    while position < len(text):
        start = _UNTAGGED_GAME_RE.search(text, position)
        game_start = len(text) if start is None else start.start()
        if bad_start is None and _is_stray(text[position:game_start]):
            bad_start = position
        stop = movetext_end(text, game_start) if game_start < len(text) else None
        piece_end = len(text) if stop is None else stop
        piece = text[game_start:piece_end]
        mainline = parse_movetext(piece) if stop is not None else None
        if mainline is not None and mainline.moves and not _BINARY_RE.search(piece):
            if pending is not None:
                yield pending
                pending = None
            if bad_start is not None:
                yield _untagged_error(text, bad_start, game_start, byte_offset)
                bad_start = None
            following = _skip_space(text, piece_end)
            pending = PgnRecord(
                offset=byte_offset(game_start),
                end_offset=end if following == len(text) else byte_offset(following),
                tags={},
                movetext=piece,
                mainline=mainline,
                text=piece.rstrip(),
            )
            position = following
        else:
            if bad_start is None and _is_stray(piece):
                bad_start = game_start
            position = _skip_space(text, piece_end)
    if bad_start is not None:
        if pending is not None:
            yield pending
        yield _untagged_error(text, bad_start, len(text), byte_offset, end)
    elif pending is not None:
        yield replace(pending, end_offset=end)


def _is_stray(text: str) -> bool:
    """Whether text outside games is more than blanks and comments. Binary data never
    passes for a comment, even behind a `%` or `;` or inside braces."""
    text = text.strip(_BLANK)
    return bool(text) and bool(_BINARY_RE.search(text) or _COMMENT_RE.sub("", text).strip(_BLANK))


def _untagged_error(
    text: str,
    start: int,
    stop: int,
    byte_offset: Callable[[int], int],
    end: int | None = None,
) -> PgnError:
    piece = text[start:stop]
    if _BINARY_RE.search(piece):
        message = "binary data, not PGN"
    elif movetext_end(piece) is None:
        message = "no game termination marker (truncated game or stray text)"
    else:
        message = "text that is no game"
    return _error(byte_offset(start), end if end is not None else byte_offset(stop), message, piece)
