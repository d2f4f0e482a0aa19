"""The polite gate every upstream request goes through: one per host, shared by all jobs.

Rules it keeps for its host (Lichess asks for one request at a time and a minute off
after a 429; Chess.com for serial access):

- at most one request in flight (a streamed response counts until it is closed);
- a minimum interval between the end of one request and the start of the next;
- retries with exponential backoff and full jitter on 5xx, timeouts and broken
  connections, a bounded number of times, honouring `Retry-After`;
- after a 429 a cool-down that every job using the host waits out (growing while
  429s repeat), then the request is tried again;
- a `User-Agent` naming gamekeeper and a contact on every request.

Every wait longer than a blink goes through the caller's `Waiter`, so a job shows
`waiting` with `resume_at` and can be cancelled while it waits. That includes queueing
behind another job's request for longer than `busy_grace_s`: there `resume_at` is only
a horizon, and when the slot frees first the waiter is *cancelled* (asyncio), so a
waiter must leave its job in a sane state when cancelled (e.g. `finally:` → running).

Per-host coordination (the in-flight slot and the cool-down) sits behind
`HostCoordinator`, so a database-backed implementation can hold the rule across worker
processes.

httpx errors and error statuses are translated here into `gamekeeper.errors`; nothing
above `connectors` sees an httpx exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import httpx

from gamekeeper.connectors.base import Waiter
from gamekeeper.connectors.gate.base import HostCoordinator
from gamekeeper.connectors.gate.local import LocalHostCoordinator
from gamekeeper.connectors.gate.policy import GatePolicy, GateStats, parse_retry_after
from gamekeeper.connectors.gate.statuses import error_for_status
from gamekeeper.errors import (
    MalformedRecord,
    RateLimited,
    SourceError,
    SourceUnavailable,
)

T = TypeVar("T")


class StreamBroken(SourceUnavailable):
    """The connection broke or stalled while a response was streaming."""

    code = "stream_broken"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Failure:
    """A try that failed in a way worth another try."""

    reason: str
    cause: BaseException | None = None
    retry_after: float | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def _sleep_until(resume_at: datetime, reason: str) -> None:
    """The default waiter: sleep until `resume_at`."""
    del reason
    await asyncio.sleep(max(0.0, (resume_at - _utcnow()).total_seconds()))


class UpstreamGate:
    """All requests to one host go through here; see the module docstring for the rules."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        policy: GatePolicy,
        *,
        coordinator: HostCoordinator | None = None,
        rng: random.Random | None = None,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._client = client
        self._policy = policy
        self._coordinator = coordinator or LocalHostCoordinator()
        self._rng = rng or random.Random()
        self._now = now
        self._requests = 0
        self._rate_limited = 0
        self._retries = 0
        self._failures = 0
        self._waits = 0

    @property
    def name(self) -> str:
        return self._policy.name

    @property
    def policy(self) -> GatePolicy:
        return self._policy

    def stats(self) -> GateStats:
        """A snapshot of this gate's counters."""
        return GateStats(
            host=self._policy.name,
            requests=self._requests,
            rate_limited=self._rate_limited,
            retries=self._retries,
            failures=self._failures,
            waits=self._waits,
        )

    async def send(self, request: httpx.Request, *, wait: Waiter | None = None) -> httpx.Response:
        """Send `request` under the host's rules and return the answer with its body read.

        Returns 2xx and 3xx answers (a 304 included); raises `AccountNotFound` (404),
        `SourceGone` (410), `RateLimited` (429s kept coming), `SourceUnavailable`
        (5xx or network trouble after all attempts) or `SourceError`.
        """
        response, stack = await self._exchange(request, wait, stream=False)
        await stack.aclose()
        return response

    async def send_parsed(
        self,
        request: httpx.Request,
        parse: Callable[[httpx.Response], T],
        *,
        wait: Waiter | None = None,
    ) -> T:
        """`send`, then `parse` the answer. A body `parse` cannot read (`MalformedRecord`:
        most often an answer cut short) is asked for again like a broken-off answer, then
        `SourceUnavailable` after the policy's attempts."""
        attempt = 0
        while True:
            response = await self.send(request, wait=wait)
            try:
                return parse(response)
            except MalformedRecord as exc:
                self._failures += 1
                attempt += 1
                if attempt >= self._policy.attempts:
                    raise SourceUnavailable(
                        f"{exc.message}; gave up after {attempt} attempts", url=str(request.url)
                    ) from exc
                self._retries += 1
                await self.backoff(attempt, reason=exc.message, wait=wait)

    @asynccontextmanager
    async def stream(
        self, request: httpx.Request, *, wait: Waiter | None = None
    ) -> AsyncIterator[httpx.Response]:
        """Open `request` as a stream; the host's slot is held until the block exits.

        Errors before the answer starts are handled as in `send`. A broken connection or
        a stall (no byte for the read timeout) while the body is read inside the block
        comes out as `StreamBroken`; the caller decides how to resume.
        """
        response, stack = await self._exchange(request, wait, stream=True)
        async with stack:
            try:
                yield response
            except httpx.TimeoutException as exc:
                self._failures += 1
                raise StreamBroken(f"{self.name}: the stream stalled ({exc!r})") from exc
            except httpx.TransportError as exc:
                self._failures += 1
                raise StreamBroken(f"{self.name}: the connection broke mid-stream ({exc})") from exc
            except httpx.DecodingError as exc:
                # A RequestError, not a TransportError: a corrupt compressed body.
                self._failures += 1
                raise StreamBroken(f"{self.name}: the stream could not be decoded") from exc

    async def backoff(
        self,
        attempt: int,
        *,
        reason: str,
        wait: Waiter | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Wait before try number `attempt + 1`: full jitter, or `retry_after` if given."""
        delay = self.backoff_delay(attempt) if retry_after is None else retry_after
        resume_at = self._now() + timedelta(seconds=delay)
        await self._wait_until(resume_at, f"{reason}: retrying in {_seconds(delay)}", wait)

    def backoff_delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter for the wait after failed try `attempt`."""
        policy = self._policy
        ceiling = min(policy.backoff_max_s, policy.backoff_base_s * 2 ** max(0, attempt - 1))
        return self._rng.uniform(0.0, ceiling)

    # -- the exchange ---------------------------------------------------------------

    async def _exchange(
        self, request: httpx.Request, wait: Waiter | None, *, stream: bool
    ) -> tuple[httpx.Response, AsyncExitStack]:
        """Get a usable response, holding the slot; the returned stack releases it."""
        policy = self._policy
        request.headers["User-Agent"] = policy.user_agent
        failures = 0
        limited = 0
        while True:
            await self._wait_out_cooldown(wait)
            stack = AsyncExitStack()
            try:
                if not await self._take_slot(stack, wait):
                    await stack.aclose()
                    continue
                outcome = await self._attempt(request, stack, stream=stream)
                if isinstance(outcome, httpx.Response):
                    return outcome, stack
                await stack.aclose()
                if isinstance(outcome, datetime):
                    limited += 1
                    if limited >= policy.attempts:
                        left = max(0.0, (outcome - self._now()).total_seconds())
                        raise RateLimited(
                            f"{policy.name} kept answering 429 ({limited} times)",
                            retry_after=left,
                        )
                    continue
            except BaseException:
                await stack.aclose()
                raise
            self._failures += 1
            failures += 1
            if failures >= policy.attempts:
                raise SourceUnavailable(
                    f"{outcome.reason}; gave up after {failures} attempts", url=str(request.url)
                ) from outcome.cause
            self._retries += 1
            await self.backoff(
                failures, reason=outcome.reason, wait=wait, retry_after=outcome.retry_after
            )

    async def _attempt(
        self, request: httpx.Request, stack: AsyncExitStack, *, stream: bool
    ) -> httpx.Response | _Failure | datetime:
        """One try, in the held slot: a usable response, a failure worth another try, or
        (after a 429) the end of the cool-down it started."""
        name = self._policy.name
        self._requests += 1
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            return _Failure(reason=f"{name} timed out ({type(exc).__name__})", cause=exc)
        except httpx.TransportError as exc:
            return _Failure(reason=f"{name} could not be reached ({exc})", cause=exc)
        except httpx.HTTPError as exc:
            raise SourceError(f"{name}: {exc}", url=str(request.url)) from exc
        stack.push_async_callback(response.aclose)
        status = response.status_code
        if status == 429:
            self._rate_limited += 1
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._now())
            return await self._start_cooldown(retry_after)
        if status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._now())
            return _Failure(reason=f"{name} answered {status}", retry_after=retry_after)
        try:
            if not stream or status >= 400:
                await response.aread()
        except httpx.TransportError as exc:
            return _Failure(reason=f"{name} broke off its answer ({exc})", cause=exc)
        except httpx.DecodingError as exc:
            # httpx.DecodingError is a RequestError, not a TransportError (a corrupt
            # gzip/zstd/brotli body): worth another try like a broken-off answer.
            return _Failure(reason=f"{name} sent a body that could not be decoded", cause=exc)
        await self._clear_strikes()
        error = error_for_status(response, name)
        if error is not None:
            raise error
        return response

    async def _wait_out_cooldown(self, wait: Waiter | None) -> None:
        while True:
            state = await self._coordinator.read()
            until = state.cooldown_until
            if until is None or until <= self._now():
                return
            left = (until - self._now()).total_seconds()
            reason = f"{self.name} rate limit (429): cooling down {_seconds(left)}"
            await self._wait_until(until, reason, wait)

    async def _take_slot(self, stack: AsyncExitStack, wait: Waiter | None) -> bool:
        """Hold the slot in `stack`; False if a cool-down began while we queued for it."""
        await self._enter_slot(stack, wait)
        state = await self._coordinator.read()
        now = self._now()
        if state.cooldown_until is not None and state.cooldown_until > now:
            return False
        interval = self._policy.min_interval_s
        if interval > 0:
            if state.last_finished_at is not None:
                gap = (state.last_finished_at - now).total_seconds() + interval
                if gap > 0:
                    # Short and held under the slot: a plain (task-cancellable) sleep.
                    await asyncio.sleep(gap)
            stack.push_async_callback(self._mark_finished)
        return True

    async def _enter_slot(self, stack: AsyncExitStack, wait: Waiter | None) -> None:
        slot = self._coordinator.slot()
        if wait is None:
            await stack.enter_async_context(slot)
            return
        entering = asyncio.ensure_future(slot.__aenter__())
        try:
            await asyncio.wait({entering}, timeout=self._policy.busy_grace_s)
            while not entering.done():
                self._waits += 1
                resume_at = self._now() + timedelta(seconds=self._policy.busy_horizon_s)
                reason = f"waiting for {self.name}: another request is in flight"
                waiting = asyncio.ensure_future(_call(wait, resume_at, reason))
                await asyncio.wait({entering, waiting}, return_when=asyncio.FIRST_COMPLETED)
                if waiting.done():
                    waiting.result()  # a cancelled job raises here
                else:
                    # The slot came free first: the waiter is told so by cancellation.
                    waiting.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await waiting
        except BaseException:
            await _abandon(entering, slot)
            raise
        entering.result()
        stack.push_async_exit(slot)

    async def _start_cooldown(self, retry_after: float | None) -> datetime:
        policy = self._policy
        state = await self._coordinator.read()
        strikes = state.strikes + 1
        grown = min(policy.cooldown_max_s, policy.cooldown_s * 2 ** (strikes - 1))
        if retry_after is None:
            delay = grown
        elif policy.cooldown_is_floor:
            delay = max(retry_after, grown)
        else:
            delay = retry_after
        until = self._now() + timedelta(seconds=delay)
        if state.cooldown_until is not None and state.cooldown_until > until:
            until = state.cooldown_until
        await self._coordinator.write(replace(state, cooldown_until=until, strikes=strikes))
        return until

    async def _clear_strikes(self) -> None:
        state = await self._coordinator.read()
        if state.strikes:
            await self._coordinator.write(replace(state, strikes=0))

    async def _mark_finished(self) -> None:
        state = await self._coordinator.read()
        await self._coordinator.write(replace(state, last_finished_at=self._now()))

    async def _wait_until(self, resume_at: datetime, reason: str, wait: Waiter | None) -> None:
        self._waits += 1
        await (wait or _sleep_until)(resume_at, reason)
        # A waiter may return a little early (clocks differ); never start before resume_at.
        left = (resume_at - self._now()).total_seconds()
        if left > 0:
            await asyncio.sleep(left)


async def _call(wait: Waiter, resume_at: datetime, reason: str) -> None:
    await wait(resume_at, reason)


async def _abandon(entering: asyncio.Future[None], slot: AbstractAsyncContextManager[None]) -> None:
    """Give up on taking the slot; release it if it was taken in the meantime."""
    if not entering.done():
        entering.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await entering
        return
    if not entering.cancelled() and entering.exception() is None:
        await slot.__aexit__(None, None, None)


def _seconds(value: float) -> str:
    return f"{math.ceil(value)} s" if value >= 1 else f"{value:.1f} s"
