"""One crawled player's recent games, newest first, from where their cursor left off.

A player's cursor (in `players.cursor`) is the newest game time the crawl stored for
them: Lichess `createdAt` in ms, Chess.com `end_time` in ms. A re-crawl asks only for
games after it, so an account's own sync cursor is never touched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from gamekeeper.connectors.base import EncodedGame, GamesQuery, MonthStatus, RecordError
from gamekeeper.domain.games import Game, Platform
from gamekeeper.domain.players import CrawlTarget
from gamekeeper.jobs.context import JobContext
from gamekeeper.storage.players import PlayerStore
from gamekeeper.sync.deps import SyncDeps
from gamekeeper.sync.lichess_sync import at_ms, ms_of


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayerFetch:
    """What came for one player: their games, unreadable records, the new cursor."""

    games: tuple[Game, ...]
    errors: tuple[RecordError, ...]
    cursor: dict[str, Any]
    #: False when a cancel cut the fetch short.
    complete: bool


def cursor_ms(value: Any) -> int | None:
    if isinstance(value, dict) and isinstance(value.get("last_ms"), int):
        return int(value["last_ms"])
    return None


def _time_ms(game: Game, platform: Platform) -> int | None:
    when = game.start_time if platform is Platform.LICHESS else game.end_time or game.start_time
    return None if when is None else ms_of(when)


def _newest(games: Sequence[Game], platform: Platform, before: int | None) -> dict[str, Any]:
    times = [t for g in games if (t := _time_ms(g, platform)) is not None]
    if before is not None:
        times.append(before)
    return {"last_ms": max(times)} if times else {}


async def fetch_player(
    ctx: JobContext,
    deps: SyncDeps,
    store: PlayerStore,
    target: CrawlTarget,
    *,
    limit: int,
    since_ms: int | None,
) -> PlayerFetch:
    """The newest `limit` games of `target` after their cursor (and `since_ms`)."""
    previous = cursor_ms(await store.player_cursor(target.platform, target.player_id))
    starts = [s for s in (previous, since_ms) if s is not None]
    start = max(starts) if starts else None
    if target.platform is Platform.LICHESS:
        items = _lichess(ctx, deps, target, limit=limit, start=start)
    else:
        items = _chesscom(ctx, deps, target, start=start)
    games: list[Game] = []
    errors: list[RecordError] = []
    async for item in ctx.until_cancelled(items):
        if isinstance(item, RecordError):
            errors.append(item)
        else:
            games.append(item)
        if len(games) >= limit and target.platform is Platform.CHESSCOM:
            break
    if target.platform is Platform.CHESSCOM:
        games.sort(key=lambda g: _time_ms(g, target.platform) or 0, reverse=True)
        games = games[:limit]
    return PlayerFetch(
        games=tuple(games),
        errors=tuple(errors),
        cursor=_newest(games, target.platform, previous),
        complete=not ctx.cancel_requested,
    )


async def _lichess(
    ctx: JobContext, deps: SyncDeps, target: CrawlTarget, *, limit: int, start: int | None
) -> AsyncIterator[Game | RecordError]:
    # `since` is inclusive: the games stored at that very millisecond are passed over.
    known: set[str] = set()
    if start is not None:
        known = await deps.store.player_game_ids_at(target, [at_ms(start)])
    query = GamesQuery(since_ms=start, max=limit, newest_first=True)
    stream = deps.lichess.iter_games(target.username, query, wait=ctx.wait, known_ids=known)
    async for item in stream:
        # Asked without `encode`: games, whose players the crawl follows, not rows.
        assert not isinstance(item, EncodedGame)
        yield item


async def _chesscom(
    ctx: JobContext, deps: SyncDeps, target: CrawlTarget, *, start: int | None
) -> AsyncIterator[Game | RecordError]:
    """Months newest first, down to the cursor's month; games ending after the cursor,
    newest first within each month."""
    first = None if start is None else at_ms(start).strftime("%Y/%m")
    months = await deps.chesscom.archives(target.username, wait=ctx.wait)
    for month in reversed(months):
        if first is not None and month < first:
            return
        archive: MonthStatus = await deps.chesscom.fetch_month(
            target.username, month, wait=ctx.wait
        )
        found = [g for g in archive.games if isinstance(g, Game)]
        found.sort(key=lambda g: _time_ms(g, Platform.CHESSCOM) or 0, reverse=True)
        for item in archive.games:
            if isinstance(item, RecordError):
                yield item
        for game in found:
            when = _time_ms(game, Platform.CHESSCOM)
            if start is not None and when is not None and when <= start:
                return
            yield game
