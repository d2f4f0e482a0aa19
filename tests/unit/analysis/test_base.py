"""Position keys and the JSON shape of evaluations."""

from __future__ import annotations

import chess
import pytest

from gamekeeper.analysis.base import (
    PositionEval,
    eval_from_json,
    eval_to_json,
    position_eval_from_json,
    position_eval_to_json,
    position_key,
)
from gamekeeper.domain.games import Eval
from gamekeeper.errors import InvalidInput


def _after(*sans: str) -> chess.Board:
    board = chess.Board()
    for san in sans:
        board.push_san(san)
    return board


def test_position_key_drops_the_move_counters_so_transpositions_meet() -> None:
    one = _after("Nf3", "Nf6", "g3", "g6")
    other = _after("g3", "g6", "Nf3", "Nf6")
    shuffled = _after("Nf3", "Nf6", "Ng1", "Ng8", "Nf3", "Nf6", "g3", "g6")
    assert one.fen() != shuffled.fen()  # the counters differ
    assert position_key(one) == position_key(other) == position_key(shuffled)
    assert position_key(one).count(" ") == 3


def test_position_key_keeps_side_to_move_castling_and_a_real_en_passant() -> None:
    assert position_key(_after("e4")) != position_key(_after("e3", "a6", "e4"))  # side to move
    no_capture = _after("e4")  # e3 is not a legal en passant capture: not part of the key
    assert position_key(no_capture).split()[3] == "-"
    capture = _after("e4", "a6", "e5", "d5")  # exd6 is legal
    assert position_key(capture).split()[3] == "d6"
    castled = _after("e4", "e5", "Ke2", "Ke7", "Ke1", "Ke8")
    assert position_key(castled) != position_key(_after("e4", "e5"))  # castling rights lost


@pytest.mark.parametrize("score", [Eval(cp=0), Eval(cp=-1234), Eval(mate=3), Eval(mate=-1)])
def test_eval_json_round_trip(score: Eval) -> None:
    assert eval_from_json(eval_to_json(score)) == score
    for best in (None, "e2e4"):
        value = PositionEval(score=score, best=best)
        data = position_eval_to_json(value)
        assert ("best" in data) == (best is not None)
        assert position_eval_from_json(data) == value


def test_eval_json_shape() -> None:
    assert eval_to_json(Eval(cp=31)) == {"cp": 31}
    assert eval_to_json(Eval(mate=-2)) == {"mate": -2}
    assert eval_to_json(Eval()) == {}
    assert position_eval_to_json(PositionEval(score=Eval(cp=5), best="g1f3")) == {
        "cp": 5,
        "best": "g1f3",
    }


@pytest.mark.parametrize(
    "bad",
    [None, 3, "cp", {}, {"cp": "1"}, {"cp": 1.5}, {"cp": True}, {"cp": 1, "mate": 2}, {"x": 1}],
)
def test_eval_from_json_rejects_anything_else(bad: object) -> None:
    with pytest.raises(InvalidInput):
        eval_from_json(bad)


@pytest.mark.parametrize("bad", [[], {"cp": 1, "best": 5}, {"best": "e2e4"}])
def test_position_eval_from_json_rejects_anything_else(bad: object) -> None:
    with pytest.raises(InvalidInput):
        position_eval_from_json(bad)
