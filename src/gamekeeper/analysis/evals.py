"""Lichess's numbers: winning chances, move judgments, ACPL and accuracy, exactly.

Constants and rules from lila (`WinPercent`, `Advice`, `AccuracyCP`, `AccuracyPercent`),
as `reference/analysis/lichess-formulas.md` states them. Scores are `Eval`s from White's
point of view; "mover" is the side that played the move being judged.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Sequence
from typing import Final

from gamekeeper.domain.games import Eval

__all__ = [
    "CP_CEILING",
    "INITIAL_CP",
    "Judgment",
    "acpl",
    "force_cp",
    "game_accuracy",
    "judgment",
    "move_accuracy",
    "win_percent",
    "winning_chances",
]

#: Lichess's evaluation of the position before move 1 (`Cp.initial`).
INITIAL_CP: Final = 15
#: Centipawns are clamped to this; a mate counts as this much for the side that mates.
CP_CEILING: Final = 1000
#: `WinPercent.winningChances` multiplier (0.004 in older lila).
WC_MULTIPLIER: Final = -0.00368208
#: `AccuracyPercent.fromWinPercents` fit.
ACC_A: Final = 103.1668100711649
ACC_K: Final = -0.04354415386753951
ACC_B: Final = -3.166924740191411
#: Winning-chance drops, biggest first (`Advice.cpJudgements`).
_CP_JUDGMENTS: Final = ((0.3, "blunder"), (0.2, "mistake"), (0.1, "inaccuracy"))


class Judgment(enum.StrEnum):
    """How bad a move was."""

    #: Lost 5 to 10 points of Win%, or walked into a mate from a hopeless position.
    INACCURACY = "inaccuracy"
    #: Lost 10 to 15 points of Win%.
    MISTAKE = "mistake"
    #: Lost 15 points of Win% or more, or walked into (or let go of) a forced mate.
    BLUNDER = "blunder"


def winning_chances(cp: int) -> float:
    """`2 / (1 + exp(-0.00368208 * cp)) - 1` on the clamped cp, in [-1, 1]."""
    ceiled = max(-CP_CEILING, min(CP_CEILING, cp))
    return 2 / (1 + math.exp(WC_MULTIPLIER * ceiled)) - 1


def win_percent(cp: int) -> float:
    """`50 + 50 * winning_chances(cp)`."""
    return 50 + 50 * winning_chances(cp)


def force_cp(score: Eval, white_to_move: bool) -> int | None:
    """The score as clamped centipawns (White's view): a mate is ±1000 for the mating side.

    `white_to_move` is the side to move in the scored position; it only matters for
    `mate=0`, which means that side is checkmated. None for an empty Eval.
    """
    if score.mate is not None:
        if score.mate == 0:
            return -CP_CEILING if white_to_move else CP_CEILING
        return CP_CEILING if score.mate > 0 else -CP_CEILING
    if score.cp is None:
        return None
    return max(-CP_CEILING, min(CP_CEILING, score.cp))


def judgment(before: Eval, after: Eval, white_to_move: bool) -> Judgment | None:
    """The judgment of a move from `before` to `after`; `white_to_move`: White made it."""
    sign = 1 if white_to_move else -1
    prev_mate = _mover_mate(before, sign, mover_to_move=True)
    next_mate = _mover_mate(after, sign, mover_to_move=False)
    if prev_mate is None and next_mate is None:
        if before.cp is None or after.cp is None:
            return None
        delta = (winning_chances(before.cp) - winning_chances(after.cp)) * sign
        for threshold, name in _CP_JUDGMENTS:
            if delta >= threshold:
                return Judgment(name)
        return None
    if prev_mate is None and next_mate is not None and next_mate < 0:
        # Mate created against the mover; how bad depends on how lost the mover was.
        prev_cp = (before.cp or 0) * sign
        if prev_cp < -999:
            return Judgment.INACCURACY
        return Judgment.MISTAKE if prev_cp < -700 else Judgment.BLUNDER
    if prev_mate is not None and prev_mate > 0 and (next_mate is None or next_mate < 0):
        # The mover's own forced mate is lost (lila reads a missing cp as 0).
        next_cp = (after.cp or 0) * sign if next_mate is None else 0
        if next_cp > 999:
            return Judgment.INACCURACY
        return Judgment.MISTAKE if next_cp > 700 else Judgment.BLUNDER
    return None


def _mover_mate(score: Eval, sign: int, *, mover_to_move: bool) -> int | None:
    """The mate distance from the mover's view (positive: the mover mates), or None."""
    if score.mate is None:
        return None
    if score.mate == 0:
        # The side to move is mated: the mover when it is to move, else the opponent.
        return -1 if mover_to_move else 1
    return score.mate * sign


def acpl(cps: Sequence[int | None], white: bool, *, white_first: bool = True) -> int | None:
    """Average centipawn loss of one side, rounded; None if that side has no scored move.

    Args:
        cps: clamped cps (`force_cp`) of the start position then of each ply, None
            where unknown.
        white_first: White made the first move of `cps`.
    """
    sign = 1 if white else -1
    first = 0 if white == white_first else 1
    losses = [
        max(0, (before - after) * sign)
        for before, after in zip(cps[first::2], cps[first + 1 :: 2], strict=False)
        if before is not None and after is not None
    ]
    if not losses:
        return None
    return math.floor(sum(losses) / len(losses) + 0.5)


def move_accuracy(win_before: float, win_after: float) -> float:
    """Accuracy of one move from the mover's Win% before and after it, in [0, 100]."""
    if win_after >= win_before:
        return 100.0
    raw = ACC_A * math.exp(ACC_K * (win_before - win_after)) + ACC_B
    return min(100.0, max(0.0, raw + 1))


def game_accuracy(cps: Sequence[int], *, white_first: bool = True) -> tuple[float, float] | None:
    """(White, Black) accuracy from the scored plies' cps (the initial +15 not included).

    None when either side has no move (an empty game, a single move).
    """
    wins = [win_percent(cp) for cp in (INITIAL_CP, *cps)]
    window = max(2, min(8, len(cps) // 10))
    first = wins[:window]
    windows = [first] * max(0, min(window, len(wins)) - 2)
    windows += [wins[i : i + window] for i in range(max(1, len(wins) - window + 1))]
    weights = [max(0.5, min(12.0, _pstdev(xs))) for xs in windows]
    per_side: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for i, (prev, nxt) in enumerate(itertools.pairwise(wins)):
        white = (i % 2 == 0) == white_first
        accuracy = move_accuracy(prev, nxt) if white else move_accuracy(100 - prev, 100 - nxt)
        if i < len(weights):
            per_side[white].append((accuracy, weights[i]))
    white_acc, black_acc = _side_accuracy(per_side[True]), _side_accuracy(per_side[False])
    if white_acc is None or black_acc is None:
        return None
    return white_acc, black_acc


def _side_accuracy(moves: Sequence[tuple[float, float]]) -> float | None:
    total_weight = sum(weight for _, weight in moves)
    if not moves or total_weight == 0:
        return None
    weighted = sum(acc * weight for acc, weight in moves) / total_weight
    harmonic = len(moves) / sum(1 / max(1.0, acc) for acc, _ in moves)
    return (weighted + harmonic) / 2


def _pstdev(values: Sequence[float]) -> float:
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
