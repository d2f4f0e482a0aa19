"""Committing fetched games batch by batch, each batch with the cursor that covers it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from gamekeeper.connectors.base import EncodedGame, GameOrError, RecordError
from gamekeeper.domain.games import Game
from gamekeeper.jobs.context import JobContext
from gamekeeper.storage.base import GameTx, UpsertResult


class GameBatcher:
    """Collects a stream's games; `commit` writes them, their counters, the job's
    checkpoint and the account's cursor in one transaction.

    A commit runs in the background while the stream goes on (the database works while
    the next batch is read and parsed); the next commit, or `flush`, waits for it first,
    so checkpoints land in order and at most two batches are held in memory.
    Item errors are recorded on the job as they arrive (the stream goes on).
    """

    def __init__(
        self, ctx: JobContext, *, account_id: int, stream: str, size: int, seen: int = 0
    ) -> None:
        self.ctx = ctx
        self.account_id = account_id
        self.stream = stream
        self.size = size
        self.games: list[Game | EncodedGame] = []
        #: Items received so far (good and bad, earlier runs of the job included).
        self.seen = seen
        self._pending: asyncio.Task[None] | None = None

    def add(self, item: GameOrError | EncodedGame) -> bool:
        """Take one stream item; True when the batch is full."""
        self.seen += 1
        if isinstance(item, RecordError):
            self.ctx.item_error(item.item, item.message)
            self.ctx.count(found=1)
        else:
            self.games.append(item)
        return len(self.games) >= self.size

    async def commit(self, checkpoint: Any, account_cursor: Any) -> None:
        """Start writing the collected games with the job's `checkpoint` and the
        account's cursor (which covers them), once the previous commit is done."""
        await self.flush()
        games, self.games = self.games, []
        self._pending = asyncio.ensure_future(
            commit_games(
                self.ctx,
                games,
                checkpoint=checkpoint,
                account_cursor=(self.account_id, self.stream, account_cursor),
            )
        )

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
    games: Sequence[Game | EncodedGame],
    *,
    checkpoint: Any,
    account_cursor: tuple[int, str, Any] | None = None,
) -> None:
    """Upsert `games` (or their rows) and checkpoint in one transaction; with
    `account_cursor` (account id, stream name, value), the account's next sync starts
    from that value."""
    job_id = ctx.job_id

    def write(tx: GameTx) -> dict[str, int]:
        result = _upsert(tx, games, job_id=job_id) if games else None
        if account_cursor is not None:
            tx.set_cursor(*account_cursor)
        counters = upsert_counters(games, result)
        counters["enriched"] = sum(1 for g in games if g.has_moves)
        return counters

    await ctx.checkpoint(checkpoint, write)


def _upsert(tx: GameTx, games: Sequence[Game | EncodedGame], *, job_id: str) -> UpsertResult:
    """One stream's games are all rows or all `Game`s; a batch of both is written as
    two upserts (each keeps its own last record of a repeated game)."""
    rows = [g.row for g in games if isinstance(g, EncodedGame)]
    plain = [g for g in games if isinstance(g, Game)]
    if not plain:
        return tx.upsert_rows(rows, job_id=job_id)
    if not rows:
        return tx.upsert_games(plain, job_id=job_id)
    first, second = tx.upsert_rows(rows, job_id=job_id), tx.upsert_games(plain, job_id=job_id)
    return UpsertResult(
        inserted=first.inserted + second.inserted,
        updated=first.updated + second.updated,
        skipped_existing=first.skipped_existing + second.skipped_existing,
    )


def upsert_counters(
    games: Sequence[object], result: UpsertResult | None, *, unreadable: int = 0
) -> dict[str, int]:
    """The counters a batch adds: every item `found`, and each game `inserted`, `updated`
    or `skipped_existing` (unchanged, kept as stored on purpose, or repeated in the batch)."""
    inserted = result.inserted if result else 0
    updated = result.updated if result else 0
    return {
        "found": len(games) + unreadable,
        "inserted": inserted,
        "updated": updated,
        "skipped_existing": len(games) - inserted - updated,
    }
