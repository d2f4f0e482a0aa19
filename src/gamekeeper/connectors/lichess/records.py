"""Lichess records to domain values: `parse_game` (raw JSON → `Game`), `parse_profile`,
`decode_line` (one NDJSON line → a game or a `RecordError`).

Real exports break the schema's "required" in many ways (AI opponents without `user`,
imported games with only `name`, no `winner` on draws, games without `moves`,
unknown statuses from newer servers): `parse_game` accepts them all, and a record it
really cannot read becomes a `RecordError` in the stream, never a failed sync.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar, cast

import orjson

from gamekeeper.connectors.base import EncodedGame, GameOrError, RecordError, RowEncoder
from gamekeeper.connectors.lichess.payloads import LichessGameJson, LichessUserJson
from gamekeeper.connectors.values import json_dict, json_int, json_str
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

GAME_URL: Final = "https://lichess.org/{id}"

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_T = TypeVar("_T")


# -- domain values of this site -------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LichessProfile:
    """The parts of a Lichess user's public data a sync needs."""

    id: str
    username: str
    #: `count.all`: every game the user played, for a progress bar; None if not given.
    count_all: int | None = None
    count_rated: int | None = None
    title: str | None = None
    created_at: datetime | None = None
    seen_at: datetime | None = None
    #: The account is closed.
    disabled: bool = False
    tos_violation: bool = False
    url: str | None = None


# -- pure core: parsing ------------------------------------------------------------------


_TERMINATIONS: Final[Mapping[str, Termination]] = {
    "created": Termination.ONGOING,
    "started": Termination.ONGOING,
    "aborted": Termination.ABORTED,
    "mate": Termination.MATE,
    "resign": Termination.RESIGN,
    "stalemate": Termination.STALEMATE,
    # Lichess `timeout` is "the opponent left and victory was claimed".
    "timeout": Termination.ABANDONED,
    "draw": Termination.DRAW,
    "outoftime": Termination.TIMEOUT,
    "cheat": Termination.CHEAT,
    "noStart": Termination.NO_START,
    "unknownFinish": Termination.UNKNOWN,
    "insufficientMaterialClaim": Termination.INSUFFICIENT,
    "variantEnd": Termination.VARIANT_END,
}

#: Endings that are draws when nobody won.
_DRAWN: Final = frozenset(
    {
        Termination.DRAW,
        Termination.STALEMATE,
        Termination.REPETITION,
        Termination.INSUFFICIENT,
        Termination.FIFTY_MOVES,
        Termination.TIMEOUT_VS_INSUFFICIENT,
        Termination.VARIANT_END,
        # A player left and the opponent claimed a draw rather than the win.
        Termination.ABANDONED,
    }
)


def ms_to_datetime(value: object) -> datetime | None:
    """A Lichess millisecond timestamp as an exact UTC datetime."""
    ms = json_int(value)
    return None if ms is None else _EPOCH + timedelta(milliseconds=ms)


def datetime_to_ms(value: datetime) -> int:
    """The inverse of `ms_to_datetime` (for cursors)."""
    return (value - _EPOCH) // timedelta(milliseconds=1)


def _status_name(value: object) -> str | None:
    if isinstance(value, dict):
        return json_str(value.get("name"))
    return json_str(value)


def _player(raw: object) -> Player:
    side = json_dict(raw)
    user = json_dict(side.get("user"))
    name = json_str(user.get("name")) or json_str(side.get("name"))
    # Imported games name their players without a user; Lichess ids are lowercase
    # usernames, so the lowercase name stands in and the game still counts as theirs.
    return Player(
        name=name,
        id=json_str(user.get("id")) or (name.lower() if name else None),
        rating=json_int(side.get("rating")),
        rating_diff=json_int(side.get("ratingDiff")),
        title=json_str(user.get("title")),
        ai_level=json_int(side.get("aiLevel")),
        provisional=side.get("provisional") is True,
    )


def _termination(status: str | None, winner: Winner | None) -> Termination:
    if status is None:
        return Termination.UNKNOWN
    termination = _TERMINATIONS.get(status, Termination.UNKNOWN)
    # Out of time against a lone king (or similar) is a draw: no winner.
    if termination is Termination.TIMEOUT and winner is None:
        return Termination.TIMEOUT_VS_INSUFFICIENT
    return termination


def _result(termination: Termination, winner: Winner | None) -> Result:
    if winner is Winner.WHITE:
        return Result.WHITE_WINS
    if winner is Winner.BLACK:
        return Result.BLACK_WINS
    return Result.DRAW if termination in _DRAWN else Result.UNKNOWN


def _time_control(raw: Mapping[str, Any]) -> TimeControl | None:
    clock = json_dict(raw.get("clock"))
    initial = json_int(clock.get("initial"))
    if initial is not None:
        key = (initial, json_int(clock.get("increment")) or 0)
        control = _CONTROLS.get(key)
        if control is None:
            control = _CONTROLS[key] = TimeControl(initial_s=key[0], increment_s=key[1])
        return control
    days = json_int(raw.get("daysPerTurn"))
    if days is not None:
        return TimeControl(days_per_move=days)
    return None


def _opening(raw: object) -> Opening | None:
    opening = json_dict(raw)
    if not opening:
        return None
    key = (
        json_str(opening.get("eco")),
        json_str(opening.get("name")),
        json_int(opening.get("ply")),
    )
    found = _OPENINGS.get(key)
    if found is None:
        found = Opening(eco=key[0], name=key[1], ply=key[2])
        if len(_OPENINGS) < _CACHE_LIMIT:
            _OPENINGS[key] = found
    return found


_INT_ONLY: Final = frozenset({int})
_WINNERS: Final[Mapping[object, Winner]] = {"white": Winner.WHITE, "black": Winner.BLACK}
#: Time controls, openings and evaluations are frozen values that repeat a lot: a sync
#: shares one object per distinct value instead of building it per game (bounded).
_CACHE_LIMIT: Final = 50_000
_CONTROLS: dict[tuple[int, int], TimeControl] = {}
_OPENINGS: dict[tuple[str | None, str | None, int | None], Opening] = {}
_EVALS: dict[int, Eval] = {}


def _align(values: Sequence[_T | None], length: int) -> tuple[_T | None, ...]:
    """`values` cut or padded with None to one per move."""
    head = tuple(values[:length])
    return head + (None,) * (length - len(head))


def _clocks(raw: object, plies: int) -> tuple[int | None, ...] | None:
    if not isinstance(raw, list):
        return None
    if len(raw) == plies and set(map(type, raw)) <= _INT_ONLY:
        return tuple(raw)  # the usual case, checked in C rather than item by item
    return _align([json_int(c) for c in raw], plies)


def _final_clock(raw: object, plies: int) -> int | None:
    """A game that ended without a move (resignation, flag, draw) has one clock more
    than plies: the time the side to move had left (0 on a flag)."""
    if isinstance(raw, list) and len(raw) == plies + 1:
        return json_int(raw[plies])
    return None


def _evals(raw: object, plies: int) -> tuple[Eval | None, ...] | None:
    if not isinstance(raw, list):
        return None
    evals: list[Eval | None] = []
    append = evals.append
    for entry in raw:
        if type(entry) is not dict:
            append(None)
            continue
        cp, mate = entry.get("eval"), entry.get("mate")
        if type(cp) is int and mate is None:
            cached = _EVALS.get(cp)
            if cached is None:
                cached = Eval(cp=cp)
                if len(_EVALS) < _CACHE_LIMIT:
                    _EVALS[cp] = cached
            append(cached)
        elif type(cp) is int:
            append(Eval(cp=cp, mate=mate if type(mate) is int else None))
        elif type(mate) is int:
            append(Eval(mate=mate))
        else:
            append(None)
    return _align(evals, plies)


def parse_game(
    raw: LichessGameJson | Mapping[str, Any], text: str, *, moves_requested: bool = True
) -> Game:
    """One exported Lichess game (JSON) as a `Game`; `text` is kept as `Game.raw`.

    `moves_requested=False` marks a metadata-only export (`moves=false`): `moves` is then
    None rather than (). Raises `MalformedRecord` when the record has no usable id.
    """
    record = cast(Mapping[str, Any], raw)
    # `type(...) is dict` first: the ABC check is slow, and orjson always gives dicts.
    if type(record) is not dict and not isinstance(record, Mapping):
        raise MalformedRecord("a Lichess game must be a JSON object")
    game_id = json_str(record.get("id"))
    if game_id is None:
        raise MalformedRecord("a Lichess game without an id")
    players = json_dict(record.get("players"))
    winner = _WINNERS.get(record.get("winner"))
    termination = _termination(_status_name(record.get("status")), winner)

    moves: tuple[str, ...] | None = None
    clocks: tuple[int | None, ...] | None = None
    final_clock: int | None = None
    evals: tuple[Eval | None, ...] | None = None
    if moves_requested:
        text_moves = record.get("moves")
        moves = tuple(text_moves.split()) if isinstance(text_moves, str) else ()
        raw_clocks = record.get("clocks")
        clocks = _clocks(raw_clocks, len(moves))
        final_clock = _final_clock(raw_clocks, len(moves))
        evals = _evals(record.get("analysis"), len(moves))

    rated = record.get("rated")
    return Game(
        platform=Platform.LICHESS,
        platform_game_id=game_id,
        white=_player(players.get("white")),
        black=_player(players.get("black")),
        result=_result(termination, winner),
        termination=termination,
        winner=winner,
        variant=json_str(record.get("variant")) or "standard",
        speed=json_str(record.get("speed")),
        time_control=_time_control(record),
        rated=rated if isinstance(rated, bool) else None,
        start_time=ms_to_datetime(record.get("createdAt")),
        end_time=ms_to_datetime(record.get("lastMoveAt")),
        opening=_opening(record.get("opening")),
        moves=moves,
        clocks=clocks,
        final_clock=final_clock,
        evals=evals,
        initial_fen=json_str(record.get("initialFen")),
        url=GAME_URL.format(id=game_id),
        raw=text,
    )


def parse_profile(raw: LichessUserJson | Mapping[str, Any]) -> LichessProfile:
    """A user's public data (`GET /api/user/{username}`) as a `LichessProfile`."""
    record = cast(Mapping[str, Any], raw)
    user_id = json_str(record.get("id"))
    if user_id is None:
        raise MalformedRecord("a Lichess user without an id")
    count = json_dict(record.get("count"))
    return LichessProfile(
        id=user_id,
        username=json_str(record.get("username")) or user_id,
        count_all=json_int(count.get("all")),
        count_rated=json_int(count.get("rated")),
        title=json_str(record.get("title")),
        created_at=ms_to_datetime(record.get("createdAt")),
        seen_at=ms_to_datetime(record.get("seenAt")),
        disabled=record.get("disabled") is True,
        tos_violation=record.get("tosViolation") is True,
        url=json_str(record.get("url")),
    )


@dataclass(frozen=True, slots=True)
class DecodedLine:
    """One decoded NDJSON line: a game or an error, with what resuming needs."""

    item: GameOrError | EncodedGame
    game_id: str | None
    created_ms: int | None

    def __reduce__(self) -> tuple[type[DecodedLine], tuple[Any, ...]]:
        # Pickled by position (it crosses from a parse process): see `EncodedGame`.
        return DecodedLine, (self.item, self.game_id, self.created_ms)


def decode_line(line: bytes, position: str, *, moves_requested: bool = True) -> DecodedLine:
    """One NDJSON line → `Game`, or `RecordError` for a line that cannot be read."""
    try:
        text = line.decode()
        raw = orjson.loads(line)
    except (UnicodeDecodeError, orjson.JSONDecodeError) as exc:
        shown = line[:200].decode(errors="replace")
        return DecodedLine(
            RecordError(item=position, message=f"not JSON: {exc}", raw=shown), None, None
        )
    game_id = json_str(raw.get("id")) if isinstance(raw, dict) else None
    try:
        game = parse_game(raw, text, moves_requested=moves_requested)
    except (MalformedRecord, TypeError, ValueError, AttributeError) as exc:
        message = exc.message if isinstance(exc, MalformedRecord) else f"unreadable game: {exc!r}"
        return DecodedLine(
            RecordError(item=game_id or position, message=message, raw=text), game_id, None
        )
    return DecodedLine(game, game_id, json_int(raw.get("createdAt")))


def decode_lines(
    lines: Sequence[bytes], first: int, *, moves_requested: bool, encode: RowEncoder | None = None
) -> list[DecodedLine]:
    """`decode_line` of each line, numbered from `first` (one slice of a stream); with
    `encode`, each game comes out as its `EncodedGame`."""
    decoded = [
        decode_line(line, f"line {number}", moves_requested=moves_requested)
        for number, line in enumerate(lines, first)
    ]
    if encode is None:
        return decoded
    return [
        DecodedLine(EncodedGame.of(d.item, encode), d.game_id, d.created_ms)
        if isinstance(d.item, Game)
        else d
        for d in decoded
    ]
