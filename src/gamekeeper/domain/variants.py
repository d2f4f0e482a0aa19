"""Lichess's variant keys and the python-chess boards that play them.

chess960 and fromPosition are plain chess from another start (the game's `initial_fen`
gives it); every other variant has a board class of its own.
"""

from __future__ import annotations

from typing import Final

import chess
import chess.variant

#: Lichess variant keys → python-chess board classes, for the variants that need one.
VARIANT_BOARDS: Final[dict[str, type[chess.Board]]] = {
    "crazyhouse": chess.variant.CrazyhouseBoard,
    "antichess": chess.variant.AntichessBoard,
    "atomic": chess.variant.AtomicBoard,
    "horde": chess.variant.HordeBoard,
    "kingOfTheHill": chess.variant.KingOfTheHillBoard,
    "racingKings": chess.variant.RacingKingsBoard,
    "threeCheck": chess.variant.ThreeCheckBoard,
}


def board_class(variant: str) -> type[chess.Board]:
    """The board a game of `variant` is played on (plain chess when not listed)."""
    return VARIANT_BOARDS.get(variant, chess.Board)
