"""Chess.com records to domain values: `parse_game` (one archive game → `Game`),
`parse_time_control`, `parse_profile` and `parse_month`.

Results come as one code per player (`win` / `checkmated`, `agreed` / `agreed`, ...);
they are mapped onto the one `Termination` model every source shares.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, TypedDict, cast
from urllib.parse import unquote, urlsplit

import orjson

from gamekeeper.connectors.base import GameOrError, RecordError
from gamekeeper.connectors.pgn.movetext import parse_movetext
from gamekeeper.connectors.pgn.tags import split_tags
from gamekeeper.connectors.values import json_int, json_str
from gamekeeper.domain import games as domain
from gamekeeper.errors import MalformedRecord

STANDARD_FEN: Final = "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1"

# -- raw payloads (PubAPI "Player Games" and "Player Profile") --------------------------

ChessComPlayerJson = TypedDict(
    "ChessComPlayerJson",
    {"username": str, "rating": int, "result": str, "@id": str, "uuid": str},
    total=False,
)


class ChessComGameJson(TypedDict, total=False):
    url: str
    pgn: str
    fen: str
    time_control: str
    time_class: str
    rules: str
    rated: bool
    start_time: int
    end_time: int
    #: Finished games carry player objects; games in progress carry profile URLs.
    white: ChessComPlayerJson | str
    black: ChessComPlayerJson | str
    uuid: str
    accuracies: dict[str, float]
    eco: str
    tournament: str
    match: str


class ChessComArchivesJson(TypedDict, total=False):
    archives: list[str]


ChessComProfileJson = TypedDict(
    "ChessComProfileJson",
    {
        "@id": str,
        "url": str,
        "username": str,
        "player_id": int,
        "title": str,
        "status": str,
        "name": str,
        "country": str,
        "joined": int,
        "last_online": int,
        "followers": int,
    },
    total=False,
)


# -- domain values of this site ---------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ChessComProfile:
    """The parts of a Chess.com profile a sync needs."""

    #: The non-changing Chess.com id: a renamed account keeps it.
    player_id: int | None
    username: str
    url: str | None = None
    name: str | None = None
    title: str | None = None
    #: closed, closed:fair_play_violations, basic, premium, mod, staff.
    status: str | None = None
    country: str | None = None
    joined: datetime | None = None
    last_online: datetime | None = None


# -- pure core: parsing -----------------------------------------------------------------

#: The loser's code says how a decisive game ended.
_LOSSES: Final[Mapping[str, domain.Termination]] = {
    "checkmated": domain.Termination.MATE,
    "resigned": domain.Termination.RESIGN,
    "timeout": domain.Termination.TIMEOUT,
    "abandoned": domain.Termination.ABANDONED,
    "kingofthehill": domain.Termination.VARIANT_END,
    "threecheck": domain.Termination.VARIANT_END,
    "bughousepartnerlose": domain.Termination.VARIANT_END,
    "lose": domain.Termination.UNKNOWN,
}
_DRAWS: Final[Mapping[str, domain.Termination]] = {
    "agreed": domain.Termination.DRAW,
    "repetition": domain.Termination.REPETITION,
    "stalemate": domain.Termination.STALEMATE,
    "insufficient": domain.Termination.INSUFFICIENT,
    "50move": domain.Termination.FIFTY_MOVES,
    "timevsinsufficient": domain.Termination.TIMEOUT_VS_INSUFFICIENT,
}
_VARIANTS: Final[Mapping[str, str]] = {
    "chess": "standard",
    "chess960": "chess960",
    "kingofthehill": "kingOfTheHill",
    "threecheck": "threeCheck",
    "crazyhouse": "crazyhouse",
    "bughouse": "bughouse",
}
#: Chess.com `time_class` → the shared speed names (Lichess's).
_SPEEDS: Final[Mapping[str, str]] = {"daily": "correspondence"}
_GAME_ID_RE: Final = re.compile(r"/(\d+)/?(?:[?#].*)?$")
_TIME_CONTROL_RE: Final = re.compile(r"^(\d+)(?:\+(\d+))?$")
_DAILY_RE: Final = re.compile(r"^1/(\d+)$")


def parse_time_control(text: str | None) -> domain.TimeControl | None:
    """`180+2` → 180 s + 2 s; `60` → 60 s; daily `1/86400` → one day per move."""
    if not text:
        return None
    text = text.strip()
    daily = _DAILY_RE.match(text)
    if daily:
        seconds = int(daily[1])
        return domain.TimeControl(days_per_move=max(1, seconds // 86400))
    live = _TIME_CONTROL_RE.match(text)
    if live:
        return domain.TimeControl(initial_s=int(live[1]), increment_s=int(live[2] or 0))
    return None


def platform_game_id(raw: Mapping[str, Any]) -> str | None:
    """`uuid`, else the number at the end of `url`."""
    uuid = raw.get("uuid")
    if isinstance(uuid, str) and uuid:
        return uuid
    url = raw.get("url")
    if isinstance(url, str):
        match = _GAME_ID_RE.search(url)
        if match:
            return match[1]
    return None


def _timestamp(value: object) -> datetime | None:
    seconds = json_int(value)
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def _player(raw: object) -> tuple[domain.Player, str | None]:
    """The player and their result code."""
    if isinstance(raw, str):
        # A profile URL, as in games still in progress.
        name = unquote(urlsplit(raw).path.rstrip("/").rsplit("/", 1)[-1]) or None
        return domain.Player(name=name, id=name.lower() if name else None), None
    side = cast(dict[str, Any], raw) if isinstance(raw, dict) else {}
    name = json_str(side.get("username"))
    return (
        domain.Player(
            name=name, id=name.lower() if name else None, rating=json_int(side.get("rating"))
        ),
        json_str(side.get("result")),
    )


def _outcome(
    white: str | None, black: str | None, pgn_result: str | None
) -> tuple[domain.Result, domain.Termination, domain.Winner | None]:
    if white == "win":
        return (
            domain.Result.WHITE_WINS,
            _LOSSES.get(black or "", domain.Termination.UNKNOWN),
            domain.Winner.WHITE,
        )
    if black == "win":
        return (
            domain.Result.BLACK_WINS,
            _LOSSES.get(white or "", domain.Termination.UNKNOWN),
            domain.Winner.BLACK,
        )
    draw = _DRAWS.get(white or "") or _DRAWS.get(black or "")
    if draw is not None:
        return domain.Result.DRAW, draw, None
    result = domain.Result.parse(pgn_result)
    return result, domain.Termination.UNKNOWN, result.winner


def _opening(tags: Mapping[str, str], eco_url: str | None) -> domain.Opening | None:
    eco = tags.get("ECO")
    url = tags.get("ECOUrl") or eco_url
    name = None
    if url:
        slug = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
        name = slug.replace("-", " ") or None
    if eco is None and name is None:
        return None
    return domain.Opening(eco=eco, name=name)


def _pgn_start(tags: Mapping[str, str]) -> datetime | None:
    day = tags.get("UTCDate") or tags.get("Date")
    time = tags.get("UTCTime") or tags.get("StartTime")
    if not day or not time:
        return None
    try:
        return datetime.strptime(f"{day} {time}", "%Y.%m.%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_game(raw: ChessComGameJson | Mapping[str, Any], text: str) -> domain.Game:
    """One game of a monthly archive as a `Game`; `text` is kept as `Game.raw`.

    Raises `MalformedRecord` when the game has neither `uuid` nor a game URL.
    """
    record = cast(Mapping[str, Any], raw)
    if not isinstance(record, Mapping):
        raise MalformedRecord("a Chess.com game must be a JSON object")
    game_id = platform_game_id(record)
    if game_id is None:
        raise MalformedRecord("a Chess.com game without uuid or url")
    white, white_result = _player(record.get("white"))
    black, black_result = _player(record.get("black"))

    pgn = json_str(record.get("pgn"))
    tags: dict[str, str] = {}
    moves = clocks = evals = None
    movetext_result = None
    if pgn is not None:
        tags, movetext = split_tags(pgn)
        parsed = parse_movetext(movetext)
        moves, clocks, evals = parsed.moves, parsed.clocks, parsed.evals
        movetext_result = parsed.result
    result, termination, winner = _outcome(
        white_result, black_result, tags.get("Result") or movetext_result
    )

    rules = json_str(record.get("rules")) or "chess"
    variant = _VARIANTS.get(rules, rules)
    initial_fen = tags.get("FEN")
    if initial_fen == STANDARD_FEN:
        initial_fen = None
    if variant == "standard" and initial_fen is not None:
        variant = "fromPosition"
    time_class = json_str(record.get("time_class"))
    rated = record.get("rated")
    return domain.Game(
        platform=domain.Platform.CHESSCOM,
        platform_game_id=game_id,
        white=white,
        black=black,
        result=result,
        termination=termination,
        winner=winner,
        variant=variant,
        speed=_SPEEDS.get(time_class, time_class) if time_class else None,
        time_control=parse_time_control(json_str(record.get("time_control"))),
        rated=rated if isinstance(rated, bool) else None,
        start_time=_timestamp(record.get("start_time")) or _pgn_start(tags),
        end_time=_timestamp(record.get("end_time")),
        opening=_opening(tags, json_str(record.get("eco"))),
        moves=moves,
        clocks=clocks,
        evals=evals,
        initial_fen=initial_fen,
        url=json_str(record.get("url")),
        raw=text,
    )


def parse_profile(raw: ChessComProfileJson | Mapping[str, Any]) -> ChessComProfile:
    """A player profile (`GET /pub/player/{username}`)."""
    record = cast(Mapping[str, Any], raw)
    username = json_str(record.get("username"))
    if username is None:
        raise MalformedRecord("a Chess.com profile without a username")
    return ChessComProfile(
        player_id=json_int(record.get("player_id")),
        username=username,
        url=json_str(record.get("url")),
        name=json_str(record.get("name")),
        title=json_str(record.get("title")),
        status=json_str(record.get("status")),
        country=json_str(record.get("country")),
        joined=_timestamp(record.get("joined")),
        last_online=_timestamp(record.get("last_online")),
    )


def parse_month(month: str, body: bytes) -> tuple[tuple[GameOrError, ...], int]:
    """A monthly archive's games; a game that cannot be read becomes a `RecordError`."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedRecord(f"the archive of {month} is not JSON: {exc}") from exc
    records = document.get("games") if isinstance(document, dict) else None
    if not isinstance(records, list):
        raise MalformedRecord(f"the archive of {month} has no games list")
    items: list[GameOrError] = []
    for index, record in enumerate(records):
        text = orjson.dumps(record).decode()
        where = f"{month} #{index + 1}"
        try:
            items.append(parse_game(record, text))
        except (MalformedRecord, TypeError, ValueError, AttributeError) as exc:
            message = exc.message if isinstance(exc, MalformedRecord) else repr(exc)
            item = (record.get("url") if isinstance(record, dict) else None) or where
            items.append(RecordError(item=str(item), message=message, raw=text))
    return tuple(items), len(records)
