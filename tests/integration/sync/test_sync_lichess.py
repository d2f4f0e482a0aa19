"""Lichess sync end to end over real HTTP against the emulator."""

from __future__ import annotations

import orjson

from gamekeeper.bootstrap import Services
from gamekeeper.connectors.lichess.records import parse_game
from gamekeeper.domain.games import Platform
from gamekeeper.domain.jobs import JobStatus, PhaseStatus
from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.emulators.lichess_records import describe
from gamekeeper.storage.base import MissingMovesQuery
from tests.integration.sync.conftest import ServicesFactory, run_job, stored_games


def corpus_games(lichess: LichessEmulator, username: str) -> dict[str, object]:
    account = lichess.corpus.account(username)
    assert account is not None
    games = (parse_game(orjson.loads(line), line.decode()) for line in account.lines)
    return {g.platform_game_id: g for g in games}


async def test_full_sync_stores_exactly_the_corpus(
    services: Services, lichess: LichessEmulator
) -> None:
    lichess.corpus.add_games("alice", 4400)  # 5,000 in all
    account = await services.accounts.add("admin", "lichess", "alice")
    job = await run_job(services, "sync_games", account)

    assert job.status is JobStatus.COMPLETED, job.error
    expected = corpus_games(lichess, "alice")
    stored = await stored_games(services, Platform.LICHESS, "alice")
    assert len(expected) == 5000
    assert stored.keys() == expected.keys()
    for game_id, game in expected.items():
        mine = stored[game_id]
        assert (mine.start_time, mine.result, mine.termination, mine.moves, mine.clocks) == (  # type: ignore[attr-defined]
            game.start_time,  # type: ignore[attr-defined]
            game.result,  # type: ignore[attr-defined]
            game.termination,  # type: ignore[attr-defined]
            game.moves,  # type: ignore[attr-defined]
            game.clocks,  # type: ignore[attr-defined]
        ), game_id
    assert await services.store.count_games() == 5000  # no duplicates
    assert job.counters["inserted"] == 5000
    assert job.counters["found"] == 5000
    # A plain sync analyses with the plugins that need no engine: every stored game.
    assert job.counters["analyzed"] == 5000
    assert job.result["analysis"]["engine_evals"] == 0
    assert [(p.name, p.status) for p in job.phases] == [
        ("fetching", PhaseStatus.COMPLETED),
        ("enriching", PhaseStatus.COMPLETED),
        ("analyzing", PhaseStatus.COMPLETED),
    ]
    assert job.result["site_total"] == 5000
    assert job.result["stored"] == 5000
    assert job.result["difference"] == 0
    assert lichess.max_concurrent == 1


async def test_second_sync_fetches_only_from_the_cursor(
    services: Services, lichess: LichessEmulator
) -> None:
    account = await services.accounts.add("admin", "lichess", "alice")
    first = await run_job(services, "sync_games", account)
    assert first.status is JobStatus.COMPLETED
    cursor = await services.store.get_cursor(account.id, "lichess_games")
    ongoing = len(cursor["open_ids"])

    added = set(lichess.corpus.add_games("alice", 37))
    lichess.log.clear()
    second = await run_job(services, "sync_games", account)

    assert second.status is JobStatus.COMPLETED
    assert second.counters["inserted"] == 37
    stored = await stored_games(services, Platform.LICHESS, "alice")
    assert added <= stored.keys()
    exports = [e for e in lichess.log.entries if e.path == "/api/games/user/alice"]
    assert len(exports) == 1
    assert exports[0].query["since"] == str(cursor["since_ms"])
    assert exports[0].query["sort"] == "dateAsc"
    # Only the boundary game(s) at the cursor's millisecond and the re-checked
    # unfinished games come again; nothing older is fetched.
    assert second.counters["found"] <= 37 + 1 + ongoing


def set_status(lichess: LichessEmulator, username: str, index: int, status: str) -> str:
    """Change the status of a game in the emulator's corpus (as if it went on or ended)."""
    account = lichess.corpus.account(username)
    assert account is not None
    record = orjson.loads(account.lines[index])
    record["status"] = status
    if status == "started":
        record.pop("winner", None)
    account.lines[index] = orjson.dumps(record)
    account.games[index] = describe(record, account.id)
    account.views.clear()
    return str(record["id"])


async def test_unfinished_games_are_rechecked_by_id(
    services: Services, lichess: LichessEmulator
) -> None:
    game_id = set_status(lichess, "alice", 10, "started")
    account = await services.accounts.add("admin", "lichess", "alice")
    first = await run_job(services, "sync_games", account)
    cursor = await services.store.get_cursor(account.id, "lichess_games")
    assert cursor["open_ids"] == [game_id]
    assert first.result["ongoing"] == 1
    stored = await services.store.get_game_by_key(Platform.LICHESS, game_id)
    assert stored is not None and stored["termination"] == "started"

    set_status(lichess, "alice", 10, "resign")
    lichess.log.clear()
    second = await run_job(services, "sync_games", account)
    posted = [e for e in lichess.log.entries if e.path == "/api/games/export/_ids"]
    assert len(posted) == 1
    stored = await services.store.get_game_by_key(Platform.LICHESS, game_id)
    assert stored is not None and stored["termination"] == "resign"
    assert second.counters["updated"] == 1
    assert (await services.store.get_cursor(account.id, "lichess_games"))["open_ids"] == []


async def test_rate_limit_shows_waiting_then_completes(
    services: Services, lichess: LichessEmulator
) -> None:
    account = await services.accounts.add("admin", "lichess", "bob")
    lichess.faults.rate_limit_burst = 1  # the first request gets 429
    job = await services.jobs.create(
        "sync_games", owner="admin", parameters={"account_id": account.id}
    )
    waits = []
    async for seen in services.jobs.watch(job.id):
        if seen.status is JobStatus.WAITING:
            waits.append(seen.wait)
        final = seen
    assert final.status is JobStatus.COMPLETED
    assert waits and waits[0] is not None
    assert "429" in waits[0].reason
    limited = [e for e in lichess.log.entries if e.status == 429]
    assert len(limited) == 1
    later = [e for e in lichess.log.entries if e.at > limited[0].at]
    # No request reached the site before the announced resume time.
    assert all(e.at >= waits[0].resume_at for e in later)
    assert final.counters["inserted"] == 30


async def test_malformed_line_and_unparseable_game_are_failed_items(
    services: Services, lichess: LichessEmulator
) -> None:
    lichess.faults.malformed_after = frozenset({5})
    account = await services.accounts.add("admin", "lichess", "bob")
    job = await run_job(services, "sync_games", account)
    assert job.status is JobStatus.COMPLETED
    assert job.counters["failed"] == 1
    assert job.counters["inserted"] == 30
    assert len(job.errors) == 1
    assert job.errors[0].item == "line 6"
    assert "not JSON" in job.errors[0].message
    assert "1 records could not be parsed" in " ".join(job.result["reasons"])


async def test_two_stage_fills_the_newest_games_lacking_moves(
    services: Services, lichess: LichessEmulator
) -> None:
    account = await services.accounts.add("admin", "lichess", "alice")
    meta = await run_job(services, "sync_metadata", account)
    assert meta.status is JobStatus.COMPLETED
    exports = [e for e in lichess.log.entries if e.path == "/api/games/user/alice"]
    assert exports[0].query["moves"] == "false"
    query = MissingMovesQuery(platform=Platform.LICHESS, players=["alice"], limit=10_000)
    lacking = await services.store.games_missing_moves(query)
    assert len(lacking) == 600

    lichess.log.clear()
    moves = await run_job(services, "sync_moves", account, limit=25)
    assert moves.status is JobStatus.COMPLETED
    still = await services.store.games_missing_moves(query)
    assert set(lacking) - set(still) == set(lacking[:25])
    posted = [e for e in lichess.log.entries if e.path == "/api/games/export/_ids"]
    assert len(posted) == 1
    assert moves.counters["enriched"] == 25


async def test_moves_backfill_batches_300_ids_and_checks_cancel_between(
    make_services: ServicesFactory, lichess: LichessEmulator
) -> None:
    services = await make_services()
    account = await services.accounts.add("admin", "lichess", "alice")
    await run_job(services, "sync_metadata", account)
    lichess.log.clear()
    job = await run_job(services, "sync_moves", account, limit=650, delay_ms=1)
    posted = [e for e in lichess.log.entries if e.path == "/api/games/export/_ids"]
    assert job.status is JobStatus.COMPLETED
    assert len(posted) == 2  # 600 candidates: 300 + 300
    assert job.counters["enriched"] == 600
    assert job.result["still_without_moves"] == 0
