"""ChessComSource through the gate against the Chess.com emulator over real HTTP."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

import pytest

from gamekeeper.connectors.chesscom.source import ChessComSource, MonthArchive
from gamekeeper.domain.games import Game
from gamekeeper.emulators.chesscom import ChessComEmulator
from gamekeeper.errors import AccountNotFound
from tests.integration.conftest import UpstreamsFor


async def months(
    source: ChessComSource, username: str = "alice", **kwargs: Any
) -> list[MonthArchive]:
    async with aclosing(source.iter_months(username, **kwargs)) as archive:
        return [month async for month in archive]


def month_paths(emulator: ChessComEmulator) -> list[str]:
    return [e.path.rsplit("/games/", 1)[1] for e in emulator.log.entries if "/games/2" in e.path]


async def test_every_month_and_game_is_fetched_in_order(
    chesscom_emulator: ChessComEmulator, chesscom_url: str, upstreams_for: UpstreamsFor
) -> None:
    account = chesscom_emulator.corpus.account("alice")
    assert account is not None
    async with upstreams_for(chesscom_url=chesscom_url) as upstreams:
        fetched = await months(ChessComSource(upstreams.chesscom, chesscom_url))
    assert [m.month for m in fetched] == sorted(account.months)
    assert len(fetched) > 3
    assert all(m.status == "ok" and m.etag for m in fetched)
    games = [g for m in fetched for g in m.games]
    assert len(games) == sum(m.total for m in fetched) == 120
    assert all(isinstance(g, Game) for g in games)
    ends = [g.end_time for g in games if isinstance(g, Game)]
    assert ends == sorted(ends)  # type: ignore[type-var]
    request = chesscom_emulator.log.entries[0]
    assert request.path == "/pub/player/alice/games/archives"
    assert "tests@gamekeeper.invalid" in request.headers["user-agent"]


async def test_a_second_fetch_of_unchanged_months_gets_304s(
    chesscom_emulator: ChessComEmulator, chesscom_url: str, upstreams_for: UpstreamsFor
) -> None:
    async with upstreams_for(chesscom_url=chesscom_url) as upstreams:
        source = ChessComSource(upstreams.chesscom, chesscom_url)
        first = await months(source)
        etags = {m.month: m.etag for m in first if m.etag}
        chesscom_emulator.log.clear()
        second = await months(source, etags=etags)
    assert {m.status for m in second} == {"not_modified"}
    assert all(m.games == () for m in second)
    month_requests = [e for e in chesscom_emulator.log.entries if "/games/2" in e.path]
    assert len(month_requests) == len(first)
    assert all(e.headers.get("if-none-match") == etags[e.path[-7:]] for e in month_requests)
    assert {e.status for e in month_requests} == {304}


async def test_only_months_at_or_after_the_cursor_are_requested(
    chesscom_emulator: ChessComEmulator, chesscom_url: str, upstreams_for: UpstreamsFor
) -> None:
    account = chesscom_emulator.corpus.account("alice")
    assert account is not None
    all_months = sorted(account.months)
    cursor = all_months[len(all_months) // 2]
    async with upstreams_for(chesscom_url=chesscom_url) as upstreams:
        fetched = await months(ChessComSource(upstreams.chesscom, chesscom_url), from_month=cursor)
    expected = [m for m in all_months if m >= cursor]
    assert [m.month for m in fetched] == expected
    assert month_paths(chesscom_emulator) == expected


async def test_new_games_change_only_their_month(
    chesscom_emulator: ChessComEmulator, chesscom_url: str, upstreams_for: UpstreamsFor
) -> None:
    async with upstreams_for(chesscom_url=chesscom_url) as upstreams:
        source = ChessComSource(upstreams.chesscom, chesscom_url)
        first = await months(source)
        etags = {m.month: m.etag for m in first if m.etag}
        added = chesscom_emulator.corpus.add_games("alice", 5)
        second = await months(source, from_month=first[-1].month, etags=etags)
    changed = [m for m in second if m.status == "ok"]
    assert changed
    new_urls = {g.url for m in changed for g in m.games if isinstance(g, Game)}
    assert set(added) <= new_urls
    assert all(m.status == "not_modified" for m in second if m.month in etags and m not in changed)


async def test_a_gone_month_is_reported_and_the_rest_fetched(
    chesscom_emulator: ChessComEmulator, chesscom_url: str, upstreams_for: UpstreamsFor
) -> None:
    account = chesscom_emulator.corpus.account("alice")
    assert account is not None
    gone = sorted(account.months)[1]
    chesscom_emulator.gone_months.add(("alice", gone))
    async with upstreams_for(chesscom_url=chesscom_url) as upstreams:
        fetched = await months(ChessComSource(upstreams.chesscom, chesscom_url))
    statuses = {m.month: m.status for m in fetched}
    assert statuses[gone] == "gone"
    assert sum(1 for s in statuses.values() if s == "ok") == len(statuses) - 1


async def test_a_renamed_player_is_followed(
    chesscom_emulator: ChessComEmulator, chesscom_url: str, upstreams_for: UpstreamsFor
) -> None:
    chesscom_emulator.rename("oldalice", "alice")
    async with upstreams_for(chesscom_url=chesscom_url) as upstreams:
        fetched = await months(ChessComSource(upstreams.chesscom, chesscom_url), "OldAlice")
    assert sum(m.total for m in fetched) == 120
    assert 301 in {e.status for e in chesscom_emulator.log.entries}


async def test_an_unknown_player_is_account_not_found(
    chesscom_url: str, upstreams_for: UpstreamsFor
) -> None:
    async with upstreams_for(chesscom_url=chesscom_url) as upstreams:
        source = ChessComSource(upstreams.chesscom, chesscom_url)
        with pytest.raises(AccountNotFound):
            await months(source, "nobody")
        with pytest.raises(AccountNotFound):
            await source.profile("nobody")


async def test_resets_and_5xx_are_retried(
    chesscom_emulator: ChessComEmulator, chesscom_url: str, upstreams_for: UpstreamsFor
) -> None:
    chesscom_emulator.faults.error_burst = 1
    async with upstreams_for(chesscom_url=chesscom_url) as upstreams:
        source = ChessComSource(upstreams.chesscom, chesscom_url)
        listed = await source.archives("alice")
        chesscom_emulator.faults.reset_streams = 1
        fetched = await source.fetch_month("alice", listed[0])
    assert fetched.status == "ok" and fetched.total > 0
    statuses = [e.status for e in chesscom_emulator.log.entries]
    assert statuses == [503, 200, 200, 200]


async def test_profile_and_a_player_without_games(
    chesscom_url: str, upstreams_for: UpstreamsFor
) -> None:
    async with upstreams_for(chesscom_url=chesscom_url) as upstreams:
        source = ChessComSource(upstreams.chesscom, chesscom_url)
        profile = await source.profile("Alice")
        assert profile.username == "alice"
        assert profile.player_id is not None
        assert await source.archives("carol") == []
