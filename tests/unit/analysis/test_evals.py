"""Lichess's formulas: every expectation of reference/analysis/lichess-formulas.md."""

from __future__ import annotations

import math

import pytest

from gamekeeper.analysis.evals import (
    CP_CEILING,
    INITIAL_CP,
    Judgment,
    acpl,
    force_cp,
    game_accuracy,
    judgment,
    move_accuracy,
    win_percent,
    winning_chances,
)
from gamekeeper.domain.games import Eval


def accuracy(cps: list[int]) -> tuple[float, float] | None:
    """(White, Black) for cps per ply after the initial +15, White to move first."""
    return game_accuracy(cps)


# -- winning chances ---------------------------------------------------------------


def test_winning_chances_uses_lichess_constant_and_clamps() -> None:
    assert winning_chances(0) == 0
    assert winning_chances(100) == pytest.approx(2 / (1 + math.exp(-0.368208)) - 1, abs=1e-15)
    assert winning_chances(5000) == winning_chances(1000)
    assert winning_chances(-5000) == pytest.approx(-winning_chances(1000), abs=1e-15)
    assert win_percent(0) == 50
    assert win_percent(1000) == pytest.approx(50 + 50 * (2 / (1 + math.exp(-3.68208)) - 1))


def test_force_cp_counts_mates_as_the_ceiling() -> None:
    assert force_cp(Eval(cp=1500), True) == CP_CEILING
    assert force_cp(Eval(cp=-42), False) == -42
    assert force_cp(Eval(mate=3), True) == CP_CEILING
    assert force_cp(Eval(mate=-12), True) == -CP_CEILING
    # mate 0: the side to move is checkmated
    assert force_cp(Eval(mate=0), True) == -CP_CEILING
    assert force_cp(Eval(mate=0), False) == CP_CEILING
    assert force_cp(Eval(), True) is None


# -- judgments ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "white", "expected"),
    [
        # drops of winning chances: 0.1 at ~54 cp, 0.2 at ~110 cp, 0.3 at ~168 cp from 0
        (0, -50, True, None),
        (0, -60, True, Judgment.INACCURACY),
        (0, -120, True, Judgment.MISTAKE),
        (0, -200, True, Judgment.BLUNDER),
        (0, 60, False, Judgment.INACCURACY),
        (0, 120, False, Judgment.MISTAKE),
        (0, 200, False, Judgment.BLUNDER),
        (0, 500, True, None),  # White improved
        (-500, 0, False, Judgment.BLUNDER),  # Black: winning chances 0.72 -> 0
        (2000, 1000, True, None),  # both clamped to 1000: no drop
        (1500, 800, True, None),  # 0.951 - 0.900: a small drop near the ceiling
    ],
)
def test_cp_judgments(before: int, after: int, white: bool, expected: Judgment | None) -> None:
    assert judgment(Eval(cp=before), Eval(cp=after), white) == expected


def test_cp_thresholds_are_inclusive_at_5_10_15_points_of_win_percent() -> None:
    def cp_for(wc: float) -> float:
        return -math.log(2 / (wc + 1) - 1) / 0.00368208

    for drop, name in ((0.1, "inaccuracy"), (0.2, "mistake"), (0.3, "blunder")):
        just_over = round(cp_for(drop)) + 1
        just_under = round(cp_for(drop)) - 1
        assert judgment(Eval(cp=0), Eval(cp=-just_over), True) == Judgment(name)
        assert judgment(Eval(cp=0), Eval(cp=-just_under), True) != Judgment(name)


@pytest.mark.parametrize(
    ("before_cp", "expected"),
    [
        (-1000, Judgment.INACCURACY),
        (-999, Judgment.MISTAKE),
        (-701, Judgment.MISTAKE),
        (-700, Judgment.BLUNDER),
        (300, Judgment.BLUNDER),
    ],
)
def test_walking_into_a_mate(before_cp: int, expected: Judgment) -> None:
    # White moves from before_cp into a mate by Black; Black moves into a mate by White.
    assert judgment(Eval(cp=before_cp), Eval(mate=-4), True) == expected
    assert judgment(Eval(cp=-before_cp), Eval(mate=4), False) == expected


@pytest.mark.parametrize(
    ("after_cp", "expected"),
    [
        (1000, Judgment.INACCURACY),
        (999, Judgment.MISTAKE),
        (701, Judgment.MISTAKE),
        (700, Judgment.BLUNDER),
        (-50, Judgment.BLUNDER),
    ],
)
def test_losing_a_forced_mate(after_cp: int, expected: Judgment) -> None:
    assert judgment(Eval(mate=3), Eval(cp=after_cp), True) == expected
    assert judgment(Eval(mate=-3), Eval(cp=-after_cp), False) == expected


def test_mate_to_mate_is_not_judged_but_a_mate_handed_over_is() -> None:
    assert judgment(Eval(mate=3), Eval(mate=5), True) is None  # delayed
    assert judgment(Eval(mate=5), Eval(mate=2), True) is None  # shortened
    assert judgment(Eval(mate=-3), Eval(mate=-6), False) is None
    assert judgment(Eval(mate=-3), Eval(mate=-2), True) is None  # still lost
    assert judgment(Eval(mate=2), Eval(mate=-2), True) == Judgment.BLUNDER  # lila: MateLost
    # mating: after the move the opponent is checkmated (mate 0, opponent to move)
    assert judgment(Eval(mate=1), Eval(mate=0), True) is None
    assert judgment(Eval(cp=400), Eval(mate=0), False) is None
    # a mate found from a cp score is good for the mover
    assert judgment(Eval(cp=200), Eval(mate=3), True) is None


# -- ACPL ------------------------------------------------------------------------


def test_acpl_per_side_clamped_and_rounded() -> None:
    # start +15, then plies: W 15->-20 (35), B -20->100 (120), W 100->1000 (0), B 1000->1000
    cps: list[int | None] = [INITIAL_CP, -20, 100, 1000, 1000]
    assert acpl(cps, True) == round((35 + 0) / 2)
    assert acpl(cps, False) == 60
    assert acpl([15, 14, 15, 13], True) == 2  # (1 + 2) / 2 = 1.5 rounds up
    assert acpl([15, None, 20], True) is None and acpl([15, None, 20], False) is None
    assert acpl([15], True) is None


def test_acpl_when_black_moves_first() -> None:
    cps: list[int | None] = [15, 115, 215, 115]
    assert acpl(cps, False, white_first=False) == 50  # 15 -> 115: 100, 215 -> 115: 0
    assert acpl(cps, True, white_first=False) == 0


# -- accuracy ----------------------------------------------------------------------


def test_move_accuracy() -> None:
    assert move_accuracy(50, 50) == 100
    assert move_accuracy(50, 60) == 100
    assert move_accuracy(60, 50) == pytest.approx(
        103.1668100711649 * math.exp(-0.04354415386753951 * 10) - 3.166924740191411 + 1
    )
    assert move_accuracy(100, 0) == 0


def test_two_good_moves() -> None:
    white, black = accuracy([15, 15]) or (0, 0)
    assert white == pytest.approx(100, abs=1) and black == pytest.approx(100, abs=1)


def test_white_blunders_at_once() -> None:
    white, black = accuracy([-900, -900]) or (0, 0)
    assert white == pytest.approx(10, abs=5) and black == pytest.approx(100, abs=1)


def test_black_blunders_at_once() -> None:
    white, black = accuracy([15, 900]) or (0, 0)
    assert black == pytest.approx(10, abs=5) and white == pytest.approx(100, abs=1)


def test_white_blunders_after_twenty_good_plies() -> None:
    white, black = accuracy([15] * 20 + [-900]) or (0, 0)
    assert white == pytest.approx(50, abs=5) and black == pytest.approx(100, abs=1)


def test_black_blunders_after_twenty_one_good_plies() -> None:
    white, black = accuracy([15] * 21 + [900]) or (0, 0)
    assert black == pytest.approx(50, abs=5) and white == pytest.approx(100, abs=1)


@pytest.mark.parametrize("repetitions", [5, 50])
def test_alternating_small_losses(repetitions: int) -> None:
    white, black = accuracy([-50, 15] * repetitions) or (0, 0)
    assert white == pytest.approx(76, abs=8) and black == pytest.approx(76, abs=8)


@pytest.mark.parametrize(("loss", "expected"), [(-135, 54), (-435, 20)])
def test_alternating_bigger_losses(loss: int, expected: int) -> None:
    white, black = accuracy([loss, 15] * 50) or (0, 0)
    assert white == pytest.approx(expected, abs=8) and black == pytest.approx(expected, abs=8)


def test_no_accuracy_for_an_empty_game_or_a_single_move() -> None:
    assert accuracy([]) is None
    assert accuracy([15]) is None
    assert accuracy([15, 15]) is not None


def test_accuracy_volatility_weights_change_the_result() -> None:
    # Same move accuracies in a different order give different weighted means.
    calm_then_wild = accuracy([15] * 10 + [-300, 15] * 5 + [15] * 10)
    wild_then_calm = accuracy([-300, 15] * 5 + [15] * 20)
    assert calm_then_wild is not None and wild_then_calm is not None
    assert calm_then_wild != wild_then_calm
