"""`crawl_opponents`: a breadth-first walk over the opponents around an account.

Depth 1 is the account's opponents in its stored games; depth 2 their opponents in the
games the crawl stored for them, and so on, to `depth` and at most `max_players`. Each
player's newest `games_per_player` games (after their cursor, and `since`) are stored
like any other game (the same upsert: a game between two crawled players is one row).

Durability: each player's games, their `players` row with the new cursor and the
crawl's checkpoint (the frontier and its position) commit in one transaction; their
opponents join the frontier in a second one. A killed crawl resumes at the player it
was on, and never fetches a finished player again. Sharing the site: every request
goes through the host's gate, whose slot is first come, first served, so a sync that
asks while a crawl runs gets the next request: the two interleave request by request
(a Lichess player is one request, a Chess.com player one per month).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gamekeeper.domain.accounts import Account
from gamekeeper.domain.limits import INT32_MAX, check_optional_int
from gamekeeper.domain.players import CrawlTarget
from gamekeeper.errors import AccountNotFound, MalformedRecord, SourceGone
from gamekeeper.jobs.context import JobContext
from gamekeeper.jobs.registry import JobRegistry
from gamekeeper.storage.base import Tx
from gamekeeper.storage.players import PlayerStore
from gamekeeper.sync.batches import upsert_counters
from gamekeeper.sync.crawl_fetch import PlayerFetch, fetch_player
from gamekeeper.sync.crawl_state import CrawlState
from gamekeeper.sync.deps import SyncDeps
from gamekeeper.sync.kinds import date_ms, parse_since

#: The crawl is its own family: it may run beside the account's sync.
FAMILY = "crawl"
MAX_DEPTH = 3
MAX_PLAYERS = 1000
MAX_GAMES_PER_PLAYER = 1000

CRAWL_BOUNDS: dict[str, tuple[int, int]] = {
    "account_id": (1, INT32_MAX),
    "depth": (1, MAX_DEPTH),
    "max_players": (1, MAX_PLAYERS),
    "games_per_player": (1, MAX_GAMES_PER_PLAYER),
}

#: What the site says about a player that ends their part of the walk, not the walk.
PLAYER_ERRORS = (AccountNotFound, SourceGone, MalformedRecord)


def validate_crawl(parameters: Mapping[str, Any]) -> None:
    parse_since(parameters.get("since"))
    for name, (low, high) in CRAWL_BOUNDS.items():
        check_optional_int(parameters, name, low=low, high=high)


class _Walk:
    """One run of a crawl: its state, limits and the store."""

    def __init__(
        self,
        ctx: JobContext,
        deps: SyncDeps,
        store: PlayerStore,
        account: Account,
        *,
        depth: int,
        max_players: int,
        games_per_player: int,
        since_ms: int | None,
    ) -> None:
        self.ctx, self.deps, self.store, self.account = ctx, deps, store, account
        self.depth, self.max_players = depth, max_players
        self.games_per_player, self.since_ms = games_per_player, since_ms
        self.state = CrawlState.from_json(ctx.resume_from, account.platform)
        self.owner = ctx.job.owner

    async def opponents(self, name: str, depth: int, known: set[str]) -> list[CrawlTarget]:
        """New players met by `name` in stored games, most games first, within room."""
        room = self.max_players - len(self.state.frontier)
        found: list[CrawlTarget] = []
        if room <= 0 or depth > self.depth:
            return found
        for opponent in await self.store.opponents_of(self.account.platform, name.lower()):
            key = opponent.username.lower()
            if key in known or key == self.account.player_id:
                continue
            known.add(key)
            found.append(
                CrawlTarget(
                    platform=self.account.platform,
                    username=opponent.username,
                    depth=depth,
                    discovered_from=name,
                )
            )
            if len(found) >= room:
                break
        return found

    async def expand(self, name: str, depth: int) -> None:
        """Add `name`'s opponents at `depth` to the frontier, committed."""
        targets = await self.opponents(name, depth, self.state.known())
        state = self.state.extended(targets)
        if not targets:
            # Nothing to write: the next commit carries this. A run killed before it
            # expands the player again, finding the same nobody.
            self.state = state
            return
        owner, job_id = self.owner, self.ctx.job_id

        def write(tx: Tx) -> None:
            if targets:
                tx.queue_players(owner, job_id, targets)

        await self.ctx.checkpoint(state.to_json(), write)
        self.state = state

    async def finish(
        self, target: CrawlTarget, fetch: PlayerFetch | None, error: str | None
    ) -> None:
        """Commit one player: their games, cursor and outcome with the checkpoint."""
        games = fetch.games if fetch is not None else ()
        state = self.state.after_player(games=len(games), failed=error is not None)
        owner, job_id = self.owner, self.ctx.job_id
        cursor = fetch.cursor if fetch is not None else None

        def write(tx: Tx) -> dict[str, int]:
            result = tx.upsert_games(games, job_id=job_id) if games else None
            tx.finish_player(owner, job_id, target, cursor=cursor, error=error)
            counters = upsert_counters(games, result)
            counters["enriched"] = sum(1 for g in games if g.moves is not None)
            return counters

        await self.ctx.checkpoint(state.to_json(), write)
        self.state = state
        self.ctx.set_result(self.summary())
        row = next(r for r in state.depths() if r["depth"] == target.depth)
        await self.ctx.report_progress(row["done"], row["total"])

    def summary(self) -> dict[str, Any]:
        return {
            "players": {
                "found": len(self.state.frontier),
                "fetched": self.state.fetched,
                "failed": self.state.failed,
            },
            "depths": self.state.depths(),
            "games": self.state.games,
        }

    async def show(self, target: CrawlTarget) -> None:
        """The phase of `target`'s depth, with its players done out of found."""
        await self.show_row(next(r for r in self.state.depths() if r["depth"] == target.depth))

    async def show_row(self, row: Mapping[str, int]) -> None:
        name = f"depth_{row['depth']}"
        if self.ctx.job.phase != name:
            await self.ctx.start_phase(name, total=row["total"], done=row["done"], unit="players")
        await self.ctx.report_progress(row["done"], row["total"])

    async def player(self, target: CrawlTarget) -> None:
        """Fetch one player and commit them (an error the site gives is an item error)."""
        await self.show(target)
        try:
            fetch = await fetch_player(
                self.ctx,
                self.deps,
                self.store,
                target,
                limit=self.games_per_player,
                since_ms=self.since_ms,
            )
        except PLAYER_ERRORS as exc:
            self.ctx.item_error(target.label, exc.message)
            await self.finish(target, None, exc.message)
            return
        for bad in fetch.errors:
            self.ctx.item_error(bad.item, bad.message)
        if not fetch.complete:
            self.ctx.raise_if_cancelled()  # the player is fetched again on resume
        await self.finish(target, fetch, None)

    async def run(self) -> None:
        self.ctx.set_phases(*(f"depth_{d}" for d in range(1, self.depth + 1)))
        if not self.state.started:
            await self.expand(self.account.username, 1)
        while True:
            self.ctx.raise_if_cancelled()
            if not self.state.expanded:
                done = self.state.frontier[self.state.position - 1]
                await self.expand(done.username, done.depth + 1)
            target = self.state.current
            if target is None:
                break
            await self.player(target)
        await self.close_phases()
        self.ctx.set_result(self.summary())

    async def close_phases(self) -> None:
        """Every depth's phase ends with its true count; depths nobody reached are skipped."""
        rows = {r["depth"]: r for r in self.state.depths()}
        for depth in range(1, self.depth + 1):
            row = rows.get(depth)
            if row is None:
                await self.ctx.skip_phase(f"depth_{depth}", "no new players at this depth")
                continue
            name = f"depth_{depth}"
            if self.ctx.job.phase != name:
                await self.ctx.start_phase(
                    name, total=row["total"], done=row["done"], unit="players"
                )
            await self.ctx.report_progress(row["done"], row["total"])


class CrawlKinds:
    """The crawl job kind over its dependencies."""

    def __init__(self, deps: SyncDeps, store: PlayerStore) -> None:
        self.deps, self.store = deps, store

    async def crawl_opponents(
        self,
        ctx: JobContext,
        *,
        account_id: int,
        depth: int = 1,
        max_players: int = 50,
        games_per_player: int = 100,
        since: str | None = None,
    ) -> None:
        """The players around an account: a breadth-first walk over opponents, to
        `depth` (1-3) and at most `max_players`, storing each one's newest
        `games_per_player` games (or those from `since` on)."""
        account = await self.deps.store.get_account(account_id)
        if account is None:
            raise AccountNotFound(f"account {account_id} no longer exists")
        walk = _Walk(
            ctx,
            self.deps,
            self.store,
            account,
            depth=depth,
            max_players=max_players,
            games_per_player=games_per_player,
            since_ms=date_ms(since),
        )
        await walk.run()


def register_crawl_kinds(registry: JobRegistry, deps: SyncDeps, store: PlayerStore) -> None:
    kinds = CrawlKinds(deps, store)
    registry.add(kinds.crawl_opponents, family=FAMILY, validate=validate_crawl)
