"""Syncing a Lichess account: the NDJSON export over the stretches of history not yet
stored, re-checking games that were still being played, and backfilling moves by id
(two-stage mode)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gamekeeper.connectors.base import EncodedGame, GamesQuery, LichessUser, RecordError
from gamekeeper.domain.accounts import Account
from gamekeeper.domain.coverage import Coverage, Segment
from gamekeeper.domain.games import Game, Platform
from gamekeeper.jobs.context import JobContext
from gamekeeper.storage.base import MissingMovesQuery
from gamekeeper.sync.batches import GameBatcher, commit_games
from gamekeeper.sync.deps import SyncDeps
from gamekeeper.sync.phases import finish_phases
from gamekeeper.sync.progress import SyncRun
from gamekeeper.sync.reconcile import Missing, reconciliation

#: The cursor's name in the `cursors` table.
STREAM = "lichess_games"

#: `POST /api/games/export/_ids` takes at most this many ids.
IDS_PER_REQUEST = 300

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms_of(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(milliseconds=1)


def at_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


@dataclass(frozen=True, slots=True, kw_only=True)
class LichessCursor:
    """What the account's syncs have stored, as spans of `createdAt` milliseconds (see
    `domain.coverage`), and the games that were still being played, to re-check."""

    coverage: Coverage = field(default_factory=Coverage)
    open_ids: tuple[str, ...] = ()

    @property
    def since_ms(self) -> int | None:
        """Everything created before this is stored (None: the oldest games are not)."""
        return self.coverage.frontier

    @classmethod
    def from_json(cls, value: Any) -> LichessCursor:
        if not isinstance(value, dict):
            return cls()
        coverage = Coverage.from_json(value.get("spans"))
        since = value.get("since_ms")
        if "spans" not in value and isinstance(since, int):
            coverage = coverage.add(None, since)  # a cursor written before spans existed
        return cls(coverage=coverage, open_ids=tuple(value.get("open_ids", ())))

    def to_json(self) -> dict[str, Any]:
        return {
            "since_ms": self.since_ms,
            "spans": self.coverage.to_json(),
            "open_ids": list(self.open_ids),
        }

    def after(self, games: Sequence[Game | EncodedGame], *, start: int | None) -> LichessCursor:
        """The cursor once `games`, streamed oldest first from `start` on, are stored."""
        open_ids = dict.fromkeys(self.open_ids)
        newest: int | None = None
        for game in games:
            if game.finished:
                open_ids.pop(game.platform_game_id, None)
            else:
                open_ids[game.platform_game_id] = None
            if game.start_time is not None:
                created = ms_of(game.start_time)
                newest = created if newest is None else max(newest, created)
        coverage = self.coverage if newest is None else self.coverage.add(start, newest)
        return LichessCursor(coverage=coverage, open_ids=tuple(open_ids))

    def rechecked(self, asked: Sequence[str], games: Sequence[Game | EncodedGame]) -> LichessCursor:
        """After asking again for `asked`: finished games leave the re-check list, and so
        do games the site no longer returns."""
        returned = {g.platform_game_id: g for g in games}
        still = [
            i
            for i in self.open_ids
            if i not in asked or (i in returned and not returned[i].finished)
        ]
        return dataclasses.replace(self, open_ids=tuple(still))


def date_of(ms: int) -> str:
    return at_ms(ms).date().isoformat()


def missing_of(coverage: Coverage) -> list[Missing]:
    return [(None if s is None else date_of(s), date_of(e)) for s, e in coverage.gaps()]


async def estimate_total(
    deps: SyncDeps,
    account: Account,
    cursor: LichessCursor,
    profile: LichessUser,
    segments: Sequence[Segment],
    max_left: int | None,
) -> int | None:
    """How many items this run will receive: the site's games outside the stored spans,
    plus the re-checks (games stored at a segment's inclusive ends are passed over).

    Unknown (None) when the site gives no count, or when the run leaves older stretches
    unfetched (a date limit): the site's count is of all games, not of those after a date.
    """
    whole = segments == cursor.coverage.segments()
    if profile.count_all is None or not whole:
        return None if max_left is None else max_left + len(cursor.open_ids)
    ranges = [
        (None if s.start is None else at_ms(s.start), at_ms(s.end)) for s in cursor.coverage.spans
    ]
    counts = await deps.store.count_player_games_between(account, ranges)
    remaining = max(0, profile.count_all - sum(counts))
    if max_left is not None:
        remaining = min(remaining, max_left)
    return remaining + len(cursor.open_ids)


class _Fetch:
    """One run's state while it streams: the cursor, the batcher and the limits."""

    def __init__(
        self,
        ctx: JobContext,
        deps: SyncDeps,
        account: Account,
        cursor: LichessCursor,
        run: SyncRun,
        *,
        moves: bool,
        max_games: int | None,
        skip: int,
    ) -> None:
        self.ctx, self.deps, self.account = ctx, deps, account
        self.cursor, self.run, self.moves = cursor, run, moves
        self.max_games = max_games
        self.skip_left = max(0, skip - run.skipped)
        self.batcher = GameBatcher(
            ctx, account_id=account.id, stream=STREAM, size=deps.batch_size, seen=run.done
        )

    async def commit(self) -> None:
        newest = self.cursor.coverage.newest
        position = None if newest is None else at_ms(newest).isoformat()
        self.run = dataclasses.replace(self.run, done=self.batcher.seen, position=position)
        await self.batcher.commit(self.run.to_json(), self.cursor.to_json())

    async def recheck(self) -> None:
        """Games still being played at the last sync: ask for them again by id."""
        ids = list(self.cursor.open_ids)
        for first in range(0, len(ids), IDS_PER_REQUEST):
            chunk = ids[first : first + IDS_PER_REQUEST]
            items = self.deps.lichess.export_by_ids(
                chunk,
                moves=self.moves,
                clocks=self.moves,
                evals=self.moves,
                wait=self.ctx.wait,
                encode=self.deps.encode,
            )
            async for item in self.ctx.until_cancelled(items):
                if isinstance(item, RecordError):
                    self.batcher.seen += 1
                    message = f"re-check of an unfinished game: {item.message}"
                    self.ctx.item_error(item.item, message)
                else:
                    self.batcher.add(item)
                await self.ctx.report_progress(self.batcher.seen)
            if self.ctx.cancel_requested:
                return  # the chunk was not asked for whole: keep it on the list
            self.cursor = self.cursor.rechecked(chunk, self.batcher.games)
            await self.commit()

    async def segment(self, since: int | None, until: int | None) -> bool:
        """Fetch one stretch; False when the run must stop (a cancel, or `max` reached)."""
        room = None if self.max_games is None else self.max_games - self.run.kept
        if room is not None and room <= 0:
            return False
        start = since
        skipping = self.skip_left > 0
        edges = [at_ms(p) for p in (since, until) if p is not None]
        known = await self.deps.store.player_game_ids_at(self.account, edges)
        query = GamesQuery(
            since_ms=since,
            until_ms=until,
            max=None if room is None else room + self.skip_left,
            moves=self.moves,
            clocks=self.moves,
            evals=self.moves,
        )
        stream = self.deps.lichess.iter_games(
            self.account.username,
            query,
            wait=self.ctx.wait,
            known_ids=known,
            encode=self.deps.encode,
        )
        async for item in self.ctx.until_cancelled(stream):
            if not isinstance(item, RecordError):
                if self.skip_left > 0:
                    self.skip_left -= 1
                    self.batcher.seen += 1
                    self.run = dataclasses.replace(self.run, skipped=self.run.skipped + 1)
                    continue
                if skipping and item.start_time is not None:
                    # Games passed over are not stored: coverage starts at the first kept one.
                    start, skipping = ms_of(item.start_time), False
                self.run = dataclasses.replace(self.run, kept=self.run.kept + 1)
            full = self.batcher.add(item)
            await self.ctx.report_progress(self.batcher.seen)
            if full:
                self.cursor = self.cursor.after(self.batcher.games, start=start)
                await self.commit()
        self.cursor = self.cursor.after(self.batcher.games, start=start)
        stop = self.ctx.cancel_requested or self.max_reached
        if not stop and until is not None and not skipping:
            # The site sent the whole stretch: it is stored up to where the next span starts.
            coverage = self.cursor.coverage.add(start, until)
            self.cursor = dataclasses.replace(self.cursor, coverage=coverage)
        await self.commit()
        return not stop

    @property
    def max_reached(self) -> bool:
        return self.max_games is not None and self.run.kept >= self.max_games


async def sync_lichess(
    ctx: JobContext,
    deps: SyncDeps,
    account: Account,
    *,
    moves: bool,
    since_ms: int | None,
    max_games: int | None,
    skip: int = 0,
) -> None:
    """Fetch what is not stored yet of the account's games (from `since_ms`, if given)."""
    ctx.set_phases("fetching", "enriching", "analyzing")
    cursor = LichessCursor.from_json(await deps.store.get_cursor(account.id, STREAM))
    run = SyncRun.from_json(ctx.resume_from)
    profile = await deps.lichess.profile(account.username, wait=ctx.wait)
    if account.platform_user_id != profile.id:
        await deps.store.update_account(dataclasses.replace(account, platform_user_id=profile.id))
    segments = cursor.coverage.segments(since_ms)
    if not run.resumed:
        total = await estimate_total(deps, account, cursor, profile, segments, max_games)
        run = dataclasses.replace(run, total=total)
    await ctx.start_phase("fetching", total=run.total, done=run.done)
    fetch = _Fetch(ctx, deps, account, cursor, run, moves=moves, max_games=max_games, skip=skip)
    async with fetch.batcher:
        await fetch.recheck()
        for since, until in segments:
            if ctx.cancel_requested or not await fetch.segment(since, until):
                break
    ctx.raise_if_cancelled()
    # The fetch is over: what came is all there was, so the total is now known.
    await ctx.report_progress(fetch.batcher.seen, fetch.batcher.seen)
    await finish_phases(ctx, enriched=moves)
    limits = []
    if since_ms is not None:
        limits.append(f"the sync was limited by its parameters: games from {date_of(since_ms)} on")
    if fetch.max_reached:
        limits.append(
            f"the sync was limited by its parameters: it stopped after {max_games:,} games "
            "(max); the next sync goes on from there"
        )
    await report_lichess(ctx, deps, account, fetch.cursor, profile, limits, moves=moves)


async def report_lichess(
    ctx: JobContext,
    deps: SyncDeps,
    account: Account,
    cursor: LichessCursor,
    profile: LichessUser,
    limits: Sequence[str],
    *,
    moves: bool,
) -> None:
    """The reconciliation: the site's count against what is stored, and why."""
    stored = await deps.store.count_player_games(Platform.LICHESS, account.player_id)
    without_moves = (
        0 if moves else await deps.store.count_missing_moves(Platform.LICHESS, account.player_id)
    )
    ctx.set_result(
        reconciliation(
            site="lichess",
            site_total=profile.count_all,
            stored=stored,
            failed=ctx.counters.get("failed", 0),
            ongoing=len(cursor.open_ids),
            limits=limits,
            missing=missing_of(cursor.coverage),
            without_moves=without_moves,
        )
    )


async def backfill_moves(
    ctx: JobContext,
    deps: SyncDeps,
    accounts: Sequence[Account],
    *,
    limit: int,
    delay_ms: int,
    since: datetime | None = None,
) -> None:
    """Fetch moves for up to `limit` stored games of `accounts` that lack them, newest
    first (NULL start times last, then id)."""
    players = [a.player_id for a in accounts]
    done = int((ctx.resume_from or {}).get("done", 0))
    wanted = MissingMovesQuery(
        platform=Platform.LICHESS, players=players, limit=max(0, limit - done), since=since
    )
    candidates = await deps.store.games_missing_moves(wanted)
    ctx.set_phases("fetching", "analyzing")
    await ctx.start_phase("fetching", total=done + len(candidates), done=done)
    missing = 0
    for start in range(0, len(candidates), IDS_PER_REQUEST):
        if start and delay_ms:
            await ctx.sleep(delay_ms / 1000)
        chunk = candidates[start : start + IDS_PER_REQUEST]
        games: list[Game | EncodedGame] = []
        received = 0
        items = deps.lichess.export_by_ids(chunk, wait=ctx.wait, encode=deps.encode)
        async for item in ctx.until_cancelled(items):
            received += 1
            if isinstance(item, RecordError):
                missing += 1
                ctx.item_error(item.item, item.message)
            else:
                games.append(item)
            await ctx.report_progress(done + received)
        # A cut-short chunk keeps what came; its other games are still candidates.
        done += len(chunk) if not ctx.cancel_requested else received
        await commit_games(ctx, games, checkpoint={"done": done})
        ctx.raise_if_cancelled()
    await ctx.skip_phase("analyzing", "no analysis plugins enabled")
    ctx.set_result(
        {
            "requested": limit,
            "candidates": done,
            "filled": ctx.counters.get("enriched", 0),
            "not_returned_by_site": missing,
            "still_without_moves": sum(
                [await deps.store.count_missing_moves(Platform.LICHESS, p) for p in players]
            ),
        }
    )
