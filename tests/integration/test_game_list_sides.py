"""Listing games by our side's accuracy and blunders, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from gamekeeper.domain.games import Platform, Player
from gamekeeper.errors import InvalidInput
from gamekeeper.storage.base import GameQuery
from gamekeeper.storage.sql.store import SqlStore
from tests.support.analyses import analysis_values, insert_analyses
from tests.support.games import make_game

ALICE = ((Platform.LICHESS, "alice"),)
SANS = ["e4", "e5", "Nf3", "Nc6"]
#: Black to move: the game's first ply is Black's.
BLACK_FIRST = "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1"


def _values(
    sans: list[str],
    accuracy: tuple[float, float],
    blunders: tuple[int, ...],
    counted: bool,
    *,
    white_first: bool = True,
) -> dict[str, Any]:
    """The plugins' values; `counted`: with the per-side `counts` the analyze job stores
    in `judgments` (the listing reads them), else only the moves (it walks them)."""
    values = analysis_values(
        sans, accuracy=accuracy, judged=dict.fromkeys(blunders, ("blunder", None))
    )
    if counted:
        counts = {
            side: {"inaccuracy": 0, "mistake": 0, "blunder": 0} for side in ("white", "black")
        }
        for ply in blunders:
            counts["white" if (ply % 2 == 1) == white_first else "black"]["blunder"] += 1
        values["judgments"]["counts"] = counts
    return values


async def _seed(store: SqlStore, counted: bool = False) -> dict[int, int]:
    """Eight games of alice's (White in even ones), analysed as the table in each line
    says; game number -> row id."""
    bob = Player(name="bob", id="bob", rating=1600)
    alice = Player(name="alice", id="alice", rating=1500)
    made = []
    for n in range(8):
        extra: dict[str, Any] = {} if n % 2 == 0 else {"white": bob, "black": alice}
        if n == 5:
            extra |= {"initial_fen": BLACK_FIRST, "moves": ("e5", "Nf3", "Nc6"), "clocks": None}
        made.append(make_game(n, **extra))
    await store.upsert_games(made, job_id=None)
    page = await store.list_games(GameQuery(limit=100))
    ids = {int(s.game.platform_game_id[1:]): s.id for s in page.items}

    def seed() -> None:
        engine = store.engine
        # n: (white, black accuracy), blunder plies -> alice's accuracy, blunders
        insert_analyses(engine, ids[0], _values(SANS, (80.0, 60.0), (2, 3), counted))  # 80.0, 1
        insert_analyses(engine, ids[1], _values(SANS, (70.0, 90.5), (2, 4), counted))  # 90.5, 2
        insert_analyses(engine, ids[2], _values(SANS, (55.25, 99.0), (), counted))  # 55.25, 0
        insert_analyses(engine, ids[3], _values(SANS, (40.0, 80.0), (1,), counted))  # 80.0, 0
        # 4: no analysis
        # 5: Black moved first, so ply 1 is alice's (Black's) and ply 2 White's: 65.0, 1
        insert_analyses(
            engine,
            ids[5],
            _values(["e5", "Nf3", "Nc6"], (30.0, 65.0), (1, 2), counted, white_first=False),
        )
        # 6: version "10" is newer than "9": 95.0, 0
        insert_analyses(engine, ids[6], _values(SANS, (95.0, 5.0), (), counted), version="10")
        insert_analyses(engine, ids[6], _values(SANS, (10.0, 10.0), (1, 3), counted), version="9")
        # 7: values not of the contract's shape: no accuracy, no blunders counted
        insert_analyses(
            engine,
            ids[7],
            {"accuracy": {"white": 50, "black": "high"}, "judgments": {"moves": "x"}},
        )

    await asyncio.to_thread(seed)
    return ids


async def _numbers(store: SqlStore, ids: dict[int, int], **query: Any) -> list[int]:
    by_id = {v: k for k, v in ids.items()}
    page = await store.list_games(GameQuery(players=ALICE, limit=100, **query))
    assert page.next_cursor is None
    return [by_id[s.id] for s in page.items]


@pytest.mark.parametrize("counted", [False, True], ids=["walked", "counted"])
async def test_sorts_and_filters_by_our_side(store: SqlStore, counted: bool) -> None:
    ids = await _seed(store, counted)
    # Ties (games 3 and 0 at 80.0) are newest first; games without the value come last.
    assert await _numbers(store, ids, sort="-accuracy") == [6, 1, 3, 0, 5, 2, 7, 4]
    assert await _numbers(store, ids, sort="accuracy") == [2, 5, 3, 0, 1, 6, 7, 4]
    assert await _numbers(store, ids, sort="blunders") == [7, 6, 3, 2, 5, 0, 1, 4]
    assert await _numbers(store, ids, sort="-blunders") == [1, 5, 0, 7, 6, 3, 2, 4]
    # Filters leave out games without the value; without a sort, newest first.
    assert await _numbers(store, ids, min_accuracy=80) == [6, 3, 1, 0]
    assert await _numbers(store, ids, min_accuracy=55.25, max_accuracy=65) == [5, 2]
    assert await _numbers(store, ids, max_blunders=0) == [7, 6, 3, 2]
    assert await _numbers(store, ids, min_blunders=1, max_blunders=1) == [5, 0]
    assert await _numbers(store, ids, color="white", sort="-accuracy") == [6, 0, 2, 4]
    # From bob's side: his accuracy is the other one (game 7's White value is a number).
    bob = ((Platform.LICHESS, "bob"),)
    page = await store.list_games(GameQuery(players=bob, sort="-accuracy", min_accuracy=50))
    assert [s.id for s in page.items] == [ids[2], ids[1], ids[0], ids[7]]
    count = await store.count_matching_games(GameQuery(players=ALICE, max_blunders=0))
    assert count == 4


@pytest.mark.parametrize("sort", [None, "accuracy", "-accuracy", "blunders", "-blunders"])
async def test_pages_cover_every_game_once(store: SqlStore, sort: str | None) -> None:
    ids = await _seed(store)
    everything = await _numbers(store, ids, sort=sort, min_blunders=0 if sort is None else None)
    for limit in (1, 2, 3):
        seen: list[int] = []
        query = GameQuery(
            players=ALICE, sort=sort, min_blunders=0 if sort is None else None, limit=limit
        )
        while True:
            page = await store.list_games(query)
            seen += [s.id for s in page.items]
            if page.next_cursor is None:
                break
            query = dataclasses.replace(query, cursor=page.next_cursor)
        assert seen == [ids[n] for n in everything]


async def test_bad_sorts_and_cursors_are_invalid_input(store: SqlStore) -> None:
    ids = await _seed(store)
    page = await store.list_games(GameQuery(players=ALICE, sort="-accuracy", limit=2))
    assert page.next_cursor is not None and len(ids) == 8
    with pytest.raises(InvalidInput):  # a cursor of another sort
        await store.list_games(GameQuery(players=ALICE, sort="blunders", cursor=page.next_cursor))
    plain = await store.list_games(GameQuery(players=ALICE, limit=2))
    with pytest.raises(InvalidInput):  # the plain listing's cursor
        await store.list_games(GameQuery(players=ALICE, sort="accuracy", cursor=plain.next_cursor))
    with pytest.raises(InvalidInput):
        await store.list_games(GameQuery(players=ALICE, sort="rating"))
    with pytest.raises(InvalidInput):  # no side to read
        await store.list_games(GameQuery(sort="accuracy"))


async def test_values_not_of_the_contract_shape_read_as_missing(store: SqlStore) -> None:
    await store.upsert_games([make_game(0)], job_id=None)
    (game_id,) = [s.id for s in (await store.list_games(GameQuery())).items]
    judgments = analysis_values(SANS, judged={1: ("blunder", None)})["judgments"]
    judgments["counts"] = {"white": {"blunder": 2.5}, "black": {"blunder": "3"}}
    values = {"accuracy": {"white": 150, "black": "12"}, "judgments": judgments}
    await asyncio.to_thread(insert_analyses, store.engine, game_id, values)
    bob = ((Platform.LICHESS, "bob"),)

    async def listed(players: Any, **query: Any) -> list[int]:
        page = await store.list_games(GameQuery(players=players, **query))
        return [s.id for s in page.items]

    # Accuracy out of range or not a number: no accuracy, for either side.
    assert await listed(ALICE, min_accuracy=0) == []
    assert await listed(bob, min_accuracy=0) == []
    # Counts that are not integers: the moves are counted instead (ply 1 is alice's).
    assert await listed(ALICE, min_blunders=1, max_blunders=1) == [game_id]
    assert await listed(bob, max_blunders=0) == [game_id]
