"""Chess.com pure core: every recorded archive game parsed into a `Game`, requests built."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from gamekeeper.connectors.base import RecordError
from gamekeeper.connectors.chesscom.records import (
    parse_game,
    parse_month,
    parse_profile,
    parse_time_control,
    platform_game_id,
    split_pgn,
)
from gamekeeper.connectors.chesscom.source import (
    build_archives_request,
    build_month_request,
    month_of,
)
from gamekeeper.domain.games import (
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

FIXTURES = Path(__file__).parents[2] / "fixtures" / "chesscom"
REFERENCE = Path("/work/shared/reference/chesscom/samples")
SAMPLES = [
    "erik_2009-10_monthly-archive_46.json",
    "erik_archives-list_2026-snapshot.json",
    "erik_player-profile_2026-snapshot.json",
]


def month(name: str) -> dict[str, Game]:
    items, total = parse_month("2009/10", (FIXTURES / name).read_bytes())
    assert all(isinstance(item, Game) for item in items)
    assert total == len(items)
    return {item.platform_game_id: item for item in items if isinstance(item, Game)}


@pytest.fixture(scope="module")
def erik() -> dict[str, Game]:
    return month("erik_2009-10_monthly-archive_46.json")


@pytest.fixture(scope="module")
def modern() -> list[Game]:
    items, _ = parse_month("2026/01", (FIXTURES / "modern-month.json").read_bytes())
    return [item for item in items if isinstance(item, Game)]


@pytest.mark.parametrize("name", SAMPLES)
def test_the_fixtures_are_the_reference_samples(name: str) -> None:
    if not REFERENCE.is_dir():
        pytest.skip("the shared reference is not here")
    assert (FIXTURES / name).read_bytes() == (REFERENCE / name).read_bytes()


def test_every_sample_game_parses(erik: dict[str, Game]) -> None:
    assert len(erik) == 46
    for game in erik.values():
        assert game.platform is Platform.CHESSCOM
        assert game.moves
        assert game.end_time is not None and game.start_time is not None
        assert game.url is not None and game.url.endswith(game.platform_game_id)
        assert orjson.loads(game.raw)["url"] == game.url
    terminations = Counter(game.termination for game in erik.values())
    assert terminations == {Termination.RESIGN: 32, Termination.TIMEOUT: 9, Termination.MATE: 5}


def test_sample_daily_game(erik: dict[str, Game]) -> None:
    game = erik["29099782"]
    assert game.white == Player(name="Mainline_Novelty", id="mainline_novelty", rating=1633)
    assert game.black == Player(name="erik", id="erik", rating=1920)
    assert (game.result, game.termination, game.winner) == (
        Result.WHITE_WINS,
        Termination.RESIGN,
        Winner.WHITE,
    )
    assert game.time_control == TimeControl(days_per_move=3)
    assert str(game.time_control) == "1/259200"
    assert (game.speed, game.rated, game.variant) == ("correspondence", True, "standard")
    assert game.start_time == datetime.fromtimestamp(1254438881, UTC)
    assert game.end_time == datetime.fromtimestamp(1254670734, UTC)
    assert game.moves is not None
    assert game.moves[:3] == ("e4", "d6", "d4")
    assert game.moves[-1] == "g4"
    assert len(game.moves) == 23
    assert game.clocks is None
    assert game.opening == Opening(eco="B07", name="Pirc Defense Main Line 4.Be3")


def test_sample_live_game_with_clocks(erik: dict[str, Game]) -> None:
    game = erik["2164"]
    assert game.url == "https://www.chess.com/live/game/2164"
    assert game.termination is Termination.MATE
    assert game.result is Result.WHITE_WINS
    assert game.time_control == TimeControl(initial_s=60, increment_s=0)
    assert game.speed == "bullet"
    # No `start_time` for live games: it comes from the PGN's UTCDate and UTCTime.
    assert game.start_time == datetime(2009, 10, 29, 23, 28, 55, tzinfo=UTC)
    assert game.moves is not None and game.clocks is not None
    assert len(game.clocks) == len(game.moves) == 57
    assert game.clocks[:4] == (6000, 6000, 5860, 5950)
    assert game.moves[-1] == "Rg7#"


def test_sample_chess960_game(erik: dict[str, Game]) -> None:
    game = erik["29210290"]
    assert game.variant == "chess960"
    assert game.initial_fen == "nrknqbbr/pppppppp/8/8/8/8/PPPPPPPP/NRKNQBBR w HBhb - 0 1"
    assert game.time_control == TimeControl(days_per_move=7)


def test_sample_timeout_and_increment(erik: dict[str, Game]) -> None:
    game = erik["3398"]
    assert game.termination is Termination.TIMEOUT
    assert game.time_control == TimeControl(initial_s=120, increment_s=1)
    assert game.black.name == "erik"


@pytest.mark.parametrize(
    ("index", "result", "termination"),
    [
        (0, Result.WHITE_WINS, Termination.MATE),
        (1, Result.DRAW, Termination.DRAW),
        (2, Result.DRAW, Termination.REPETITION),
        (3, Result.DRAW, Termination.STALEMATE),
        (4, Result.DRAW, Termination.INSUFFICIENT),
        (5, Result.DRAW, Termination.FIFTY_MOVES),
        (6, Result.DRAW, Termination.TIMEOUT_VS_INSUFFICIENT),
        (7, Result.WHITE_WINS, Termination.ABANDONED),
        (8, Result.BLACK_WINS, Termination.VARIANT_END),
        (9, Result.WHITE_WINS, Termination.VARIANT_END),
        (10, Result.BLACK_WINS, Termination.RESIGN),
        (11, Result.WHITE_WINS, Termination.TIMEOUT),
        (12, Result.BLACK_WINS, Termination.RESIGN),
    ],
)
def test_result_codes(
    modern: list[Game], index: int, result: Result, termination: Termination
) -> None:
    assert (modern[index].result, modern[index].termination) == (result, termination)


def test_modern_games_are_keyed_by_uuid(modern: list[Game]) -> None:
    assert modern[0].platform_game_id == "00000000-0000-0000-0000-00005eed0001"
    # The one without uuid falls back to the id in its url.
    assert modern[11].platform_game_id == "160000000012"


def test_modern_fields(modern: list[Game]) -> None:
    blitz = modern[0]
    assert blitz.time_control == TimeControl(initial_s=180, increment_s=2)
    assert blitz.clocks is not None and blitz.moves is not None
    assert len(blitz.clocks) == len(blitz.moves) == 7
    assert blitz.opening == Opening(eco="C23", name="Bishops Opening")
    assert modern[8].variant == "kingOfTheHill"
    assert modern[9].variant == "threeCheck"
    daily960 = modern[10]
    assert daily960.variant == "chess960"
    assert daily960.time_control == TimeControl(days_per_move=1)
    assert daily960.speed == "correspondence"
    assert daily960.initial_fen is not None
    assert daily960.start_time is not None


def test_a_game_without_pgn(modern: list[Game]) -> None:
    game = modern[12]
    assert game.moves is None
    assert game.clocks is None
    assert game.black == Player(name="Dave", id="dave", rating=1600)
    assert game.rated is False


def test_players_given_as_profile_urls(modern: list[Game]) -> None:
    game = modern[13]
    assert game.white == Player(name="alice", id="alice")
    # Without result codes, the PGN result decides.
    assert game.result is Result.WHITE_WINS
    assert game.termination is Termination.UNKNOWN


def test_a_broken_game_is_a_record_error_and_the_month_goes_on() -> None:
    body = orjson.dumps(
        {
            "games": [
                {"pgn": "1. e4 *"},
                {"url": "https://www.chess.com/game/live/5", "white": "x", "black": "y"},
            ]
        }
    )
    items, total = parse_month("2024/05", body)
    assert total == 2
    assert isinstance(items[0], RecordError)
    assert items[0].item == "2024/05 #1"
    assert isinstance(items[1], Game)
    assert items[1].platform_game_id == "5"


def test_a_garbled_month_is_malformed() -> None:
    with pytest.raises(MalformedRecord):
        parse_month("2024/05", b"<html>")
    with pytest.raises(MalformedRecord):
        parse_month("2024/05", b'{"archives": []}')


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("180+2", TimeControl(initial_s=180, increment_s=2)),
        ("60", TimeControl(initial_s=60, increment_s=0)),
        ("1/86400", TimeControl(days_per_move=1)),
        ("1/1209600", TimeControl(days_per_move=14)),
        ("-", None),
        ("", None),
        (None, None),
    ],
)
def test_time_controls(text: str | None, expected: TimeControl | None) -> None:
    assert parse_time_control(text) == expected


def test_pgn_tags_and_movetext_split() -> None:
    tags, movetext = split_pgn('[Event "A \\"quoted\\" event"]\n[Result "1-0"]\n\n1. e4 1-0')
    assert tags == {"Event": 'A "quoted" event', "Result": "1-0"}
    assert movetext == "1. e4 1-0"


def test_game_ids() -> None:
    assert platform_game_id({"uuid": "u-1", "url": "https://www.chess.com/game/live/9"}) == "u-1"
    assert platform_game_id({"url": "https://www.chess.com/game/daily/123456"}) == "123456"
    assert platform_game_id({"url": "https://www.chess.com/"}) is None


def test_archives_sample_months_ascending() -> None:
    document = orjson.loads((FIXTURES / "erik_archives-list_2026-snapshot.json").read_bytes())
    months = [month_of(url) for url in document["archives"]]
    assert months[0] == "2007/07"
    assert months == sorted(months)
    assert month_of("https://api.chess.com/pub/player/erik") is None


def test_profile_sample() -> None:
    document = orjson.loads((FIXTURES / "erik_player-profile_2026-snapshot.json").read_bytes())
    profile = parse_profile(document)
    assert (profile.player_id, profile.username, profile.status) == (41, "erik", "staff")
    assert profile.joined == datetime.fromtimestamp(1178556600, UTC)
    assert profile.country == "https://api.chess.com/pub/country/US"


def test_requests() -> None:
    request = build_month_request("https://api.chess.com", "Erik", "2009/10", etag='W/"abc"')
    assert request.url.path == "/pub/player/erik/games/2009/10"
    assert request.headers["If-None-Match"] == 'W/"abc"'
    assert "If-None-Match" not in build_month_request("https://x", "erik", "2009/10").headers
    assert (
        build_archives_request("https://x/", "Erik").url.path == "/pub/player/erik/games/archives"
    )
    with pytest.raises(ValueError, match="YYYY/MM"):
        build_month_request("https://x", "erik", "2009-10")


def test_parse_game_needs_an_id() -> None:
    with pytest.raises(MalformedRecord):
        parse_game({"pgn": ""}, "{}")
