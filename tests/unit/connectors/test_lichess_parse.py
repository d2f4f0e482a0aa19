"""Lichess pure core: requests built, and every recorded game parsed into a `Game`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from gamekeeper.connectors.base import GamesQuery, RecordError
from gamekeeper.connectors.lichess.records import (
    datetime_to_ms,
    decode_line,
    ms_to_datetime,
    parse_game,
    parse_profile,
)
from gamekeeper.connectors.lichess.source import (
    build_games_request,
    build_ids_request,
    build_profile_request,
)
from gamekeeper.domain.games import (
    Eval,
    Game,
    Opening,
    Platform,
    Player,
    Result,
    Termination,
    TimeControl,
    Winner,
)
from gamekeeper.errors import MalformedRecord

FIXTURES = Path(__file__).parents[2] / "fixtures" / "lichess"
REFERENCE = Path("/work/shared/reference/lichess/doc/specs/examples")


def lines(name: str) -> list[str]:
    return (FIXTURES / name).read_text().splitlines()


def games(name: str) -> dict[str, Game]:
    parsed = [parse_game(orjson.loads(line), line) for line in lines(name)]
    return {game.platform_game_id: game for game in parsed}


@pytest.fixture(scope="module")
def reference() -> dict[str, Game]:
    return games("reference-games.ndjson")


@pytest.fixture(scope="module")
def edge() -> dict[str, Game]:
    return games("edge-cases.ndjson")


def test_the_fixtures_are_the_spec_examples() -> None:
    yaml = pytest.importorskip("yaml")
    if not REFERENCE.is_dir():
        pytest.skip("the shared reference is not here")
    files = [
        "games-apiGamesUserJson.json.yaml",
        "games-gamesExportIds.json.yaml",
        "games-exportOneGame.json.yaml",
    ]
    expected = [yaml.safe_load((REFERENCE / f).read_text())["value"] for f in files]
    assert [orjson.loads(line) for line in lines("reference-games.ndjson")] == expected
    same = yaml.safe_load((REFERENCE / "games-apiUserCurrentGameJson.json.yaml").read_text())
    assert same["value"] == expected[0]


def test_every_reference_game_parses(reference: dict[str, Game]) -> None:
    assert set(reference) == {"nfjOkkBQ", "TJxUmbWK", "q7ZvsdUF"}
    for game in reference.values():
        assert game.platform is Platform.LICHESS
        assert game.url == f"https://lichess.org/{game.platform_game_id}"
        assert orjson.loads(game.raw)["id"] == game.platform_game_id


def test_reference_bullet_game_fields(reference: dict[str, Game]) -> None:
    game = reference["nfjOkkBQ"]
    assert game.white == Player(name="Lance5500", id="lance5500", rating=2813, title="LM")
    assert game.black == Player(name="cherrywall", id="cherrywall", rating=2330)
    assert (game.result, game.termination, game.winner) == (
        Result.WHITE_WINS,
        Termination.RESIGN,
        Winner.WHITE,
    )
    assert (game.variant, game.speed, game.rated) == ("standard", "bullet", False)
    assert game.time_control == TimeControl(initial_s=60, increment_s=0)
    assert str(game.time_control) == "60+0"
    assert game.start_time == datetime(2026, 7, 6, 22, 34, 4, 194000, tzinfo=UTC)
    assert game.end_time == ms_to_datetime(1783377361082)
    assert game.opening == Opening(eco="A00", name="Van't Kruijs Opening", ply=1)
    assert game.moves is not None
    assert game.moves[:4] == ("e3", "d5", "Ke2", "c6")
    assert game.moves[-1] == "Bxh4"
    assert len(game.moves) == 91
    assert game.clocks is None
    assert game.evals is None
    assert game.initial_fen is None


def test_reference_rating_diffs(reference: dict[str, Game]) -> None:
    game = reference["TJxUmbWK"]
    assert (game.white.rating, game.white.rating_diff) == (1627, 15)
    assert (game.black.name, game.black.rating_diff) == ("JERC-12Jesus", -15)
    assert game.speed == "rapid"
    assert game.rated is True
    assert game.time_control == TimeControl(initial_s=600, increment_s=0)


def test_reference_analysis_becomes_evals_aligned_with_moves(reference: dict[str, Game]) -> None:
    game = reference["q7ZvsdUF"]
    assert game.termination is Termination.DRAW
    assert game.result is Result.DRAW
    assert game.winner is None
    assert game.moves is not None and game.evals is not None
    assert len(game.evals) == len(game.moves) == 125
    assert game.evals[:3] == (Eval(cp=8), Eval(cp=7), Eval(cp=10))
    assert game.evals[7] == Eval(cp=85)
    assert game.time_control == TimeControl(initial_s=300, increment_s=3)


def test_ai_opponent(edge: dict[str, Game]) -> None:
    game = edge["aiLevel1"]
    assert game.black == Player(ai_level=4)
    assert game.white.id == "alice"
    assert game.termination is Termination.MATE
    assert game.result is Result.WHITE_WINS
    assert game.clocks == (30003, 30003, 29811, 29755, 29603, 29011, 29400)
    # Six analysis entries for seven moves: padded, the mate kept.
    assert game.evals is not None
    assert game.evals[-2:] == (Eval(mate=1), None)


def test_imported_game_players_have_only_names(edge: dict[str, Game]) -> None:
    game = edge["imported"]
    assert game.white == Player(name="Garry Kasparov", id="garry kasparov")
    assert game.black == Player(name="Veselin Topalov", id="veselin topalov")
    assert game.time_control is None


def test_from_position_keeps_the_initial_fen(edge: dict[str, Game]) -> None:
    game = edge["fromPos1"]
    assert game.variant == "fromPosition"
    assert game.initial_fen == "8/8/8/4k3/8/8/4P3/4K3 w - - 0 1"
    # Out of time with nobody winning: the opponent could not mate.
    assert game.termination is Termination.TIMEOUT_VS_INSUFFICIENT
    assert game.result is Result.DRAW


def test_games_without_moves(edge: dict[str, Game]) -> None:
    assert edge["noStart1"].moves == ()
    assert edge["noStart1"].termination is Termination.NO_START
    assert edge["noStart1"].result is Result.UNKNOWN
    assert edge["aborted1"].moves == ("e4",)
    assert edge["aborted1"].termination is Termination.ABORTED
    assert edge["aborted1"].result is Result.UNKNOWN


def test_unfinished_games_are_ongoing(edge: dict[str, Game]) -> None:
    for game_id in ("corresp1", "created1"):
        game = edge[game_id]
        assert game.termination is Termination.ONGOING
        assert not game.finished
        assert game.result is Result.UNKNOWN
    assert edge["corresp1"].time_control == TimeControl(days_per_move=3)
    assert edge["corresp1"].speed == "correspondence"


@pytest.mark.parametrize(
    ("game_id", "termination", "result"),
    [
        ("drawn001", Termination.DRAW, Result.DRAW),
        ("stalemt1", Termination.STALEMATE, Result.DRAW),
        ("insuffCl", Termination.INSUFFICIENT, Result.DRAW),
        ("outTime1", Termination.TIMEOUT, Result.WHITE_WINS),
        ("leftGam1", Termination.ABANDONED, Result.BLACK_WINS),
        ("cheat001", Termination.CHEAT, Result.WHITE_WINS),
        ("botGame1", Termination.MATE, Result.BLACK_WINS),
        ("atomic01", Termination.VARIANT_END, Result.BLACK_WINS),
        ("racingK1", Termination.VARIANT_END, Result.DRAW),
        ("statObj1", Termination.RESIGN, Result.WHITE_WINS),
        ("newStat1", Termination.UNKNOWN, Result.UNKNOWN),
    ],
)
def test_statuses(
    edge: dict[str, Game], game_id: str, termination: Termination, result: Result
) -> None:
    assert (edge[game_id].termination, edge[game_id].result) == (termination, result)


def test_variants(edge: dict[str, Game]) -> None:
    assert edge["crzyhous"].variant == "crazyhouse"
    assert edge["crzyhous"].moves is not None
    assert edge["crzyhous"].moves[-1] == "P@h6"
    assert edge["chess960"].variant == "chess960"
    assert edge["chess960"].initial_fen is not None
    assert edge["racingK1"].variant == "racingKings"


def test_bot_title_and_provisional(edge: dict[str, Game]) -> None:
    game = edge["botGame1"]
    assert game.black.title == "BOT"
    assert game.white.provisional is True


def test_metadata_only_export_has_no_moves() -> None:
    line = lines("reference-games.ndjson")[0]
    raw = orjson.loads(line)
    del raw["moves"]
    game = parse_game(raw, line, moves_requested=False)
    assert game.moves is None
    assert game.clocks is None


def test_clocks_are_aligned_with_moves() -> None:
    raw = {"id": "x", "moves": "e4 e5 Nf3", "clocks": [100, 200, 300, 400]}
    assert parse_game(raw, "").clocks == (100, 200, 300)
    raw["clocks"] = [100]
    assert parse_game(raw, "").clocks == (100, None, None)


def test_a_record_without_id_is_malformed() -> None:
    with pytest.raises(MalformedRecord):
        parse_game({"players": {}}, "{}")


def test_decode_line_turns_garbage_into_record_errors() -> None:
    broken = decode_line(b'{"id": "abc", "players": ', "line 7")
    assert isinstance(broken.item, RecordError)
    assert broken.item.item == "line 7"
    no_id = decode_line(b'{"rated": true}', "line 8")
    assert isinstance(no_id.item, RecordError)
    assert no_id.item.item == "line 8"
    wrong_shape = decode_line(b'{"id": "abcdefgh", "players": {"white": 3}}', "line 9")
    assert isinstance(wrong_shape.item, Game)  # a player that is not an object is just unknown
    good = decode_line(lines("reference-games.ndjson")[0].encode(), "line 1")
    assert isinstance(good.item, Game)
    assert good.created_ms == 1783377244194


def test_timestamps_round_trip_exactly() -> None:
    when = ms_to_datetime(1783377244194)
    assert when is not None
    assert datetime_to_ms(when) == 1783377244194


def test_profile_counts() -> None:
    profile = parse_profile(orjson.loads((FIXTURES / "reference-user-mary.json").read_bytes()))
    assert (profile.id, profile.username, profile.count_all) == ("mary", "Mary", 9824)
    assert profile.count_rated == 7859
    assert profile.created_at == ms_to_datetime(1776700014918)
    assert not profile.disabled


def test_closed_account_profile_has_no_counts() -> None:
    profile = parse_profile({"id": "gone", "username": "Gone", "disabled": True})
    assert profile.disabled
    assert profile.count_all is None


def test_games_request() -> None:
    query = GamesQuery(
        since_ms=1700000000000,
        until_ms=1800000000000,
        max=50,
        perf_type=["blitz", "rapid"],
        rated=True,
        moves=False,
        evals=False,
    )
    request = build_games_request("https://lichess.org/", "Alice", query, token="lip_secret")
    assert request.method == "GET"
    assert request.url.path == "/api/games/user/Alice"
    assert dict(request.url.params) == {
        "sort": "dateAsc",
        "moves": "false",
        "clocks": "true",
        "evals": "false",
        "opening": "true",
        "ongoing": "true",
        "finished": "true",
        "since": "1700000000000",
        "until": "1800000000000",
        "max": "50",
        "rated": "true",
        "perfType": "blitz,rapid",
    }
    assert request.headers["Accept"] == "application/x-ndjson"
    assert request.headers["Authorization"] == "Bearer lip_secret"


def test_games_request_without_token_or_filters() -> None:
    request = build_games_request("https://lichess.org", "bob", GamesQuery())
    assert "Authorization" not in request.headers
    assert set(request.url.params) == {
        "sort",
        "moves",
        "clocks",
        "evals",
        "opening",
        "ongoing",
        "finished",
    }


def test_ids_request() -> None:
    request = build_ids_request("https://lichess.org", ["a", "b", "c"], clocks=False)
    assert (request.method, request.url.path) == ("POST", "/api/games/export/_ids")
    assert request.content == b"a,b,c"
    assert request.headers["Content-Type"] == "text/plain"
    assert request.url.params["clocks"] == "false"
    with pytest.raises(ValueError, match="at most 300"):
        build_ids_request("https://lichess.org", [str(i) for i in range(301)])


def test_profile_request() -> None:
    request = build_profile_request("https://lichess.org", "Mary", token="t")
    assert request.url.path == "/api/user/Mary"
    assert request.headers["Authorization"] == "Bearer t"


def test_the_clock_after_the_last_ply_is_kept() -> None:
    """A game that ends between moves carries one clock more than plies: the time the
    side to move had left (0 on a flag)."""
    record = {
        "id": "flagged1",
        "status": "outoftime",
        "winner": "white",
        "moves": "e4 e5 Nf3",
        "clocks": [18003, 18003, 17899, 0],
    }
    game = parse_game(record, orjson.dumps(record).decode())
    assert game.clocks == (18003, 18003, 17899)
    assert game.final_clock == 0

    mated = {**record, "id": "mated001", "status": "mate", "clocks": [18003, 18003, 17899]}
    assert parse_game(mated, orjson.dumps(mated).decode()).final_clock is None
