"""One game's stored analysis, as the API shows it: per side accuracy, ACPL and the
judgment counts, and every ply with its evaluation, judgment and best move."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gamekeeper.errors import GameNotFound
from gamekeeper.storage.analyses import StoredAnalysis

#: Judgment -> the count's name in the view.
JUDGMENTS = {"inaccuracy": "inaccuracies", "mistake": "mistakes", "blunder": "blunders"}


def _side(value: Any, side: str) -> Any:
    return value.get(side) if isinstance(value, dict) else None


def analysis_view(game_id: int, rows: Sequence[StoredAnalysis]) -> dict[str, Any]:
    """The view of the game's rows (newest version of each plugin); `GameNotFound` when
    the game has no analysis yet."""
    values = {row.plugin: row.value for row in rows}
    if not values:
        raise GameNotFound(f"game {game_id} has not been analysed yet")
    judged = values.get("judgments")
    moves = judged.get("moves", []) if isinstance(judged, dict) else []
    sides: dict[str, dict[str, Any]] = {}
    for index, side in enumerate(("white", "black")):
        own = [m for m in moves if isinstance(m, dict) and m.get("ply", 0) % 2 == 1 - index]
        counts = {
            plural: sum(1 for m in own if m.get("judgment") == kind)
            for kind, plural in JUDGMENTS.items()
        }
        sides[side] = {
            "accuracy": _side(values.get("accuracy"), side),
            "acpl": _side(values.get("acpl"), side),
            **(counts if moves else dict.fromkeys(counts)),
        }
    return {
        "sides": sides,
        "moves": moves,
        "engine": judged.get("engine") if isinstance(judged, dict) else None,
        "nodes": judged.get("nodes") if isinstance(judged, dict) else None,
    }
