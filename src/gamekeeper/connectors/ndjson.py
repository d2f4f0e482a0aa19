"""A sans-I/O decoder that turns byte chunks of an NDJSON stream into complete lines."""

from __future__ import annotations


class NdjsonDecoder:
    """Feed it byte chunks as they arrive; it returns each complete line once.

    Lines are split on `\\n` (a trailing `\\r` is dropped) and returned as bytes, so a
    multi-byte character cut between two chunks is never decoded half-way. Blank lines
    (Lichess sends them as keep-alives on slow streams) are skipped.
    """

    __slots__ = ("_buffer", "_lines")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._lines = 0

    @property
    def lines(self) -> int:
        """How many non-blank lines have been returned so far."""
        return self._lines

    @property
    def pending(self) -> int:
        """Bytes of an incomplete line held back until its newline arrives."""
        return len(self._buffer)

    def feed(self, chunk: bytes) -> list[bytes]:
        """Take the next chunk; return the lines it completes, in order."""
        if b"\n" not in chunk:
            self._buffer += chunk
            return []
        self._buffer += chunk
        *complete, rest = self._buffer.split(b"\n")
        # Keep only the unfinished tail: the buffer never holds more than one line.
        self._buffer = bytearray(rest)
        return self._keep(complete)

    def finish(self) -> bytes:
        """End of stream: return the unfinished last line (b"" if the stream ended cleanly)."""
        rest = bytes(self._buffer).rstrip(b"\r")
        self._buffer.clear()
        if not rest.strip():
            return b""
        self._lines += 1
        return rest

    def _keep(self, lines: list[bytearray]) -> list[bytes]:
        out: list[bytes] = []
        for line in lines:
            if line.endswith(b"\r"):
                del line[-1:]
            if line.strip():
                out.append(bytes(line))
        self._lines += len(out)
        return out
