"""What analysis jobs ask of storage: the `analyses` rows, the games pending them and
the position cache (`position_evals`). Protocols and the values they speak (beside
`base.py`, which holds the others).

Storage knows nothing of `gamekeeper.analysis` (it is the layer below): a cached
evaluation and an analysis value are JSON here; `sync.eval_cache` turns the former into
the analysis package's `PositionEval`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from gamekeeper.domain.games import Platform
from gamekeeper.storage.base import StoredGame

#: Where a game stands in the pending order (start time newest first, NULLs last, then
#: id descending): a batch goes on after the last game of the one before.
GameKey = tuple[datetime | None, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisRow:
    """One plugin's value for one game, as a job writes it."""

    game_id: int
    plugin: str
    plugin_version: str
    value: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredAnalysis:
    """An `analyses` row as read back."""

    plugin: str
    plugin_version: str
    value: Any
    job_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingQuery:
    """Games (with moves) lacking a row for at least one of `plugins`, newest first."""

    #: (plugin name, version) pairs the games must all have.
    plugins: tuple[tuple[str, str], ...]
    #: Only games these (platform, player id) played (None: anyone's).
    players: tuple[tuple[Platform, str], ...] | None = None
    #: Only these games (None: any); both filters apply when both are given.
    game_ids: tuple[int, ...] | None = None
    #: Only the games this job stored (inserted or changed), and only rows written by
    #: it count as done: a sync's `analyzing` phase re-analyses a game that changed.
    job_id: str | None = None
    #: Go on after this game (the last one of the previous batch).
    after: GameKey | None = None
    limit: int = 20


class AnalysisTx(Protocol):
    """Analysis statements inside a job's checkpoint transaction."""

    def put_analyses(self, rows: Sequence[AnalysisRow], *, job_id: str | None) -> int:
        """Insert the rows, replacing one of the same (game, plugin, version); the count."""
        ...


class AnalysisStore(Protocol):
    """Pending games, stored analyses and the position cache."""

    async def pending_games(self, query: PendingQuery) -> list[StoredGame]: ...

    async def count_pending(self, query: PendingQuery) -> int:
        """How many games `query` selects, all batches together (`limit` ignored)."""
        ...

    async def game_analyses(self, game_id: int) -> list[StoredAnalysis]:
        """The game's rows, the newest version of each plugin only."""
        ...

    async def get_position_evals(self, positions: Sequence[str], engine_key: str) -> dict[str, Any]:
        """Cached values of those positions under `engine_key` (missing ones absent)."""
        ...

    async def put_position_evals(self, values: Mapping[str, Any], engine_key: str) -> None:
        """Cache values by position; a position already cached keeps its value."""
        ...


def game_key(stored: StoredGame) -> GameKey:
    return (stored.game.start_time, stored.id)


class AnalysisReadStore(Protocol):
    """What the game page and the PGN export read."""

    async def latest_analyses(self, game_id: int) -> Mapping[str, Any]:
        """Each plugin's value for `game_id` (its newest plugin_version); {} before analysis."""
        ...
