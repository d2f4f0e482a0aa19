"""Game factories for tests that don't care where games come from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from gamekeeper.domain.games import Game, Platform, Player, Result, Termination, Winner


def make_game(n: int, *, moves: bool = True, **overrides: Any) -> Game:
    start = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=n)
    move_list = ("e4", "e5", "Nf3", "Nc6") if moves else None
    raw = {"id": f"g{n:07d}", "n": n, "moves": " ".join(move_list) if move_list else None}
    raw.update({k: str(v) for k, v in overrides.items()})
    fields: dict[str, Any] = {
        "platform": Platform.LICHESS,
        "platform_game_id": f"g{n:07d}",
        "white": Player(name="alice", id="alice", rating=1500 + n % 100),
        "black": Player(name="bob", id="bob", rating=1600),
        "result": Result.WHITE_WINS,
        "termination": Termination.RESIGN,
        "winner": Winner.WHITE,
        "speed": "blitz",
        "rated": True,
        "start_time": start,
        "end_time": start + timedelta(minutes=5),
        "moves": move_list,
        "clocks": (18000, 18000, 17900, 17850) if moves else None,
        "url": f"https://lichess.org/g{n:07d}",
        "raw": orjson.dumps(raw).decode(),
    }
    fields.update(overrides)
    return Game(**fields)
