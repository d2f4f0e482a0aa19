"""Lichess: the user-games NDJSON export, games by ids, and the profile.

Pure core: `build_games_request`, `build_ids_request`, `build_profile_request` (and,
in `records`, `parse_game`). Thin I/O: `LichessSource`, which sends through the host's
`UpstreamGate` and parses the stream incrementally as bytes arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
from collections import Counter
from collections.abc import AsyncGenerator, Collection, Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote

import httpx
import orjson

from gamekeeper.connectors.base import (
    EncodedGame,
    GameOrError,
    GamesQuery,
    RecordError,
    RowEncoder,
    Waiter,
)
from gamekeeper.connectors.gate.exchange import StreamBroken, UpstreamGate
from gamekeeper.connectors.lichess.records import (
    DecodedLine,
    LichessProfile,
    decode_lines,
    parse_profile,
)
from gamekeeper.connectors.ndjson import NdjsonDecoder
from gamekeeper.connectors.offload import Offload, in_thread
from gamekeeper.errors import MalformedRecord, SourceUnavailable

#: Lichess accepts at most this many ids per `POST /api/games/export/_ids`.
IDS_PER_REQUEST: Final = 300
NDJSON: Final = "application/x-ndjson"
#: Lines parsed per trip off the event loop: at most about 10 ms of work, and usually
#: one received chunk's lines (64 KiB hold some 60 games); fewer trips cost fewer
#: hand-overs between the loop, the offload's thread and the parse process.
SLICE: Final = 128
#: Slices handed to the offload ahead of the one being taken (a few hundred games).
AHEAD: Final = 8


#: What the streams yield: games (or, asked with `encode`, their rows) and errors.
Item = GameOrError | EncodedGame
#: A slice of a response's lines, and their parse (under way).
_Slice = tuple[list[bytes], "asyncio.Future[list[DecodedLine]]"]


def _drop(future: asyncio.Future[Any]) -> None:
    """Cancel work no longer wanted (its error, if it already failed, is not news)."""
    if future.done() and not future.cancelled():
        future.exception()
    future.cancel()


# -- pure core: requests -----------------------------------------------------------------


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _headers(token: str | None, accept: str = NDJSON) -> dict[str, str]:
    headers = {"Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def build_games_request(
    base_url: str, username: str, query: GamesQuery, *, token: str | None = None
) -> httpx.Request:
    """`GET /api/games/user/{username}` as NDJSON, for `query`."""
    q = query
    params: dict[str, str] = {
        "sort": "dateDesc" if q.newest_first else "dateAsc",
        "moves": _flag(q.moves),
        "clocks": _flag(q.clocks),
        "evals": _flag(q.evals),
        "opening": _flag(q.opening),
        "ongoing": _flag(q.ongoing),
        "finished": "true",
    }
    if q.since_ms is not None:
        params["since"] = str(q.since_ms)
    if q.until_ms is not None:
        params["until"] = str(q.until_ms)
    if q.max is not None:
        params["max"] = str(q.max)
    if q.rated is not None:
        params["rated"] = _flag(q.rated)
    if q.perf_type is not None:
        perf = q.perf_type
        params["perfType"] = perf if isinstance(perf, str) else ",".join(perf)
    url = f"{base_url.rstrip('/')}/api/games/user/{quote(username, safe='')}"
    return httpx.Request("GET", url, params=params, headers=_headers(token))


def build_ids_request(
    base_url: str,
    ids: Sequence[str],
    *,
    moves: bool = True,
    clocks: bool = True,
    evals: bool = True,
    opening: bool = True,
    token: str | None = None,
) -> httpx.Request:
    """`POST /api/games/export/_ids` for at most `IDS_PER_REQUEST` ids, as NDJSON."""
    if len(ids) > IDS_PER_REQUEST:
        raise ValueError(f"at most {IDS_PER_REQUEST} ids per request, got {len(ids)}")
    params = {
        "moves": _flag(moves),
        "clocks": _flag(clocks),
        "evals": _flag(evals),
        "opening": _flag(opening),
    }
    headers = _headers(token) | {"Content-Type": "text/plain"}
    return httpx.Request(
        "POST",
        f"{base_url.rstrip('/')}/api/games/export/_ids",
        params=params,
        headers=headers,
        content=",".join(ids).encode(),
    )


def build_profile_request(
    base_url: str, username: str, *, token: str | None = None
) -> httpx.Request:
    """`GET /api/user/{username}`."""
    url = f"{base_url.rstrip('/')}/api/user/{quote(username, safe='')}"
    return httpx.Request("GET", url, headers=_headers(token, "application/json"))


# -- thin I/O ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Export:
    """Where a user-games export got to, so a broken one resumes without repeats."""

    last_created: int | None = None
    #: Games yielded with createdAt == last_created: a resumed export repeats them.
    at_last: set[str] = field(default_factory=set)
    #: Broken lines reported so far, by content: a resumed export sends the ones after
    #: the cursor again, and two broken lines can be byte for byte the same.
    errors_reported: Counter[bytes] = field(default_factory=Counter)
    yielded: int = 0

    def take(
        self,
        decoded: DecodedLine,
        line: bytes,
        errors_here: Counter[bytes],
        known_ids: Collection[str],
    ) -> Item | None:
        """The item to yield for a line of the current response, None to pass it over."""
        item = decoded.item
        if isinstance(item, RecordError):
            errors_here[line] += 1
            if errors_here[line] > self.errors_reported[line]:
                self.errors_reported[line] += 1
                return item
            return None
        if item.platform_game_id in self.at_last or item.platform_game_id in known_ids:
            return None
        created = decoded.created_ms
        if created is not None and created != self.last_created:
            self.last_created, self.at_last = created, set()
        self.at_last.add(item.platform_game_id)
        self.yielded += 1
        return item


#: A user's whole history, with everything.
EVERY_GAME: Final = GamesQuery()


class BreakBudget:
    """Broken streams in a row that made no progress. A stream that got further than
    the one before starts the count again: a long export over a flaky line is not
    given up while each try brings games."""

    def __init__(self) -> None:
        self.breaks = 0
        self._progress = -1

    def broke(self, *, progress: int) -> int:
        """Count a break after `progress` items in all; the breaks that count now."""
        if progress > self._progress:
            self.breaks, self._progress = 0, progress
        self.breaks += 1
        return self.breaks


class LichessSource:
    """Games and profiles from Lichess, through the host's gate."""

    def __init__(
        self,
        gate: UpstreamGate,
        base_url: str,
        token: str | None = None,
        *,
        offload: Offload[list[DecodedLine]] = in_thread,
    ) -> None:
        self._gate = gate
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._offload = offload

    async def profile(self, username: str, wait: Waiter | None = None) -> LichessProfile:
        """The user's public data; `AccountNotFound` if there is no such user."""
        request = build_profile_request(self._base_url, username, token=self._token)
        return await self._gate.send_parsed(request, self._read_profile, wait=wait)

    def _read_profile(self, response: httpx.Response) -> LichessProfile:
        try:
            return parse_profile(orjson.loads(response.content))
        except (orjson.JSONDecodeError, AttributeError) as exc:
            raise MalformedRecord(f"{self._gate.name} sent an unreadable profile") from exc

    async def iter_games(
        self,
        username: str,
        query: GamesQuery = EVERY_GAME,
        *,
        wait: Waiter | None = None,
        known_ids: Collection[str] = (),
        encode: RowEncoder | None = None,
    ) -> AsyncGenerator[Item, None]:
        """The user's games, oldest first (or `newest_first`: the opponent crawl's recent
        games), as they stream in; games in `known_ids` (those already stored at the
        range's inclusive edges) are passed over. With `encode`, games come as their
        `EncodedGame`, made where they are parsed.

        If the connection breaks (reset, stall, a cut last line) the export is asked for
        again from `since` = createdAt of the last game yielded (newest first: `until`),
        and games already yielded are skipped, so each game comes out once. The stream
        holds the host's gate while it is open: iterate it to the end or close it
        (`contextlib.aclosing`).
        """
        state, budget, asked = _Export(), BreakBudget(), query
        while query.max is None or state.yielded < query.max:
            left = None if query.max is None else query.max - state.yielded + len(state.at_last)
            request = build_games_request(
                self._base_url, username, dataclasses.replace(asked, max=left), token=self._token
            )
            try:
                once = self._export_once(
                    request, state, known_ids, query=query, wait=wait, encode=encode
                )
                async with aclosing(once) as items:
                    async for item in items:
                        yield item
                return
            except StreamBroken as exc:
                if state.last_created is not None and query.newest_first:
                    asked = dataclasses.replace(asked, until_ms=state.last_created)
                elif state.last_created is not None:
                    asked = dataclasses.replace(asked, since_ms=state.last_created)
                await self._after_break(budget.broke(progress=state.yielded), exc, wait)

    async def _export_once(
        self,
        request: httpx.Request,
        state: _Export,
        known_ids: Collection[str],
        *,
        query: GamesQuery,
        wait: Waiter | None,
        encode: RowEncoder | None,
    ) -> AsyncGenerator[Item, None]:
        """One export response's new items, until it ends or `max` games were yielded."""
        errors_here: Counter[bytes] = Counter()
        async with aclosing(self._decoded(request, wait, query.moves, encode)) as lines:
            async for line, decoded in lines:
                item = state.take(decoded, line, errors_here, known_ids)
                if item is None:
                    continue
                yield item
                if query.max is not None and state.yielded >= query.max:
                    return

    async def export_by_ids(
        self,
        ids: Iterable[str],
        *,
        moves: bool = True,
        clocks: bool = True,
        evals: bool = True,
        opening: bool = True,
        wait: Waiter | None = None,
        encode: RowEncoder | None = None,
    ) -> AsyncGenerator[Item, None]:
        """Games by id, in requests of at most 300 ids; an id Lichess does not return
        comes out as a `RecordError` with that id (`encode`: as in `iter_games`)."""
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), IDS_PER_REQUEST):
            chunk = unique[start : start + IDS_PER_REQUEST]
            pending = dict.fromkeys(chunk)
            budget = BreakBudget()
            while pending:
                request = build_ids_request(
                    self._base_url,
                    list(pending),
                    moves=moves,
                    clocks=clocks,
                    evals=evals,
                    opening=opening,
                    token=self._token,
                )
                try:
                    decoded_lines = self._decoded(request, wait, moves, encode)
                    async with aclosing(decoded_lines) as lines:
                        async for _, decoded in lines:
                            if decoded.game_id is not None:
                                if decoded.game_id not in pending:
                                    continue  # already yielded before a break
                                del pending[decoded.game_id]
                            yield decoded.item
                    break
                except StreamBroken as exc:
                    progress = len(chunk) - len(pending)
                    await self._after_break(budget.broke(progress=progress), exc, wait)
            for missing in pending:
                yield RecordError(
                    item=missing, message=f"{self._gate.name} did not return this game"
                )

    async def _after_break(self, breaks: int, exc: StreamBroken, wait: Waiter | None) -> None:
        """Back off before asking again after a broken stream; give up after too many."""
        if breaks >= self._gate.policy.attempts:
            raise SourceUnavailable(
                f"{exc.message}; gave up after {breaks} broken streams"
            ) from exc
        await self._gate.backoff(breaks, reason=exc.message, wait=wait)

    async def _decoded(
        self, request: httpx.Request, wait: Waiter | None, moves: bool, encode: RowEncoder | None
    ) -> AsyncGenerator[tuple[bytes, DecodedLine], None]:
        """Complete NDJSON lines of one response with what they decode to, as bytes
        arrive; lines are numbered from 1 and parsed `SLICE` at a time off the loop.

        A task of its own reads the response and hands each slice to the offload as it
        comes, up to `AHEAD` slices before the one being taken: the network, the parse
        and the job's use of the items overlap, and a slice is yielded as soon as it
        is parsed, whether or not more bytes come (a stalled stream's games count)."""
        ahead: asyncio.Queue[_Slice | BaseException | None] = asyncio.Queue()
        slots = asyncio.Semaphore(AHEAD)
        reading = asyncio.ensure_future(
            self._read_slices(request, wait, moves, encode, ahead, slots)
        )
        try:
            while (entry := await ahead.get()) is not None:
                if isinstance(entry, BaseException):
                    raise entry
                slots.release()
                lines, parsing = entry
                for pair in zip(lines, await parsing, strict=True):
                    yield pair
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
            while not ahead.empty():  # the stream was left early: its slices are not wanted
                if isinstance(left := ahead.get_nowait(), tuple):
                    _drop(left[1])

    async def _read_slices(
        self,
        request: httpx.Request,
        wait: Waiter | None,
        moves: bool,
        encode: RowEncoder | None,
        ahead: asyncio.Queue[_Slice | BaseException | None],
        slots: asyncio.Semaphore,
    ) -> None:
        """`_decoded`'s reader: each slice's lines and their parse into `ahead` (a slot
        taken for each), then None at the end, or what went wrong (a put that never
        waits, so the reader always says how it ended)."""
        decoder = NdjsonDecoder()
        number = 0
        try:
            async with self._gate.stream(request, wait=wait) as response:
                async for chunk in response.aiter_bytes():
                    lines = decoder.feed(chunk)
                    for start in range(0, len(lines), SLICE):
                        part = lines[start : start + SLICE]
                        work = functools.partial(
                            decode_lines, part, number + 1, moves_requested=moves, encode=encode
                        )
                        number += len(part)
                        await slots.acquire()
                        ahead.put_nowait((part, asyncio.ensure_future(self._offload(work))))
            tail = decoder.finish()
            if tail:
                # A last line without its newline is fine if it is whole; a cut one means
                # the connection was lost mid-record.
                try:
                    orjson.loads(tail)
                except orjson.JSONDecodeError:
                    raise StreamBroken(
                        f"{self._gate.name}: the stream ended in the middle of a game"
                    ) from None
                done: asyncio.Future[list[DecodedLine]] = asyncio.Future()
                done.set_result(
                    decode_lines([tail], number + 1, moves_requested=moves, encode=encode)
                )
                await slots.acquire()
                ahead.put_nowait(([tail], done))
        except BaseException as exc:  # raised where the lines are taken, after those before
            ahead.put_nowait(exc)
            if not isinstance(exc, Exception):
                raise  # a cancel (by `_decoded`, leaving) ends this task as one
            return
        ahead.put_nowait(None)
