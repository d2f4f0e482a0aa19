"""ChessComSource on httpx.MockTransport: months from a cursor, ETags, 304/404/410/301."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import orjson
import pytest

from gamekeeper.connectors.chesscom.source import ChessComSource, MonthArchive
from gamekeeper.connectors.gate.exchange import UpstreamGate
from gamekeeper.connectors.gate.policy import GatePolicy
from gamekeeper.domain.games import Game
from gamekeeper.errors import AccountNotFound, SourceUnavailable

FIXTURES = Path(__file__).parents[2] / "fixtures" / "chesscom"
BASE = "https://api.chess.com"
Handler = Callable[[httpx.Request], httpx.Response]
SourceFor = Callable[[Handler], ChessComSource]
MONTH = (FIXTURES / "erik_2009-10_monthly-archive_46.json").read_bytes()


def archives(*months: str) -> httpx.Response:
    urls = [f"{BASE}/pub/player/erik/games/{m}" for m in months]
    return httpx.Response(200, json={"archives": urls})


@pytest.fixture
async def source_for() -> AsyncIterator[SourceFor]:
    clients: list[httpx.AsyncClient] = []

    def make(handler: Handler) -> ChessComSource:
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=True)
        clients.append(client)
        policy = GatePolicy(name="api.chess.com", user_agent="test", attempts=2)
        return ChessComSource(UpstreamGate(client, policy), BASE)

    yield make
    for client in clients:
        await client.aclose()


async def months_of(source: ChessComSource, **kwargs: object) -> list[MonthArchive]:
    return [m async for m in source.iter_months("erik", **kwargs)]  # type: ignore[arg-type]


async def test_only_months_from_the_cursor_are_fetched_in_order(source_for: SourceFor) -> None:
    paths: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        if request.url.path.endswith("/archives"):
            return archives("2009/10", "2008/01", "2009/09", "2009/11")
        return httpx.Response(200, content=MONTH, headers={"ETag": '"e1"'})

    months = await months_of(source_for(handle), from_month="2009/10")
    assert [m.month for m in months] == ["2009/10", "2009/11"]
    assert paths == [
        "/pub/player/erik/games/archives",
        "/pub/player/erik/games/2009/10",
        "/pub/player/erik/games/2009/11",
    ]
    first = months[0]
    assert (first.status, first.etag, first.total) == ("ok", '"e1"', 46)
    assert all(isinstance(game, Game) for game in first.games)


async def test_stored_etags_are_sent_and_a_304_means_nothing_new(source_for: SourceFor) -> None:
    seen: dict[str, str | None] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/archives"):
            return archives("2009/10", "2009/11")
        seen[request.url.path[-7:]] = request.headers.get("If-None-Match")
        if request.headers.get("If-None-Match") == '"old"':
            return httpx.Response(304, headers={"ETag": '"old"'})
        return httpx.Response(200, content=MONTH, headers={"ETag": '"new"'})

    months = await months_of(source_for(handle), etags={"2009/10": '"old"'})
    assert seen == {"2009/10": '"old"', "2009/11": None}
    assert (months[0].status, months[0].etag, months[0].games) == ("not_modified", '"old"', ())
    assert months[1].status == "ok"


async def test_a_410_month_is_gone(source_for: SourceFor) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/archives"):
            return archives("2009/10")
        return httpx.Response(410)

    months = await months_of(source_for(handle))
    assert [(m.month, m.status) for m in months] == [("2009/10", "gone")]


async def test_an_unknown_player_is_account_not_found(source_for: SourceFor) -> None:
    source = source_for(lambda request: httpx.Response(404, json={"message": "not found"}))
    with pytest.raises(AccountNotFound):
        await months_of(source)
    with pytest.raises(AccountNotFound):
        await source.profile("nobody")


async def test_a_moved_url_is_followed(source_for: SourceFor) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/pub/player/oldname"):
            new = request.url.path.replace("oldname", "erik")
            return httpx.Response(301, headers={"Location": f"{BASE}{new}"})
        return archives("2009/10")

    assert await source_for(handle).archives("OldName") == ["2009/10"]


async def test_a_garbled_month_fails_the_fetch_instead_of_being_recorded(
    source_for: SourceFor,
) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/archives"):
            return archives("2009/10")
        return httpx.Response(200, content=b"<html>oops</html>")

    with pytest.raises(SourceUnavailable):
        await months_of(source_for(handle))


async def test_profile(source_for: SourceFor) -> None:
    body = (FIXTURES / "erik_player-profile_2026-snapshot.json").read_bytes()
    profile = await source_for(lambda request: httpx.Response(200, content=body)).profile("erik")
    assert profile.player_id == 41
    assert orjson.loads(body)["username"] == profile.username


async def no_wait(resume_at: object, reason: str) -> None:
    return None


async def test_an_archive_list_cut_short_is_asked_for_again(source_for: SourceFor) -> None:
    calls = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        whole = archives("2009/10", "2009/11").content
        return httpx.Response(200, content=whole[: len(whole) // 2] if calls == 1 else whole)

    assert await source_for(handle).archives("erik", wait=no_wait) == ["2009/10", "2009/11"]
    assert calls == 2


async def test_a_profile_always_cut_short_is_unavailable_not_malformed(
    source_for: SourceFor,
) -> None:
    body = (FIXTURES / "erik_player-profile_2026-snapshot.json").read_bytes()
    source = source_for(lambda request: httpx.Response(200, content=body[:40]))
    with pytest.raises(SourceUnavailable, match="gave up after 2 attempts"):
        await source.profile("erik", wait=no_wait)
