"""What the sync layer needs from a source of games, whatever the site."""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from gamekeeper.domain.games import Game

#: Called when a request must wait (cool-down after a 429, backoff after a failure):
#: it returns once `resume_at` has passed, or raises if the job was cancelled meanwhile.
#: A job passes its `JobContext.wait`, so it shows `waiting` with `resume_at`.
Waiter = Callable[[datetime, str], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordError:
    """A record the source sent but that could not be made into a `Game`."""

    #: The game id when it could be read, else a position (line number, byte offset).
    item: str
    message: str
    raw: str = ""


#: What a game stream yields: games, and records that failed to parse (the stream goes on).
GameOrError = Game | RecordError

#: A store's `Game` → row function (`storage.base.GameRowEncoder`): picklable, so the
#: process that parses a game can make its row too.
RowEncoder = Callable[[Game], tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class EncodedGame:
    """A game already made its store row where it was parsed (a parse process), with
    what a sync reads of it: sending the row back costs a fraction of sending the
    `Game` (`connectors.offload_procs`)."""

    platform_game_id: str
    finished: bool
    start_time: datetime | None
    has_moves: bool
    row: tuple[Any, ...]

    def __reduce__(self) -> tuple[type[EncodedGame], tuple[Any, ...]]:
        # Pickled by position: 4x faster to load back than a slots dataclass's state.
        return EncodedGame, (
            self.platform_game_id,
            self.finished,
            self.start_time,
            self.has_moves,
            self.row,
        )

    @classmethod
    def of(cls, game: Game, encode: RowEncoder) -> EncodedGame:
        return cls(
            game.platform_game_id, game.finished, game.start_time, game.has_moves, encode(game)
        )


# -- what the sync layer asks of each site (structural: the sources satisfy these) ------


@dataclass(frozen=True, slots=True, kw_only=True)
class GamesQuery:
    """Which of a user's games to export, and with what."""

    #: Inclusive: games created at or after it (ms since the epoch).
    since_ms: int | None = None
    until_ms: int | None = None
    max: int | None = None
    perf_type: str | Iterable[str] | None = None
    rated: bool | None = None
    moves: bool = True
    clocks: bool = True
    evals: bool = True
    opening: bool = True
    #: Ongoing games are asked for by default, so a long correspondence game is stored
    #: while it runs and re-checked later instead of slipping behind the cursor.
    ongoing: bool = True
    #: Newest first (the opponent crawl's recent games) instead of oldest first.
    newest_first: bool = False


class LichessUser(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def count_all(self) -> int | None:
        """Every game the user played, as the site counts them."""
        ...


class LichessGames(Protocol):
    """The Lichess calls a sync makes."""

    async def profile(self, username: str, wait: Waiter | None = None) -> LichessUser: ...

    def iter_games(
        self,
        username: str,
        query: GamesQuery = ...,
        *,
        wait: Waiter | None = None,
        known_ids: Collection[str] = (),
        encode: RowEncoder | None = None,
    ) -> AsyncGenerator[GameOrError | EncodedGame, None]: ...

    def export_by_ids(
        self,
        ids: Iterable[str],
        *,
        moves: bool = True,
        clocks: bool = True,
        evals: bool = True,
        wait: Waiter | None = None,
        encode: RowEncoder | None = None,
    ) -> AsyncGenerator[GameOrError | EncodedGame, None]: ...


class MonthStatus(Protocol):
    """One monthly archive as fetched: new content, unchanged (304), or gone (410)."""

    @property
    def month(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def etag(self) -> str | None: ...

    @property
    def games(self) -> Sequence[GameOrError]: ...

    @property
    def total(self) -> int: ...


class ChessComGames(Protocol):
    """The Chess.com calls a sync makes."""

    async def archives(self, username: str, wait: Waiter | None = None) -> list[str]: ...

    async def fetch_month(
        self, username: str, month: str, *, etag: str | None = None, wait: Waiter | None = None
    ) -> MonthStatus: ...

    def iter_months(
        self,
        username: str,
        *,
        from_month: str | None,
        etags: Mapping[str, str],
        wait: Waiter | None = None,
    ) -> AsyncGenerator[MonthStatus, None]: ...
