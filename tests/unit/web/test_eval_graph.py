"""The evaluation graph's SVG and the tolerant reading of stored values."""

from __future__ import annotations

from gamekeeper.domain.games import Eval
from gamekeeper.services.analyses import game_analysis
from gamekeeper.web.eval_graph import chances, eval_graph
from tests.support.analyses import analysis_values


def test_chances_are_bounded_and_mates_are_the_edges() -> None:
    assert chances(None) is None
    assert chances(Eval(cp=0)) == 0
    assert 0.9 < chances(Eval(cp=1500)) < 1  # type: ignore[operator]
    assert chances(Eval(mate=2)) == 1 and chances(Eval(mate=-1)) == -1


def test_graph_has_a_dot_linking_each_judged_move() -> None:
    sans = ["e4", "e5", "Qh5", "Nc6", "Bc4", "Nf6", "Qxf7#"]
    judged = {6: ("blunder", "g6"), 3: ("inaccuracy", "Nf3")}
    values = analysis_values(sans, judged=judged)
    analysis = game_analysis(values)
    assert analysis is not None
    svg = eval_graph(analysis, flip="&flip=1")
    assert svg.startswith("<svg") and svg.count("<circle") == 2
    assert 'href="?ply=6&amp;flip=1"' in svg
    assert "3... Nf6??" in svg and "best was g6" in svg
    assert analysis.black.blunders == 1 and analysis.white.inaccuracies == 1


def test_malformed_values_are_skipped_not_errors() -> None:
    bad = {
        "judgments": {"moves": [{"san": "e4", "eval": {"cp": "x"}, "judgment": "great"}, 5]},
        "accuracy": {"white": "high", "black": True},
        "acpl": None,
    }
    analysis = game_analysis(bad)
    assert analysis is not None and len(analysis.moves) == 1
    assert analysis.moves[0].eval is None and analysis.moves[0].judgment is None
    assert analysis.white.accuracy is None and analysis.black.accuracy is None
    assert "<svg" in eval_graph(analysis)
