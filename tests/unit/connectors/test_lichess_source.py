"""LichessSource on httpx.MockTransport: resuming broken streams, ids in chunks, profile."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import httpx
import orjson
import pytest

from gamekeeper.connectors.base import GameOrError, GamesQuery, RecordError
from gamekeeper.connectors.gate.exchange import UpstreamGate
from gamekeeper.connectors.gate.policy import GatePolicy
from gamekeeper.connectors.lichess.source import LichessSource
from gamekeeper.domain.games import Game
from gamekeeper.errors import AccountNotFound, SourceUnavailable

BASE = "https://lichess.org"
Handler = Callable[[httpx.Request], httpx.Response]
SourceFor = Callable[[Handler], LichessSource]


def game_line(game_id: str, created: int) -> bytes:
    record = {
        "id": game_id,
        "rated": True,
        "variant": "standard",
        "speed": "blitz",
        "perf": "blitz",
        "createdAt": created,
        "lastMoveAt": created + 1000,
        "status": "mate",
        "players": {"white": {"user": {"id": "alice", "name": "Alice"}, "rating": 1500}},
        "winner": "white",
        "moves": "f3 e5 g4 Qh4#",
    }
    return orjson.dumps(record) + b"\n"


#: Six games; g3 and g4 share a createdAt, as games of a simul can.
LINES = [
    game_line("g1", 1000),
    game_line("g2", 2000),
    game_line("g3", 3000),
    game_line("g4", 3000),
    game_line("g5", 4000),
    game_line("g6", 5000),
]


class Breaking(httpx.AsyncByteStream):
    """Sends `data`, then breaks the connection."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


def export(lines: list[bytes], since: int | None, max_: int | None) -> list[bytes]:
    """What the server would send for these parameters."""
    chosen = [line for line in lines if since is None or orjson.loads(line)["createdAt"] >= since]
    return chosen if max_ is None else chosen[:max_]


async def async_noop(resume_at: datetime, reason: str) -> None:
    return None


@pytest.fixture
async def source_for() -> AsyncIterator[SourceFor]:
    clients: list[httpx.AsyncClient] = []

    def make(handler: Handler) -> LichessSource:
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        clients.append(client)
        policy = GatePolicy(
            name="lichess.org",
            user_agent="test",
            attempts=3,
            backoff_base_s=0.0,
            backoff_max_s=0.0,
        )
        return LichessSource(UpstreamGate(client, policy, rng=random.Random(1)), BASE, token="tok")

    yield make
    for client in clients:
        await client.aclose()


async def collect(items: AsyncIterator[GameOrError]) -> list[GameOrError]:
    return [item async for item in items]


def ids(items: list[GameOrError]) -> list[str]:
    return [item.platform_game_id for item in items if isinstance(item, Game)]


async def test_a_stream_broken_mid_way_resumes_from_the_last_game(source_for: SourceFor) -> None:
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        since = request.url.params.get("since")
        body = b"".join(export(LINES, int(since) if since else None, None))
        if len(requests) == 1:
            # Break after g3 and half of g4.
            cut = b"".join(LINES[:3]) + LINES[3][:20]
            return httpx.Response(200, stream=Breaking(cut))
        return httpx.Response(200, content=body)

    items = await collect(source_for(handle).iter_games("alice", wait=async_noop))
    assert ids(items) == ["g1", "g2", "g3", "g4", "g5", "g6"]
    assert [r.url.params.get("since") for r in requests] == [None, "3000"]
    assert requests[0].headers["Authorization"] == "Bearer tok"


async def test_resuming_keeps_max_and_skips_every_game_at_the_cursor(source_for: SourceFor) -> None:
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        since = request.url.params.get("since")
        body = b"".join(
            export(LINES, int(since) if since else None, int(request.url.params["max"]))
        )
        if len(requests) == 1:
            return httpx.Response(200, stream=Breaking(b"".join(LINES[:4])))
        return httpx.Response(200, content=body)

    items = await collect(
        source_for(handle).iter_games("alice", GamesQuery(max=5), wait=async_noop)
    )
    assert ids(items) == ["g1", "g2", "g3", "g4", "g5"]
    # 5 wanted, 4 yielded, 2 of them (g3, g4) will be sent again.
    assert [r.url.params["max"] for r in requests] == ["5", "3"]


async def test_a_cut_last_line_is_a_broken_stream(source_for: SourceFor) -> None:
    calls = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(200, content=b"".join(LINES[:2]) + LINES[2][:30])
        since = int(request.url.params["since"])
        return httpx.Response(200, content=b"".join(export(LINES, since, None)))

    items = await collect(source_for(handle).iter_games("alice", wait=async_noop))
    assert ids(items) == ["g1", "g2", "g3", "g4", "g5", "g6"]
    assert not [item for item in items if isinstance(item, RecordError)]


async def test_a_whole_last_line_without_newline_is_a_game(source_for: SourceFor) -> None:
    body = b"".join(LINES[:2]) + LINES[2].rstrip(b"\n")
    source = source_for(lambda request: httpx.Response(200, content=body))
    assert ids(await collect(source.iter_games("alice"))) == ["g1", "g2", "g3"]


async def test_malformed_lines_are_item_errors_once(source_for: SourceFor) -> None:
    calls = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        data = [LINES[0], b'{"id": "bad", "players": \n', *LINES[1:3]]
        if calls == 1:
            return httpx.Response(200, stream=Breaking(b"".join(data)))
        since = int(request.url.params["since"])
        return httpx.Response(200, content=b"".join(export(LINES, since, None)))

    items = await collect(source_for(handle).iter_games("alice", wait=async_noop))
    errors = [item for item in items if isinstance(item, RecordError)]
    assert len(errors) == 1
    assert errors[0].item == "line 2"
    assert ids(items) == ["g1", "g2", "g3", "g4", "g5", "g6"]


async def test_streams_that_keep_breaking_give_up(source_for: SourceFor) -> None:
    source = source_for(lambda request: httpx.Response(200, stream=Breaking(LINES[0])))
    with pytest.raises(SourceUnavailable, match="broken streams"):
        await collect(source.iter_games("alice", wait=async_noop))


async def test_streams_that_each_bring_a_game_are_not_given_up(source_for: SourceFor) -> None:
    """Each stream breaks after one new game: four breaks, more than the 3 attempts
    allowed in a row, but each made progress, so the export goes on to the end."""
    streams = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal streams
        streams += 1
        since = int(request.url.params["since"]) if "since" in request.url.params else None
        chosen = export(LINES, since, None)
        again = sum(1 for line in chosen if orjson.loads(line)["createdAt"] == since)
        if len(chosen) > again + 1:
            return httpx.Response(200, stream=Breaking(b"".join(chosen[: again + 1])))
        return httpx.Response(200, content=b"".join(chosen))

    items = await collect(source_for(handle).iter_games("alice", wait=async_noop))
    assert ids(items) == ["g1", "g2", "g3", "g4", "g5", "g6"]
    assert streams == 5  # four broken, the last one whole


async def test_a_profile_cut_short_is_asked_for_again(source_for: SourceFor) -> None:
    calls = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        body = orjson.dumps({"id": "mary", "username": "Mary", "count": {"all": 9824}})
        return httpx.Response(200, content=body[:20] if calls == 1 else body)

    profile = await source_for(handle).profile("Mary", wait=async_noop)
    assert (profile.id, calls) == ("mary", 2)


async def test_unknown_user(source_for: SourceFor) -> None:
    source = source_for(lambda request: httpx.Response(404, json={"error": "Not found."}))
    with pytest.raises(AccountNotFound):
        await collect(source.iter_games("nobody"))
    with pytest.raises(AccountNotFound):
        await source.profile("nobody")


async def test_export_by_ids_sends_at_most_300_and_reports_missing_ones(
    source_for: SourceFor,
) -> None:
    bodies: list[list[str]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        wanted = request.content.decode().split(",")
        bodies.append(wanted)
        # The server knows every id but "gone".
        found = [game_line(i, 1000) for i in wanted if i != "gone"]
        return httpx.Response(200, content=b"".join(reversed(found)))

    wanted = [f"id{i:04}" for i in range(450)] + ["gone", "id0001"]
    items = await collect(source_for(handle).export_by_ids(wanted, moves=False))
    assert [len(body) for body in bodies] == [300, 151]
    games = [item for item in items if isinstance(item, Game)]
    assert len(games) == 450
    assert all(game.moves is None for game in games)
    errors = [item for item in items if isinstance(item, RecordError)]
    assert [error.item for error in errors] == ["gone"]


async def test_export_by_ids_resumes_with_the_ids_not_yet_received(source_for: SourceFor) -> None:
    bodies: list[list[str]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        wanted = request.content.decode().split(",")
        bodies.append(wanted)
        data = b"".join(game_line(i, 1000) for i in wanted)
        if len(bodies) == 1:
            return httpx.Response(200, stream=Breaking(data[: len(data) // 2]))
        return httpx.Response(200, content=data)

    items = await collect(source_for(handle).export_by_ids(["a", "b", "c", "d"], wait=async_noop))
    assert sorted(ids(items)) == ["a", "b", "c", "d"]
    assert bodies[1] == ["c", "d"]


async def test_profile(source_for: SourceFor) -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "mary", "username": "Mary", "count": {"all": 9824}})

    profile = await source_for(handle).profile("Mary")
    assert (profile.id, profile.count_all) == ("mary", 9824)
    assert seen[0].url.path == "/api/user/Mary"
