"""PGN files as a source of games: open any file, read it fast, map records to `Game`.

- `open_pgn(path)` (`pgn.files`): plain, gzip, bzip2 or zstandard (told by magic
  bytes, else by extension), streamed, with the compressed bytes consumed for
  progress and damage in compressed data reported rather than raised.
- `iter_pgn` / `PgnRecord` / `PgnError` (`pgn.reader`): the streaming reader.
- `record_to_game(record)`: one record as a `Game`.
- `read_pgn_games(stream)`: both together, each game or error with the offset to
  checkpoint after it.

**Identity.** A game whose `Site` is a Lichess game URL (`https://lichess.org/` and the
8-character game id, maybe followed by 4 more characters of a player's full id, a path
such as `/black`, or `#42`) is `Platform.LICHESS` with that 8-character id: the key
the API sync gives the same game, so a dump imported before or after a sync makes one
row. Every other game is `Platform.PGN`, keyed by `pgn_content_key`: the SHA-1 (hex)
of the values of Event, Site, Date, Round, White, Black, Result, UTCDate and UTCTime
(missing tags as ""), then the mainline SAN moves separated by spaces, all joined
with U+001F. Formatting, comments, clocks and other tags do not change the key, so the
same game exported twice, or with annotations, is one row.

**Termination.** From the `Termination` tag (Lichess dump values, PGN standard values,
Chess.com sentences) with the result and a trailing `#`:
"Normal" is a mate when the last move ends in `#`, a draw for 1/2-1/2, else a
resignation (in variants that can end otherwise, `unknownFinish`); "Time forfeit" is a
timeout, or timeout against insufficient material when drawn; "Abandoned" is an
abandoned game when it has a result, an aborted one for `*`; "Rules infraction" is
cheating; "Unterminated" is an ongoing game. Without a tag: `#` is a mate, 1/2-1/2 a
draw, anything else `unknownFinish`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import BinaryIO, Final

from gamekeeper.connectors.pgn.reader import DEFAULT_MAX_GAME_BYTES, PgnError, PgnRecord, iter_pgn
from gamekeeper.domain import games as domain

_LICHESS_URL_RE: Final = re.compile(
    r"https?://(?:www\.)?lichess\.org/([A-Za-z0-9]{8})(?:[A-Za-z0-9]{4})?(?:[/?#].*)?"
)
_LICHESS_GAME_URL: Final = "https://lichess.org/{id}"
# Site pages whose path looks like a game id (`https://lichess.org/analysis`).
_LICHESS_PAGES: Final = frozenset({"analysis", "insights", "practice", "streamer", "training"})
_LICHESS_AI_RE: Final = re.compile(r"lichess AI level (\d+)")
_KEY_TAGS: Final = (
    "Event",
    "Site",
    "Date",
    "Round",
    "White",
    "Black",
    "Result",
    "UTCDate",
    "UTCTime",
)
_UNKNOWN_VALUES: Final = frozenset({"", "?", "-", "??", "???"})
# Speeds by their name in a Lichess `Event` ("Rated Blitz game").
_SPEED_WORDS: Final = {
    "ultrabullet": "ultraBullet",
    "bullet": "bullet",
    "blitz": "blitz",
    "rapid": "rapid",
    "classical": "classical",
    "standard": "classical",
    "correspondence": "correspondence",
    "daily": "correspondence",
}
# Lichess variant keys by a `Variant` tag value lower-cased without spaces or dashes.
_VARIANTS: Final = {
    "": "standard",
    "standard": "standard",
    "chess": "standard",
    "normal": "standard",
    "chess960": "chess960",
    "960": "chess960",
    "fischerandom": "chess960",
    "fischerrandom": "chess960",
    "frc": "chess960",
    "fromposition": "fromPosition",
    "crazyhouse": "crazyhouse",
    "antichess": "antichess",
    "giveaway": "antichess",
    "suicide": "antichess",
    "atomic": "atomic",
    "horde": "horde",
    "kingofthehill": "kingOfTheHill",
    "koth": "kingOfTheHill",
    "racingkings": "racingKings",
    "threecheck": "threeCheck",
    "3check": "threeCheck",
}
# Variants whose games can end without a mate or a resignation (a king on the hill,
# a third check, a race won, all pieces lost).
_VARIANT_ENDINGS: Final = frozenset(
    {"antichess", "atomic", "horde", "kingOfTheHill", "racingKings", "threeCheck"}
)
# Chess.com-style `Termination` sentences, most specific first.
_TERMINATION_WORDS: Final = (
    ("checkmate", domain.Termination.MATE),
    ("resignation", domain.Termination.RESIGN),
    ("timeout vs insufficient", domain.Termination.TIMEOUT_VS_INSUFFICIENT),
    ("time vs insufficient", domain.Termination.TIMEOUT_VS_INSUFFICIENT),
    ("on time", domain.Termination.TIMEOUT),
    ("abandon", domain.Termination.ABANDONED),
    ("stalemate", domain.Termination.STALEMATE),
    ("repetition", domain.Termination.REPETITION),
    ("insufficient material", domain.Termination.INSUFFICIENT),
    ("50-move", domain.Termination.FIFTY_MOVES),
    ("50 move", domain.Termination.FIFTY_MOVES),
    ("fifty", domain.Termination.FIFTY_MOVES),
    ("agreement", domain.Termination.DRAW),
)


def read_pgn_games(
    stream: BinaryIO,
    *,
    start_offset: int = 0,
    max_game_bytes: int = DEFAULT_MAX_GAME_BYTES,
) -> Iterator[tuple[domain.Game | PgnError, int]]:
    """Each game (or unreadable piece) of a PGN stream, with the offset to resume after it."""
    for item in iter_pgn(stream, start_offset=start_offset, max_game_bytes=max_game_bytes):
        if isinstance(item, PgnError):
            yield item, item.end_offset
        else:
            yield record_to_game(item), item.end_offset


def lichess_game_id(site: str | None) -> str | None:
    """The 8-character Lichess game id in a `Site` URL, or None when it is not one."""
    if not site or "lichess.org/" not in site:
        return None
    if len(site) == 28 and site.startswith("https://lichess.org/"):
        # The dump's own form, checked without the regex.
        game_id: str | None = site[20:]
    else:
        match = _LICHESS_URL_RE.fullmatch(site.strip())
        game_id = match.group(1) if match else None
    if game_id is None or not (game_id.isascii() and game_id.isalnum()):
        return None
    return None if game_id in _LICHESS_PAGES else game_id


def pgn_content_key(tags: Mapping[str, str], moves: tuple[str, ...]) -> str:
    """The stable key of a game that has no site id (see the module docstring)."""
    material = "\x1f".join([*(tags.get(name, "") for name in _KEY_TAGS), " ".join(moves)])
    return hashlib.sha1(material.encode("utf-8"), usedforsecurity=False).hexdigest()


def record_to_game(record: PgnRecord) -> domain.Game:
    """One PGN record as a `Game`, keyed as the module docstring says."""
    tags = record.tags
    mainline = record.mainline
    get = tags.get
    site = get("Site")
    lichess_id = lichess_game_id(site)
    platform = domain.Platform.LICHESS if lichess_id else domain.Platform.PGN

    result = domain.Result.parse(get("Result"))
    if result is domain.Result.UNKNOWN and mainline.result:
        result = domain.Result.parse(mainline.result)
    winner = result.winner
    variant = _variant(get("Variant"), get("FEN"), get("SetUp"))
    speed, rated = _event(get("Event"))
    time_control = _time_control(get("TimeControl"))
    if speed is None and time_control is not None:
        speed = _speed_of(time_control)
    fen = get("FEN")
    opening = _opening(get("ECO"), get("Opening"))
    return domain.Game(
        platform=platform,
        platform_game_id=lichess_id or pgn_content_key(tags, mainline.moves),
        white=_player(
            get("White"), get("WhiteElo"), get("WhiteRatingDiff"), get("WhiteTitle"), platform
        ),
        black=_player(
            get("Black"), get("BlackElo"), get("BlackRatingDiff"), get("BlackTitle"), platform
        ),
        result=result,
        termination=_termination(get("Termination"), result, mainline.moves, variant),
        winner=winner,
        variant=variant,
        speed=speed,
        time_control=time_control,
        rated=rated,
        start_time=_datetime(get("UTCDate"), get("UTCTime"))
        or _datetime(get("Date"), get("StartTime") or get("Time")),
        end_time=_datetime(get("EndDate"), get("EndTime")) if "EndDate" in tags else None,
        opening=opening,
        moves=mainline.moves,
        clocks=mainline.clocks,
        evals=mainline.evals,
        initial_fen=fen if fen and get("SetUp", "1") != "0" else None,
        url=_LICHESS_GAME_URL.format(id=lichess_id) if lichess_id else _url(site),
        raw=record.text,
    )


def _known(value: str | None) -> str | None:
    if value is None or value in _UNKNOWN_VALUES:
        return None
    return None if value.strip() in _UNKNOWN_VALUES else value


def _int(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _player(
    name: str | None,
    elo: str | None,
    diff: str | None,
    title: str | None,
    platform: domain.Platform,
) -> domain.Player:
    name = _known(name)
    provisional = False
    rating = _int(elo)
    if rating is None and elo and elo.endswith("?"):
        # Lichess marks a provisional rating `1500?`.
        rating = _int(elo[:-1])
        provisional = rating is not None
    lichess = platform is domain.Platform.LICHESS
    if lichess and name and name.startswith("lichess AI level "):
        ai = _LICHESS_AI_RE.fullmatch(name)
        if ai:
            return domain.Player(ai_level=int(ai.group(1)), rating=rating)
    return domain.Player(
        name=name,
        # Lichess user ids are lower-cased usernames; a PGN file has no ids.
        id=name.lower() if lichess and name and name != "Anonymous" else None,
        rating=rating,
        rating_diff=_int(diff) if diff else None,
        title=_known(title) if title else None,
        provisional=provisional,
    )


_EVENT_CACHE: dict[str, tuple[str | None, bool | None]] = {}


def _event(event: str | None) -> tuple[str | None, bool | None]:
    """Speed and rated from a Lichess-style Event (`Rated Blitz game`)."""
    if not event:
        return None, None
    cached = _EVENT_CACHE.get(event)
    if cached is None:
        words = event.lower().split()
        speed = next((_SPEED_WORDS[word] for word in words[:3] if word in _SPEED_WORDS), None)
        first = words[0] if words else ""
        rated = True if first == "rated" else False if first in ("casual", "unrated") else None
        cached = (speed, rated)
        if len(_EVENT_CACHE) > 10_000:
            _EVENT_CACHE.clear()
        _EVENT_CACHE[event] = cached
    return cached


_TIME_CONTROL_RE: Final = re.compile(r"(\d+)(?:\+(\d+))?")
_DAILY_RE: Final = re.compile(r"1/(\d+)")
_TIME_CONTROL_CACHE: dict[str, domain.TimeControl | None] = {}


def _time_control(value: str | None) -> domain.TimeControl | None:
    """`180+2`, `600`, `1/86400` (a day a move) or `-` (no clock); else None."""
    if value is None:
        return None
    if value in _TIME_CONTROL_CACHE:
        return _TIME_CONTROL_CACHE[value]
    control: domain.TimeControl | None = None
    if value.strip() == "-":
        control = domain.TimeControl()
    elif match := _TIME_CONTROL_RE.fullmatch(value.strip()):
        control = domain.TimeControl(
            initial_s=int(match.group(1)), increment_s=int(match.group(2) or 0)
        )
    elif (match := _DAILY_RE.fullmatch(value.strip())) and int(match.group(1)) % 86400 == 0:
        control = domain.TimeControl(days_per_move=int(match.group(1)) // 86400)
    if len(_TIME_CONTROL_CACHE) > 10_000:
        _TIME_CONTROL_CACHE.clear()
    _TIME_CONTROL_CACHE[value] = control
    return control


def _speed_of(control: domain.TimeControl) -> str | None:
    """Lichess's speed classes: initial time + 40 increments."""
    if control.initial_s is None:
        return "correspondence"
    estimate = control.initial_s + 40 * (control.increment_s or 0)
    if estimate < 30:
        return "ultraBullet"
    if estimate < 180:
        return "bullet"
    if estimate < 480:
        return "blitz"
    if estimate < 1500:
        return "rapid"
    return "classical"


def _variant(value: str | None, fen: str | None, setup: str | None) -> str:
    if value is None:
        return "fromPosition" if fen and setup != "0" else "standard"
    key = value.lower().replace(" ", "").replace("-", "").replace("_", "")
    return _VARIANTS.get(key, key)


_OPENING_CACHE: dict[tuple[str | None, str | None], domain.Opening | None] = {}


def _opening(eco: str | None, name: str | None) -> domain.Opening | None:
    key = (eco, name)
    opening = _OPENING_CACHE.get(key)
    if opening is None and key not in _OPENING_CACHE:
        eco, name = _known(eco), _known(name)
        opening = domain.Opening(eco=eco, name=name) if eco or name else None
        if len(_OPENING_CACHE) > 10_000:
            _OPENING_CACHE.clear()
        _OPENING_CACHE[key] = opening
    return opening


def _datetime(date: str | None, time: str | None) -> datetime | None:
    """A UTC datetime from PGN `YYYY.MM.DD` and `HH:MM:SS`; None if the date is partial."""
    if not date or "?" in date:
        return None
    iso = date.strip().replace(".", "-")
    iso = f"{iso}T{time.strip()}" if time and "?" not in time else f"{iso}T00:00:00"
    try:
        # PGN times carry no zone: UTCDate/UTCTime are UTC, other dates are taken as UTC.
        return datetime.fromisoformat(f"{iso}+00:00")
    except ValueError:
        return None


def _url(site: str | None) -> str | None:
    if site and site.startswith(("https://", "http://")):
        return site
    return None


def _termination(
    value: str | None, result: domain.Result, moves: tuple[str, ...], variant: str
) -> domain.Termination:
    mated = bool(moves) and moves[-1].endswith("#")
    decisive = result.winner is not None
    drawn = result is domain.Result.DRAW
    tag = (value or "").strip().lower()
    if tag in ("", "normal"):
        if mated and decisive:
            return domain.Termination.MATE
        if drawn:
            return domain.Termination.DRAW
        if decisive and tag == "normal":
            return (
                domain.Termination.UNKNOWN
                if variant in _VARIANT_ENDINGS
                else domain.Termination.RESIGN
            )
        return domain.Termination.UNKNOWN
    if tag == "time forfeit":
        return (
            domain.Termination.TIMEOUT if decisive else domain.Termination.TIMEOUT_VS_INSUFFICIENT
        )
    if tag == "abandoned":
        return (
            domain.Termination.ABORTED
            if result is domain.Result.UNKNOWN
            else domain.Termination.ABANDONED
        )
    if tag == "rules infraction":
        return domain.Termination.CHEAT
    if tag == "unterminated":
        return domain.Termination.ONGOING
    for words, termination in _TERMINATION_WORDS:
        if words in tag:
            return termination
    if mated and decisive:
        return domain.Termination.MATE
    return domain.Termination.DRAW if drawn else domain.Termination.UNKNOWN
