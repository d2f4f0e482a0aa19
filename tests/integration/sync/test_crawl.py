"""The opponent crawl end to end: a network of players on both emulated sites, real HTTP,
a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from gamekeeper.bootstrap import Services
from gamekeeper.connectors.chesscom.records import parse_game as parse_chesscom
from gamekeeper.connectors.lichess.records import parse_game as parse_lichess
from gamekeeper.domain.accounts import Account
from gamekeeper.domain.games import Platform
from gamekeeper.domain.jobs import Job, JobStatus
from gamekeeper.domain.players import PlayerStatus
from gamekeeper.domain.users import Role, User
from gamekeeper.emulators.chesscom import ChessComEmulator
from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.emulators.network import (
    Network,
    chesscom_network,
    lichess_network,
    play_more,
    tree_network,
)
from gamekeeper.emulators.server import serve_async
from gamekeeper.storage.players import PlayerGamesQuery
from gamekeeper.storage.sql.schema import games as games_table
from tests.integration.sync.conftest import finished, stored_games

SEED = 5
#: alice's 5 opponents, their 25, and a third ring the depth-2 crawl never reaches.
NETWORK = tree_network("alice", fanout=5, levels=3, games=30)
GHOSTLY = tree_network("alice", fanout=3, levels=1, games=20, ghosts=2)


@pytest.fixture
def network() -> Network:
    return NETWORK


@pytest.fixture
def lichess(network: Network) -> LichessEmulator:
    return LichessEmulator(lichess_network(network, seed=SEED))


@pytest.fixture
def chesscom(network: Network) -> ChessComEmulator:
    return ChessComEmulator(chesscom_network(network, seed=SEED))


@pytest.fixture
async def lichess_url(lichess: LichessEmulator) -> AsyncIterator[str]:
    async with serve_async(lichess) as url:
        yield url


@pytest.fixture
async def chesscom_url(chesscom: ChessComEmulator) -> AsyncIterator[str]:
    async with serve_async(chesscom) as url:
        yield url


async def synced(services: Services, platform: str, username: str = "alice") -> Account:
    account = await services.accounts.add("admin", platform, username)
    job = await services.jobs.create(
        "sync_games", owner="admin", parameters={"account_id": account.id}
    )
    assert (await finished(services, job.id)).status is JobStatus.COMPLETED
    return account


async def crawl(services: Services, account: Account, **parameters: Any) -> Job:
    job = await services.jobs.create(
        "crawl_opponents", owner="admin", parameters={"account_id": account.id, **parameters}
    )
    return await finished(services, job.id)


def newest_ids(emulator: LichessEmulator | ChessComEmulator, name: str, n: int) -> set[str]:
    """The ids of a player's newest `n` games, as the emulator holds them."""
    if isinstance(emulator, LichessEmulator):
        account = emulator.corpus.account(name)
        assert account is not None
        games = [parse_lichess(orjson.loads(line), line.decode()) for line in account.lines]
        games.sort(key=lambda g: g.start_time, reverse=True)  # type: ignore[arg-type,return-value]
    else:
        chess = emulator.corpus.account(name)
        assert chess is not None
        lines = [line for month in chess.months.values() for _, line in month]
        games = [parse_chesscom(orjson.loads(line), line.decode()) for line in lines]
        games.sort(key=lambda g: g.end_time, reverse=True)  # type: ignore[arg-type,return-value]
    return {g.platform_game_id for g in games[:n]}


@pytest.mark.parametrize("platform", ["lichess", "chesscom"])
async def test_depth_two_crawl_of_thirty_players(
    services: Services,
    lichess: LichessEmulator,
    chesscom: ChessComEmulator,
    platform: str,
) -> None:
    emulator: LichessEmulator | ChessComEmulator = lichess if platform == "lichess" else chesscom
    account = await synced(services, platform)
    emulator.log.clear()
    job = await crawl(services, account, depth=2, max_players=30, games_per_player=40)

    assert job.status is JobStatus.COMPLETED, job.error
    players = await services.store.crawled_players("admin", limit=100)
    assert len(players) == 30
    assert {p.depth for p in players} == {1, 2}
    assert sum(1 for p in players if p.depth == 1) == 5
    assert all(p.status is PlayerStatus.DONE for p in players)
    assert {p.username for p in players} == {n for n, lv in NETWORK.levels.items() if lv in (1, 2)}
    wanted: set[str] = set()
    for player in players:
        newest = newest_ids(emulator, player.username, 40)
        stored = await stored_games(services, Platform(platform), player.username)
        assert newest <= stored.keys(), player.username
        wanted |= newest
    # Each game once, though most are in two players' histories.
    synced_alice = await stored_games(services, Platform(platform), "alice")
    assert await services.store.count_games() == len(wanted | synced_alice.keys())
    assert job.counters["inserted"] == len(wanted - synced_alice.keys())
    assert job.result["players"] == {"found": 30, "fetched": 30, "failed": 0}
    assert job.result["depths"] == [
        {"depth": 1, "done": 5, "total": 5},
        {"depth": 2, "done": 25, "total": 25},
    ]
    assert emulator.max_concurrent == 1
    assert [p.done for p in job.phases] == [5, 25]


async def test_a_429_mid_crawl_waits_then_goes_on(
    services: Services, lichess: LichessEmulator
) -> None:
    account = await synced(services, "lichess")
    lichess.log.clear()
    lichess.faults.rate_limit_burst = 1
    job = await services.jobs.create(
        "crawl_opponents",
        owner="admin",
        parameters={"account_id": account.id, "depth": 1, "games_per_player": 10},
    )
    statuses = [seen.status async for seen in services.jobs.watch(job.id)]
    final = await services.jobs.get(job.id)
    assert JobStatus.WAITING in statuses
    assert final.status is JobStatus.COMPLETED
    assert final.result["players"] == {"found": 5, "fetched": 5, "failed": 0}
    assert [e.status for e in lichess.log.entries].count(429) == 1


async def test_recrawl_a_day_later_fetches_only_newer_games(
    services: Services, lichess: LichessEmulator
) -> None:
    account = await synced(services, "lichess")
    first = await crawl(services, account, depth=1, games_per_player=100)
    assert first.status is JobStatus.COMPLETED
    cursor_before = await services.store.get_cursor(account.id, "lichess_games")
    added = play_more(lichess.corpus, {"p1_0": 4, "p1_3": 2})  # type: ignore[arg-type]
    new_ids = {i for ids in added.values() for i in ids}
    lichess.log.clear()

    second = await crawl(services, account, depth=1, games_per_player=100)

    assert second.status is JobStatus.COMPLETED
    assert second.counters["inserted"] == len(new_ids)
    assert second.counters["found"] == len(new_ids)
    exports = [e for e in lichess.log.entries if e.path.startswith("/api/games/user/")]
    assert len(exports) == 5
    assert all("since" in e.query for e in exports)
    # The new games, and at most the one game at each cursor's inclusive millisecond.
    assert sum(e.items_sent for e in exports) <= len(new_ids) + len(exports)
    # The account's own cursor is not the crawl's business.
    assert await services.store.get_cursor(account.id, "lichess_games") == cursor_before


@pytest.mark.parametrize("network", [GHOSTLY])
async def test_unknown_players_are_item_errors_and_the_walk_goes_on(
    services: Services, lichess: LichessEmulator
) -> None:
    account = await synced(services, "lichess")
    job = await crawl(services, account, depth=1)
    assert job.status is JobStatus.COMPLETED
    assert job.result["players"] == {"found": 5, "fetched": 3, "failed": 2}
    assert sorted(e.item for e in job.errors) == ["lichess:ghost0", "lichess:ghost1"]
    failed = [p for p in await services.store.crawled_players("admin", limit=10) if p.last_error]
    assert {p.status for p in failed} == {PlayerStatus.FAILED}


async def test_head_to_head_counts_match_sql(services: Services, lichess: LichessEmulator) -> None:
    account = await synced(services, "lichess")
    await crawl(services, account, depth=1)
    viewer = User(id=1, name="admin", role=Role.USER)  # the crawl's owner
    card = await services.players.card(viewer, "lichess", "p1_2")
    g = games_table.c

    def direct(conn: sa.Connection) -> tuple[int, int]:
        between = sa.or_(
            sa.and_(g.white_id == "alice", g.black_id == "p1_2"),
            sa.and_(g.white_id == "p1_2", g.black_id == "alice"),
        )
        total = conn.execute(
            sa.select(sa.func.count()).where(g.platform == "lichess", between)
        ).scalar_one()
        alice_wins = conn.execute(
            sa.select(sa.func.count()).where(
                g.platform == "lichess",
                between,
                sa.or_(
                    sa.and_(g.white_id == "alice", g.result == "1-0"),
                    sa.and_(g.black_id == "alice", g.result == "0-1"),
                ),
            )
        ).scalar_one()
        return int(total), int(alice_wins)

    total, wins = await services.store.read(direct)
    assert total > 0
    assert card.head_to_head.games == total
    assert card.head_to_head.wins == wins


async def test_opening_tree_merges_transpositions_and_counts_results(
    services: Services, lichess: LichessEmulator
) -> None:
    account = await synced(services, "lichess")
    await crawl(services, account, depth=1)
    viewer = User(id=1, name="admin", role=Role.USER)
    root = await services.players.tree(viewer, "lichess:p1_1", color=None, moves="")
    query = PlayerGamesQuery(platform=Platform.LICHESS, player_id="p1_1", limit=1000)
    games = await services.store.player_games(query)
    standard = [g for g in games if g.moves and g.variant == "standard" and not g.initial_fen]
    assert root.games == len(standard)
    assert sum(m.games for m in root.next_moves) == root.games
    first = root.next_moves[0]
    assert first.games == first.white + first.draws + first.black + sum(
        1 for g in standard if g.moves.split()[0] == first.san and g.result == "*"
    )
    deeper = await services.players.tree(viewer, "lichess:p1_1", color=None, moves=first.san)
    assert deeper.games >= first.games  # the same position, and any transposition to it
    assert deeper.moves == (first.san,)
