"""Opening PGN files: plain, gzip, bzip2 or zstandard, streamed, with progress by bytes.

A compressed file that turns out to be damaged or cut short (an interrupted download
of a multi-gigabyte dump is the usual case) does not raise in the middle of reading:
the stream ends there, so the reader still yields every game before the damage, and
`OpenedPgn.damage()` then says what went wrong. A zstandard file cut at a frame
boundary (or a gzip file cut between members) is a valid shorter file: nothing can
tell it apart.
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Final, NamedTuple, cast

import zstandard

__all__ = ["OpenedPgn", "open_pgn"]

#: Compressed bytes fed to the zstandard decompressor at a time: the output of one
#: call is held whole, so this bounds it (PGN text expands about 7x).
_ZSTD_INPUT_BYTES: Final = 128 * 1024
_ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"
#: What the decompressors raise on damaged or truncated input.
_DAMAGE_ERRORS: Final = (OSError, EOFError, zlib.error, zstandard.ZstdError)


def _intact() -> str | None:
    return None


class OpenedPgn(NamedTuple):
    """A PGN file opened for streaming."""

    #: The decompressed bytes.
    stream: BinaryIO
    #: The file's size on disk (compressed, if it is).
    total_bytes: int
    #: How many bytes of the file on disk have been consumed: progress is this / total.
    position: Callable[[], int]
    #: Why the compressed data ended early (damaged, truncated), once the stream has
    #: ended; None while it is intact (and always for a plain file).
    damage: Callable[[], str | None] = _intact


class _ZstdFrames(io.RawIOBase):
    """zstandard frames one after the other, noticing a last frame that is cut short
    (python-zstandard's `stream_reader` ends quietly there)."""

    def __init__(self, file: BinaryIO) -> None:
        super().__init__()
        self._file = file
        self._decompressor = zstandard.ZstdDecompressor()
        self._frame = self._decompressor.decompressobj()
        #: Whether the current frame has been given input yet.
        self._fed = False
        self._pending = b""
        self._taken = 0
        self._ended = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while self._taken == len(self._pending) and not self._ended:
            self._pending, self._taken = self._decode(self._file.read(_ZSTD_INPUT_BYTES)), 0
        if size < 0:
            size = len(self._pending) - self._taken
        data = self._pending[self._taken : self._taken + size]
        self._taken += len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _decode(self, data: bytes) -> bytes:
        if not data:
            self._ended = True
            if self._fed and not self._frame.eof:
                raise EOFError("the compressed data ends in the middle of a zstandard frame")
            return b""
        out = []
        while data:
            out.append(self._frame.decompress(data))
            self._fed = True
            data = b""
            if self._frame.eof:
                # One decompressobj per frame; what it did not use starts the next.
                data = self._frame.unused_data
                self._frame = self._decompressor.decompressobj()
                self._fed = False
        return b"".join(out)


class _Decompressed(io.RawIOBase):
    """A decompressing reader that closes the file under it, and turns damage in the
    compressed data into the end of the stream (see the module docstring)."""

    def __init__(self, inner: BinaryIO, file: BinaryIO) -> None:
        super().__init__()
        self._inner = inner
        self._file = file
        self.damage: str | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.damage is not None:
            return b""
        try:
            return self._inner.read(size)
        except _DAMAGE_ERRORS as exc:
            offset = self._file.tell() if not self._file.closed else 0
            self.damage = f"damaged compressed data near byte {offset:,}: {exc}"
            return b""

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._file.close()
            super().close()


def open_pgn(path: str | os.PathLike[str]) -> OpenedPgn:
    """Open a PGN file, plain or compressed (gzip, bzip2, zstandard), for streaming.

    The format comes from the file's first bytes, or its extension when they say
    nothing. Offsets of records are in the decompressed stream: resuming a compressed
    file decompresses and skips up to the offset, which is fast next to parsing.
    """
    file = Path(path).open("rb")  # noqa: SIM115 (closed through the returned stream)
    try:
        total = os.fstat(file.fileno()).st_size
        magic = file.read(4)
        file.seek(0)
        suffix = Path(path).suffix.lower()
        inner: BinaryIO
        if magic.startswith(b"\x1f\x8b") or (not magic and suffix == ".gz"):
            inner = cast(BinaryIO, gzip.GzipFile(fileobj=file, mode="rb"))
        elif magic.startswith(b"BZh"):
            inner = cast(BinaryIO, bz2.BZ2File(file, mode="rb"))
        elif magic == _ZSTD_MAGIC:
            inner = cast(BinaryIO, _ZstdFrames(file))
        else:
            return OpenedPgn(stream=file, total_bytes=total, position=file.tell)
        decompressed = _Decompressed(inner, file)
        return OpenedPgn(
            stream=cast(BinaryIO, decompressed),
            total_bytes=total,
            position=file.tell,
            damage=lambda: decompressed.damage,
        )
    except BaseException:
        file.close()
        raise
