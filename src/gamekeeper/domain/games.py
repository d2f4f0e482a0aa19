"""The one `Game` value every source produces, and the small values it is made of."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final


class Platform(enum.StrEnum):
    """Where a game comes from."""

    #: lichess.org, through its API or its database dumps.
    LICHESS = "lichess"
    #: chess.com, through its published-data API.
    CHESSCOM = "chesscom"
    #: A PGN file that is not a Lichess dump (its key is a content hash).
    PGN = "pgn"


class SiteUser:
    """Someone on a site, by `platform` and `username` (the fields of the dataclass
    that inherits this): their id in stored games and their label."""

    __slots__ = ()
    platform: Platform
    username: str

    @property
    def player_id(self) -> str:
        """The player's id in stored games: both sites treat usernames case-insensitively,
        and their ids are lowercase usernames."""
        return self.username.lower()

    @property
    def label(self) -> str:
        """`platform:username`, as the CLI takes it."""
        return f"{self.platform.value}:{self.username}"


class Winner(enum.StrEnum):
    """Who won; a draw or an unfinished game has no winner."""

    #: White won.
    WHITE = "white"
    #: Black won.
    BLACK = "black"


class Result(enum.StrEnum):
    """The PGN result of a game."""

    #: White won.
    WHITE_WINS = "1-0"
    #: Black won.
    BLACK_WINS = "0-1"
    #: A draw.
    DRAW = "1/2-1/2"
    #: Ongoing, aborted or unknown.
    UNKNOWN = "*"

    @classmethod
    def parse(cls, text: str | None) -> Result:
        """A PGN result (`1-0`, `0-1`, `1/2-1/2`, `*`); anything else is unknown."""
        return _RESULTS.get(text or "", cls.UNKNOWN)

    @property
    def winner(self) -> Winner | None:
        """Who won, if this result says."""
        if self is Result.WHITE_WINS:
            return Winner.WHITE
        return Winner.BLACK if self is Result.BLACK_WINS else None


_RESULTS: Final[Mapping[str, Result]] = {result.value: result for result in Result}


class Termination(enum.StrEnum):
    """How a game ended, one model for every site (Lichess status names where they exist)."""

    #: Checkmate.
    MATE = "mate"
    #: A player resigned.
    RESIGN = "resign"
    #: A player ran out of time and the opponent could still mate.
    TIMEOUT = "timeout"
    #: A player ran out of time against insufficient mating material: a draw.
    TIMEOUT_VS_INSUFFICIENT = "timevsinsufficient"
    #: Stalemate.
    STALEMATE = "stalemate"
    #: A draw by agreement (or an unspecified draw).
    DRAW = "draw"
    #: A draw by repetition.
    REPETITION = "repetition"
    #: A draw by insufficient material.
    INSUFFICIENT = "insufficient"
    #: A draw by the fifty-move rule.
    FIFTY_MOVES = "50move"
    #: A player left the game (Lichess `timeout` claim, Chess.com `abandoned`).
    ABANDONED = "abandoned"
    #: The game was aborted before it really started.
    ABORTED = "aborted"
    #: The game never started.
    NO_START = "noStart"
    #: A player was caught cheating.
    CHEAT = "cheat"
    #: A variant-specific ending (king of the hill, three-check, racing kings, ...).
    VARIANT_END = "variantEnd"
    #: The game is still going on.
    ONGOING = "started"
    #: Finished, but the site did not say how.
    UNKNOWN = "unknownFinish"


#: Terminations after which a game may still change upstream.
UNFINISHED = frozenset({Termination.ONGOING})


@dataclass(frozen=True, slots=True, kw_only=True)
class Player:
    """One side of a game as the site describes it."""

    name: str | None = None
    #: The site's stable user id (Lichess lowercase id, Chess.com lowercase username).
    id: str | None = None
    rating: int | None = None
    rating_diff: int | None = None
    title: str | None = None
    #: Level of a computer opponent; such players have no name or id.
    ai_level: int | None = None
    provisional: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeControl:
    """Clock settings: seconds at start and increment, or days per move for daily games."""

    initial_s: int | None = None
    increment_s: int | None = None
    days_per_move: int | None = None

    @classmethod
    def parse(cls, text: str | None) -> TimeControl | None:
        """`180+2`, `600`, `1/86400` (daily) or `-`/empty (none); None if unreadable."""
        if not text or text.strip() in ("-", "?"):
            return None
        text = text.strip()
        try:
            if text.startswith("1/"):
                return cls(days_per_move=max(1, int(text[2:]) // 86400))
            initial, _, increment = text.partition("+")
            return cls(initial_s=int(initial), increment_s=int(increment or 0))
        except ValueError:
            return None

    def __str__(self) -> str:
        if self.days_per_move is not None:
            return f"1/{self.days_per_move * 86400}"
        if self.initial_s is None:
            return "-"
        return f"{self.initial_s}+{self.increment_s or 0}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Opening:
    """The opening as the site classified it."""

    eco: str | None = None
    name: str | None = None
    ply: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Eval:
    """An engine evaluation after a move, from White's point of view."""

    #: Centipawns; None when the evaluation is a mate.
    cp: int | None = None
    #: Moves to mate, negative when Black mates.
    mate: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Game:
    """A chess game from any source, with its untouched raw record."""

    platform: Platform
    #: The site's game id (Lichess 8-char id, Chess.com uuid or numeric id, PGN hash).
    platform_game_id: str
    white: Player
    black: Player
    result: Result = Result.UNKNOWN
    termination: Termination = Termination.UNKNOWN
    winner: Winner | None = None
    #: Lichess variant key: standard, chess960, crazyhouse, fromPosition, ...
    variant: str = "standard"
    #: ultraBullet, bullet, blitz, rapid, classical, correspondence
    #: (Lichess speed; Chess.com time_class mapped onto it).
    speed: str | None = None
    time_control: TimeControl | None = None
    rated: bool | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    opening: Opening | None = None
    #: SAN moves; None when they were not fetched (two-stage sync), () for a game without moves.
    moves: tuple[str, ...] | None = None
    #: Remaining clock after each move, in centiseconds (Lichess `clocks` unit), aligned
    #: with `moves` (None where a move has none); None when the source has no clocks.
    clocks: tuple[int | None, ...] | None = None
    #: Centiseconds left to the side to move when the game ended without a move
    #: (resignation, flag: 0, draw); Lichess sends it as one clock more than plies.
    final_clock: int | None = None
    #: Evaluation after each move, aligned with `moves` (None where a move has none);
    #: None when the source has no evaluations.
    evals: tuple[Eval | None, ...] | None = None
    initial_fen: str | None = None
    url: str | None = None
    #: The record exactly as the source sent it (JSON text or PGN text), so nothing is lost.
    raw: str = ""

    @property
    def finished(self) -> bool:
        """False while the game can still change upstream."""
        return self.termination not in UNFINISHED

    @property
    def has_moves(self) -> bool:
        """Whether the moves were fetched (a two-stage sync fetches them later)."""
        return self.moves is not None


def white_first(game: Game) -> bool:
    """True when White makes the first move (always, but from a FEN with Black to move)."""
    if not game.initial_fen:
        return True
    fields = game.initial_fen.split()
    return len(fields) < 2 or fields[1] != "b"
