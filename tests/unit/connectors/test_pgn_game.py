"""record_to_game: identity keys, players, result, termination, variant, speed, times."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gamekeeper.connectors.pgn import (
    PgnRecord,
    iter_pgn,
    lichess_game_id,
    pgn_content_key,
    record_to_game,
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

CORPUS = Path(__file__).parents[2] / "fixtures" / "pgn" / "corpus.pgn"


def to_game(text: str) -> Game:
    [record] = list(iter_pgn(io.BytesIO(text.encode())))
    assert isinstance(record, PgnRecord), record
    return record_to_game(record)


def pgn(tags: dict[str, str], movetext: str = "1. e4 e5 2. Nf3 Nc6 *") -> str:
    return "".join(f'[{k} "{v}"]\n' for k, v in tags.items()) + f"\n{movetext}\n"


def corpus_games() -> list[Game]:
    records = list(iter_pgn(io.BytesIO(CORPUS.read_bytes())))
    return [record_to_game(r) for r in records if isinstance(r, PgnRecord)]


def test_lichess_dump_game() -> None:
    game = corpus_games()[0]
    assert game.platform is Platform.LICHESS
    assert game.platform_game_id == "abcd1234"
    assert game.url == "https://lichess.org/abcd1234"
    assert game.white == Player(
        name="Kasparov_fan", id="kasparov_fan", rating=1850, rating_diff=6, title="FM"
    )
    assert game.black == Player(name="Łukasz-Żółć", id="łukasz-żółć", rating=1790, rating_diff=-6)
    assert (game.result, game.winner, game.termination) == (
        Result.WHITE_WINS,
        Winner.WHITE,
        Termination.MATE,
    )
    assert (game.variant, game.speed, game.rated) == ("standard", "blitz", True)
    assert game.time_control == TimeControl(initial_s=180, increment_s=2)
    assert game.start_time == datetime(2024, 3, 1, 12, 34, 56, tzinfo=UTC)
    assert game.opening == Opening(eco="C20", name="King's Pawn Game")
    assert game.moves == ("e4", "e5", "Qh5", "Nc6", "Bc4", "Nf6", "Qxf7#")
    assert game.clocks == (18000, 18000, 18100, 17900, 18200, 17500, 18300)
    assert game.evals is not None
    assert game.evals[-2:] == (Eval(mate=1), None)
    assert game.raw.startswith('[Event "Rated Blitz game"]') and game.raw.endswith("1-0")


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        ("https://lichess.org/abcd1234", "abcd1234"),
        ("http://lichess.org/abcd1234", "abcd1234"),
        ("https://lichess.org/abcd1234/black", "abcd1234"),
        ("https://lichess.org/abcd1234wxyz", "abcd1234"),  # a player's full id
        ("https://lichess.org/abcd1234#42", "abcd1234"),
        ("https://lichess.org/study/abcd1234", None),
        ("https://lichess.org/analysis", None),
        ("https://lichess.org/abcd123", None),
        ("https://lichess.org.evil.com/abcd1234", None),
        ("https://www.chess.com/game/live/123", None),
        ("?", None),
        (None, None),
    ],
)
def test_lichess_game_id(site: str | None, expected: str | None) -> None:
    assert lichess_game_id(site) == expected


def test_dump_game_and_api_game_share_the_key() -> None:
    # The API sync keys a game by its 8-character id; so does the reader for a dump.
    game = to_game(pgn({"Site": "https://lichess.org/AbCd1234", "Result": "1-0"}, "1. e4 1-0"))
    assert (game.platform, game.platform_game_id) == (Platform.LICHESS, "AbCd1234")


def test_other_games_get_a_stable_content_key() -> None:
    tags = {
        "Event": "Club",
        "Site": "Here",
        "Date": "2001.01.01",
        "Round": "1",
        "White": "A",
        "Black": "B",
        "Result": "*",
    }
    plain = to_game(pgn(tags))
    annotated = to_game(
        pgn({**tags, "Annotator": "X"}, "1. e4 { [%clk 0:01:00] } e5 $1 2. Nf3 (2. Nc3) Nc6 *")
    )
    assert plain.platform is Platform.PGN
    assert plain.platform_game_id == annotated.platform_game_id
    assert plain.platform_game_id == pgn_content_key(tags, ("e4", "e5", "Nf3", "Nc6"))
    assert len(plain.platform_game_id) == 40
    other = to_game(pgn({**tags, "Round": "2"}))
    assert other.platform_game_id != plain.platform_game_id
    shorter = to_game(pgn(tags, "1. e4 e5 *"))
    assert shorter.platform_game_id != plain.platform_game_id


def test_content_key_is_documented_exactly() -> None:
    import hashlib

    tags = {"White": "A", "UTCTime": "10:00:00"}
    material = "\x1f".join(["", "", "", "", "A", "", "", "", "10:00:00", "e4 e5"])
    assert pgn_content_key(tags, ("e4", "e5")) == hashlib.sha1(material.encode()).hexdigest()


def test_chesscom_game_from_a_file() -> None:
    game = corpus_games()[1]
    assert game.platform is Platform.PGN
    assert game.black.name == 'Magnus "The Hammer" C'
    assert game.black.id is None
    assert (game.result, game.termination) == (Result.BLACK_WINS, Termination.RESIGN)
    assert game.time_control == TimeControl(initial_s=180, increment_s=0)
    assert game.speed == "blitz"
    assert game.clocks == (17990, 17910, 17820, 17700)
    assert game.end_time == datetime(2024, 3, 1, 0, 3, 17, tzinfo=UTC)
    assert game.url is None  # Site is "Chess.com", not a URL


def test_variants_and_setups() -> None:
    games = {g.raw.split('"')[1]: g for g in corpus_games() if g.raw.startswith("[")}
    assert games["Chess960 game"].variant == "chess960"
    assert games["Chess960 game"].initial_fen == (
        "brnqnbkr/pppppppp/8/8/8/8/PPPPPPPP/BRNQNBKR w KQkq - 0 1"
    )
    assert games["Chess960 game"].platform_game_id == "c960C960"
    assert games["Rated Crazyhouse game"].variant == "crazyhouse"
    assert games["Rated Crazyhouse game"].moves is not None
    assert "N@h6" in games["Rated Crazyhouse game"].moves
    assert games["KotH"].variant == "kingOfTheHill"
    assert games["3check"].variant == "threeCheck"
    assert games["Racing Kings"].variant == "racingKings"
    promotions = games["From position, Black to move, promotions"]
    assert promotions.variant == "fromPosition"
    assert promotions.moves == ("b1=Q", "e8=Q+", "Ka3", "Qe7+")
    assert games["KotH"].white == Player()  # "?" is nobody


@pytest.mark.parametrize(
    ("termination", "result", "last_move", "variant", "expected"),
    [
        ("Normal", "1-0", "Qxf7#", None, Termination.MATE),
        ("Normal", "0-1", "Nf3", None, Termination.RESIGN),
        ("Normal", "1/2-1/2", "Nf3", None, Termination.DRAW),
        ("Normal", "1-0", "Nf3", "King of the Hill", Termination.UNKNOWN),
        ("Time forfeit", "1-0", "Nf3", None, Termination.TIMEOUT),
        ("Time forfeit", "1/2-1/2", "Nf3", None, Termination.TIMEOUT_VS_INSUFFICIENT),
        ("Abandoned", "0-1", "Nf3", None, Termination.ABANDONED),
        ("Abandoned", "*", "Nf3", None, Termination.ABORTED),
        ("Rules infraction", "1-0", "Nf3", None, Termination.CHEAT),
        ("Unterminated", "*", "Nf3", None, Termination.ONGOING),
        ("X won on time", "0-1", "Nf3", None, Termination.TIMEOUT),
        ("Game drawn by repetition", "1/2-1/2", "Nf3", None, Termination.REPETITION),
        ("Game drawn by stalemate", "1/2-1/2", "Nf3", None, Termination.STALEMATE),
        (
            "Game drawn by timeout vs insufficient material",
            "1/2-1/2",
            "Nf3",
            None,
            Termination.TIMEOUT_VS_INSUFFICIENT,
        ),
        ("X won by checkmate", "1-0", "Qxf7#", None, Termination.MATE),
        (None, "1-0", "Qxf7#", None, Termination.MATE),
        (None, "1-0", "Nf3", None, Termination.UNKNOWN),
        (None, "1/2-1/2", "Nf3", None, Termination.DRAW),
        (None, "*", "Nf3", None, Termination.UNKNOWN),
    ],
)
def test_termination(
    termination: str | None, result: str, last_move: str, variant: str | None, expected: Termination
) -> None:
    tags = {"Result": result}
    if termination:
        tags["Termination"] = termination
    if variant:
        tags["Variant"] = variant
    game = to_game(pgn(tags, f"1. e4 e5 2. {last_move} {result}"))
    assert game.termination is expected
    assert game.winner is {"1-0": Winner.WHITE, "0-1": Winner.BLACK}.get(result)


@pytest.mark.parametrize(
    ("tags", "speed", "control", "rated"),
    [
        ({"Event": "Rated Bullet game"}, "bullet", None, True),
        (
            {"Event": "Casual UltraBullet game", "TimeControl": "15+0"},
            "ultraBullet",
            TimeControl(initial_s=15, increment_s=0),
            False,
        ),
        ({"Event": "Rated Blitz tournament https://lichess.org/tournament/x"}, "blitz", None, True),
        (
            {"Event": "Rated Correspondence game", "TimeControl": "-"},
            "correspondence",
            TimeControl(),
            True,
        ),
        ({"TimeControl": "600+5"}, "rapid", TimeControl(initial_s=600, increment_s=5), None),
        (
            {"TimeControl": "5400+30"},
            "classical",
            TimeControl(initial_s=5400, increment_s=30),
            None,
        ),
        ({"TimeControl": "1/259200"}, "correspondence", TimeControl(days_per_move=3), None),
        ({"TimeControl": "40/7200:3600"}, None, None, None),
        ({"TimeControl": "?"}, None, None, None),
    ],
)
def test_speed_time_control_and_rated(
    tags: dict[str, str], speed: str | None, control: TimeControl | None, rated: bool | None
) -> None:
    game = to_game(pgn(tags))
    assert (game.speed, game.time_control, game.rated) == (speed, control, rated)


@pytest.mark.parametrize(
    ("tags", "start"),
    [
        (
            {"UTCDate": "2024.01.02", "UTCTime": "03:04:05", "Date": "1999.01.01"},
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        ),
        ({"Date": "2024.01.02"}, datetime(2024, 1, 2, tzinfo=UTC)),
        ({"Date": "2024.??.??"}, None),
        ({"Date": "garbage"}, None),
    ],
)
def test_start_time(tags: dict[str, str], start: datetime | None) -> None:
    assert to_game(pgn(tags)).start_time == start


def test_players() -> None:
    tags = {
        "Site": "https://lichess.org/abcdefgh",
        "White": "lichess AI level 8",
        "Black": "Someone",
        "BlackElo": "1500?",
        "WhiteElo": "?",
        "BlackTitle": "BOT",
    }
    game = to_game(pgn(tags))
    assert game.white == Player(ai_level=8)
    assert game.black == Player(
        name="Someone", id="someone", rating=1500, provisional=True, title="BOT"
    )


def test_result_comes_from_the_movetext_without_a_tag() -> None:
    game = to_game(pgn({"Event": "x"}, "1. f3 e5 2. g4 Qh4# 0-1"))
    assert (game.result, game.winner, game.termination) == (
        Result.BLACK_WINS,
        Winner.BLACK,
        Termination.MATE,
    )


def test_setup_zero_means_no_initial_position() -> None:
    game = to_game(pgn({"SetUp": "0", "FEN": "8/8/8/8/8/8/8/K6k w - - 0 1"}))
    assert (game.initial_fen, game.variant) == (None, "standard")
