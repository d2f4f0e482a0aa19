"""The clock Lichess sends after the last ply: stored, backfilled by the migration for
games stored before it, and shown on the game page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import sqlalchemy as sa

from gamekeeper.domain.games import Result, Termination, Winner
from gamekeeper.storage import migrator
from gamekeeper.storage.base import GameQuery
from gamekeeper.storage.sql.engine import create_engine
from gamekeeper.storage.sql.store import SqlStore
from gamekeeper.web.games import describe_ending
from tests.support.games import make_game


async def test_the_final_clock_is_stored_with_the_game(store: SqlStore) -> None:
    game = make_game(1, final_clock=12345)
    await store.upsert_games([game], job_id="job_a")
    page = await store.list_games(GameQuery())
    assert page.items[0].game.final_clock == 12345


def test_the_migration_reads_the_final_clock_back_from_raw(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    engine = create_engine(url)
    migrator.upgrade(engine, "0002")
    now = datetime(2026, 1, 1, tzinfo=UTC).isoformat()

    def row(
        game_id: str, clocks: list[int], plies: int, raw: str | None = None
    ) -> dict[str, object]:
        record = {"id": game_id, "moves": " ".join(["e4"] * plies), "clocks": clocks}
        return {
            "platform": "lichess",
            "platform_game_id": game_id,
            "result": "1-0",
            "termination": "resign",
            "variant": "standard",
            "moves": record["moves"],
            "ply_count": plies,
            "clocks": orjson.dumps(clocks[:plies]).decode(),
            "raw": raw or orjson.dumps(record).decode(),
            "digest": game_id,
            "created_at": now,
            "updated_at": now,
        }

    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO games (platform, platform_game_id, result, termination, variant, "
                "moves, ply_count, clocks, raw, digest, created_at, updated_at) VALUES "
                "(:platform, :platform_game_id, :result, :termination, :variant, :moves, "
                ":ply_count, :clocks, :raw, :digest, :created_at, :updated_at)"
            ),
            [
                row("resigned", [300, 290, 280, 7123], 3),
                row("mated", [300, 290, 280], 3),
                row("fromdump", [300, 290, 280, 5], 3, raw='[Event "x"]\n\n1. e4 *'),
            ],
        )
    migrator.upgrade(engine)
    with engine.connect() as conn:
        found = dict(conn.execute(sa.text("SELECT platform_game_id, final_clock FROM games")).all())
    engine.dispose()
    assert found == {"resigned": 7123, "mated": None, "fromdump": None}


def test_the_game_page_says_how_the_clock_stood() -> None:
    # Four plies: White is to move when the game ends.
    flagged = make_game(1, termination=Termination.TIMEOUT, winner=Winner.BLACK, final_clock=0)
    assert describe_ending(flagged) == "White flagged at 0:00"
    resigned = make_game(
        2,
        termination=Termination.RESIGN,
        winner=Winner.BLACK,
        result=Result.BLACK_WINS,
        final_clock=8300,
    )
    assert describe_ending(resigned) == "White resigned with 1:23 left"
    other_side = make_game(3, termination=Termination.RESIGN, final_clock=8300)
    assert describe_ending(other_side) == "Black resigned; White had 1:23 left"
    assert describe_ending(make_game(4)) is None
