"""`analyses` rows of the storage contract's shapes, inserted directly for stored games.

The read side's tests don't run the engine: they seed what the analyze job would store
(docs/analysis.md, "Jobs and storage"): `judgments` (with `engine` and `nodes`),
`accuracy`, `acpl` and `move_count`, one row per (game, plugin, plugin_version).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from gamekeeper.storage.sql.schema import analyses

#: A typical judged game: ply -> (judgment, best move in SAN).
Judged = Mapping[int, tuple[str, str | None]]


def analysis_values(
    sans: Sequence[str],
    *,
    evals: Sequence[Mapping[str, int] | None] | None = None,
    judged: Judged | None = None,
    accuracy: tuple[float | None, float | None] = (91.5, 72.25),
    acpl: tuple[int | None, int | None] = (18, 64),
    engine: str = "Stockfish 15.1",
    nodes: int | None = 150_000,
) -> dict[str, Any]:
    """Each plugin's value for a game of `sans`; evals default to a gentle +cp drift."""
    evals = evals if evals is not None else [{"cp": 20 + 5 * i} for i in range(len(sans))]
    judged = judged or {}
    moves = [
        {
            "ply": i + 1,
            "san": san,
            "eval": evals[i] if i < len(evals) else None,
            "judgment": judged[i + 1][0] if i + 1 in judged else None,
            "best": judged[i + 1][1] if i + 1 in judged else None,
        }
        for i, san in enumerate(sans)
    ]
    return {
        "judgments": {"moves": moves, "engine": engine, "nodes": nodes},
        "accuracy": {"white": accuracy[0], "black": accuracy[1]},
        "acpl": {"white": acpl[0], "black": acpl[1]},
        "move_count": len(sans),
    }


def insert_analyses(
    engine: sa.Engine,
    game_id: int,
    values: Mapping[str, Any],
    *,
    version: str = "1",
    job_id: str | None = None,
) -> None:
    """One row per plugin in `values` for `game_id` at `version`."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(analyses),
            [
                {
                    "game_id": game_id,
                    "plugin": plugin,
                    "plugin_version": version,
                    "value": value,
                    "job_id": job_id,
                    "created_at": now,
                }
                for plugin, value in values.items()
            ],
        )


def other_move(sans: Sequence[str], ply: int) -> str:
    """A legal move other than the one played at `ply` (1-based), in SAN: a "best" move."""
    import chess

    board = chess.Board()
    for san in sans[: ply - 1]:
        board.push_san(san)
    played = board.parse_san(sans[ply - 1])
    move = next(m for m in board.legal_moves if m != played)
    return board.san(move)


def example_judged(sans: Sequence[str]) -> dict[int, tuple[str, str | None]]:
    """An inaccuracy at ply 5, a mistake at 12 and a blunder at 17, with legal best moves."""
    marks = {5: "inaccuracy", 12: "mistake", 17: "blunder"}
    return {ply: (kind, other_move(sans, ply)) for ply, kind in marks.items() if ply <= len(sans)}
