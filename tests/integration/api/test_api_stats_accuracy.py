"""GET /api/stats/accuracy: the account's side's mean accuracy per month and per speed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx

from gamekeeper.domain.games import Platform, Player
from gamekeeper.storage.base import GameQuery
from gamekeeper.storage.sql.store import SqlStore
from tests.integration.api.conftest import Api
from tests.support.analyses import analysis_values, insert_analyses
from tests.support.games import make_game

SANS = ["e4", "e5", "Nf3", "Nc6"]
ALICE = Player(name="alice", id="alice", rating=1500)
BOB = Player(name="bob", id="bob", rating=1600)


def at(month: int, day: int) -> datetime:
    return datetime(2025, month, day, 12, tzinfo=UTC)


async def seed_accuracy_fixture(db_url: str) -> int:
    """alice's account and games; her side's accuracy as each comment says. Her account id."""
    store = SqlStore(db_url)
    try:
        account = await store.add_account("alice", Platform.LICHESS, "alice")
        as_black = {"white": BOB, "black": ALICE}
        games = [
            make_game(1, start_time=at(1, 10)),  # blitz, White: 80.25
            make_game(2, start_time=at(1, 20), **as_black),  # blitz, Black: 70.5
            make_game(3, start_time=at(1, 25), speed="rapid"),  # 90.0
            make_game(4, start_time=at(2, 2)),  # not analysed
            make_game(5, start_time=at(3, 3), speed="bullet", **as_black),  # 60.0
            make_game(6, start_time=at(3, 4)),  # blitz; version "2" (99.5) over "1" (20.0)
            make_game(7, start_time=None, end_time=None, speed="classical"),  # 77.0, no month
            make_game(8, start_time=at(1, 5), white=BOB, black=Player(name="c", id="c")),
        ]
        await store.upsert_games(games, job_id=None)
        page = await store.list_games(GameQuery(limit=20))
        ids = {int(s.game.platform_game_id[1:]): s.id for s in page.items}
        seeds: list[tuple[int, tuple[float, float], str]] = [
            (1, (80.25, 50.0), "1"),
            (2, (10.0, 70.5), "1"),
            (3, (90.0, 1.0), "1"),
            (5, (5.0, 60.0), "1"),
            (6, (20.0, 3.0), "1"),
            (6, (99.5, 3.0), "2"),
            (7, (77.0, 3.0), "1"),
            (8, (42.0, 42.0), "1"),  # not alice's game
        ]

        def write() -> None:
            for n, accuracy, version in seeds:
                values: dict[str, Any] = analysis_values(SANS, accuracy=accuracy)
                insert_analyses(store.engine, ids[n], values, version=version)

        await asyncio.to_thread(write)
        return account.id
    finally:
        await store.aclose()


EXPECTED = {
    "by_month": [
        {"month": "2025-01", "games": 3, "accuracy": 80.25},  # (80.25 + 70.5 + 90) / 3
        {"month": "2025-03", "games": 2, "accuracy": 79.75},  # (60 + 99.5) / 2
    ],
    "by_speed": [
        {"speed": "bullet", "games": 1, "accuracy": 60.0},
        {"speed": "blitz", "games": 3, "accuracy": 83.42},  # (80.25 + 70.5 + 99.5) / 3
        {"speed": "rapid", "games": 1, "accuracy": 90.0},
        {"speed": "classical", "games": 1, "accuracy": 77.0},
    ],
}


def test_accuracy_by_month_and_speed(api: Api, db_url: str) -> None:
    account_id = asyncio.run(seed_accuracy_fixture(db_url))
    with httpx.Client(base_url=api.url, timeout=30) as client:
        a = api.auth("alice")
        assert client.get("/api/stats/accuracy", headers=a).json() == EXPECTED
        one = client.get("/api/stats/accuracy", params={"account_id": account_id}, headers=a)
        assert one.json() == EXPECTED
        # Someone else's account is not found; bob has no accounts, so no numbers.
        b = api.auth("bob")
        other = client.get("/api/stats/accuracy", params={"account_id": account_id}, headers=b)
        assert other.status_code == 404
        empty = client.get("/api/stats/accuracy", headers=b).json()
        assert empty == {"by_month": [], "by_speed": []}
        bad = client.get("/api/stats/accuracy", params={"account_id": 0}, headers=a)
        assert bad.status_code == 422
