"""Syncing a Chess.com account: its monthly archives, ascending from the cursor month,
each asked for with the ETag we stored (a 304 means nothing new)."""

from __future__ import annotations

from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from gamekeeper.connectors.base import RecordError
from gamekeeper.domain.accounts import Account
from gamekeeper.domain.games import Game, Platform
from gamekeeper.jobs.context import JobContext
from gamekeeper.sync.batches import commit_games
from gamekeeper.sync.deps import SyncDeps
from gamekeeper.sync.phases import finish_phases
from gamekeeper.sync.reconcile import reconciliation

STREAM = "chesscom_archives"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChessComCursor:
    """The last month fetched (it is fetched again next time: the current month grows),
    each month's ETag, and each month's game count (the site's total, summed)."""

    month: str | None = None
    etags: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_json(cls, value: Any) -> ChessComCursor:
        if not isinstance(value, dict):
            return cls()
        return cls(
            month=value.get("month"),
            etags=dict(value.get("etags", {})),
            counts=dict(value.get("counts", {})),
        )

    def to_json(self) -> dict[str, Any]:
        return {"month": self.month, "etags": self.etags, "counts": self.counts}


def month_of(date: str | None) -> str | None:
    """`2024-05-17` → `2024/05`."""
    return None if date is None else date[:7].replace("-", "/")


async def sync_chesscom(
    ctx: JobContext,
    deps: SyncDeps,
    account: Account,
    *,
    since: str | None,
    max_games: int | None = None,
) -> None:
    """Fetch the account's monthly archives from the cursor month (or `since`) on; with
    `max_games`, stop once that many games are stored."""
    source = deps.chesscom
    ctx.set_phases("fetching", "enriching", "analyzing")
    stored_cursor = (
        ctx.resume_from
        if ctx.resume_from is not None
        else await deps.store.get_cursor(account.id, STREAM)
    )
    cursor = ChessComCursor.from_json(stored_cursor)
    from_month = month_of(since) or cursor.month
    archives = await source.archives(account.username, wait=ctx.wait)
    months = [m for m in archives if from_month is None or m >= from_month]
    await ctx.start_phase("fetching", total=len(months))
    done = unchanged = stored_here = 0
    async with aclosing(
        source.iter_months(
            account.username, from_month=from_month, etags=cursor.etags, wait=ctx.wait
        )
    ) as archive_stream:
        async for archive in archive_stream:
            games: list[Game] = []
            for item in archive.games:
                if isinstance(item, RecordError):
                    ctx.item_error(item.item, item.message)
                    ctx.count(found=1)
                else:
                    games.append(item)
            room = None if max_games is None else max_games - stored_here
            cut = room is not None and len(games) > room
            if cut:
                games = games[: max(room or 0, 0)]
            stored_here += len(games)
            etags = dict(cursor.etags)
            counts = dict(cursor.counts)
            if archive.status == "not_modified":
                unchanged += 1
            elif archive.status == "gone":
                etags.pop(archive.month, None)
            else:
                counts[archive.month] = archive.total
                if archive.etag and not cut:
                    etags[archive.month] = archive.etag
                elif cut:
                    # Partly stored: no ETag, so the next sync fetches the month whole.
                    etags.pop(archive.month, None)
            cursor = ChessComCursor(month=archive.month, etags=etags, counts=counts)
            await commit_games(
                ctx, games, cursor=cursor.to_json(), account_cursor=(account.id, STREAM)
            )
            done += 1
            await ctx.report_progress(done)
            ctx.raise_if_cancelled()
            if max_games is not None and stored_here >= max_games:
                break

    await finish_phases(ctx, enriched=True)
    stored = await deps.store.count_player_games(Platform.CHESSCOM, account.username.lower())
    result = reconciliation(
        site="chesscom",
        site_total=sum(cursor.counts.values()),
        stored=stored,
        failed=ctx.counters.get("failed", 0),
        ongoing=0,
        filtered=since is not None or max_games is not None,
    )
    result["months"] = {"fetched": done - unchanged, "unchanged": unchanged}
    ctx.set_result(result)
