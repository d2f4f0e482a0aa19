"""Real Stockfish: skipped when it is missing, unless GAMEKEEPER_REQUIRE_STOCKFISH=1 (CI)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from gamekeeper.analysis.engine import EnginePool, resolve_engine_path
from gamekeeper.connectors.lichess.records import parse_game
from gamekeeper.domain.games import Game
from gamekeeper.errors import EngineNotFound

# Read at import: the autouse `clean_environ` fixture removes GAMEKEEPER_* variables.
REQUIRE_STOCKFISH = os.environ.get("GAMEKEEPER_REQUIRE_STOCKFISH") == "1"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lichess"
#: Small enough to keep the tests fast, big enough for sensible moves.
NODES = 2000


@pytest.fixture(scope="session")
def stockfish_path() -> str:
    try:
        return resolve_engine_path(None)
    except EngineNotFound as exc:
        if REQUIRE_STOCKFISH:
            pytest.fail(f"GAMEKEEPER_REQUIRE_STOCKFISH=1 but {exc}")
        pytest.skip(str(exc))


@pytest.fixture
async def pool(stockfish_path: str) -> AsyncIterator[EnginePool]:
    async with EnginePool(stockfish_path, workers=2, hash_mb=16) as engines:
        yield engines


def lichess_games(name: str) -> dict[str, Game]:
    games = {}
    for line in (FIXTURES / name).read_text().splitlines():
        if line.strip():
            game = parse_game(json.loads(line), line)
            games[game.platform_game_id] = replace(game, evals=None)  # the engine's turn
    return games


@pytest.fixture
def game_40_plies() -> Game:
    """The first 40 plies of Lichess game q7ZvsdUF, without Lichess's evaluations."""
    game = lichess_games("reference-games.ndjson")["q7ZvsdUF"]
    assert game.moves is not None
    return replace(game, moves=game.moves[:40])
