"""Committing fetched games batch by batch, each batch with the cursor that covers it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gamekeeper.connectors.base import GameOrError, RecordError
from gamekeeper.domain.games import Game
from gamekeeper.jobs.context import JobContext
from gamekeeper.storage.base import Tx


class GameBatcher:
    """Collects a stream's games; `commit` writes them, their counters and the cursor at once.

    Item errors are recorded on the job as they arrive (the stream goes on).
    """

    def __init__(self, ctx: JobContext, *, account_id: int, stream: str, size: int) -> None:
        self.ctx = ctx
        self.account_id = account_id
        self.stream = stream
        self.size = size
        self.games: list[Game] = []
        #: Games seen so far (good and bad), for progress.
        self.seen = 0

    def add(self, item: GameOrError) -> bool:
        """Take one stream item; True when the batch is full."""
        self.seen += 1
        if isinstance(item, RecordError):
            self.ctx.item_error(item.item, item.message)
            self.ctx.count(found=1)
        else:
            self.games.append(item)
        return len(self.games) >= self.size

    async def commit(self, cursor: Any) -> None:
        """Write the pending games and `cursor` (also the job's checkpoint) in one transaction."""
        games, self.games = self.games, []
        await commit_games(
            self.ctx, games, cursor=cursor, account_cursor=(self.account_id, self.stream)
        )
        self.ctx.raise_if_cancelled()


async def commit_games(
    ctx: JobContext,
    games: Sequence[Game],
    *,
    cursor: Any,
    account_cursor: tuple[int, str] | None = None,
) -> None:
    """Upsert `games` and checkpoint `cursor` in one transaction; with `account_cursor`
    (account id, stream name), `cursor` is also where the account's next sync starts."""
    job_id = ctx.job_id

    def write(tx: Tx) -> dict[str, int]:
        result = tx.upsert_games(games, job_id=job_id) if games else None
        if account_cursor is not None:
            tx.set_cursor(*account_cursor, cursor)
        if result is None:
            return {}
        return {
            "found": len(games),
            "inserted": result.inserted,
            "updated": result.updated,
            "skipped_existing": result.skipped_existing,
            "enriched": sum(1 for g in games if g.moves is not None),
        }

    await ctx.checkpoint(cursor, write)
