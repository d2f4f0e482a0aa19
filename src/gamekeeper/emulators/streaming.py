"""Streamed answers with stream faults: paced NDJSON, resets, cut lines, broken JSON, stalls.

These are Starlette `Response`s that speak ASGI themselves, because the faults need
control a normal response does not give: sending part of a body and then dropping the
connection, or going quiet while keeping it open.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gamekeeper.emulators.faults import Faults
from gamekeeper.emulators.traffic import ENTRY_KEY

#: Bytes gathered before a chunk is sent when the stream is not paced.
CHUNK_BYTES = 64 * 1024
#: What a malformed line looks like: JSON cut in the middle of a game.
MALFORMED_LINE = b'{"id":"brokenLn","rated":true,"players":{"white":{"user":\n'


class EmulatedReset(Exception):
    """Raised inside a response so the server drops the connection mid-body."""


class _DropEmulatedResets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, EmulatedReset)


_FILTER = _DropEmulatedResets()


def quiet_emulated_resets() -> None:
    """Keep uvicorn from logging our on-purpose resets as application errors."""
    logger = logging.getLogger("uvicorn.error")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


class _Watch:
    """Notices the client going away while the response is being sent."""

    def __init__(self, receive: Receive) -> None:
        self.gone = asyncio.Event()
        self._task = asyncio.ensure_future(self._run(receive))

    async def _run(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.gone.set()
                return

    def stop(self) -> None:
        self._task.cancel()


class NdjsonStream(Response):
    """`count` NDJSON lines from `line_at(i)`, with the stream faults of `faults`."""

    def __init__(
        self,
        count: int,
        line_at: Callable[[int], bytes],
        *,
        faults: Faults,
        closing: threading.Event,
        headers: dict[str, str] | None = None,
        media_type: str = "application/x-ndjson",
    ) -> None:
        # Like StreamingResponse: no `body`, so no Content-Length (the body is chunked).
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.init_headers(headers)
        self._count = count
        self._line_at = line_at
        self._faults = faults
        self._closing = closing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        faults = self._faults
        reset_after = faults.reset_after if faults.take("reset_streams") else None
        stall_after = faults.stall_after if faults.take("stall_streams") else None
        truncate = faults.take("truncate_streams")
        malformed = faults.malformed_after
        rate = faults.games_per_s
        log_entry = scope.get(ENTRY_KEY)
        loop = asyncio.get_running_loop()
        watch = _Watch(receive)
        buffer: list[bytes] = []
        size = 0

        async def flush() -> None:
            nonlocal size
            if buffer:
                await send(
                    {"type": "http.response.body", "body": b"".join(buffer), "more_body": True}
                )
                buffer.clear()
                size = 0

        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            started = loop.time()
            for index in range(self._count):
                if watch.gone.is_set() or self._closing.is_set():
                    return
                if index == reset_after:
                    await flush()
                    raise EmulatedReset(f"connection reset after {index} games")
                if index == stall_after:
                    await flush()
                    await self._stall(watch)
                    if watch.gone.is_set():
                        return
                line = self._line_at(index)
                if truncate and index == self._count - 1:
                    buffer.append(line[: max(1, len(line) // 2)])
                else:
                    buffer.append(line + b"\n")
                size += len(line) + 1
                if index + 1 in malformed:
                    buffer.append(MALFORMED_LINE)
                if log_entry is not None:
                    log, entry = log_entry
                    log.touch(entry, items=index + 1)
                if rate:
                    due = started + (index + 1) / rate
                    if due > loop.time():
                        await flush()
                        await asyncio.sleep(due - loop.time())
                elif size >= CHUNK_BYTES:
                    await flush()
            await send({"type": "http.response.body", "body": b"".join(buffer), "more_body": False})
        finally:
            watch.stop()

    async def _stall(self, watch: _Watch) -> None:
        """Send nothing for `stall_s`, unless the client leaves or the server closes."""
        loop = asyncio.get_running_loop()
        until = loop.time() + self._faults.stall_s
        while loop.time() < until and not self._closing.is_set():
            try:
                await asyncio.wait_for(watch.gone.wait(), timeout=min(0.05, until - loop.time()))
            except TimeoutError:
                continue
            return


class FaultyBody(Response):
    """A whole body (a JSON document) that may be cut short or lose its connection."""

    def __init__(
        self,
        body: bytes,
        *,
        faults: Faults,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        media_type: str = "application/json",
    ) -> None:
        super().__init__(
            content=body, status_code=status_code, headers=headers, media_type=media_type
        )
        self._faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        faults = self._faults
        body = self.body
        reset = faults.take("reset_streams")
        if reset or faults.take("truncate_streams"):
            body = body[: len(body) // 2]
        headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        if not reset:
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": reset})
        if reset:
            raise EmulatedReset("connection reset mid-body")
