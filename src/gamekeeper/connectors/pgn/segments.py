"""Step 1 of reading PGN: split a byte stream into the pieces between game starts.

One bytes regex over megabyte chunks finds where games start. A game starts at a tag
pair line (`[Name "value"]`) that follows a line that is not one; blank lines are not
needed. Such a line starts a game even inside an unclosed comment: that is what lets
the game after a game cut off in the middle of a comment survive. A long run of games
without tags is cut where a line ends with a termination marker and the next starts
with `1.`, so memory stays bounded; a piece longer than `max_game_bytes` is skipped
without being held.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO, Final

CHUNK_BYTES: Final = 1024 * 1024
#: A piece: its offset, its end offset, and its bytes (None: longer than allowed).
Piece = tuple[int, int, bytes | None]
#: A piece this long without a tag line is cut at its last untagged game start.
_UNTAGGED_RUN_BYTES: Final = 4 * 1024 * 1024
#: Longest line kept while skipping an oversized game (a tag line is far shorter).
_LONGEST_LINE: Final = 64 * 1024

# A game starts at a tag pair line after a line that is neither blank nor a tag pair
# (with blank lines between).
_TAG_START: Final = rb'(?:\xef\xbb\xbf)?\[[A-Za-z0-9][A-Za-z0-9_+#=:-]*[ \t]+"'
_GAME_START_RE: Final = re.compile(
    rb"\n(?![ \t\r]*\n)(?!%(tag)s)[^\n]*\n(?:[ \t\r]*\n)*(?=%(tag)s)" % {b"tag": _TAG_START}
)
# In a long run of games without tags: a `1.` line after a line ending with a result.
# Searched only then, as it is slower than the tag rule.
_UNTAGGED_START_RE: Final = re.compile(
    rb"\n[^\n]*(?:1-0|0-1|1/2-1/2|\*)[ \t\r]*\n(?:[ \t\r]*\n)*(?=1\.)"
)
# When skipping an oversized game, the next tag pair line, whatever precedes it.
_ANY_TAG_LINE_RE: Final = re.compile(rb"\n(?=%s)" % _TAG_START)
_NON_BLANK_RE: Final = re.compile(rb"[^ \t\r\n]")


def skip_to(stream: BinaryIO, offset: int, chunk_bytes: int) -> None:
    """Move `stream` to `offset`: a seek, or reading up to it."""
    if offset <= 0:
        return
    if stream.seekable():
        stream.seek(offset)
        return
    remaining = offset
    while remaining > 0:
        skipped = len(stream.read(min(remaining, chunk_bytes)))
        if not skipped:
            return
        remaining -= skipped


class _Splitter:
    """The state between chunks. `buf` starts with the newline before the current
    piece's first line (a made-up one at the start), so the regex sees every line
    start. buf[i] is at stream offset origin + i; `start` is where the current piece
    begins in `buf`; `seen` is where the bytes not yet looked at begin (a line start):
    only those are scanned again, so a run of blank lines megabytes long stays linear.
    """

    def __init__(self, start_offset: int, max_game_bytes: int) -> None:
        self.buf = b"\n"
        self.origin = start_offset - 1
        self.start = 1
        self.search_from = 0
        self.seen = 0
        self.skipping = False
        self.max_game_bytes = max_game_bytes

    def piece(self, end: int) -> Piece:
        data = None if self.skipping else self.buf[self.start : end]
        return self.origin + self.start, self.origin + end, data

    def starts(self, limit: int, fresh: bool) -> Iterator[Piece]:
        """The pieces that end at the game starts found before `limit`."""
        while fresh:
            pattern = _ANY_TAG_LINE_RE if self.skipping else _GAME_START_RE
            match = pattern.search(self.buf, self.search_from, limit)
            if match is None:
                return
            yield self.piece(match.end())
            self.skipping = False
            self.start = match.end()
            self.search_from = self.start - 1

    def untagged_cut(self, limit: int) -> Iterator[Piece]:
        """A long run of games without tags is cut at its last untagged game start."""
        buf, start = self.buf, self.start
        if self.skipping or len(buf) - start <= _UNTAGGED_RUN_BYTES:
            return
        cut = _last_untagged_start(buf, start, limit)
        if cut is not None:
            yield self.piece(cut)
            self.start = cut
            self.search_from = max(self.search_from, cut - 1)

    def trim(self, limit: int) -> None:
        """Drop what is no longer needed before the next chunk."""
        if not self.skipping and len(self.buf) - self.start > self.max_game_bytes:
            self.skipping = True
        if self.skipping:
            # Keep only the unfinished last line, enough to spot the next tag line; a
            # line too long to be one is dropped, with a placeholder for "mid-line".
            keep = limit - 1
            self.search_from = 0
            if len(self.buf) - keep > _LONGEST_LINE:
                self.origin += len(self.buf) - 1
                self.start -= len(self.buf) - 1
                self.buf, self.seen = b"\0", 0
                return
        else:
            keep = self.start - 1
            # A game start may begin at the last non-blank line and need the next one.
            floor = max(keep, self.search_from)
            line = _last_line_start(self.buf, floor, max(self.seen, floor), limit)
            self.search_from = line - keep
        self.buf = self.buf[keep:]
        self.origin += keep
        self.start -= keep
        self.seen = max(limit - keep, 0)


def segments(
    stream: BinaryIO, start_offset: int, max_game_bytes: int, chunk_bytes: int
) -> Iterator[Piece]:
    """Yield (offset, end offset, bytes) for each piece between game starts.

    The bytes are None for a piece longer than `max_game_bytes`, which is skipped
    without being held in memory.
    """
    skip_to(stream, start_offset, chunk_bytes)
    state = _Splitter(start_offset, max_game_bytes)
    while True:
        chunk = stream.read(chunk_bytes)
        state.buf += chunk
        buf = state.buf
        # Only whole lines are searched, so a game start is never judged on half a line.
        # (buf[0] stands for a line end, even when it is the mid-line placeholder.)
        limit = len(buf) if not chunk else max(buf.rfind(b"\n"), 0) + 1
        # A new game start needs a tag line among the new bytes: none, no search.
        fresh = (
            state.skipping or not chunk or _NON_BLANK_RE.search(buf, state.seen, limit) is not None
        )
        yield from state.starts(limit, fresh)
        if not chunk:
            if len(state.buf) > state.start or state.skipping:
                yield state.piece(len(state.buf))
            return
        if fresh:
            yield from state.untagged_cut(limit)
        state.trim(limit)


def piece_chunks(
    stream: BinaryIO, start_offset: int, max_game_bytes: int, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[list[Piece]]:
    """The pieces of `segments`, in lists of about `chunk_bytes` of text (at least one
    piece each): what one parse process is handed at a time."""
    chunk: list[Piece] = []
    size = 0
    for piece in segments(stream, start_offset, max_game_bytes, CHUNK_BYTES):
        chunk.append(piece)
        size += piece[1] - piece[0] if piece[2] is not None else 0
        if size >= chunk_bytes:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _last_untagged_start(buf: bytes, start: int, limit: int) -> int | None:
    """Where the last game without tags after `start` begins, if one does."""
    cut = None
    for match in _UNTAGGED_START_RE.finditer(buf, start - 1, limit):
        cut = match.end()
    return cut


def _last_line_start(buf: bytes, floor: int, fresh: int, limit: int) -> int:
    """The newline before the last non-blank line that ends before `limit`; `fresh`
    (a line start) is where the bytes not looked at before begin: if they are all
    blank, the answer is still `floor`, the previous answer."""
    last = len(buf[fresh:limit].rstrip(b" \t\r\n"))
    if not last:
        return floor
    return max(buf.rfind(b"\n", floor, fresh + last), floor)
