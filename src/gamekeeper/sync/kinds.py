"""The sync job kinds, registered with their dependencies (by bootstrap)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from gamekeeper.domain.accounts import Account
from gamekeeper.domain.games import Platform
from gamekeeper.errors import AccountNotFound, InvalidInput
from gamekeeper.jobs.context import JobContext
from gamekeeper.jobs.registry import JobRegistry
from gamekeeper.sync.chesscom_sync import sync_chesscom
from gamekeeper.sync.deps import SyncDeps
from gamekeeper.sync.lichess_sync import backfill_moves, sync_lichess

#: Every sync kind is one family: one of them at a time per account.
FAMILY = "sync"


def parse_since(value: str | None) -> str | None:
    """Check a `since` date (YYYY-MM-DD) and return it normalised."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise InvalidInput(f"invalid date {value!r}: use YYYY-MM-DD") from None


def since_ms(value: str | None) -> int | None:
    day = parse_since(value)
    if day is None:
        return None
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC)
    return int(start.timestamp() * 1000)


def validate_sync(parameters: Mapping[str, Any]) -> None:
    parse_since(parameters.get("since"))
    limit, max_games = parameters.get("limit"), parameters.get("max")
    if limit is not None and limit < 1:
        raise InvalidInput("limit must be at least 1")
    if max_games is not None and max_games < 1:
        raise InvalidInput("max must be at least 1")
    if parameters.get("delay_ms", 0) < 0:
        raise InvalidInput("delay_ms must be at least 0")


def register_sync_kinds(registry: JobRegistry, deps: SyncDeps) -> None:
    async def account_of(account_id: int) -> Account:
        account = await deps.store.get_account(account_id)
        if account is None:
            raise AccountNotFound(f"account {account_id} no longer exists")
        return account

    async def sync_account(
        ctx: JobContext, account_id: int, *, moves: bool, since: str | None, max_games: int | None
    ) -> None:
        account = await account_of(account_id)
        if account.platform is Platform.LICHESS:
            await sync_lichess(
                ctx, deps, account, moves=moves, since_ms=since_ms(since), max_games=max_games
            )
        else:
            # Chess.com archives always carry the moves: there is no lighter listing.
            await sync_chesscom(ctx, deps, account, since=parse_since(since), max_games=max_games)

    @registry.register("sync_games", family=FAMILY, validate=validate_sync)
    async def sync_games(
        ctx: JobContext, *, account_id: int, since: str | None = None, max: int | None = None
    ) -> None:
        """An account's games: fetch, enrich, analyze; from the cursor onwards."""
        await sync_account(ctx, account_id, moves=True, since=since, max_games=max)

    @registry.register("sync_metadata", family=FAMILY, validate=validate_sync)
    async def sync_metadata(
        ctx: JobContext, *, account_id: int, since: str | None = None, max: int | None = None
    ) -> None:
        """Games without moves (fast); `sync_moves` fills the moves in later."""
        await sync_account(ctx, account_id, moves=False, since=since, max_games=max)

    @registry.register("sync_moves", family=FAMILY, validate=validate_sync)
    async def sync_moves(
        ctx: JobContext, *, account_id: int, limit: int = 100, delay_ms: int = 0
    ) -> None:
        """Moves for stored games that lack them: newest first, in batches of 300 ids."""
        account = await account_of(account_id)
        if account.platform is not Platform.LICHESS:
            raise InvalidInput(
                "sync_moves is for Lichess accounts: Chess.com games come with moves"
            )
        await backfill_moves(ctx, deps, account, limit=limit, delay_ms=delay_ms)

    _ = (sync_games, sync_metadata, sync_moves)
