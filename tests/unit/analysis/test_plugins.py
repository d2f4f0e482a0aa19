"""The built-in plugins and `analyze_game` without an engine."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from gamekeeper.analysis.analyzer import analyze_game, carried_evals
from gamekeeper.analysis.base import AnalysisPlugin, JsonValue, PositionEval
from gamekeeper.analysis.plugins import (
    AccuracyPlugin,
    AcplPlugin,
    EvalSwingPlugin,
    JudgmentsPlugin,
    MoveCountPlugin,
    builtin_plugins,
)
from gamekeeper.domain.games import Eval, Game, Platform, Player

SCHOLAR = ("e4", "e5", "Bc4", "Nc6", "Qh5", "Nf6", "Qxf7#")


def make_game(
    moves: Sequence[str] | None = SCHOLAR,
    evals: Sequence[Eval | None] | None = None,
    **fields: object,
) -> Game:
    return Game(
        platform=Platform.LICHESS,
        platform_game_id="test0001",
        white=Player(name="w"),
        black=Player(name="b"),
        moves=tuple(moves) if moves is not None else None,
        evals=tuple(evals) if evals is not None else None,
        **fields,  # type: ignore[arg-type]
    )


def pe(cp: int | None = None, mate: int | None = None, best: str | None = None) -> PositionEval:
    return PositionEval(score=Eval(cp=cp, mate=mate), best=best)


# The scholar's mate with an engine's view: Black's 6...Nf6 walks into mate in 1, and
# the engine's best move there was 6...g6; the mated position is `mate 0`.
SCHOLAR_EVALS = [
    pe(20, best="e2e4"),
    pe(30, best="e7e5"),
    pe(25, best="g1f3"),
    pe(20, best="b8c6"),
    pe(30, best="d1h5"),
    pe(30, best="g7g6"),
    pe(mate=1, best="h5f7"),
    pe(mate=0),
]


def test_builtins_are_the_five_named_plugins() -> None:
    plugins = builtin_plugins()
    assert [p.name for p in plugins] == [
        "move_count",
        "eval_swing",
        "judgments",
        "acpl",
        "accuracy",
    ]
    assert all(p.version == "1" for p in plugins)
    assert [p.needs_evals for p in plugins] == [False, True, True, True, True]
    checked: list[AnalysisPlugin] = plugins  # mypy: they implement the Protocol
    assert checked


def test_move_count() -> None:
    assert MoveCountPlugin().analyse(make_game(), None) == 7
    assert MoveCountPlugin().analyse(make_game(moves=()), None) == 0


def test_judgments_name_the_blunder_and_the_best_move_in_san() -> None:
    value = JudgmentsPlugin().analyse(make_game(), SCHOLAR_EVALS)
    assert isinstance(value, list) and len(value) == 7
    assert [e["ply"] for e in value if isinstance(e, dict) and e["judgment"]] == [6]
    assert value[5] == {"ply": 6, "judgment": "blunder", "best": "g6"}
    # the mating move: best move played, so no best is given and no judgment
    assert value[6] == {"ply": 7, "judgment": None, "best": None}
    assert value[0] == {"ply": 1, "judgment": None, "best": None}  # e4 was best
    assert value[2] == {"ply": 3, "judgment": None, "best": "Nf3"}


def test_a_best_move_played_is_not_judged_as_lila_drops_its_variation() -> None:
    evals = [pe(20, best="e2e4"), pe(-400)]
    game = make_game(moves=("e4",))
    assert JudgmentsPlugin().analyse(game, evals) == [{"ply": 1, "judgment": None, "best": None}]
    other = [pe(20, best="d2d4"), pe(-400)]
    assert JudgmentsPlugin().analyse(game, other) == [
        {"ply": 1, "judgment": "blunder", "best": "d4"}
    ]


def test_acpl_and_accuracy_leave_out_the_checkmated_position_as_lichess() -> None:
    acpl = AcplPlugin().analyse(make_game(), SCHOLAR_EVALS)
    # Lichess's +15 start, not the engine's 20. White: 15->30 0, 25->20 5, 30->30 0,
    # the mate is not counted; Black: 30->25 0, 20->30 10, 30->mate 1 (1000) 970.
    assert acpl == {"white": round(5 / 3), "black": round(980 / 3)}
    accuracy = AccuracyPlugin().analyse(make_game(), SCHOLAR_EVALS)
    assert isinstance(accuracy, dict)
    white, black = accuracy["white"], accuracy["black"]
    assert isinstance(white, float) and isinstance(black, float)
    assert white > 95 > 50 > black


def test_eval_swing_finds_the_largest_change() -> None:
    value = EvalSwingPlugin().analyse(make_game(), SCHOLAR_EVALS)
    assert value == {"ply": 6, "swing": 970, "from": {"cp": 30}, "to": {"mate": 1}}
    assert EvalSwingPlugin().analyse(make_game(moves=()), [pe(20)]) is None


def test_plugins_handle_black_moving_first() -> None:
    fen = "4k3/8/8/8/8/8/4P3/4K2q b - - 0 1"  # Black to move, queen up
    game = make_game(moves=("Qh2", "Kd1"), initial_fen=fen, variant="fromPosition")
    # from a position, the engine's score of the start is used (not +15): Black's
    # 1...Qh2 gives back most of the queen's worth, White's 2. Kd1 lets it all come back
    evals = [pe(-900), pe(-100, best="e1f1"), pe(-950)]
    judgments = JudgmentsPlugin().analyse(game, evals)
    assert judgments == [
        {"ply": 1, "judgment": "blunder", "best": None},
        {"ply": 2, "judgment": "blunder", "best": "Kf1"},
    ]
    acpl = AcplPlugin().analyse(game, evals)
    assert acpl == {"white": 850, "black": 800}


async def test_carried_evals_are_used_without_an_engine() -> None:
    evals = [Eval(cp=31), Eval(cp=25), Eval(cp=18), Eval(cp=40), Eval(cp=35), Eval(mate=1)]
    game = make_game(evals=evals)
    analysis = await analyze_game(game, builtin_plugins(), cache=None, pool=None, nodes=1000)
    assert analysis.skipped == {}
    assert analysis.evals[0] == pe(15)
    assert analysis.evals[1:] == (*[PositionEval(score=e) for e in evals], None)
    assert (analysis.positions, analysis.engine_evals, analysis.cache_hits) == (7, 0, 0)
    assert analysis.results["move_count"] == ("1", 7)
    judgments = analysis.results["judgments"][1]
    assert isinstance(judgments, list)
    assert [e["ply"] for e in judgments if isinstance(e, dict) and e["judgment"]] == [6]


def test_carried_evals_align_with_the_moves() -> None:
    game = make_game(moves=("e4", "e5"), evals=[Eval(cp=20), Eval(cp=20), Eval(cp=30)])
    assert carried_evals(game) == (pe(15), pe(20), pe(20))
    assert carried_evals(make_game(evals=[None, None])) is None
    assert carried_evals(make_game(evals=None)) is None
    short = carried_evals(make_game(moves=("e4", "e5"), evals=[Eval(cp=20)]))
    assert short == (pe(15), pe(20), None)


async def test_without_an_engine_the_plugins_needing_evals_are_skipped() -> None:
    analysis = await analyze_game(make_game(), builtin_plugins(), cache=None, pool=None, nodes=1)
    assert analysis.results == {"move_count": ("1", 7)}
    assert analysis.skipped == dict.fromkeys(
        ("eval_swing", "judgments", "acpl", "accuracy"), "no engine"
    )
    assert analysis.evals == () and analysis.positions == 0


async def test_a_variant_the_engine_cannot_play_is_skipped_with_a_reason() -> None:
    game = make_game(moves=("e4", "e5"), variant="crazyhouse")
    analysis = await analyze_game(game, builtin_plugins(), cache=None, pool=None, nodes=1)
    assert analysis.results == {"move_count": ("1", 2)}
    assert set(analysis.skipped.values()) == {"the engine does not play the crazyhouse variant"}


async def test_a_game_without_its_moves_runs_nothing() -> None:
    analysis = await analyze_game(
        make_game(moves=None), builtin_plugins(), cache=None, pool=None, nodes=1
    )
    assert analysis.results == {}
    assert set(analysis.skipped) == {p.name for p in builtin_plugins()}


class BrokenPlugin:
    name = "broken"
    version = "2"
    needs_evals = False

    def analyse(self, game: Game, evals: Sequence[PositionEval | None] | None) -> JsonValue:
        raise ZeroDivisionError("no luck")


async def test_a_failing_plugin_is_skipped_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plugins: list[AnalysisPlugin] = [BrokenPlugin(), MoveCountPlugin()]
    analysis = await analyze_game(make_game(), plugins, cache=None, pool=None, nodes=1)
    assert analysis.results == {"move_count": ("1", 7)}
    assert analysis.skipped == {"broken": "failed: ZeroDivisionError: no luck"}
    assert "plugin broken failed" in caplog.text
