"""Syncing a Chess.com account: its monthly archives not yet stored, oldest first, each
asked for with the ETag we stored (a 304 means nothing new)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from gamekeeper.connectors.base import MonthStatus, RecordError
from gamekeeper.domain.accounts import Account
from gamekeeper.domain.coverage import Coverage, Segment, month_index, month_name
from gamekeeper.domain.games import Game, Platform
from gamekeeper.jobs.context import JobContext
from gamekeeper.sync.batches import commit_games
from gamekeeper.sync.deps import SyncDeps
from gamekeeper.sync.openings import named_by_the_book
from gamekeeper.sync.phases import finish_phases
from gamekeeper.sync.progress import SyncRun
from gamekeeper.sync.reconcile import Missing, reconciliation

STREAM = "chesscom_archives"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChessComCursor:
    """The months stored, as spans of month numbers (see `domain.coverage`: a span's end
    is fetched again next time, as the newest month grows), each month's ETag, and each
    month's game count (the site's total, summed)."""

    coverage: Coverage = field(default_factory=Coverage)
    etags: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def month(self) -> str | None:
        """Every month before this one is stored (None: the oldest months are not)."""
        frontier = self.coverage.frontier
        return None if frontier is None else month_name(frontier)

    @classmethod
    def from_json(cls, value: Any) -> ChessComCursor:
        if not isinstance(value, dict):
            return cls()
        coverage = Coverage.from_json(value.get("spans"))
        month = value.get("month")
        if "spans" not in value and isinstance(month, str):
            coverage = coverage.add(None, month_index(month))  # written before spans existed
        return cls(
            coverage=coverage,
            etags=dict(value.get("etags", {})),
            counts=dict(value.get("counts", {})),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "spans": self.coverage.to_json(),
            "etags": self.etags,
            "counts": self.counts,
        }


def month_of(date: str | None) -> str | None:
    """`2024-05-17` → `2024/05`."""
    return None if date is None else date[:7].replace("-", "/")


def planned_months(archives: Sequence[str], segments: Sequence[Segment]) -> list[tuple[str, int]]:
    """The archive months inside the segments, each with its segment's index."""
    planned = []
    for month in archives:
        index = month_index(month)
        for number, (start, end) in enumerate(segments):
            # A segment's start is inclusive (a span's end is fetched again); its end is
            # where the next span starts, a month already stored whole.
            if (start is None or index >= start) and (end is None or index < end):
                planned.append((month, number))
                break
    return planned


def missing_months(coverage: Coverage) -> list[Missing]:
    return [(None if s is None else month_name(s), month_name(e)) for s, e in coverage.gaps()]


class _Months:
    """One run's state while it fetches months."""

    def __init__(
        self, ctx: JobContext, deps: SyncDeps, account: Account, cursor: ChessComCursor
    ) -> None:
        self.ctx, self.deps, self.account, self.cursor = ctx, deps, account, cursor
        self.fetched = self.unchanged = 0

    async def fetch(
        self, planned: Sequence[tuple[str, int]]
    ) -> AsyncIterator[tuple[MonthStatus, int]]:
        """Each planned month as fetched, with its segment's index."""
        for month, number in planned:
            etag = self.cursor.etags.get(month)
            archive = await self.deps.chesscom.fetch_month(
                self.account.username, month, etag=etag, wait=self.ctx.wait
            )
            yield archive, number

    def games_of(self, archive: MonthStatus) -> list[Game]:
        """The month's games, named by the opening book (see `sync.openings`)."""
        games: list[Game] = []
        for item in archive.games:
            if isinstance(item, RecordError):
                self.ctx.item_error(item.item, item.message)
                self.ctx.count(found=1)
            else:
                games.append(named_by_the_book(item))
        return games

    def record(self, archive: MonthStatus, *, start: int | None, cut: bool, newest: str) -> None:
        """The cursor once `archive` is stored (whole, or `cut` short by `max`)."""
        etags, counts = dict(self.cursor.etags), dict(self.cursor.counts)
        if archive.status == "not_modified":
            self.unchanged += 1
        elif archive.status == "gone":
            etags.pop(archive.month, None)
        else:
            counts[archive.month] = archive.total
            if archive.etag and not cut:
                etags[archive.month] = archive.etag
            else:
                # Partly stored: no ETag, so the next sync fetches the month whole.
                etags.pop(archive.month, None)
        self.fetched += 1
        index = month_index(archive.month)
        # A whole month is stored; the newest (still growing) and a cut one are fetched again.
        end = index if cut or archive.month >= newest else index + 1
        coverage = self.cursor.coverage.add(start, end)
        self.cursor = ChessComCursor(coverage=coverage, etags=etags, counts=counts)


async def sync_chesscom(
    ctx: JobContext,
    deps: SyncDeps,
    account: Account,
    *,
    since: str | None,
    max_games: int | None = None,
) -> None:
    """Fetch the account's months not stored yet (from `since`'s month, if given); with
    `max_games`, stop once that many games are stored."""
    ctx.set_phases("fetching", "enriching", "analyzing")
    cursor = ChessComCursor.from_json(await deps.store.get_cursor(account.id, STREAM))
    run = SyncRun.from_json(ctx.resume_from)
    archives = await deps.chesscom.archives(account.username, wait=ctx.wait)
    from_month = month_of(since)
    segments = cursor.coverage.segments(None if from_month is None else month_index(from_month))
    planned = planned_months(archives, segments)
    await ctx.start_phase("fetching", total=run.done + len(planned), done=run.done)
    months = _Months(ctx, deps, account, cursor)
    starts = [start for start, _ in segments]
    newest = archives[-1] if archives else ""
    async for archive, number in ctx.until_cancelled(months.fetch(planned)):
        games = months.games_of(archive)
        room = None if max_games is None else max_games - run.kept
        cut = room is not None and len(games) > room
        if cut:
            games = games[: max(room or 0, 0)]
        months.record(archive, start=starts[number], cut=cut, newest=newest)
        starts[number] = month_index(archive.month) + (0 if cut else 1)
        run = dataclasses.replace(
            run, done=run.done + 1, kept=run.kept + len(games), position=archive.month
        )
        await commit_games(
            ctx,
            games,
            checkpoint=run.to_json(),
            account_cursor=(account.id, STREAM, months.cursor.to_json()),
        )
        await ctx.report_progress(run.done)
        if max_games is not None and run.kept >= max_games:
            break
    ctx.raise_if_cancelled()
    if max_games is None or run.kept < max_games:
        await close_segments(ctx, account, months, segments, run)
    await finish_phases(ctx, enriched=True)
    await report_chesscom(ctx, deps, account, months, since=since, max_games=max_games, run=run)


async def close_segments(
    ctx: JobContext, account: Account, months: _Months, segments: Sequence[Segment], run: SyncRun
) -> None:
    """Every planned month is stored: each gap is now stored up to the span after it,
    even where the site had no month."""
    coverage = months.cursor.coverage
    for start, end in segments:
        if end is not None:
            coverage = coverage.add(start, end)
    if coverage == months.cursor.coverage:
        return
    months.cursor = dataclasses.replace(months.cursor, coverage=coverage)
    value = months.cursor.to_json()
    await commit_games(
        ctx, [], checkpoint=run.to_json(), account_cursor=(account.id, STREAM, value)
    )


async def report_chesscom(
    ctx: JobContext,
    deps: SyncDeps,
    account: Account,
    months: _Months,
    *,
    since: str | None,
    max_games: int | None,
    run: SyncRun,
) -> None:
    limits = []
    if since is not None:
        limits.append(f"the sync was limited by its parameters: months from {month_of(since)} on")
    if max_games is not None and run.kept >= max_games:
        limits.append(
            f"the sync was limited by its parameters: it stopped after {max_games:,} games "
            "(max); the next sync goes on from there"
        )
    stored = await deps.store.count_player_games(Platform.CHESSCOM, account.player_id)
    result = reconciliation(
        site="chesscom",
        site_total=sum(months.cursor.counts.values()),
        stored=stored,
        failed=ctx.counters.get("failed", 0),
        ongoing=0,
        limits=limits,
        missing=missing_months(months.cursor.coverage),
        unit="months",
    )
    result["months"] = {"fetched": months.fetched - months.unchanged, "unchanged": months.unchanged}
    ctx.set_result(result)
