"""LichessSource through the gate against the Lichess emulator over real HTTP."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from gamekeeper.connectors.base import GameOrError, GamesQuery, RecordError, Waiter
from gamekeeper.connectors.chesscom.source import ChessComSource
from gamekeeper.connectors.lichess.records import datetime_to_ms
from gamekeeper.connectors.lichess.source import LichessSource
from gamekeeper.domain.games import Game, Termination
from gamekeeper.emulators.chesscom import ChessComEmulator
from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.errors import AccountNotFound, JobCancelled
from tests.integration.conftest import RecordingWaiter, UpstreamsFor


async def collect(
    source: LichessSource,
    username: str = "alice",
    wait: Waiter | None = None,
    **query: Any,
) -> list[GameOrError]:
    async with aclosing(source.iter_games(username, GamesQuery(**query), wait=wait)) as items:
        return [item async for item in items]


def games_of(items: list[GameOrError]) -> list[Game]:
    return [item for item in items if isinstance(item, Game)]


def corpus_ids(emulator: LichessEmulator, username: str = "alice") -> list[str]:
    account = emulator.corpus.account(username)
    assert account is not None
    return [game.id for game in account.games]


async def test_the_export_yields_every_game_oldest_first(
    lichess_emulator: LichessEmulator, lichess_url: str, upstreams_for: UpstreamsFor
) -> None:
    async with upstreams_for(lichess_url=lichess_url) as upstreams:
        items = await collect(LichessSource(upstreams.lichess, lichess_url))
    games = games_of(items)
    assert len(games) == len(items) == 120
    assert [g.platform_game_id for g in games] == corpus_ids(lichess_emulator)
    # Spot-check a game against the record the emulator holds.
    account = lichess_emulator.corpus.account("alice")
    assert account is not None
    raw = orjson.loads(account.lines[17])
    game = games[17]
    assert game.start_time == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
        milliseconds=raw["createdAt"]
    )
    assert game.moves == tuple(raw.get("moves", "").split())
    assert game.clocks == (tuple(raw["clocks"]) if "clocks" in raw else None)
    assert orjson.loads(game.raw)["id"] == raw["id"]
    # What the request asked for, and who asked.
    request = lichess_emulator.log.entries[0]
    assert request.path == "/api/games/user/alice"
    assert request.query["sort"] == "dateAsc"
    assert request.query["clocks"] == request.query["evals"] == request.query["opening"] == "true"
    assert request.headers["accept"] == "application/x-ndjson"
    assert "tests@gamekeeper.invalid" in request.headers["user-agent"]


async def test_since_is_inclusive_and_new_games_come_after_the_cursor(
    lichess_emulator: LichessEmulator, lichess_url: str, upstreams_for: UpstreamsFor
) -> None:
    async with upstreams_for(lichess_url=lichess_url) as upstreams:
        source = LichessSource(upstreams.lichess, lichess_url)
        first = games_of(await collect(source))
        assert first[-1].start_time is not None
        cursor = datetime_to_ms(first[-1].start_time)
        added = lichess_emulator.corpus.add_games("alice", 37)
        second = games_of(await collect(source, since_ms=cursor))
    assert [g.platform_game_id for g in second] == [first[-1].platform_game_id, *added]


async def test_twenty_thousand_games_are_parsed_as_they_stream(
    upstreams_for: UpstreamsFor,
) -> None:
    """The first game comes out before the last is sent, and memory stays flat."""
    import tracemalloc

    from gamekeeper.emulators.lichess_records import LichessCorpus
    from gamekeeper.emulators.server import serve_async

    emulator = LichessEmulator(LichessCorpus.generate({"streamer": 20_000}, seed=3))
    async with serve_async(emulator) as url, upstreams_for(lichess_url=url) as upstreams:
        source = LichessSource(upstreams.lichess, url)
        # Warm the emulator's cache for these parameters, so only the client is measured.
        assert len(await collect(source, "streamer", max=1)) == 1
        emulator.log.clear()
        sent_when_first_yielded: int | None = None
        count = 0
        baseline = peak = 0
        try:
            async with aclosing(source.iter_games("streamer")) as items:
                async for item in items:
                    assert isinstance(item, Game)
                    count += 1
                    if count == 1:
                        sent_when_first_yielded = emulator.log.entries[0].items_sent
                    elif count == 2_000:
                        # Trace a stretch of 6,000 games (about 6 MB of stream): tracing
                        # all of it would only make the test slower.
                        tracemalloc.start()
                        baseline, _ = tracemalloc.get_traced_memory()
                    elif count == 8_000:
                        _, peak = tracemalloc.get_traced_memory()
                        tracemalloc.stop()
        finally:
            tracemalloc.stop()
    assert count == 20_000
    assert sent_when_first_yielded is not None and sent_when_first_yielded < 20_000
    # Parsing must not hold on to what it has read: 6 MB went by, far less stayed.
    assert peak - baseline < 4_000_000  # keeping the games would take about 40 MB


async def test_eight_jobs_share_a_host_one_request_at_a_time(
    lichess_emulator: LichessEmulator,
    lichess_url: str,
    chesscom_emulator: ChessComEmulator,
    chesscom_url: str,
    upstreams_for: UpstreamsFor,
    waiter: RecordingWaiter,
) -> None:
    async with upstreams_for(lichess_url=lichess_url, chesscom_url=chesscom_url) as upstreams:
        lichess = LichessSource(upstreams.lichess, lichess_url)
        chesscom = ChessComSource(upstreams.chesscom, chesscom_url)
        ids = corpus_ids(lichess_emulator)[:40]

        async def lichess_job(n: int) -> int:
            if n % 4 == 0:
                return len(await collect(lichess, "alice", wait=waiter))
            if n % 4 == 1:
                return len(await collect(lichess, "bob", wait=waiter))
            if n % 4 == 2:
                return len([g async for g in lichess.export_by_ids(ids, wait=waiter)])
            return (await lichess.profile("alice", wait=waiter)).count_all or 0

        async def chesscom_job(n: int) -> int:
            username = "alice" if n % 2 else "bob"
            return sum([m.total async for m in chesscom.iter_months(username, wait=waiter)])

        results = await asyncio.gather(
            *(lichess_job(n) for n in range(8)), *(chesscom_job(n) for n in range(8))
        )
    assert results[:4] == [120, 12, 40, 120]
    assert results[8:10] == [12, 120]
    for emulator in (lichess_emulator, chesscom_emulator):
        assert len(emulator.log.entries) >= 8
        assert emulator.max_concurrent == 1
        assert all(entry.status != 429 for entry in emulator.log.entries)


async def test_the_emulator_does_see_concurrent_clients(
    lichess_emulator: LichessEmulator, lichess_url: str
) -> None:
    """Without the gate the same traffic overlaps: the check above can fail."""
    lichess_emulator.faults.latency_s = 0.2
    async with httpx.AsyncClient() as client:
        responses = await asyncio.gather(
            *(client.get(f"{lichess_url}/api/user/alice") for _ in range(4))
        )
    assert lichess_emulator.max_concurrent > 1
    assert 429 in {response.status_code for response in responses}


async def test_a_429_cools_every_job_down_and_says_until_when(
    lichess_emulator: LichessEmulator, lichess_url: str, upstreams_for: UpstreamsFor
) -> None:
    lichess_emulator.faults.rate_limit_burst = 1
    waits_a, waits_b = RecordingWaiter(), RecordingWaiter()
    async with upstreams_for(lichess_url=lichess_url, lichess_cooldown_s=0.3) as upstreams:
        source = LichessSource(upstreams.lichess, lichess_url)
        games_a, games_b = await asyncio.gather(
            collect(source, "alice", wait=waits_a), collect(source, "bob", wait=waits_b)
        )
    assert (len(games_a), len(games_b)) == (120, 12)
    log = lichess_emulator.log.entries
    limited = [entry for entry in log if entry.status == 429]
    assert len(limited) == 1
    after = [entry for entry in log if entry.number > limited[0].number]
    assert len(after) == 2  # both jobs got their export after the cool-down
    announced = [call for call in waits_a.calls + waits_b.calls if "429" in call[1]]
    assert announced
    resume_at = min(when for when, _ in announced)
    assert resume_at >= limited[0].at + timedelta(seconds=0.3)
    assert all(entry.at >= resume_at for entry in after)
    assert "rate limit (429): cooling down" in announced[0][1]


async def test_cancelling_during_the_cooldown_returns_at_once(
    lichess_emulator: LichessEmulator, lichess_url: str, upstreams_for: UpstreamsFor
) -> None:
    lichess_emulator.faults.rate_limit_burst = 1
    waiting = asyncio.Event()
    cancel = asyncio.Event()
    shown: list[datetime] = []

    async def job_wait(resume_at: datetime, reason: str) -> None:
        shown.append(resume_at)
        waiting.set()
        await cancel.wait()
        raise JobCancelled()

    async with upstreams_for(lichess_url=lichess_url, lichess_cooldown_s=3600) as upstreams:
        source = LichessSource(upstreams.lichess, lichess_url)
        job = asyncio.create_task(collect(source, wait=job_wait))
        await waiting.wait()
        cancel.set()
        with pytest.raises(JobCancelled):
            await asyncio.wait_for(job, 10)
    assert [entry.status for entry in lichess_emulator.log.entries] == [429]
    assert shown[0] > datetime.now(UTC) + timedelta(minutes=59)


async def test_a_5xx_burst_is_retried(
    lichess_emulator: LichessEmulator, lichess_url: str, upstreams_for: UpstreamsFor
) -> None:
    lichess_emulator.faults.error_burst = 2
    async with upstreams_for(lichess_url=lichess_url) as upstreams:
        games = games_of(await collect(LichessSource(upstreams.lichess, lichess_url)))
        stats = upstreams.lichess.stats()
    assert len(games) == 120
    assert [entry.status for entry in lichess_emulator.log.entries] == [503, 503, 200]
    assert (stats.retries, stats.failures) == (2, 2)


async def test_a_reset_mid_stream_resumes_from_the_last_good_game(
    lichess_emulator: LichessEmulator, lichess_url: str, upstreams_for: UpstreamsFor
) -> None:
    lichess_emulator.faults.reset_streams = 1
    lichess_emulator.faults.reset_after = 30
    async with upstreams_for(lichess_url=lichess_url) as upstreams:
        games = games_of(await collect(LichessSource(upstreams.lichess, lichess_url)))
    ids = corpus_ids(lichess_emulator)
    assert [g.platform_game_id for g in games] == ids  # each once, in order
    first, second = lichess_emulator.log.entries
    assert first.items_sent == 30 and "since" not in first.query
    assert games[29].start_time is not None
    assert second.query["since"] == str(datetime_to_ms(games[29].start_time))


async def test_a_cut_last_line_is_fetched_again(
    lichess_emulator: LichessEmulator, lichess_url: str, upstreams_for: UpstreamsFor
) -> None:
    lichess_emulator.faults.truncate_streams = 1
    async with upstreams_for(lichess_url=lichess_url) as upstreams:
        items = await collect(LichessSource(upstreams.lichess, lichess_url))
    assert [g.platform_game_id for g in games_of(items)] == corpus_ids(lichess_emulator)
    assert len(items) == 120
    assert len(lichess_emulator.log.entries) == 2


async def test_a_stalled_stream_is_detected_and_resumed(
    lichess_emulator: LichessEmulator, lichess_url: str, upstreams_for: UpstreamsFor
) -> None:
    lichess_emulator.faults.stall_streams = 1
    lichess_emulator.faults.stall_after = 50
    # The client hangs up on the stalled stream and reconnects at once; the server may
    # notice the hang-up a moment after the new request arrives, which is not overlap.
    lichess_emulator.faults.limit_concurrency = False
    async with upstreams_for(lichess_url=lichess_url, upstream_read_timeout_s=0.3) as upstreams:
        games = games_of(await collect(LichessSource(upstreams.lichess, lichess_url)))
    assert [g.platform_game_id for g in games] == corpus_ids(lichess_emulator)
    assert len(lichess_emulator.log.entries) == 2


async def test_a_malformed_line_is_an_item_error_and_the_rest_is_parsed(
    lichess_emulator: LichessEmulator, lichess_url: str, upstreams_for: UpstreamsFor
) -> None:
    lichess_emulator.faults.malformed_after = frozenset({5, 60})
    async with upstreams_for(lichess_url=lichess_url) as upstreams:
        items = await collect(LichessSource(upstreams.lichess, lichess_url))
    errors = [item for item in items if isinstance(item, RecordError)]
    assert [e.item for e in errors] == ["line 6", "line 62"]
    assert len(games_of(items)) == 120
    assert isinstance(items[5], RecordError)


async def test_an_unknown_user_is_account_not_found(
    lichess_url: str, upstreams_for: UpstreamsFor
) -> None:
    async with upstreams_for(lichess_url=lichess_url) as upstreams:
        source = LichessSource(upstreams.lichess, lichess_url)
        with pytest.raises(AccountNotFound):
            await collect(source, "nobody")
        with pytest.raises(AccountNotFound):
            await source.profile("nobody")


async def test_profile_counts_and_an_account_without_games(
    lichess_url: str, upstreams_for: UpstreamsFor
) -> None:
    async with upstreams_for(lichess_url=lichess_url) as upstreams:
        source = LichessSource(upstreams.lichess, lichess_url)
        profile = await source.profile("Alice")
        assert (profile.id, profile.count_all) == ("alice", 120)
        assert await collect(source, "carol") == []


async def test_two_stage_sync_metadata_then_moves_by_ids(
    lichess_emulator: LichessEmulator, lichess_url: str, upstreams_for: UpstreamsFor
) -> None:
    lichess_emulator.corpus.add_games("alice", 300)
    async with upstreams_for(lichess_url=lichess_url) as upstreams:
        source = LichessSource(upstreams.lichess, lichess_url)
        listed = games_of(await collect(source, moves=False))
        assert len(listed) == 420
        assert all(game.moves is None for game in listed)
        ids = [game.platform_game_id for game in listed]
        fetched = [item async for item in source.export_by_ids([*ids, "zzzzzzzz"])]
    bodies = [e for e in lichess_emulator.log.entries if e.path == "/api/games/export/_ids"]
    assert len(bodies) == 2
    games = games_of(fetched)
    assert sorted(g.platform_game_id for g in games) == sorted(ids)
    with_moves = [g for g in games if g.termination not in (Termination.NO_START,)]
    assert all(g.moves is not None for g in with_moves)
    missing = [item for item in fetched if isinstance(item, RecordError)]
    assert [m.item for m in missing] == ["zzzzzzzz"]


async def test_filters_reach_the_server(
    lichess_emulator: LichessEmulator, lichess_url: str, upstreams_for: UpstreamsFor
) -> None:
    async with upstreams_for(lichess_url=lichess_url) as upstreams:
        source = LichessSource(upstreams.lichess, lichess_url)
        blitz = games_of(await collect(source, perf_type="blitz", rated=True))
        few = games_of(await collect(source, max=7))
    assert blitz and all(g.speed == "blitz" and g.rated for g in blitz)
    assert [g.platform_game_id for g in few] == corpus_ids(lichess_emulator)[:7]
