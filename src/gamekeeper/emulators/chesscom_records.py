"""The Chess.com emulator's games: `GameSpec`s rendered as PubAPI archive games, or
loaded from monthly archive files, kept per account and month.

A month's response body, ETag and Last-Modified are built once and cached until a game
is added to that month, so a repeated request can be answered 304.
"""

from __future__ import annotations

import bisect
import email.utils
import hashlib
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import orjson

from gamekeeper.emulators.accounts import AccountCorpus
from gamekeeper.emulators.corpus import CHESSCOM_RULES, GameFactory, GameSpec, Side

WEB: Final = "https://www.chess.com"
#: Player URLs inside game records point at the real API, as Chess.com's own do.
API: Final = "https://api.chess.com"
#: Games before this are rendered in the old shape, without uuid and accuracies.
_UUID_SINCE_MS: Final = int(datetime(2013, 6, 1, tzinfo=UTC).timestamp() * 1000)

_RULES: Final = {
    "standard": "chess",
    "chess960": "chess960",
    "kingOfTheHill": "kingofthehill",
    "threeCheck": "threecheck",
    "crazyhouse": "crazyhouse",
}
#: PGN `Variant` tags (Chess.com writes "Chess960"; python-chess reads all of these).
_VARIANT_TAGS: Final = {
    "chess960": "Chess960",
    "kingofthehill": "King of the Hill",
    "threecheck": "Three-check",
    "crazyhouse": "Crazyhouse",
}
_TIME_CLASSES: Final = {"ultraBullet": "bullet", "classical": "rapid", "correspondence": "daily"}
_LOSS_CODES: Final = {
    "mate": "checkmated",
    "resign": "resigned",
    "outoftime": "timeout",
    "timeout": "abandoned",
    "cheat": "resigned",
}
_VARIANT_LOSS: Final = {"kingofthehill": "kingofthehill", "threecheck": "threecheck"}
_TERMINATIONS: Final = {
    "checkmated": "won by checkmate",
    "resigned": "won by resignation",
    "timeout": "won on time",
    "abandoned": "won - game abandoned",
    "kingofthehill": "won - king reached the hill",
    "threecheck": "won by 3 checks",
}
_DRAW_TEXT: Final = {
    "agreed": "Game drawn by agreement",
    "repetition": "Game drawn by repetition",
    "stalemate": "Game drawn by stalemate",
    "insufficient": "Game drawn by insufficient material",
    "50move": "Game drawn by 50-move rule",
    "timevsinsufficient": "Game drawn by timeout vs insufficient material",
}


def _clock(centis: int) -> str:
    seconds, tenths = divmod(centis // 10, 10)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    text = f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{text}.{tenths}" if tenths else text


def _results(spec: GameSpec, rules: str) -> tuple[str, str, str]:
    """White's code, Black's code and the Termination tag."""
    names = {"white": spec.white.name or "", "black": spec.black.name or ""}
    if spec.winner is not None:
        loser = "black" if spec.winner == "white" else "white"
        code = _VARIANT_LOSS.get(rules, "resigned") if spec.status == "variantEnd" else None
        code = code or _LOSS_CODES.get(spec.status, "resigned")
        codes = {spec.winner: "win", loser: code}
        return codes["white"], codes["black"], f"{names[spec.winner]} {_TERMINATIONS[code]}"
    kind = spec.draw_kind or "agreed"
    return kind, kind, _DRAW_TEXT.get(kind, "Game drawn")


def _movetext(spec: GameSpec, result: str) -> str:
    parts = []
    clocks = spec.clocks
    for ply, san in enumerate(spec.sans):
        number = ply // 2 + 1
        prefix = f"{number}." if ply % 2 == 0 else f"{number}..."
        if clocks is not None:
            parts.append(f"{prefix} {san} {{[%clk {_clock(clocks[ply])}]}}")
        elif ply % 2 == 0:
            parts.append(f"{prefix} {san}")
        else:
            parts.append(san)
    parts.append(result)
    return " ".join(parts)


def _player(side: Side, result: str, game_uuid: bool, number: int) -> dict[str, Any]:
    name = side.name or ""
    player: dict[str, Any] = {
        "rating": side.rating,
        "result": result,
        "@id": f"{API}/pub/player/{name.lower()}",
        "username": name,
    }
    if game_uuid:
        player["uuid"] = str(uuid.UUID(int=hash_int(name.lower())))
    return player


def hash_int(text: str) -> int:
    """A stable 128-bit number for `text` (Python's hash() changes per process)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "big")


def _time_control(spec: GameSpec) -> str:
    if spec.days_per_move is not None:
        return f"1/{86400 * (spec.days_per_move or 1)}"
    if spec.increment_s:
        return f"{spec.initial_s}+{spec.increment_s}"
    return str(spec.initial_s)


def _tags(
    spec: GameSpec, *, rules: str, result: str, termination: str, url: str, eco_url: str | None
) -> str:
    """The PGN header Chess.com writes, tag by tag in its order."""
    daily = spec.days_per_move is not None
    start = datetime.fromtimestamp(spec.start_ms / 1000, UTC)
    end = datetime.fromtimestamp(spec.end_ms / 1000, UTC)
    tags: list[tuple[str, str]] = [
        ("Event", "Let's Play!" if daily else "Live Chess"),
        ("Site", "Chess.com"),
        ("Date", start.strftime("%Y.%m.%d")),
        ("Round", "-"),
        ("White", spec.white.name or ""),
        ("Black", spec.black.name or ""),
        ("Result", result),
    ]
    template = spec.template
    if rules in _VARIANT_TAGS:
        tags.append(("Variant", _VARIANT_TAGS[rules]))
    if template.initial_fen is not None:
        tags += [("SetUp", "1"), ("FEN", template.initial_fen)]
    tags += [("CurrentPosition", spec.final_fen), ("Timezone", "UTC")]
    if template.opening is not None and eco_url is not None:
        tags += [("ECO", template.opening.eco), ("ECOUrl", eco_url)]
    tags += [
        ("UTCDate", start.strftime("%Y.%m.%d")),
        ("UTCTime", start.strftime("%H:%M:%S")),
        ("WhiteElo", str(spec.white.rating)),
        ("BlackElo", str(spec.black.rating)),
        ("TimeControl", _time_control(spec)),
        ("Termination", termination),
        ("StartTime", start.strftime("%H:%M:%S")),
        ("EndDate", end.strftime("%Y.%m.%d")),
        ("EndTime", end.strftime("%H:%M:%S")),
        ("Link", url),
    ]
    return "\n".join(f'[{name} "{value}"]' for name, value in tags)


def render(spec: GameSpec, seed: int) -> dict[str, Any]:
    """A generated game as it appears in a Chess.com monthly archive."""
    rules = _RULES.get(spec.variant, "chess")
    daily = spec.days_per_move is not None
    game_number = 10_000_000_000 + spec.number * 13 + seed % 13
    url = f"{WEB}/game/{'daily' if daily else 'live'}/{game_number}"
    white_code, black_code, termination = _results(spec, rules)
    result = {"win": "1-0"}.get(white_code) or {"win": "0-1"}.get(black_code) or "1/2-1/2"
    opening = spec.template.opening
    eco_url = None
    if opening is not None:
        eco_url = f"{WEB}/openings/{opening.name.replace(' ', '-').replace(':', '')}"
    header = _tags(
        spec, rules=rules, result=result, termination=termination, url=url, eco_url=eco_url
    )
    modern = spec.start_ms >= _UUID_SINCE_MS
    record: dict[str, Any] = {"url": url, "pgn": f"{header}\n\n{_movetext(spec, result)}"}
    # About one game in five hundred is served without its PGN, as happens upstream.
    if spec.number % 500 == 499:
        del record["pgn"]
    record |= {
        "time_control": _time_control(spec),
        "end_time": spec.end_ms // 1000,
        "rated": spec.rated,
    }
    if modern and spec.number % 5 < 2:
        salt = spec.number * 2654435761
        record["accuracies"] = {
            "white": round(55 + salt % 4000 / 100, 2),
            "black": round(55 + salt // 4000 % 4000 / 100, 2),
        }
    if modern:
        record["uuid"] = str(uuid.UUID(int=hash_int(f"{seed}:{spec.number}"), version=4))
    record["fen"] = spec.final_fen
    if daily:
        record["start_time"] = spec.start_ms // 1000
    record["time_class"] = _TIME_CLASSES.get(spec.speed, spec.speed)
    record["rules"] = rules
    if eco_url is not None:
        record["eco"] = eco_url
    record["white"] = _player(spec.white, white_code, modern, spec.number)
    record["black"] = _player(spec.black, black_code, modern, spec.number)
    return record


def month_key(end_time_s: int) -> str:
    """ "YYYY/MM" of a game-end timestamp (archives group games by end)."""
    return datetime.fromtimestamp(end_time_s, UTC).strftime("%Y/%m")


@dataclass(frozen=True, slots=True, kw_only=True)
class MonthBody:
    """A month's response, built once until a game is added to the month."""

    body: bytes
    etag: str
    last_modified: str
    last_modified_at: datetime


@dataclass(slots=True, kw_only=True)
class ChessComAccount:
    """One player's archive: months of games in game-end order."""

    username: str
    player_id: int
    joined: int
    factory: GameFactory | None = None
    months: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)
    bodies: dict[str, MonthBody] = field(default_factory=dict)
    games: int = 0

    @property
    def id(self) -> str:
        return self.username.lower()

    def add(self, end_time_s: int, line: bytes) -> None:
        month = month_key(end_time_s)
        bisect.insort(self.months.setdefault(month, []), (end_time_s, line), key=lambda g: g[0])
        self.bodies.pop(month, None)
        self.games += 1

    def month_body(self, month: str) -> MonthBody | None:
        """The month's response (None for a month without games)."""
        cached = self.bodies.get(month)
        if cached is not None:
            return cached
        games = self.months.get(month)
        if not games:
            return None
        body = b'{"games":[' + b",".join(line for _, line in games) + b"]}"
        when = datetime.fromtimestamp(games[-1][0], UTC)
        cached = MonthBody(
            body=body,
            etag='"' + hashlib.blake2b(body, digest_size=10).hexdigest() + '"',
            last_modified=email.utils.format_datetime(when, usegmt=True),
            last_modified_at=when,
        )
        self.bodies[month] = cached
        return cached


class ChessComCorpus(AccountCorpus[ChessComAccount]):
    """Every player the Chess.com emulator knows, with their monthly archives."""

    site = "chesscom"
    rules = CHESSCOM_RULES

    @classmethod
    def load(cls, paths: Iterable[Path], *, seed: int = 0) -> ChessComCorpus:
        """Games from monthly archive files (`{"games": [...]}`, files or folders of
        `*.json`); each file's player is the username found in most of its games."""
        corpus = cls(seed)
        for path in _files(paths):
            document = orjson.loads(path.read_bytes())
            games = document.get("games") if isinstance(document, dict) else None
            if not isinstance(games, list) or not games:
                continue
            names: Counter[str] = Counter()
            for game in games:
                for color in ("white", "black"):
                    side = game.get(color)
                    if isinstance(side, dict) and side.get("username"):
                        names[side["username"]] += 1
            if not names:
                continue
            account = corpus._account(names.most_common(1)[0][0])
            for game in games:
                account.add(int(game.get("end_time") or 0), orjson.dumps(game))
        return corpus

    def add_games(self, username: str, count: int) -> list[str]:
        """Generate `count` new games for `username`, after its last one; their URLs."""
        with self._lock:
            account, factory, new = self._factory_of(username, count)
            if new and not account.months:
                account.joined = factory.created_ms // 1000
            # New games happen now: after every game already there has ended (a daily
            # game may end months after later games started), so they never land in a
            # month before the newest one.
            last = max((g[-1][0] for g in account.months.values() if g), default=None)
            if last is not None:
                factory.next_start_ms = max(factory.next_start_ms, last * 1000 + 60_000)
            added = []
            for _ in range(count):
                record = render(factory.next_spec(), self.seed)
                line = orjson.dumps(record)
                account.add(record["end_time"], line)
                names = [record[color].get("username") for color in ("white", "black")]
                for other in self.others_in(account, names):
                    other.add(record["end_time"], line)
                added.append(record["url"])
            return added

    def _account(self, username: str) -> ChessComAccount:
        key = username.lower()
        account = self._accounts.get(key)
        if account is None:
            account = ChessComAccount(
                username=username,
                player_id=1000 + hash_int(key) % 900_000_000,
                joined=1_356_998_400,
            )
            self._accounts[key] = account
        return account

    def summary(self) -> list[dict[str, Any]]:
        return [
            {"username": a.username, "games": a.games, "months": len(a.months)}
            for a in self._accounts.values()
        ]


def _files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(path.rglob("*.json")) if path.is_dir() else [path])
    return found
