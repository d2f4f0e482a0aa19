"""Chess.com sync end to end over real HTTP against the emulator."""

from __future__ import annotations

import orjson

from gamekeeper.bootstrap import Services
from gamekeeper.connectors.chesscom.records import parse_game
from gamekeeper.domain.games import Platform
from gamekeeper.domain.jobs import JobStatus
from gamekeeper.emulators.chesscom import ChessComEmulator
from tests.integration.sync.conftest import run_job, stored_games


def corpus_keys(chesscom: ChessComEmulator, username: str) -> dict[str, object]:
    account = chesscom.corpus.account(username)
    assert account is not None
    games = [
        parse_game(orjson.loads(line), line.decode())
        for month in account.months.values()
        for _, line in month
    ]
    return {g.platform_game_id: g for g in games}


async def test_full_sync_of_24_months_stores_exactly_the_corpus(
    services: Services, chesscom: ChessComEmulator
) -> None:
    corpus = chesscom.corpus
    corpus.add_account("hikaru")
    player = corpus.account("hikaru")
    assert player is not None
    while len(player.months) < 24:  # two years of games, a few a week
        corpus.add_games("hikaru", 10)
    assert len(player.months) == 24
    total = player.games
    account = await services.accounts.add("admin", "chesscom", "hikaru")
    job = await run_job(services, "sync_games", account)

    assert job.status is JobStatus.COMPLETED, job.error
    expected = corpus_keys(chesscom, "hikaru")
    stored = await stored_games(services, Platform.CHESSCOM, "hikaru")
    assert stored.keys() == expected.keys()
    for key, game in expected.items():
        mine = stored[key]
        assert (mine.start_time, mine.end_time, mine.result, mine.moves, mine.time_control) == (  # type: ignore[attr-defined]
            game.start_time,  # type: ignore[attr-defined]
            game.end_time,  # type: ignore[attr-defined]
            game.result,  # type: ignore[attr-defined]
            game.moves,  # type: ignore[attr-defined]
            game.time_control,  # type: ignore[attr-defined]
        ), key
    assert await services.store.count_games() == total
    assert job.result["site_total"] == total
    assert job.result["stored"] == total
    assert job.result["months"] == {"fetched": 24, "unchanged": 0}
    month_requests = [e for e in chesscom.log.entries if "/games/20" in e.path]
    assert len(month_requests) == 24
    assert chesscom.max_concurrent == 1


async def test_second_sync_asks_from_the_cursor_month_with_etags(
    services: Services, chesscom: ChessComEmulator
) -> None:
    account = await services.accounts.add("admin", "chesscom", "erik")
    first = await run_job(services, "sync_games", account)
    assert first.status is JobStatus.COMPLETED
    cursor = await services.store.get_cursor(account.id, "chesscom_archives")
    cursor_month = cursor["month"]

    # Nothing new: only the cursor month is asked for again, and it is unchanged.
    chesscom.log.clear()
    unchanged = await run_job(services, "sync_games", account)
    months = [e for e in chesscom.log.entries if "/games/20" in e.path]
    assert [e.path.rsplit("/games/", 1)[1] for e in months] == [cursor_month]
    assert months[0].headers["if-none-match"] == cursor["etags"][cursor_month]
    assert months[0].status == 304
    assert unchanged.counters["inserted"] == 0

    added = chesscom.corpus.add_games("erik", 37)
    chesscom.log.clear()
    second = await run_job(services, "sync_games", account)
    assert second.status is JobStatus.COMPLETED
    assert second.counters["inserted"] == 37
    months = [e for e in chesscom.log.entries if "/games/20" in e.path]
    asked = [e.path.rsplit("/games/", 1)[1] for e in months]
    assert asked and all(m >= cursor_month for m in asked)
    assert asked[0] == cursor_month
    assert len(added) == 37
    assert await services.store.count_games() == 250 + 37


async def test_max_stops_mid_month_and_the_next_sync_fetches_that_month_whole(
    services: Services, chesscom: ChessComEmulator
) -> None:
    account = await services.accounts.add("admin", "chesscom", "erik")
    limited = await run_job(services, "sync_games", account, max=25)
    assert limited.status is JobStatus.COMPLETED
    assert limited.counters["inserted"] == 25
    assert "limited by its parameters" in " ".join(limited.result["reasons"])
    cursor = await services.store.get_cursor(account.id, "chesscom_archives")
    assert cursor["month"] not in cursor["etags"]  # the cut month has no ETag

    chesscom.log.clear()
    rest = await run_job(services, "sync_games", account)
    first_month = next(e for e in chesscom.log.entries if "/games/20" in e.path)
    assert first_month.path.endswith(cursor["month"])
    assert "if-none-match" not in first_month.headers
    assert await services.store.count_games() == 250
    assert rest.counters["inserted"] == 250 - 25
