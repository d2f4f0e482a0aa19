"""The Lichess emulator's games: `GameSpec`s rendered as Lichess export JSON, or loaded
from an NDJSON export, kept as pre-serialised lines per account.

Each game is stored once as its full JSON line (moves, clocks, analysis, opening).
A request that switches some of those off gets lines derived from the full ones and
cached, so a stream never renders games again.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, NamedTuple

import orjson

from gamekeeper.analysis.openings import name_opening
from gamekeeper.emulators.accounts import AccountCorpus
from gamekeeper.emulators.corpus import LICHESS_RULES, GameFactory, GameSpec, Side

_ALPHABET: Final = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ID_SPACE: Final = 62**8
# Odd and not a multiple of 31, so coprime with 62**8: number -> id is one-to-one.
_ID_MULTIPLIER: Final = 0x9E3779B97F4A7C15 % _ID_SPACE | 1
#: Numbers per account, so every account's games get distinct ids.


def game_id(seed: int, number: int) -> str:
    """A Lichess-like 8-character id, unique per (seed, number)."""
    offset = seed * 0x5851F42D4C957F2D + 0x14057B7EF767814F
    value = (_ID_MULTIPLIER * number + offset) % _ID_SPACE
    chars = []
    for _ in range(8):
        value, digit = divmod(value, 62)
        chars.append(_ALPHABET[digit])
    return "".join(chars)


class Flags(NamedTuple):
    """Which optional parts of a game a request asked for."""

    moves: bool = True
    clocks: bool = True
    evals: bool = True
    opening: bool = True


FULL: Final = Flags()


def _player(side: Side, analysis: dict[str, int] | None) -> dict[str, Any]:
    if side.ai_level is not None:
        return {"aiLevel": side.ai_level}
    if side.imported:
        return {"name": side.name}
    user: dict[str, Any] = {"name": side.name}
    if side.title:
        user["title"] = side.title
    user["id"] = (side.name or "").lower()
    player: dict[str, Any] = {"user": user, "rating": side.rating}
    if side.rating_diff is not None:
        player["ratingDiff"] = side.rating_diff
    if side.provisional:
        player["provisional"] = True
    if analysis is not None:
        player["analysis"] = analysis
    return player


#: Statuses of games that end between moves: Lichess sends one clock more than plies,
#: the time the side to move had left when it ended.
ENDED_WITHOUT_A_MOVE: Final = frozenset({"resign", "outoftime", "timeout", "draw", "cheat"})


def final_clock(spec: GameSpec) -> int:
    """The side to move's clock when the game ended: 0 on a flag, else a little less
    than it had after its last move."""
    if spec.status == "outoftime" or spec.clocks is None:
        return 0
    before = spec.clocks[-2] if spec.plies >= 2 else (spec.initial_s or 0) * 100
    return max(0, before - (spec.number * 37) % 500)


def _analysis_summary(spec: GameSpec, salt: int) -> dict[str, int]:
    value = (spec.number * 2654435761 + salt) % 1_000_003
    return {
        "inaccuracy": value % 7,
        "mistake": value // 7 % 4,
        "blunder": value // 28 % 3,
        "acpl": 15 + value // 84 % 60,
    }


def render(spec: GameSpec, seed: int) -> dict[str, Any]:
    """A generated game as Lichess's `GameJson`, with every optional part present."""
    template = spec.template
    perf = spec.speed if spec.variant in ("standard", "fromPosition") else spec.variant
    record: dict[str, Any] = {
        "id": game_id(seed, spec.number),
        "rated": spec.rated,
        "variant": spec.variant,
        "speed": spec.speed,
        "perf": perf,
        "createdAt": spec.start_ms,
        "lastMoveAt": spec.end_ms,
        "status": spec.status,
        "source": spec.source,
        "players": {
            "white": _player(spec.white, _analysis_summary(spec, 1) if spec.analysed else None),
            "black": _player(spec.black, _analysis_summary(spec, 2) if spec.analysed else None),
        },
    }
    if spec.winner is not None:
        record["winner"] = spec.winner
    text = template.moves_text(spec.plies) if spec.plies else ""
    # Lichess names a game by the last position of its opening that its data set names.
    opening = name_opening(text.split(), initial_fen=template.initial_fen, variant=spec.variant)
    if opening is not None:
        record["opening"] = {"eco": opening.eco, "name": opening.name, "ply": opening.ply}
    if spec.plies:
        if spec.variant == "crazyhouse":
            # python-chess writes pawn drops `@e4`; Lichess writes `P@e4`.
            text = " ".join(f"P{san}" if san.startswith("@") else san for san in text.split())
        record["moves"] = text
    if spec.clocks is not None and spec.plies:
        record["clocks"] = list(spec.clocks)
        if spec.status in ENDED_WITHOUT_A_MOVE:
            record["clocks"].append(final_clock(spec))
    if spec.analysed and spec.plies:
        record["analysis"] = [
            {"mate": value[1]} if isinstance(value, tuple) else {"eval": value}
            for value in template.evals[: spec.plies]
        ]
    if spec.initial_s is not None and spec.increment_s is not None:
        record["clock"] = {
            "initial": spec.initial_s,
            "increment": spec.increment_s,
            "totalTime": spec.initial_s + 40 * spec.increment_s,
        }
    elif spec.days_per_move is not None:
        record["daysPerTurn"] = spec.days_per_move
    if template.initial_fen is not None:
        record["initialFen"] = template.initial_fen
    return record


def derive(line: bytes, flags: Flags) -> bytes:
    """The full line of a game with the parts `flags` switched off removed."""
    if flags == FULL:
        return line
    record = orjson.loads(line)
    if not flags.moves:
        record.pop("moves", None)
        record.pop("clocks", None)
    if not flags.clocks:
        record.pop("clocks", None)
    if not flags.evals:
        record.pop("analysis", None)
        for side in record.get("players", {}).values():
            if isinstance(side, dict):
                side.pop("analysis", None)
    if not flags.opening:
        record.pop("opening", None)
    return orjson.dumps(record)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredGame:
    """What filtering and counting need to know about a stored game."""

    id: str
    created_ms: int
    perf: str
    rated: bool
    ongoing: bool
    analysed: bool
    white: str | None
    black: str | None
    #: The account's result: "win", "loss", "draw" or None (unfinished, aborted).
    outcome: str | None
    ai: bool
    imported: bool


_UNFINISHED: Final = frozenset({"created", "started"})
_UNDECIDED: Final = frozenset({"created", "started", "aborted", "noStart"})


def describe(record: Mapping[str, Any], account_id: str) -> StoredGame:
    """The filtering facts of one Lichess game record, seen from `account_id`."""
    players = record.get("players") or {}
    ids: dict[str, str | None] = {}
    for color in ("white", "black"):
        side = players.get(color) or {}
        user = side.get("user") or {}
        ids[color] = user.get("id") or (side.get("name") or "").lower() or None
    status = record.get("status")
    status = status.get("name") if isinstance(status, dict) else status
    winner = record.get("winner")
    color_of_account = "white" if ids["white"] == account_id else "black"
    outcome = None
    if status not in _UNDECIDED:
        outcome = "draw" if winner is None else ("win" if winner == color_of_account else "loss")
    return StoredGame(
        id=str(record["id"]),
        created_ms=int(record.get("createdAt") or 0),
        perf=str(record.get("perf") or record.get("speed") or ""),
        rated=record.get("rated") is True,
        ongoing=status in _UNFINISHED,
        analysed="analysis" in record,
        white=ids["white"],
        black=ids["black"],
        outcome=outcome,
        ai=any("aiLevel" in (players.get(c) or {}) for c in ("white", "black")),
        imported=record.get("source") == "import",
    )


@dataclass(slots=True, kw_only=True)
class LichessAccount:
    """One user's games, oldest first, as stored lines and their facts."""

    username: str
    id: str
    created_ms: int
    title: str | None = None
    factory: GameFactory | None = None
    games: list[StoredGame] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)
    views: dict[Flags, list[bytes | None]] = field(default_factory=dict)

    def add(self, game: StoredGame, line: bytes) -> None:
        index = bisect.bisect_right(self.created, game.created_ms)
        if index == len(self.games):
            self.games.append(game)
            self.created.append(game.created_ms)
            self.lines.append(line)
        else:
            self.games.insert(index, game)
            self.created.insert(index, game.created_ms)
            self.lines.insert(index, line)
            self.views.clear()

    def line(self, index: int, flags: Flags) -> bytes:
        """The game at `index` as sent for `flags` (derived once, then cached)."""
        if flags == FULL:
            return self.lines[index]
        view = self.views.setdefault(flags, [])
        if len(view) < len(self.lines):
            view.extend([None] * (len(self.lines) - len(view)))
        cached = view[index]
        if cached is None:
            cached = view[index] = derive(self.lines[index], flags)
        return cached


class LichessCorpus(AccountCorpus[LichessAccount]):
    """Every account the Lichess emulator knows, with its games."""

    site = "lichess"
    rules = LICHESS_RULES

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self._by_id: dict[str, LichessAccount] = {}

    @classmethod
    def load(cls, paths: Iterable[Path], *, seed: int = 0) -> LichessCorpus:
        """Games from Lichess NDJSON exports (files, or folders of `*.ndjson`).

        Each file is one user's export: its account is the user found in most games.
        """
        corpus = cls(seed)
        for path in _files(paths, "*.ndjson"):
            raw_lines = [line for line in path.read_bytes().splitlines() if line.strip()]
            records = [orjson.loads(line) for line in raw_lines]
            names: Counter[tuple[str, str]] = Counter()
            for record in records:
                for side in (record.get("players") or {}).values():
                    user = (side or {}).get("user") or {}
                    if user.get("id"):
                        names[(user["id"], user.get("name") or user["id"])] += 1
            if not names:
                continue
            (user_id, username), _ = names.most_common(1)[0]
            account = corpus._account(username)
            for record, line in zip(records, raw_lines, strict=True):
                corpus._store(account, describe(record, user_id), line)
        return corpus

    def add_games(self, username: str, count: int) -> list[str]:
        """Generate `count` new games for `username`, after its last one; their ids."""
        with self._lock:
            account, factory, new = self._factory_of(username, count)
            if new and account.created:
                factory.next_start_ms = account.created[-1] + 60_000
            elif new:
                account.created_ms = factory.created_ms
            elif account.created:
                # New games happen now: after every game already there (some may be
                # another account's games with this one, in a network).
                factory.next_start_ms = max(factory.next_start_ms, account.created[-1] + 60_000)
            added = []
            for _ in range(count):
                record = render(factory.next_spec(), self.seed)
                line = orjson.dumps(record)
                self._store(account, describe(record, account.id), line)
                sides = (record.get("players") or {}).values()
                names = [((side.get("user") or {}).get("name")) for side in sides]
                for other in self.others_in(account, names):
                    self._store(other, describe(record, other.id), line)
                added.append(record["id"])
            return added

    def _account(self, username: str) -> LichessAccount:
        key = username.lower()
        account = self._accounts.get(key)
        if account is None:
            account = LichessAccount(username=username, id=key, created_ms=0)
            self._accounts[key] = account
        return account

    def _store(self, account: LichessAccount, game: StoredGame, line: bytes) -> None:
        account.add(game, line)
        self._by_id.setdefault(game.id, account)

    # -- reading --------------------------------------------------------------------

    def find(self, game_id: str) -> bytes | None:
        """The full line of a game by id."""
        account = self._by_id.get(game_id)
        if account is None:
            return None
        for index in range(len(account.games) - 1, -1, -1):
            if account.games[index].id == game_id:
                return account.lines[index]
        return None

    def find_many(self, game_ids: Iterable[str], flags: Flags) -> Iterator[bytes]:
        """Lines of the games among `game_ids` that exist (unknown ids are skipped)."""
        wanted = {gid for gid in game_ids if gid in self._by_id}
        for account in {self._by_id[gid].id: self._by_id[gid] for gid in wanted}.values():
            for index, game in enumerate(account.games):
                if game.id in wanted:
                    yield account.line(index, flags)

    def summary(self) -> list[dict[str, Any]]:
        return [
            {"username": a.username, "id": a.id, "games": len(a.games)}
            for a in self._accounts.values()
        ]


def _files(paths: Iterable[Path], pattern: str) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.rglob(pattern)))
        else:
            found.append(path)
    return found
