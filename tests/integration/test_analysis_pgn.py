"""An analysed game's PGN: `[%eval]` comments and NAGs that python-chess reads back."""

from __future__ import annotations

import asyncio
import dataclasses
import io

import chess.pgn

from gamekeeper.domain.users import Role, User
from gamekeeper.services.analyses import AnalysisService
from gamekeeper.services.games import GameService
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
    "Qb3",
]
ADMIN = User(id=1, name="admin", role=Role.ADMIN)


async def test_pgn_of_an_analysed_game_round_trips(store: SqlStore) -> None:
    game = dataclasses.replace(make_game(1), moves=tuple(SANS), clocks=None)
    await store.upsert_games([game, make_game(2)], job_id=None)
    items = (await store.list_games(GameQuery(limit=2))).items
    ids = {s.game.platform_game_id: s.id for s in items}
    evals: list[dict[str, int] | None] = [{"cp": 15 * i - 40} for i in range(len(SANS))]
    evals[-1], evals[3] = {"mate": -3}, None
    values = analysis_values(SANS, evals=evals, judged=example_judged(SANS))
    await asyncio.to_thread(insert_analyses, store.engine, ids["g0000001"], values)
    service = AnalysisService(GameService(store), store)

    text = await service.pgn(ADMIN, ids["g0000001"])
    read = chess.pgn.read_game(io.StringIO(text))
    assert read is not None and not read.errors
    nodes = list(read.mainline())
    assert [n.san() for n in nodes] == SANS
    assert {i + 1: n.nags for i, n in enumerate(nodes) if n.nags} == {5: {6}, 12: {2}, 17: {4}}
    assert nodes[0].eval() is not None and nodes[0].eval().white().score() == -40  # type: ignore[union-attr]
    assert nodes[3].eval() is None
    assert nodes[-1].eval() is not None and nodes[-1].eval().white().mate() == -3  # type: ignore[union-attr]
    assert "[%eval -0.40]" in text and "[%eval #-3]" in text and "Bc4 $6" in text

    # A game without analysis: the PGN as before (no NAGs, no evals of its own).
    plain = await service.pgn(ADMIN, ids["g0000002"])
    assert plain == await GameService(store).pgn(ADMIN, ids["g0000002"])
    assert "$" not in plain and "%eval" not in plain
