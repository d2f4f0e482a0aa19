"""A stored game's analysis as the game page and the PGN export read it.

Reads the `judgments`, `accuracy` and `acpl` plugins' newest rows (the storage contract
in docs/analysis.md) and turns them into plain values; a malformed entry is skipped,
never an error on the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gamekeeper.domain.games import Eval, white_first
from gamekeeper.domain.users import User
from gamekeeper.services.games import GameService
from gamekeeper.storage.analyses import AnalysisReadStore

JUDGMENTS = ("inaccuracy", "mistake", "blunder")
#: The mark printed beside a judged move, and its PGN NAG.
SYMBOLS = {"inaccuracy": "?!", "mistake": "?", "blunder": "??"}
NAGS = {"inaccuracy": 6, "mistake": 2, "blunder": 4}


@dataclass(frozen=True, slots=True, kw_only=True)
class JudgedMove:
    ply: int
    san: str
    eval: Eval | None
    judgment: str | None
    best: str | None

    @property
    def symbol(self) -> str:
        return SYMBOLS.get(self.judgment or "", "")


@dataclass(frozen=True, slots=True, kw_only=True)
class SideSummary:
    accuracy: float | None
    acpl: int | None
    inaccuracies: int
    mistakes: int
    blunders: int


@dataclass(frozen=True, slots=True, kw_only=True)
class GameAnalysis:
    moves: tuple[JudgedMove, ...]
    white: SideSummary
    black: SideSummary
    engine: str | None
    nodes: int | None

    def move(self, ply: int) -> JudgedMove | None:
        """The judged move at `ply` (1-based), if analysed."""
        return self.moves[ply - 1] if 0 < ply <= len(self.moves) else None


def _eval(value: object) -> Eval | None:
    if not isinstance(value, Mapping):
        return None
    cp, mate = value.get("cp"), value.get("mate")
    if isinstance(mate, int) and not isinstance(mate, bool):
        return Eval(mate=mate)
    if isinstance(cp, int) and not isinstance(cp, bool):
        return Eval(cp=cp)
    return None


def _moves(value: object) -> tuple[JudgedMove, ...]:
    entries = value.get("moves") if isinstance(value, Mapping) else None
    moves: list[JudgedMove] = []
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("san"), str):
            break  # the rest can't be placed on plies
        judgment, best = entry.get("judgment"), entry.get("best")
        moves.append(
            JudgedMove(
                ply=len(moves) + 1,
                san=entry["san"],
                eval=_eval(entry.get("eval")),
                judgment=judgment if judgment in JUDGMENTS else None,
                best=best if isinstance(best, str) else None,
            )
        )
    return tuple(moves)


def _side(
    values: Mapping[str, Any], moves: tuple[JudgedMove, ...], side: str, white_first: bool
) -> SideSummary:
    accuracy = values.get("accuracy")
    acpl = values.get("acpl")
    acc = accuracy.get(side) if isinstance(accuracy, Mapping) else None
    loss = acpl.get(side) if isinstance(acpl, Mapping) else None
    # Ply 1 is the first move of the game: White's, unless the game began with Black to move.
    parity = 1 if (side == "white") == white_first else 0
    judged = [m.judgment for m in moves if m.ply % 2 == parity]
    return SideSummary(
        accuracy=float(acc) if isinstance(acc, int | float) and not isinstance(acc, bool) else None,
        acpl=int(loss) if isinstance(loss, int | float) and not isinstance(loss, bool) else None,
        inaccuracies=judged.count("inaccuracy"),
        mistakes=judged.count("mistake"),
        blunders=judged.count("blunder"),
    )


def game_analysis(values: Mapping[str, Any], *, white_first: bool = True) -> GameAnalysis | None:
    """The analysis from each plugin's stored value; None when nothing useful is stored.
    `white_first` false: the game began with Black to move (its odd plies are Black's)."""
    judgments = values.get("judgments")
    moves = _moves(judgments)
    if not moves and "accuracy" not in values and "acpl" not in values:
        return None
    meta = judgments if isinstance(judgments, Mapping) else {}
    engine, nodes = meta.get("engine"), meta.get("nodes")
    return GameAnalysis(
        moves=moves,
        white=_side(values, moves, "white", white_first),
        black=_side(values, moves, "black", white_first),
        engine=engine if isinstance(engine, str) else None,
        nodes=nodes if isinstance(nodes, int) and not isinstance(nodes, bool) else None,
    )


class AnalysisService:
    """Analyses of the games a user may see."""

    def __init__(self, games: GameService, store: AnalysisReadStore) -> None:
        self.games = games
        self.store = store

    async def for_game(self, user: User, game_id: int) -> GameAnalysis | None:
        """`game_id`'s analysis (GameNotFound when the user can't see it; None before one)."""
        stored = await self.games.get(user, game_id)
        values = await self.store.latest_analyses(game_id)
        return game_analysis(values, white_first=white_first(stored.game))

    async def pgn(self, user: User, game_id: int) -> str:
        """The game as PGN; analysed, with the analysis's `[%eval]` comments and NAGs
        ($6 ?!, $2 ?, $4 ??). A game imported from PGN is still its original text."""
        stored = await self.games.get(user, game_id)
        from gamekeeper.connectors.pgn.writer import game_to_pgn  # only when exporting

        values = await self.store.latest_analyses(game_id)
        analysis = game_analysis(values, white_first=white_first(stored.game))
        if analysis is None or not analysis.moves:
            return game_to_pgn(stored.game)
        return game_to_pgn(
            stored.game,
            evals=[m.eval for m in analysis.moves],
            nags=[NAGS.get(m.judgment or "") for m in analysis.moves],
        )
