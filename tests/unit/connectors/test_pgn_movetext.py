"""parse_movetext: mainline SAN, clocks, evals and result, checked against python-chess."""

from __future__ import annotations

import io

import chess.pgn
import pytest

from gamekeeper.connectors.pgn.movetext import Movetext, parse_movetext
from gamekeeper.domain.games import Eval


def oracle(movetext: str) -> Movetext:
    """What python-chess reads from the same movetext, in our shape."""
    game = chess.pgn.read_game(io.StringIO(movetext))
    assert game is not None
    assert not game.errors, game.errors
    nodes = list(game.mainline())
    clocks = tuple(None if n.clock() is None else round(n.clock() * 100) for n in nodes)
    evals: list[Eval | None] = []
    for node in nodes:
        pov = node.eval()
        if pov is None:
            evals.append(None)
        elif pov.white().is_mate():
            evals.append(Eval(mate=pov.white().mate()))
        else:
            evals.append(Eval(cp=pov.white().score()))
    result = game.headers.get("Result")
    return Movetext(
        moves=tuple(n.san() for n in nodes),
        clocks=clocks if any(c is not None for c in clocks) else None,
        evals=tuple(evals) if any(evals) else None,
        result=None if result == "*" and "*" not in movetext else result,
    )


@pytest.mark.parametrize(
    "movetext",
    [
        "1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6 4. Qxf7# 1-0",
        "1. e4 { [%eval 0.17] [%clk 0:03:00] } 1... e5 { [%clk 0:02:59.5] } 2. Nf3 $1 Nc6!? "
        "3. Bb5 (3. Bc4 Bc5 (3... Nf6 4. d3) 4. O-O) 3... a6 { c } { [%clk 0:01:00] } 4. 0-0 1-0",
        "1. e4 ( ) { starting comment [%clk 0:00:10] } e5 ; rest ( of line\n2. Nf3 *",
        "1. d4 { [%eval #-3] } d5 { [%eval -1.5,22] } 2. c4 dxc4 1/2-1/2",
        "1.e4 e5 2.Nf3 Nc6 3.Bb5 a6 4.Ba4 Nf6 5.0-0 Be7 6.Re1 b5 7.Bb3 O-O 0-1",
    ],
)
def test_mainline_matches_python_chess(movetext: str) -> None:
    assert parse_movetext(movetext) == oracle(movetext)


def test_syntactic_normalisation_like_python_chess_san() -> None:
    text = "1. e4 d5 2. exd5 Nf6 3. d4 Nxd5 4. c4 Nb6 5. c5 Nd5 6. c6 Nb4 7. cxb7 N8c6 8. bxa8q 1-0"
    parsed = parse_movetext(text)
    assert parsed.moves[-1] == "bxa8=Q"
    assert parsed.moves == oracle(text).moves


def test_null_moves_and_drops() -> None:
    parsed = parse_movetext("1. e4 Z0 2. d4 -- 3. P@e5 N@f3+ *")
    assert parsed.moves == ("e4", "--", "d4", "--", "@e5", "N@f3+")


def test_no_comments_means_no_clocks_or_evals() -> None:
    parsed = parse_movetext("1. e4 e5 *")
    assert parsed.clocks is None
    assert parsed.evals is None
    assert parsed.result == "*"


def test_missing_result() -> None:
    assert parse_movetext("1. e4 e5").result is None
