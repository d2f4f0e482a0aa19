"""The dashboard's pure parts, without a browser: charts, boards, formats, filters, jobs.

Fast checks of what the browser tests see only as pictures; they need no Chromium.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import chess
import pytest

from gamekeeper.api import deps
from gamekeeper.domain.games import Eval, Platform, Result
from gamekeeper.domain.jobs import ItemError, Job
from gamekeeper.services.stats import OpeningResult, RatingSeries
from gamekeeper.storage.stats import MonthTally, RatingPoint
from gamekeeper.web import auth, charts
from gamekeeper.web.board import board_svg, move_rows, replay
from gamekeeper.web.formatting import fmt_clock, fmt_duration, fmt_eval, fmt_int, fmt_rate
from gamekeeper.web.games import outcome_for, parse_filters
from gamekeeper.web.jobs import job_card, summarise
from tests.support.games import make_game

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def point(day: str, rating: int, speed: str = "blitz") -> RatingPoint:
    return RatingPoint(day=day, platform=Platform.LICHESS, speed=speed, rating=rating, games=1)


# -- charts -------------------------------------------------------------------------------


def test_nice_ticks_are_round_and_cover_the_range() -> None:
    assert charts.nice_ticks(1412, 1587, 5) == [1400, 1450, 1500, 1550, 1600]
    assert charts.nice_ticks(0, 7, 4) == [0, 2, 4, 6, 8]
    assert charts.nice_ticks(5, 5) == [5, 5.2, 5.4, 5.6, 5.8, 6]


def test_rating_chart_draws_a_line_per_series_with_a_title() -> None:
    series = [
        RatingSeries(
            platform=Platform.LICHESS,
            speed="blitz",
            points=(point("2025-01-01", 1500), point("2025-02-01", 1550)),
        ),
        RatingSeries(platform=Platform.LICHESS, speed="rapid", points=(point("2025-01-15", 1700),)),
    ]
    svg = charts.rating_chart(series)
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert '<title id="chart-ratings-title">Rating over time</title>' in svg
    assert svg.count("<polyline") == 1  # a one-point line is a dot
    assert svg.count("<circle") == 3
    assert ">lichess rapid</text>" in svg
    assert "Jan 2025" in svg or "Feb 2025" in svg


def test_empty_charts_say_why() -> None:
    assert "No rated standard games yet." in charts.rating_chart([])
    assert "No games yet." in charts.monthly_chart([])
    assert "as White yet" in charts.openings_chart([], color="white", chart_id="w")


def test_chart_text_is_escaped() -> None:
    result = OpeningResult(name="<script>x</script>", eco=None, wins=1, draws=0, losses=0)
    svg = charts.openings_chart([result], color="white", chart_id="w")
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_openings_chart_stacks_outcomes() -> None:
    results = [
        OpeningResult(name="Sicilian Defense", eco="B20", wins=3, draws=1, losses=2),
        OpeningResult(name="A very long opening name that goes on", eco=None, wins=0, draws=0,
                      losses=1),
    ]  # fmt: skip
    svg = charts.openings_chart(results, color="black", chart_id="b")
    assert svg.count('class="c-win"') == 1 and svg.count('class="c-loss"') == 2
    assert "A very long opening name t…" in svg
    assert ">58%<" in svg  # (3 + 0.5) / 6


def test_monthly_chart_fills_empty_months_and_labels_quarters() -> None:
    months = [
        MonthTally(month="2024-11", wins=1, draws=0, losses=0, other=0),
        MonthTally(month="2025-12", wins=0, draws=2, losses=1, other=1),
    ]
    filled = charts.fill_months(months)
    assert [m.month for m in filled][:3] == ["2024-11", "2024-12", "2025-01"]
    assert len(filled) == 14
    svg = charts.monthly_chart(months)
    assert svg.count('<g class="bar">') == 14
    assert ">Jan 2025<" in svg and ">Apr<" in svg and ">Nov 2024<" not in svg


# -- boards -------------------------------------------------------------------------------


def test_replay_describes_plies_and_pairs_moves_with_clocks_and_evals() -> None:
    game = make_game(1, evals=(Eval(cp=20), None, Eval(mate=-2), Eval(cp=-150)))
    played = replay(game)
    assert played.plies == 4 and played.problem is None
    assert [played.describe(n) for n in range(5)] == [
        "Start position", "1. e4", "1… e5", "2. Nf3", "2… Nc6",
    ]  # fmt: skip
    rows = move_rows(game, played)
    assert [(r.number, r.white and r.white.san, r.black and r.black.san) for r in rows] == [
        (1, "e4", "e5"),
        (2, "Nf3", "Nc6"),
    ]
    assert rows[0].white is not None and rows[0].white.clock == "3:00"
    assert rows[0].white.eval == "+0.20"
    assert rows[1].white is not None and rows[1].white.eval == "#-2"


def test_replay_from_a_position_with_black_to_move() -> None:
    fen = "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1"
    game = replace(make_game(2, initial_fen=fen, variant="fromPosition"), moves=("e5", "Nf3"))
    played = replay(game)
    assert [played.describe(n) for n in (1, 2)] == ["1… e5", "2. Nf3"]
    rows = move_rows(game, played)
    assert rows[0].white is None and rows[0].black is not None and rows[1].number == 2


def test_replay_stops_at_an_unplayable_move() -> None:
    game = replace(make_game(3), moves=("e4", "e5", "Ke3"))
    played = replay(game)
    assert played.plies == 2
    assert played.problem is not None and "Ke3" in played.problem


def test_board_svg_marks_the_last_move_and_turns_around() -> None:
    played = replay(make_game(4))
    svg = board_svg(played, 1)
    assert svg.startswith("<svg") and "lastmove" in svg
    assert "width" not in svg.split(">", 1)[0]  # sized by CSS
    flipped = board_svg(played, 0, flipped=True)
    assert flipped != board_svg(played, 0)
    assert board_svg(played, 99) == board_svg(played, played.plies)


def test_variants_replay_on_their_own_boards() -> None:
    base = make_game(5)
    crazyhouse = replace(base, variant="crazyhouse", moves=("e4", "d5", "exd5", "Qxd5", "P@e4"))
    assert replay(crazyhouse).problem is None
    start960 = "bqnbrkrn/pppppppp/8/8/8/8/PPPPPPPP/BQNBRKRN w KQkq - 0 1"
    chess960 = replace(base, variant="chess960", initial_fen=start960, moves=("e4", "e5"))
    played = replay(chess960)
    assert played.problem is None and played.start.chess960
    assert played.board_at(2).piece_at(chess.E4) == chess.Piece(chess.PAWN, chess.WHITE)


# -- formats, filters, jobs, login --------------------------------------------------------


def test_formats() -> None:
    assert fmt_int(12345) == "12,345" and fmt_int(None) == "\u2013"
    assert [fmt_duration(s) for s in (None, 4.4, 65, 7500)] == ["\u2013", "4 s", "1m 05s", "2h 05m"]
    assert [fmt_clock(c) for c in (None, 735, 17900, 372300)] == ["", "0:07.3", "2:59", "1:02:03"]
    assert [fmt_eval(e) for e in (None, Eval(cp=-5), Eval(mate=3))] == ["", "-0.05", "#3"]
    assert [fmt_rate(r) for r in (None, 3.21, 1234.5)] == ["\u2013", "3.2/s", "1,234/s"]


def test_filters_are_lenient_and_links_keep_them() -> None:
    filters = parse_filters(
        {
            "speed": "blitz",
            "result": "win",
            "color": "purple",
            "from": "2025-13-01",
            "to": "2025-02-01",
        }
    )
    q = filters.query
    assert (q.speed, q.outcome, q.result, q.color, q.start_from) == (
        "blitz",
        "win",
        None,
        None,
        None,
    )
    assert q.start_to == datetime(2025, 2, 2, tzinfo=UTC)  # the "to" day is included
    assert len(filters.problems) == 2
    assert filters.link(cursor="abc") == "?speed=blitz&result=win&to=2025-02-01&cursor=abc"
    assert parse_filters({"result": "1-0"}).query.result == "1-0"


def test_outcome_from_a_side() -> None:
    won = make_game(6)  # White (alice) won
    assert outcome_for(won, "white") == "won" and outcome_for(won, "black") == "lost"
    assert outcome_for(won, None) is None
    draw = make_game(7, result=Result.DRAW, winner=None)
    assert outcome_for(draw, "black") == "drawn"
    assert outcome_for(make_game(8, result=Result.UNKNOWN, winner=None), "white") is None


def test_a_sync_result_becomes_a_reconciliation_and_facts() -> None:
    summary = summarise(
        {
            "site": "lichess",
            "site_total": 1234,
            "stored": 1230,
            "difference": 4,
            "ongoing": 1,
            "reasons": ["1 games are still being played"],
            "months": {"fetched": 3, "unchanged": 9},
            "flag": True,
        }
    )
    assert summary is not None and summary.reconciled
    assert (summary.site_total, summary.stored, summary.difference) == (1234, 1230, 4)
    assert summary.facts == (("ongoing", "1"), ("months fetched", "3"), ("months unchanged", "9"))
    assert summarise(None) is None
    moves = summarise({"requested": 100, "filled": 40})
    assert moves is not None and not moves.reconciled and moves.facts[0] == ("requested", "100")


def test_job_card_lists_the_newest_errors_first() -> None:
    errors = tuple(ItemError(at=NOW, item=f"g{i}", message="bad") for i in range(8))
    job = Job(id="job_1", job_type="sync_moves", family="sync", owner="a", created_at=NOW,
              errors=errors)  # fmt: skip
    card = job_card(job, {})
    assert card.title == "Moves backfill" and card.account is None
    assert [e.item for e in card.recent_errors] == ["g7", "g6", "g5", "g4", "g3"]
    assert card.percent is None and card.duration_s is None


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        (None, "/tasks"),
        ("/games?speed=blitz", "/games?speed=blitz"),
        ("//evil.example/x", "/tasks"),
        ("https://evil.example/", "/tasks"),
        ("/\\evil.example", "/tasks"),
    ],
)
def test_login_returns_only_to_local_paths(given: str | None, safe: str) -> None:
    assert auth.safe_next(given) == safe


def test_the_dashboard_and_the_api_read_the_same_cookie() -> None:
    assert auth.TOKEN_COOKIE == deps.TOKEN_COOKIE
    assert re.fullmatch(r"[a-z_]+", auth.TOKEN_COOKIE)
