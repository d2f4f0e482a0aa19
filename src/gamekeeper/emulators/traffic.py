"""What reaches an emulator: the request log, and the request-level faults.

`Traffic` is a pure ASGI middleware in front of an emulator's routes. It logs every
request (method, path, query, headers, status, times, how many requests were being
served at once) and applies the faults that do not depend on the route: latency, 5xx
bursts and 429s (for concurrent requests, on purpose, or over a budget).

A request counts as served until just *before* its last body bytes are sent: the
client cannot start its next request before then, so a polite client is never seen
as concurrent because of the server's own bookkeeping.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gamekeeper.emulators.faults import Faults

#: The scope key under which routes find their `_Entry` (to count streamed items).
ENTRY_KEY = "gamekeeper.log_entry"
#: A long-running emulator (`gamekeeper emulate`) keeps only the latest entries.
LOG_LIMIT = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedRequest:
    """One request as the emulator saw it."""

    number: int
    method: str
    path: str
    query: dict[str, str]
    #: Header names in lower case (`if-none-match`, `user-agent`, ...).
    headers: dict[str, str]
    #: When it arrived (wall clock, UTC).
    at: datetime
    status: int | None
    finished_at: datetime | None
    #: Requests being served when this one arrived, itself included.
    concurrent: int
    #: Games sent so far (streams).
    items_sent: int


class _Entry:
    """A request being served; the log hands out frozen snapshots of it."""

    __slots__ = (
        "at",
        "concurrent",
        "finished_at",
        "headers",
        "items_sent",
        "method",
        "number",
        "path",
        "query",
        "status",
    )

    def __init__(self, number: int, scope: Scope, concurrent: int) -> None:
        self.number = number
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        self.headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
        }
        self.at = datetime.now(UTC)
        self.status: int | None = None
        self.finished_at: datetime | None = None
        self.concurrent = concurrent
        self.items_sent = 0

    def snapshot(self) -> LoggedRequest:
        return LoggedRequest(
            number=self.number,
            method=self.method,
            path=self.path,
            query=dict(self.query),
            headers=dict(self.headers),
            at=self.at,
            status=self.status,
            finished_at=self.finished_at,
            concurrent=self.concurrent,
            items_sent=self.items_sent,
        )


class RequestLog:
    """The requests an emulator served (the latest `LOG_LIMIT`), readable from any thread.

    Entries are numbered from 1 in arrival order; `clear()` empties the log but numbers
    go on, so a test can compare entries from before and after.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._entries: collections.deque[_Entry] = collections.deque(maxlen=LOG_LIMIT)
        self._count = 0
        self._in_flight = 0
        self._max_concurrent = 0

    @property
    def entries(self) -> list[LoggedRequest]:
        with self._changed:
            return [entry.snapshot() for entry in self._entries]

    @property
    def max_concurrent(self) -> int:
        """The most requests ever served at once since the last `clear()`."""
        return self._max_concurrent

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def paths(self) -> list[str]:
        return [entry.path for entry in self.entries]

    def clear(self) -> None:
        with self._changed:
            self._entries.clear()
            self._max_concurrent = self._in_flight

    def wait_for(
        self, predicate: Callable[[list[LoggedRequest]], bool], timeout: float = 10.0
    ) -> bool:
        """Block until `predicate(entries)` holds (True) or `timeout` passes (False)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate([entry.snapshot() for entry in self._entries]):
                left = deadline - time.monotonic()
                if left <= 0 or not self._changed.wait(left):
                    return predicate([entry.snapshot() for entry in self._entries])
        return True

    def begin(self, scope: Scope) -> _Entry:
        with self._changed:
            self._in_flight += 1
            self._max_concurrent = max(self._max_concurrent, self._in_flight)
            self._count += 1
            entry = _Entry(self._count, scope, self._in_flight)
            self._entries.append(entry)
            self._changed.notify_all()
            return entry

    def end(self, entry: _Entry) -> None:
        with self._changed:
            self._in_flight -= 1
            entry.finished_at = datetime.now(UTC)
            self._changed.notify_all()

    def touch(self, entry: _Entry, *, status: int | None = None, items: int | None = None) -> None:
        with self._changed:
            if status is not None:
                entry.status = status
            if items is not None:
                entry.items_sent = items
            self._changed.notify_all()


class Traffic:
    """ASGI middleware: log every request and apply request-level faults."""

    def __init__(self, app: ASGIApp, *, log: RequestLog, faults: Faults) -> None:
        self.app = app
        self.log = log
        self.faults = faults
        self._arrivals: collections.deque[float] = collections.deque()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        entry = self.log.begin(scope)
        finished = False

        def finish() -> None:
            nonlocal finished
            if not finished:
                finished = True
                self.log.end(entry)

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.log.touch(entry, status=message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finish()
            await send(message)

        try:
            limited = self._rate_limited(entry)
            if self.faults.latency_s > 0:
                await asyncio.sleep(self.faults.latency_s)
            if limited:
                headers = {}
                if self.faults.retry_after_s is not None:
                    headers["retry-after"] = str(round(self.faults.retry_after_s))
                await _json(
                    logged_send, 429, {"error": "Too many requests. Try again later."}, headers
                )
                return
            if self.faults.take("error_burst"):
                status = self.faults.error_status
                await _json(logged_send, status, {"error": f"Emulated failure ({status})"}, {})
                return
            scope[ENTRY_KEY] = (self.log, entry)
            await self.app(scope, receive, logged_send)
        finally:
            finish()

    def _rate_limited(self, entry: _Entry) -> bool:
        faults = self.faults
        now = time.monotonic()
        self._arrivals.append(now)
        while self._arrivals and self._arrivals[0] < now - faults.budget_window_s:
            self._arrivals.popleft()
        if faults.limit_concurrency and entry.concurrent > 1:
            return True
        if faults.take("rate_limit_burst"):
            return True
        return faults.budget is not None and len(self._arrivals) > faults.budget


async def _json(send: Send, status: int, body: object, headers: dict[str, str]) -> None:
    data = orjson.dumps(body)
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data, "more_body": False})
