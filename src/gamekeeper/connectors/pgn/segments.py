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


# `buf` starts with the newline before the current piece's first line (a made-up one at
# the start), so the regex sees every line start. buf[i] is at stream offset origin + i;
# `start` is where the current piece begins in `buf`.
def segments(
    stream: BinaryIO, start_offset: int, max_game_bytes: int, chunk_bytes: int
) -> Iterator[Piece]:
    """Yield (offset, end offset, bytes) for each piece between game starts.

    The bytes are None for a piece longer than `max_game_bytes`, which is skipped
    without being held in memory.
    """
    skip_to(stream, start_offset, chunk_bytes)
    buf = b"\n"
    origin = start_offset - 1
    start = 1
    search_from = 0
    skipping = False
    while True:
        chunk = stream.read(chunk_bytes)
        buf += chunk
        # Only whole lines are searched, so a game start is never judged on half a line.
        # (buf[0] stands for a line end, even when it is the mid-line placeholder.)
        limit = len(buf) if not chunk else max(buf.rfind(b"\n"), 0) + 1
        while True:
            pattern = _ANY_TAG_LINE_RE if skipping else _GAME_START_RE
            match = pattern.search(buf, search_from, limit)
            if match is None:
                break
            boundary = match.end()
            yield origin + start, origin + boundary, None if skipping else buf[start:boundary]
            skipping = False
            start = boundary
            search_from = boundary - 1
        if not chunk:
            if len(buf) > start or skipping:
                yield origin + start, origin + len(buf), None if skipping else buf[start:]
            return
        if not skipping and len(buf) - start > _UNTAGGED_RUN_BYTES:
            cut = _last_untagged_start(buf, start, limit)
            if cut is not None:
                yield origin + start, origin + cut, buf[start:cut]
                start = cut
                search_from = max(search_from, cut - 1)
        if not skipping and len(buf) - start > max_game_bytes:
            skipping = True
        if skipping:
            # Keep only the unfinished last line, enough to spot the next tag line; a
            # line too long to be one is dropped, with a placeholder for "mid-line".
            keep = limit - 1
            search_from = 0
            if len(buf) - keep > _LONGEST_LINE:
                origin += len(buf) - 1
                start -= len(buf) - 1
                buf = b"\0"
                continue
        else:
            keep = start - 1
            # A game start may begin at the last non-blank line and need the next one.
            search_from = _last_line_start(buf, max(keep, search_from), limit) - keep
        buf = buf[keep:]
        origin += keep
        start -= keep


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


def _last_line_start(buf: bytes, floor: int, limit: int) -> int:
    """The newline before the last non-blank line that ends before `limit`."""
    end = limit - 1
    while end > floor:
        newline = buf.rfind(b"\n", floor, end)
        if newline < 0:
            return floor
        if _NON_BLANK_RE.search(buf, newline + 1, end):
            return newline
        end = newline
    return floor
