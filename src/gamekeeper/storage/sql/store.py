"""`SqlStore`: every storage Protocol on SQLite or PostgreSQL, through SQLAlchemy Core.

One class made of the query classes of each area (`job_store`, `account_store`,
`game_store`, `player_store`, `analysis_store`, `analysis_reads`), which share
`SqlRunner`'s engine and threads.
"""

from __future__ import annotations

from gamekeeper.storage.sql.account_store import AccountQueries
from gamekeeper.storage.sql.analysis_reads import AnalysisReads
from gamekeeper.storage.sql.analysis_store import AnalysisQueries
from gamekeeper.storage.sql.game_store import GameQueries
from gamekeeper.storage.sql.job_store import JobQueries
from gamekeeper.storage.sql.player_store import PlayerQueries
from gamekeeper.storage.sql.runner import SqlTx, libpq_url

__all__ = ["SqlStore", "SqlTx", "libpq_url"]


class SqlStore(
    JobQueries, AccountQueries, GameQueries, PlayerQueries, AnalysisQueries, AnalysisReads
):
    """Storage on SQLite or PostgreSQL through SQLAlchemy Core."""
