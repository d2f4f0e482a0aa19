"""Syncing a Lichess account: the NDJSON export from a `since` cursor, re-checking
games that were still being played, and backfilling moves by id (two-stage mode)."""

from __future__ import annotations

import dataclasses
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from gamekeeper.connectors.base import RecordError
from gamekeeper.domain.accounts import Account
from gamekeeper.domain.games import Game, Platform
from gamekeeper.jobs.context import JobContext
from gamekeeper.sync.batches import GameBatcher, commit_games
from gamekeeper.sync.deps import SyncDeps
from gamekeeper.sync.phases import finish_phases
from gamekeeper.sync.reconcile import reconciliation

#: The cursor's name in the `cursors` table.
STREAM = "lichess_games"

#: `POST /api/games/export/_ids` takes at most this many ids.
IDS_PER_REQUEST = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class LichessCursor:
    """Where the next sync starts: `createdAt` of the last committed game (inclusive, so
    games sharing that millisecond are not lost; upsert dedupes), and the games that
    were still being played, to re-check."""

    since_ms: int | None = None
    open_ids: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, value: Any) -> LichessCursor:
        if not isinstance(value, dict):
            return cls()
        return cls(since_ms=value.get("since_ms"), open_ids=tuple(value.get("open_ids", ())))

    def to_json(self) -> dict[str, Any]:
        return {"since_ms": self.since_ms, "open_ids": list(self.open_ids)}

    def after(self, games: list[Game]) -> LichessCursor:
        """The cursor once `games` (in stream order) are committed."""
        open_ids = dict.fromkeys(self.open_ids)
        since = self.since_ms
        for game in games:
            if game.finished:
                open_ids.pop(game.platform_game_id, None)
            else:
                open_ids[game.platform_game_id] = None
            if game.start_time is not None:
                created = int(game.start_time.timestamp() * 1000)
                since = created if since is None else max(since, created)
        return LichessCursor(since_ms=since, open_ids=tuple(open_ids))


async def sync_lichess(
    ctx: JobContext,
    deps: SyncDeps,
    account: Account,
    *,
    moves: bool,
    since_ms: int | None,
    max_games: int | None,
) -> None:
    """Fetch the account's games newer than its cursor (or `since_ms`) into the database."""
    source = deps.lichess
    player_id = account.username.lower()
    ctx.set_phases("fetching", "enriching", "analyzing")
    cursor = LichessCursor.from_json(
        ctx.resume_from
        if ctx.resume_from is not None
        else await deps.store.get_cursor(account.id, STREAM)
    )
    profile = await source.profile(account.username, wait=ctx.wait)
    if account.platform_user_id != profile.id:
        await deps.store.update_account(dataclasses.replace(account, platform_user_id=profile.id))
    stored_before = await deps.store.count_player_games(Platform.LICHESS, player_id)

    total = None
    if profile.count_all is not None:
        total = max(0, profile.count_all - stored_before) + len(cursor.open_ids)
        if max_games is not None:
            total = min(total, max_games + len(cursor.open_ids))
    await ctx.start_phase("fetching", total=total)
    async with GameBatcher(
        ctx, account_id=account.id, stream=STREAM, size=deps.batch_size
    ) as batcher:
        # Games still being played at the last sync: ask for them again by id.
        recheck = list(cursor.open_ids)
        for start in range(0, len(recheck), IDS_PER_REQUEST):
            chunk = recheck[start : start + IDS_PER_REQUEST]
            async with aclosing(
                source.export_by_ids(chunk, moves=moves, clocks=moves, evals=moves, wait=ctx.wait)
            ) as items:
                async for item in items:
                    if isinstance(item, RecordError):
                        ctx.item_error(item.item, f"re-check of an unfinished game: {item.message}")
                        continue
                    batcher.add(item)
            # Finished games leave the re-check list; so do games the site no longer returns.
            returned = {g.platform_game_id for g in batcher.games}
            cursor = cursor.after(batcher.games)
            cursor = dataclasses.replace(
                cursor,
                open_ids=tuple(i for i in cursor.open_ids if i not in chunk or i in returned),
            )
            await batcher.commit(cursor.to_json())
            await ctx.report_progress(batcher.seen)

        async with aclosing(
            source.iter_games(
                account.username,
                since_ms=since_ms if since_ms is not None else cursor.since_ms,
                max=max_games,
                moves=moves,
                clocks=moves,
                evals=moves,
                wait=ctx.wait,
            )
        ) as stream:
            async for item in stream:
                if batcher.add(item):
                    cursor = cursor.after(batcher.games)
                    await batcher.commit(cursor.to_json())
                    await ctx.report_progress(batcher.seen)
        cursor = cursor.after(batcher.games)
        await batcher.commit(cursor.to_json())
    await ctx.report_progress(batcher.seen)

    await finish_phases(ctx, enriched=moves)
    stored = await deps.store.count_player_games(Platform.LICHESS, player_id)
    ctx.set_result(
        reconciliation(
            site="lichess",
            site_total=profile.count_all,
            stored=stored,
            failed=ctx.counters.get("failed", 0),
            ongoing=len(cursor.open_ids),
            filtered=since_ms is not None or max_games is not None,
            without_moves=0 if moves else stored,
        )
    )


async def backfill_moves(
    ctx: JobContext, deps: SyncDeps, account: Account, *, limit: int, delay_ms: int
) -> None:
    """Fetch moves for up to `limit` stored games that lack them, newest first."""
    player_id = account.username.lower()
    done = int((ctx.resume_from or {}).get("done", 0))
    candidates = await deps.store.games_missing_moves(
        Platform.LICHESS, player_id, max(0, limit - done)
    )
    ctx.set_phases("fetching", "analyzing")
    await ctx.start_phase("fetching", total=done + len(candidates))
    await ctx.report_progress(done)
    missing = 0
    for start in range(0, len(candidates), IDS_PER_REQUEST):
        ctx.raise_if_cancelled()
        if start and delay_ms:
            await ctx.sleep(delay_ms / 1000)
        chunk = candidates[start : start + IDS_PER_REQUEST]
        games: list[Game] = []
        async with aclosing(deps.lichess.export_by_ids(chunk, wait=ctx.wait)) as items:
            async for item in items:
                if isinstance(item, RecordError):
                    missing += 1
                    ctx.item_error(item.item, item.message)
                else:
                    games.append(item)
        done += len(chunk)
        await commit_games(ctx, games, cursor={"done": done})
        await ctx.report_progress(done)
    await ctx.skip_phase("analyzing", "no analysis plugins enabled")
    ctx.set_result(
        {
            "requested": limit,
            "candidates": done,
            "filled": ctx.counters.get("enriched", 0),
            "not_returned_by_site": missing,
            "still_without_moves": len(
                await deps.store.games_missing_moves(Platform.LICHESS, player_id, 1_000_000)
            ),
        }
    )
