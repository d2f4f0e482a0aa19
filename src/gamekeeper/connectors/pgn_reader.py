"""Stream PGN files of any size into game records with byte offsets, without a board.

The reader works in three steps, each on big pieces of text so that Python does little
per character:

1. **Split** (`_segments`): one bytes regex over megabyte chunks finds where games
   start. A game starts at a tag pair line (`[Name "value"]`) that follows a line that
   is not one; blank lines are not needed. Such a line starts a game even inside an
   unclosed comment: that is what lets the game after a game cut off in the middle of
   a comment survive. Games without tags are told apart by their termination markers
   (`_read_untagged`); a long run of them is cut where a line ends with a marker and
   the next starts with `1.`, so memory stays bounded.
2. **Tags** (`_fast_header`, else `_slow_header`): the tag section, split with string
   methods when it has the usual shape, else line by line; values are unescaped
   (`\\"`, `\\\\`).
3. **Movetext** (`pgn_movetext`): mainline SAN moves, clocks, evals and result.

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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import BinaryIO, Final

from gamekeeper.connectors.base import RecordError
from gamekeeper.connectors.pgn_exported import read_exported
from gamekeeper.connectors.pgn_movetext import (
    Movetext,
    movetext_end,
    parse_movetext,
    read_general_movetext,
)

__all__ = ["DEFAULT_MAX_GAME_BYTES", "PgnError", "PgnRecord", "iter_pgn"]

#: A game bigger than this is reported and skipped: no real game comes close, and the
#: bound keeps memory flat whatever the file holds.
DEFAULT_MAX_GAME_BYTES: Final = 16 * 1024 * 1024
_CHUNK_BYTES: Final = 1024 * 1024
#: A piece this long without a tag line is cut at its last untagged game start.
_UNTAGGED_RUN_BYTES: Final = 4 * 1024 * 1024
#: How much of an unreadable piece of text an error keeps.
_ERROR_RAW_CHARS: Final = 4096
_BOM: Final = b"\xef\xbb\xbf"
#: Longest line kept while skipping an oversized game (a tag line is far shorter).
_LONGEST_LINE: Final = 64 * 1024


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

_TAG_LINE_RE: Final = re.compile(r'\[([A-Za-z0-9][A-Za-z0-9_+#=:-]*)\s+"(.*)"\]\s*')
_TAG_NAME_RE: Final = re.compile(r"\[([A-Za-z0-9][A-Za-z0-9_+#=:-]*)")
_ESCAPE_RE: Final = re.compile(r'\\(["\\])')
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
    chunk_bytes: int = _CHUNK_BYTES,
) -> Iterator[PgnRecord | PgnError]:
    """Yield each game of a binary PGN stream, and an error for each unreadable piece.

    Args:
        start_offset: Where to start in the decompressed stream: 0, or the `end_offset`
            of an item read before. A stream that cannot seek is read up to it.
    """
    for offset, end, data in _segments(stream, start_offset, max_game_bytes, chunk_bytes):
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
    header = _fast_header(text)
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


def _skip_to(stream: BinaryIO, offset: int, chunk_bytes: int) -> None:
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


def _segments(
    stream: BinaryIO, start_offset: int, max_game_bytes: int, chunk_bytes: int
) -> Iterator[tuple[int, int, bytes | None]]:
    """Yield (offset, end offset, bytes) for each piece between game starts.

    The bytes are None for a piece longer than `max_game_bytes`, which is skipped
    without being held in memory.
    """
    _skip_to(stream, start_offset, chunk_bytes)
    # `buf` starts with the newline before the current piece's first line (a made-up one
    # at the start), so the regex sees every line start. buf[i] is at stream offset
    # origin + i; `start` is where the current piece begins in `buf`.
    buf = b"\n"
    origin = start_offset - 1
    start = 1
    search_from = 0
    skipping = False
    while True:
        chunk = stream.read(chunk_bytes)
        eof = not chunk
        buf += chunk
        # Only whole lines are searched, so a game start is never judged on half a line.
        # (buf[0] stands for a line end, even when it is the mid-line placeholder.)
        limit = len(buf) if eof else max(buf.rfind(b"\n"), 0) + 1
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
        if eof:
            if len(buf) > start or skipping:
                yield origin + start, origin + len(buf), None if skipping else buf[start:]
            return
        if not skipping and len(buf) - start > _UNTAGGED_RUN_BYTES:
            cut = None
            for match in _UNTAGGED_START_RE.finditer(buf, start - 1, limit):
                cut = match.end()
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
            if len(buf) - keep > _LONGEST_LINE:
                origin += len(buf) - 1
                start -= len(buf) - 1
                buf = b"\0"
                search_from = 0
                continue
            search_from = 0
        else:
            keep = start - 1
            # A game start may begin at the last non-blank line and need the next one.
            search_from = _last_line_start(buf, max(keep, search_from), limit) - keep
        buf = buf[keep:]
        origin += keep
        start -= keep


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
    header = _fast_header(text) or _slow_header(text)
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
    # The movetext's bytes too, for the fast path (same length when one byte a char).
    body_bytes = body_start if len(data) == len(text) else len(text[:body_start].encode())
    exported = read_exported(data[body_bytes:])
    if exported is not None:
        mainline, movetext_stop = exported, len(movetext)
        # The fast path accepts nothing but well-formed words: no junk to look for.
        junk = False
    else:
        mainline, movetext_stop = read_general_movetext(movetext)
        junk = _is_junk(movetext[:movetext_stop], mainline)
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
        following = _read_untagged(rest_offset, end, text[rest:], encoding)
        first = next(following, None)
        # Nothing but comments after the game: it ends where the piece ends, so the
        # items still tile the stream up to its end.
        yield record if first is not None else replace(record, end_offset=end)
        if first is None:
            return
        yield first
        yield from following
        return
    yield from _read_untagged(rest_offset, end, text[rest:], encoding)


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


#: Tags, where the movetext starts, and where a repeated tag starts another game.
_Header = tuple[dict[str, str], int, int | None]


def _skip_space(text: str, position: int) -> int:
    match = _NON_SPACE_RE.search(text, position)
    return len(text) if match is None else match.start()


def _fast_header(text: str) -> _Header | None:
    """Tags and where the movetext starts, for the usual shape (one tag per line, a
    blank line, the movetext); None for anything else."""
    if not text.startswith("["):
        return None
    blank = text.find("\n\n")
    if blank < 0:
        return None
    section = text[:blank]
    if not section.endswith('"]') or "\\" in section or "\r" in section:
        return None
    # `Name "value"]\n[Name "value"` -> names and values alternate.
    parts = section[1:-2].replace('"]\n[', ' "').split(' "')
    lines = section.count("\n") + 1
    if len(parts) != 2 * lines:
        return None
    pairs = iter(parts)
    tags = dict(zip(pairs, pairs, strict=True))
    names = "".join(tags)
    # Odd names (with `_` or `+`), duplicates, values holding ` "` or a blank line
    # inside the tag section take the careful path.
    if len(tags) != lines or not (names.isascii() and names.isalnum()):
        return None
    body_start = blank + 2
    if text.startswith("[", body_start) or text[body_start : body_start + 1].isspace():
        # Another tag after a blank line, or more blank lines: the careful path decides.
        return None
    return tags, body_start, None


def _slow_header(text: str) -> _Header | str:
    """The tag section read line by line, or an error message for a malformed one.

    A tag name seen twice starts another game (`split_at`): the lines before belong to
    a game cut off in its tags, glued to the next one. That holds even after a
    malformed line, which is how a game cut in the middle of a tag line is told apart
    from the next game.
    """
    tags: dict[str, str] = {}
    # Names of malformed lines count too: `[Event "Ga` cut short, then `[Event "B"]`.
    seen: set[str] = set()
    position = 0
    malformed: str | None = None
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped and stripped[0] not in "%;":
            if stripped[0] != "[":
                break
            match = _TAG_LINE_RE.fullmatch(stripped)
            if match is None:
                malformed = malformed or f"malformed tag pair: {stripped[:80]!r}"
                name_match = _TAG_NAME_RE.match(stripped)
                if name_match:
                    seen.add(name_match.group(1))
            else:
                name, value = match.groups()
                if name in seen:
                    return tags, position, position
                seen.add(name)
                tags[name] = _ESCAPE_RE.sub(r"\1", value) if "\\" in value else value
        position += len(line) + 1
    if malformed:
        return malformed
    return tags, min(position, len(text)), None


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

    # Byte offsets of increasing text indexes, counted incrementally (not quadratically).
    counted = [0, offset]

    def byte_offset(index: int) -> int:
        done, at = counted
        at += (
            _byte_length(text[done:index], encoding)
            if index >= done
            else -_byte_length(text[index:done], encoding)
        )
        counted[:] = [index, at]
        return at

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
