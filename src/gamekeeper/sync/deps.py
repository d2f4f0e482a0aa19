"""What the sync job kinds need, handed to them by bootstrap (no globals)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gamekeeper.connectors.base import ChessComGames, LichessGames, RowEncoder
from gamekeeper.storage.base import AccountStore, GameStore
from gamekeeper.sync.analysis_run import AnalysisDeps

#: Games committed per checkpoint: big enough to amortise a transaction, small enough
#: that a crash re-fetches little.
BATCH_SIZE = 1000


class SyncStore(AccountStore, GameStore, Protocol):
    """Storage as the sync kinds see it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncDeps:
    store: SyncStore
    lichess: LichessGames
    chesscom: ChessComGames
    batch_size: int = BATCH_SIZE
    #: The store's `Game` → row function: a sync asks its Lichess streams for rows, made
    #: where the lines are parsed (a parse process), not games (None: games).
    encode: RowEncoder | None = None
    #: The analysis a sync runs on the games it stores (None: its phase is skipped).
    analysis: AnalysisDeps | None = None
