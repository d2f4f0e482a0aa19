"""UpstreamGate on httpx.MockTransport: one in flight, retries, cool-downs, waits, errors."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from gamekeeper.bootstrap import upstreams_from
from gamekeeper.connectors.gate.exchange import StreamBroken, UpstreamGate
from gamekeeper.connectors.gate.local import LocalHostCoordinator
from gamekeeper.connectors.gate.policy import GatePolicy, parse_retry_after
from gamekeeper.connectors.gate.upstreams import Upstreams
from gamekeeper.errors import (
    AccountNotFound,
    ConfigurationError,
    JobCancelled,
    RateLimited,
    SourceError,
    SourceGone,
    SourceUnavailable,
)
from gamekeeper.settings import Settings

T0 = datetime(2026, 1, 1, tzinfo=UTC)
Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]
Seen = list[tuple[datetime, httpx.Request]]
MakeGate = Callable[..., tuple[UpstreamGate, Seen]]


class FakeClock:
    """A wall clock that only moves when a waiter lets time pass."""

    def __init__(self) -> None:
        self.t = T0

    def now(self) -> datetime:
        return self.t


class RecordingWaiter:
    """A job's waiter: records each wait and lets the fake clock jump to `resume_at`."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[tuple[datetime, str]] = []

    async def __call__(self, resume_at: datetime, reason: str) -> None:
        self.calls.append((resume_at, reason))
        self.clock.t = max(self.clock.t, resume_at)


def policy(**overrides: object) -> GatePolicy:
    values: dict[str, object] = {
        "name": "lichess.org",
        "user_agent": "gamekeeper-test",
        "cooldown_s": 60.0,
        "cooldown_is_floor": True,
        "attempts": 4,
        "backoff_base_s": 1.0,
        "backoff_max_s": 8.0,
        "busy_grace_s": 0.0,
    }
    values.update(overrides)
    return GatePolicy(**values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def waiter(clock: FakeClock) -> RecordingWaiter:
    return RecordingWaiter(clock)


@pytest.fixture
async def make_gate(clock: FakeClock) -> AsyncIterator[MakeGate]:
    clients: list[httpx.AsyncClient] = []

    def make(handler: Handler, **overrides: object) -> tuple[UpstreamGate, Seen]:
        seen: Seen = []

        async def record(request: httpx.Request) -> httpx.Response:
            seen.append((clock.now(), request))
            return await handler(request)

        client = httpx.AsyncClient(transport=httpx.MockTransport(record))
        clients.append(client)
        gate = UpstreamGate(client, policy(**overrides), rng=random.Random(7), now=clock.now)
        return gate, seen

    yield make
    for client in clients:
        await client.aclose()


def answers(*responses: httpx.Response | Exception) -> Handler:
    """A handler giving these answers in turn (the last one repeats)."""
    queue = list(responses)

    async def handle(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item

    return handle


def get(url: str = "https://lichess.org/api/user/alice") -> httpx.Request:
    return httpx.Request("GET", url)


async def test_every_request_carries_the_user_agent(
    make_gate: MakeGate, waiter: RecordingWaiter
) -> None:
    gate, seen = make_gate(answers(httpx.Response(200, json={})))
    await gate.send(get(), wait=waiter)
    assert seen[0][1].headers["User-Agent"] == "gamekeeper-test"


async def test_5xx_is_retried_with_jittered_backoff_through_the_waiter(
    make_gate: MakeGate, waiter: RecordingWaiter
) -> None:
    gate, seen = make_gate(
        answers(httpx.Response(502), httpx.Response(503), httpx.Response(200, text="ok"))
    )
    response = await gate.send(get(), wait=waiter)
    assert response.text == "ok"
    assert len(seen) == 3
    assert len(waiter.calls) == 2
    # Full jitter: each wait is somewhere in [0, base * 2^(n-1)].
    first, second = (resume - T0 for resume, _ in waiter.calls)
    assert timedelta(0) <= first <= timedelta(seconds=1)
    assert first <= second <= first + timedelta(seconds=2)
    assert "lichess.org answered 502" in waiter.calls[0][1]
    stats = gate.stats()
    assert (stats.requests, stats.retries, stats.failures) == (3, 2, 2)


async def test_retry_after_on_a_5xx_is_honoured(
    make_gate: MakeGate, waiter: RecordingWaiter
) -> None:
    gate, _ = make_gate(
        answers(httpx.Response(503, headers={"Retry-After": "17"}), httpx.Response(200))
    )
    await gate.send(get(), wait=waiter)
    assert waiter.calls[0][0] == T0 + timedelta(seconds=17)


async def test_attempts_are_bounded_then_source_unavailable(
    make_gate: MakeGate, waiter: RecordingWaiter
) -> None:
    gate, seen = make_gate(answers(httpx.Response(500)))
    with pytest.raises(SourceUnavailable, match="gave up after 4 attempts"):
        await gate.send(get(), wait=waiter)
    assert len(seen) == 4


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("reset")],
)
async def test_network_failures_are_retried(
    make_gate: MakeGate, waiter: RecordingWaiter, failure: Exception
) -> None:
    gate, seen = make_gate(answers(failure, httpx.Response(200, text="ok")))
    assert (await gate.send(get(), wait=waiter)).text == "ok"
    assert len(seen) == 2


async def test_network_failures_exhausted_become_source_unavailable(
    make_gate: MakeGate, waiter: RecordingWaiter
) -> None:
    gate, _ = make_gate(answers(httpx.ConnectError("refused")))
    with pytest.raises(SourceUnavailable) as caught:
        await gate.send(get(), wait=waiter)
    assert not isinstance(caught.value, httpx.HTTPError)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (404, AccountNotFound),
        (410, SourceGone),
        (401, ConfigurationError),
        (400, SourceError),
    ],
)
async def test_error_statuses_are_translated(
    make_gate: MakeGate, waiter: RecordingWaiter, status: int, error: type
) -> None:
    gate, seen = make_gate(answers(httpx.Response(status, json={"error": "Not found."})))
    with pytest.raises(error):
        await gate.send(get(), wait=waiter)
    assert len(seen) == 1  # never retried


async def test_a_429_cools_the_host_down_then_retries(
    make_gate: MakeGate, waiter: RecordingWaiter
) -> None:
    gate, seen = make_gate(answers(httpx.Response(429), httpx.Response(200, text="ok")))
    assert (await gate.send(get(), wait=waiter)).text == "ok"
    resume_at, reason = waiter.calls[0]
    assert resume_at == T0 + timedelta(seconds=60)
    assert reason == "lichess.org rate limit (429): cooling down 60 s"
    assert seen[1][0] >= resume_at
    assert gate.stats().rate_limited == 1


async def test_lichess_cooldown_is_at_least_the_setting_even_with_a_short_retry_after(
    make_gate: MakeGate, waiter: RecordingWaiter
) -> None:
    gate, _ = make_gate(
        answers(httpx.Response(429, headers={"Retry-After": "5"}), httpx.Response(200))
    )
    await gate.send(get(), wait=waiter)
    assert waiter.calls[0][0] == T0 + timedelta(seconds=60)


async def test_other_hosts_follow_retry_after(make_gate: MakeGate, waiter: RecordingWaiter) -> None:
    gate, _ = make_gate(
        answers(httpx.Response(429, headers={"Retry-After": "5"}), httpx.Response(200)),
        cooldown_is_floor=False,
    )
    await gate.send(get(), wait=waiter)
    assert waiter.calls[0][0] == T0 + timedelta(seconds=5)


async def test_repeated_429s_grow_the_cooldown_and_a_success_resets_it(
    make_gate: MakeGate, waiter: RecordingWaiter
) -> None:
    gate, _ = make_gate(
        answers(
            httpx.Response(429),
            httpx.Response(429),
            httpx.Response(429),
            httpx.Response(200),
            httpx.Response(429),
            httpx.Response(200),
        )
    )
    await gate.send(get(), wait=waiter)
    await gate.send(get(), wait=waiter)
    starts = [T0, *(resume for resume, _ in waiter.calls)]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert gaps == [60, 120, 240, 60]


async def test_429s_that_never_stop_raise_rate_limited(
    make_gate: MakeGate, waiter: RecordingWaiter
) -> None:
    gate, seen = make_gate(answers(httpx.Response(429)), attempts=3)
    with pytest.raises(RateLimited) as caught:
        await gate.send(get(), wait=waiter)
    assert len(seen) == 3
    assert caught.value.retry_after > 0


async def test_the_cooldown_holds_for_every_job_sharing_the_host(
    make_gate: MakeGate, clock: FakeClock
) -> None:
    release = asyncio.Event()
    first_sent = asyncio.Event()
    calls = 0

    async def handle(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            first_sent.set()
            await release.wait()  # job B queues behind this request
            return httpx.Response(429)
        return httpx.Response(200)

    gate, seen = make_gate(handle, busy_grace_s=60.0)
    waits_b = RecordingWaiter(clock)
    b_waited = asyncio.Event()
    waits_a: list[datetime] = []

    async def wait_a(resume_at: datetime, reason: str) -> None:
        # Job A's cool-down lasts until job B has had its turn at the slot.
        waits_a.append(resume_at)
        await b_waited.wait()
        clock.t = max(clock.t, resume_at)

    async def wait_b(resume_at: datetime, reason: str) -> None:
        await waits_b(resume_at, reason)
        b_waited.set()

    job_a = asyncio.create_task(gate.send(get(), wait=wait_a))
    await first_sent.wait()
    job_b = asyncio.create_task(gate.send(get(), wait=wait_b))
    release.set()
    await asyncio.gather(job_a, job_b)
    until = T0 + timedelta(seconds=60)
    assert waits_a == [until]
    assert all(at >= until for at, _ in seen[1:])
    # Job B never got a 429 itself, yet it waited out the same cool-down.
    assert waits_b.calls == [(until, "lichess.org rate limit (429): cooling down 60 s")]


async def test_cancelling_during_the_cooldown_returns_at_once(
    make_gate: MakeGate, clock: FakeClock
) -> None:
    gate, seen = make_gate(answers(httpx.Response(429), httpx.Response(200)))
    waits: list[datetime] = []

    async def cancelled(resume_at: datetime, reason: str) -> None:
        waits.append(resume_at)
        raise JobCancelled()

    with pytest.raises(JobCancelled):
        await gate.send(get(), wait=cancelled)
    assert len(seen) == 1
    assert waits == [T0 + timedelta(seconds=60)]


async def test_only_one_request_is_ever_in_flight(
    make_gate: MakeGate, waiter: RecordingWaiter
) -> None:
    in_flight = 0
    most = 0

    async def handle(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        for _ in range(3):
            await asyncio.sleep(0)  # let the other jobs try to get in
        in_flight -= 1
        return httpx.Response(200)

    gate, seen = make_gate(handle, busy_grace_s=60.0)
    await asyncio.gather(*(gate.send(get(), wait=waiter) for _ in range(8)))
    assert len(seen) == 8
    assert most == 1

    # The same handler without the gate does see overlap: the check above can fail.
    most = 0
    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as raw:
        await asyncio.gather(*(raw.send(get()) for _ in range(8)))
    assert most > 1


async def test_a_job_queued_behind_a_stream_can_be_cancelled(
    make_gate: MakeGate, clock: FakeClock
) -> None:
    gate, seen = make_gate(answers(httpx.Response(200, text="x")))
    reasons: list[str] = []

    async def cancelled(resume_at: datetime, reason: str) -> None:
        reasons.append(reason)
        raise JobCancelled()

    async with gate.stream(get(), wait=RecordingWaiter(clock)):
        with pytest.raises(JobCancelled):
            await gate.send(get(), wait=cancelled)
    assert reasons == ["waiting for lichess.org: another request is in flight"]
    assert len(seen) == 1
    # The cancelled job left the slot free.
    await asyncio.wait_for(gate.send(get(), wait=RecordingWaiter(clock)), 5)


async def test_a_queued_job_stops_waiting_when_the_slot_frees(
    make_gate: MakeGate, clock: FakeClock
) -> None:
    gate, seen = make_gate(answers(httpx.Response(200)))
    announced = asyncio.Event()
    interrupted = asyncio.Event()

    async def patient(resume_at: datetime, reason: str) -> None:
        announced.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            interrupted.set()
            raise

    async with gate.stream(get(), wait=None):
        job = asyncio.create_task(gate.send(get(), wait=patient))
        await announced.wait()
    await job
    assert interrupted.is_set()
    assert len(seen) == 2


class BreakingStream(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"id":"a"}\n'
        raise httpx.ReadError("connection reset by peer")


async def test_a_connection_broken_mid_stream_is_stream_broken(
    make_gate: MakeGate, waiter: RecordingWaiter
) -> None:
    gate, _ = make_gate(answers(httpx.Response(200, stream=BreakingStream()), httpx.Response(200)))
    received: list[bytes] = []

    async def consume() -> None:
        async with gate.stream(get(), wait=waiter) as response:
            async for chunk in response.aiter_bytes():
                received.append(chunk)

    with pytest.raises(StreamBroken):
        await consume()
    assert received == [b'{"id":"a"}\n']
    # ...and the slot was released.
    await asyncio.wait_for(gate.send(get(), wait=waiter), 5)


async def test_min_interval_spaces_requests(make_gate: MakeGate) -> None:
    times: list[float] = []
    loop = asyncio.get_running_loop()

    async def handle(request: httpx.Request) -> httpx.Response:
        times.append(loop.time())
        return httpx.Response(200)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    gate = UpstreamGate(client, policy(min_interval_s=0.05))
    try:
        for _ in range(3):
            await gate.send(get())
    finally:
        await client.aclose()
    assert all(b - a >= 0.05 for a, b in itertools.pairwise(times))


def test_backoff_is_full_jitter_under_an_exponential_ceiling() -> None:
    gate = UpstreamGate(
        httpx.AsyncClient(), policy(backoff_base_s=1.0, backoff_max_s=8.0), rng=random.Random(1)
    )
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [gate.backoff_delay(attempt) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # spread over the whole range, not fixed
        assert min(delays) < ceiling * 0.2


def test_retry_after_header_forms() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("Thu, 01 Jan 2026 12:01:30 GMT", now) == 90
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


async def test_upstreams_has_one_gate_per_host_with_the_settings() -> None:
    seen: list[httpx.Request] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    settings = Settings(
        lichess_url="https://lichess.org",
        chesscom_url="https://api.chess.com",
        contact="ops@example.org",
        lichess_cooldown_s=61,
        chesscom_cooldown_s=7,
    )
    async with Upstreams(
        upstreams_from(settings), transport=httpx.MockTransport(handle)
    ) as upstreams:
        assert upstreams.gate("https://lichess.org/api") is upstreams.lichess
        assert upstreams.chesscom is not upstreams.lichess
        assert upstreams.lichess.policy.cooldown_s == 61
        assert upstreams.lichess.policy.cooldown_is_floor
        assert upstreams.chesscom.policy.cooldown_s == 7
        assert not upstreams.chesscom.policy.cooldown_is_floor
        await upstreams.lichess.send(get())
        assert "ops@example.org" in seen[0].headers["User-Agent"]
        assert seen[0].headers["User-Agent"].startswith("gamekeeper/")
        assert [s.host for s in upstreams.stats()] == ["lichess.org", "api.chess.com"]
        assert upstreams.stats()[0].requests == 1


async def test_the_local_coordinator_lets_one_holder_in_at_a_time_in_order() -> None:
    from gamekeeper.connectors.gate.base import HostCoordinator
    from gamekeeper.domain.upstreams import HostState

    coordinator: HostCoordinator = LocalHostCoordinator()
    log: list[str] = []
    entered, release = asyncio.Event(), asyncio.Event()

    async def hold(name: str) -> None:
        async with coordinator.slot():
            log.append(f"{name} in")
            if name == "first":
                entered.set()
                await release.wait()
            log.append(f"{name} out")

    first = asyncio.create_task(hold("first"))
    await entered.wait()
    others = [asyncio.create_task(hold(name)) for name in ("second", "third")]
    release.set()
    await asyncio.gather(first, *others)
    assert log == ["first in", "first out", "second in", "second out", "third in", "third out"]

    until = datetime(2026, 1, 1, tzinfo=UTC)
    await coordinator.write(HostState(cooldown_until=until, strikes=2))
    assert await coordinator.read() == HostState(cooldown_until=until, strikes=2)
