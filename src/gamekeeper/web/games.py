"""The Games pages' view: the filter form, list rows, and one game with its moves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from gamekeeper.domain.accounts import Account
from gamekeeper.domain.games import Game, Platform, Termination
from gamekeeper.domain.limits import INT32_MAX
from gamekeeper.services.analyses import GameAnalysis, JudgedMove
from gamekeeper.storage.base import GameQuery, StoredGame
from gamekeeper.web.board import MoveRow, Replay, move_rows, replay
from gamekeeper.web.eval_graph import eval_graph
from gamekeeper.web.formatting import fmt_clock, fmt_eval

PAGE_SIZE = 50

PLATFORMS = (("lichess", "Lichess"), ("chesscom", "Chess.com"), ("pgn", "PGN files"))
SPEEDS = (
    ("ultraBullet", "UltraBullet"),
    ("bullet", "Bullet"),
    ("blitz", "Blitz"),
    ("rapid", "Rapid"),
    ("classical", "Classical"),
    ("correspondence", "Correspondence"),
)
#: win/loss/draw are from your side (they need your accounts); 1-0 and 0-1 are not.
RESULTS = (
    ("win", "Won"),
    ("loss", "Lost"),
    ("draw", "Drawn"),
    ("1-0", "White won (1-0)"),
    ("0-1", "Black won (0-1)"),
)
COLORS = (("white", "White"), ("black", "Black"))
FILTER_NAMES = ("account", "platform", "speed", "result", "color", "opening", "from", "to")


@dataclass(frozen=True, slots=True, kw_only=True)
class GameFilters:
    """What the filter form asked for, cleaned; `values` refill the form."""

    query: GameQuery
    account_id: int | None
    values: dict[str, str]
    problems: tuple[str, ...] = ()

    def link(self, **extra: str) -> str:
        """This page's query string with `extra` (e.g. a cursor) added."""
        params = {k: v for k, v in self.values.items() if v} | extra
        return "?" + urlencode(params) if params else "?"


def _day(values: dict[str, str], name: str, problems: list[str]) -> date | None:
    text = values[name]
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{name}: {text!r} is not a date (YYYY-MM-DD)")
        values[name] = ""
        return None


def parse_account_id(text: str | None) -> int | None:
    """An account id from a page's query, or None (not digits, or beyond the id column)."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= INT32_MAX else None


def parse_filters(params: Mapping[str, str]) -> GameFilters:
    """Lenient on purpose: a value the form doesn't offer is dropped with a note, not a 422."""
    values = {name: params.get(name, "").strip()[:100] for name in FILTER_NAMES}
    problems: list[str] = []

    def pick(name: str, options: Sequence[tuple[str, str]]) -> str | None:
        value = values[name]
        if value and value not in {key for key, _ in options}:
            problems.append(f"{name}: unknown value {value!r}")
            values[name] = ""
            return None
        return value or None

    platform, speed = pick("platform", PLATFORMS), pick("speed", SPEEDS)
    result, color = pick("result", RESULTS), pick("color", COLORS)
    account_id = parse_account_id(values["account"])
    start, end = _day(values, "from", problems), _day(values, "to", problems)
    query = GameQuery(
        platform=Platform(platform) if platform else None,
        speed=speed,
        result=result if result in ("1-0", "0-1") else None,
        outcome=result if result in ("win", "loss", "draw") else None,
        color=color,
        opening=values["opening"] or None,
        start_from=datetime.combine(start, time.min, tzinfo=UTC) if start else None,
        # The "to" day is included: games before the next midnight.
        start_to=datetime.combine(end, time.min, tzinfo=UTC) + timedelta(days=1) if end else None,
        cursor=params.get("cursor") or None,
        limit=PAGE_SIZE,
    )
    return GameFilters(query=query, account_id=account_id, values=values, problems=tuple(problems))


def my_side(game: Game, accounts: Sequence[Account]) -> str | None:
    """white or black when one of `accounts` played the game."""
    keys = {(a.platform, a.player_id) for a in accounts}
    if (game.platform, game.white.id) in keys:
        return "white"
    if (game.platform, game.black.id) in keys:
        return "black"
    return None


def outcome_for(game: Game, side: str | None) -> str | None:
    """won, lost or drawn from `side`'s point of view."""
    if side is None or game.result.value == "*":
        return None
    if game.winner is None:
        return "drawn" if game.result.value == "1/2-1/2" else None
    return "won" if game.winner.value == side else "lost"


@dataclass(frozen=True, slots=True, kw_only=True)
class GameRow:
    stored: StoredGame
    side: str | None
    outcome: str | None

    @property
    def game(self) -> Game:
        return self.stored.game


def game_rows(items: Sequence[StoredGame], accounts: Sequence[Account]) -> list[GameRow]:
    rows = []
    for stored in items:
        side = my_side(stored.game, accounts)
        rows.append(GameRow(stored=stored, side=side, outcome=outcome_for(stored.game, side)))
    return rows


@dataclass(frozen=True, slots=True, kw_only=True)
class GameView:
    """One game's page: the game, its replay, the move list and where the board is."""

    stored: StoredGame
    played: Replay
    rows: list[MoveRow]
    ply: int
    side: str | None
    flipped: bool
    #: The stored analysis, when the game has one, and its graph (SVG markup).
    analysis: GameAnalysis | None = None
    graph: str = ""

    @property
    def game(self) -> Game:
        return self.stored.game

    def judged(self, ply: int) -> JudgedMove | None:
        return self.analysis.move(ply) if self.analysis else None

    def analysis_eval(self, ply: int) -> str:
        """The analysis's evaluation after `ply`, for moves the game came without one."""
        move = self.judged(ply)
        return fmt_eval(move.eval) if move else ""

    @property
    def has_evals(self) -> bool:
        return any(e is not None for e in self.game.evals or ())

    @property
    def has_clocks(self) -> bool:
        return any(c is not None for c in self.game.clocks or ())

    @property
    def ending(self) -> str | None:
        """How the clock stood when the game ended between moves: "Black flagged at
        0:00", "White resigned with 1:23 left"."""
        return describe_ending(self.game)


def describe_ending(game: Game) -> str | None:
    """The final clock (Lichess's last one, for the side to move) in words."""
    if game.final_clock is None or game.moves is None:
        return None
    black_first = game.initial_fen is not None and " b " in game.initial_fen
    to_move = ("White", "Black")[(len(game.moves) + black_first) % 2]
    clock = "0:00" if game.final_clock == 0 else fmt_clock(game.final_clock)
    loser = None if game.winner is None else ("Black" if game.winner.value == "white" else "White")
    if game.termination is Termination.TIMEOUT:
        return f"{loser or to_move} flagged at {clock}"
    if game.termination is Termination.RESIGN and loser is not None:
        if loser == to_move:
            return f"{loser} resigned with {clock} left"
        return f"{loser} resigned; {to_move} had {clock} left"
    return f"{to_move} had {clock} left at the end"


def game_view(
    stored: StoredGame,
    accounts: Sequence[Account],
    *,
    ply: int | None,
    flip: bool,
    analysis: GameAnalysis | None = None,
) -> GameView:
    """The page for `stored`, at `ply` (default: the final position), seen from your side."""
    played = replay(stored.game)
    side = my_side(stored.game, accounts)
    at = played.plies if ply is None else max(0, min(ply, played.plies))
    return GameView(
        stored=stored,
        played=played,
        rows=move_rows(stored.game, played),
        ply=at,
        side=side,
        # Your games are shown from your side; `flip` turns the board around.
        flipped=(side == "black") != flip,
        analysis=analysis,
        graph=eval_graph(analysis, flip="&flip=1" if flip else "") if analysis else "",
    )
