"""The sync job kinds, registered with their dependencies (by bootstrap)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from gamekeeper.domain.accounts import Account
from gamekeeper.domain.games import Platform
from gamekeeper.domain.limits import INT32_MAX, MAX_EPOCH_MS, check_optional_int
from gamekeeper.errors import AccountNotFound, InvalidInput
from gamekeeper.jobs.context import JobContext
from gamekeeper.jobs.registry import JobRegistry
from gamekeeper.sync.analyze import analyze_synced
from gamekeeper.sync.chesscom_sync import sync_chesscom
from gamekeeper.sync.deps import SyncDeps
from gamekeeper.sync.lichess_sync import at_ms, backfill_moves, ms_of, sync_lichess

#: Every sync kind is one family: one of them at a time per account.
FAMILY = "sync"

#: `months_requested` reaches back at most this far (the sites are younger than this).
MAX_MONTHS = 600
#: `sync_moves` fills in at most this many games per job (the dashboard's bound too).
MAX_MOVES_LIMIT = 1_000_000
#: The longest pause between two `sync_moves` batches (ten minutes).
MAX_DELAY_MS = 600_000

#: Each integer parameter's bounds: ids to their column, counts to 32 bits, times to
#: what a datetime holds. Checked whoever creates the job (API, CLI, scheduler).
SYNC_BOUNDS: dict[str, tuple[int, int]] = {
    "account_id": (1, INT32_MAX),
    "max": (1, INT32_MAX),
    "limit": (1, MAX_MOVES_LIMIT),
    "skip": (0, INT32_MAX),
    "since_ms": (0, MAX_EPOCH_MS),
    "months_requested": (1, MAX_MONTHS),
    "delay_ms": (0, MAX_DELAY_MS),
}


def parse_since(value: str | None) -> str | None:
    """Check a `since` date (YYYY-MM-DD) and return it normalised."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise InvalidInput(f"invalid date {value!r}: use YYYY-MM-DD") from None


def date_ms(value: str | None) -> int | None:
    """A `since` date as the millisecond its day starts (UTC)."""
    day = parse_since(value)
    if day is None:
        return None
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC)
    return ms_of(start)


def months_back(now: datetime, months: int) -> datetime:
    """The first instant of the month `months - 1` months before `now`'s (1 = this month)."""
    index = now.year * 12 + now.month - 1 - (months - 1)
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def start_of(
    now: datetime, *, since: str | None, since_ms: int | None, months: int | None
) -> int | None:
    """Where a limited sync starts, in ms: the latest of the limits given."""
    starts = [s for s in (date_ms(since), since_ms) if s is not None]
    if months is not None:
        starts.append(ms_of(months_back(now, months)))
    return max(starts) if starts else None


def validate_sync(parameters: Mapping[str, Any]) -> None:
    parse_since(parameters.get("since"))
    for name, (low, high) in SYNC_BOUNDS.items():
        check_optional_int(parameters, name, low=low, high=high)


class SyncKinds:
    """The sync job kinds over one set of dependencies (methods registered by name)."""

    def __init__(self, deps: SyncDeps) -> None:
        self.deps = deps

    async def account_of(self, account_id: int) -> Account:
        account = await self.deps.store.get_account(account_id)
        if account is None:
            raise AccountNotFound(f"account {account_id} no longer exists")
        return account

    async def sync_account(
        self,
        ctx: JobContext,
        account_id: int,
        *,
        moves: bool,
        start_ms: int | None,
        max_games: int | None,
        skip: int = 0,
        analyze: bool = False,
    ) -> None:
        account = await self.account_of(account_id)
        # The analysis part of the checkpoint, read before the fetch commits anew.
        resumed = ctx.resume_from.get("analysis") if isinstance(ctx.resume_from, dict) else None
        await self.fetch_account(
            ctx, account, moves=moves, start_ms=start_ms, max_games=max_games, skip=skip
        )
        if not moves:
            await ctx.skip_phase("analyzing", "metadata only: no moves to analyse yet")
            return
        engine = analyze or account.auto_analyze
        await analyze_synced(ctx, self.deps.analysis, engine=engine, resume=resumed)

    async def fetch_account(
        self,
        ctx: JobContext,
        account: Account,
        *,
        moves: bool,
        start_ms: int | None,
        max_games: int | None,
        skip: int,
    ) -> None:
        if account.platform is Platform.LICHESS:
            await sync_lichess(
                ctx,
                self.deps,
                account,
                moves=moves,
                since_ms=start_ms,
                max_games=max_games,
                skip=skip,
            )
        else:
            # Chess.com archives always carry the moves: there is no lighter listing.
            since = None if start_ms is None else at_ms(start_ms).date().isoformat()
            await sync_chesscom(ctx, self.deps, account, since=since, max_games=max_games)

    async def sync_games(
        self,
        ctx: JobContext,
        *,
        account_id: int,
        since: str | None = None,
        since_ms: int | None = None,
        months_requested: int | None = None,
        max: int | None = None,
        skip: int = 0,
        analyze: bool = False,
    ) -> None:
        """An account's games: fetch, enrich, analyze; what is not stored yet (or from a
        date: `since`, `since_ms`, or the last `months_requested` months). The engine
        judges the games stored when `analyze` is true or the account has `auto_analyze`."""
        start = start_of(ctx.now(), since=since, since_ms=since_ms, months=months_requested)
        await self.sync_account(
            ctx, account_id, moves=True, start_ms=start, max_games=max, skip=skip, analyze=analyze
        )

    async def sync_metadata(self, ctx: JobContext, **parameters: Any) -> None:
        """Games without moves (fast); `sync_moves` fills the moves in later. Takes the
        parameters of `sync_games` (the registry checks them against its signature)."""
        start = start_of(
            ctx.now(),
            since=parameters.get("since"),
            since_ms=parameters.get("since_ms"),
            months=parameters.get("months_requested"),
        )
        await self.sync_account(
            ctx,
            parameters["account_id"],
            moves=False,
            start_ms=start,
            max_games=parameters.get("max"),
            skip=parameters.get("skip", 0),
        )

    async def sync_moves(
        self,
        ctx: JobContext,
        *,
        account_id: int | None = None,
        limit: int = 100,
        delay_ms: int = 0,
        months_requested: int | None = None,
    ) -> None:
        """Moves for stored games that lack them: newest first, in batches of 300 ids;
        without an account, over all the owner's Lichess accounts."""
        if account_id is not None:
            accounts = [await self.account_of(account_id)]
            if accounts[0].platform is not Platform.LICHESS:
                raise InvalidInput(
                    "sync_moves is for Lichess accounts: Chess.com games come with moves"
                )
        else:
            owned = await self.deps.store.list_accounts(ctx.job.owner)
            accounts = [a for a in owned if a.platform is Platform.LICHESS]
        since = None if months_requested is None else months_back(ctx.now(), months_requested)
        await backfill_moves(ctx, self.deps, accounts, limit=limit, delay_ms=delay_ms, since=since)


def register_sync_kinds(registry: JobRegistry, deps: SyncDeps) -> None:
    kinds = SyncKinds(deps)
    for kind in (kinds.sync_games, kinds.sync_moves):
        registry.add(kind, family=FAMILY, validate=validate_sync)
    # The same parameters as sync_games, checked against its signature.
    registry.add(
        kinds.sync_metadata,
        name="sync_metadata",
        family=FAMILY,
        validate=validate_sync,
        signature_of=kinds.sync_games,
    )
