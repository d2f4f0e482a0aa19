"""Reading stored analyses on SQLite and PostgreSQL: the newest plugin_version wins."""

from __future__ import annotations

import asyncio

from gamekeeper.domain.games import Platform
from gamekeeper.services.analyses import game_analysis
from gamekeeper.storage.base import GameQuery
from gamekeeper.storage.sql.store import SqlStore
from tests.support.analyses import analysis_values, example_judged, insert_analyses
from tests.support.games import make_game

SANS = [
    "e4",
    "e5",
    "Nf3",
    "Nc6",
    "Bc4",
    "Bc5",
    "c3",
    "Nf6",
    "d4",
    "exd4",
    "cxd4",
    "Bb4+",
    "Bd2",
    "Bxd2+",
    "Nbxd2",
    "d5",
    "exd5",
    "Nxd5",
]


async def _ids(store: SqlStore, count: int) -> list[int]:
    await store.upsert_games([make_game(n) for n in range(count)], job_id=None)
    page = await store.list_games(GameQuery(limit=count))
    return sorted(s.id for s in page.items)


async def test_newest_version_of_each_plugin_is_read(store: SqlStore) -> None:
    first, second = await _ids(store, 2)
    sans = ["e4", "e5", "Nf3", "Nc6"]
    old = analysis_values(sans, accuracy=(10.0, 20.0))
    new = analysis_values(sans, accuracy=(90.0, 80.0), judged={3: ("blunder", "d4")})
    # Versions compare as numbers: "10" is newer than "9", whatever the insertion order.
    await asyncio.to_thread(insert_analyses, store.engine, first, new, version="10")
    await asyncio.to_thread(insert_analyses, store.engine, first, old, version="9")
    values = await store.latest_analyses(first)
    assert values["accuracy"] == {"white": 90.0, "black": 80.0}
    analysis = game_analysis(values)
    assert analysis is not None
    assert analysis.white.blunders == 1 and analysis.black.blunders == 0
    assert analysis.move(3) is not None and analysis.move(3).best == "d4"  # type: ignore[union-attr]
    # The other game has none: the page renders as before.
    assert await store.latest_analyses(second) == {}
    assert game_analysis({}) is None


async def test_judgments_round_trip_through_the_json_column(store: SqlStore) -> None:
    (game_id,) = await _ids(store, 1)
    evals = [{"cp": 20 * i} for i in range(len(SANS) - 1)] + [{"mate": -3}]
    values = analysis_values(SANS, evals=evals, judged=example_judged(SANS), nodes=None)
    await asyncio.to_thread(insert_analyses, store.engine, game_id, values, job_id="j1")
    analysis = game_analysis(await store.latest_analyses(game_id))
    assert analysis is not None
    assert [m.san for m in analysis.moves] == SANS
    assert analysis.moves[-1].eval is not None and analysis.moves[-1].eval.mate == -3
    assert [m.symbol for m in analysis.moves if m.judgment] == ["?!", "?", "??"]
    assert (analysis.engine, analysis.nodes) == ("Stockfish 15.1", None)
    assert (analysis.white.accuracy, analysis.black.acpl) == (91.5, 64)


async def test_every_read_takes_the_same_newest_version(store: SqlStore) -> None:
    """The API's rows, the game page's values and the listing's accuracy agree."""
    (game_id,) = await _ids(store, 1)
    sans = ["e4", "e5", "Nf3", "Nc6"]
    versions = {"9": 10.0, "10": 20.0, "10.a": 30.0, "1.10": 40.0, "2": 50.0}

    def seed() -> None:
        for version, white in versions.items():
            values = analysis_values(sans, accuracy=(white, 1.0))
            insert_analyses(store.engine, game_id, values, version=version)

    await asyncio.to_thread(seed)
    rows = {a.plugin: a for a in await store.game_analyses(game_id)}
    assert rows["accuracy"].plugin_version == "10.a"
    assert rows["accuracy"].value == {"white": 30.0, "black": 1.0}
    assert (await store.latest_analyses(game_id))["accuracy"] == rows["accuracy"].value
    alice = ((Platform.LICHESS, "alice"),)
    listed = await store.list_games(GameQuery(players=alice, min_accuracy=30, max_accuracy=30))
    assert [s.id for s in listed.items] == [game_id]


def test_a_game_begun_with_black_to_move_counts_ply_one_for_black() -> None:
    values = analysis_values(["e5", "Nf3", "Nc6"], judged={1: ("blunder", None)})
    usual = game_analysis(values)
    from_black = game_analysis(values, white_first=False)
    assert usual is not None and from_black is not None
    assert (usual.white.blunders, usual.black.blunders) == (1, 0)
    assert (from_black.white.blunders, from_black.black.blunders) == (0, 1)
