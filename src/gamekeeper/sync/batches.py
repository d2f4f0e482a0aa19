"""Committing fetched games batch by batch, each batch with the cursor that covers it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from gamekeeper.connectors.base import GameOrError, RecordError
from gamekeeper.domain.games import Game
from gamekeeper.jobs.context import JobContext
from gamekeeper.storage.base import Tx


class GameBatcher:
    """Collects a stream's games; `commit` writes them, their counters and the cursor at once.

    A commit runs in the background while the stream goes on (the database works while
    the next batch is read and parsed); the next commit, or `flush`, waits for it first,
    so checkpoints land in order and at most two batches are held in memory.
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
        self._pending: asyncio.Task[None] | None = None

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
        """Start writing the collected games and `cursor` (also the job's checkpoint) in
        one transaction, once the previous commit is done."""
        await self.flush()
        games, self.games = self.games, []
        self._pending = asyncio.ensure_future(
            commit_games(
                self.ctx, games, cursor=cursor, account_cursor=(self.account_id, self.stream)
            )
        )
        if self.ctx.cancel_requested:
            await self.flush()  # keep what was fetched, then stop
            self.ctx.raise_if_cancelled()

    async def __aenter__(self) -> GameBatcher:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        """Wait for the last commit; if the job is already failing, that error wins."""
        if kind is None:
            await self.flush()
            return
        with contextlib.suppress(Exception):
            await self.flush()

    async def flush(self) -> None:
        """Wait for the commit under way (and raise what it raised)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            await pending


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
