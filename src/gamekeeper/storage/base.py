"""What the rest of gamekeeper may ask of storage: Protocols and the values they speak."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from gamekeeper.domain.accounts import Account
from gamekeeper.domain.games import Game, Platform, SiteUser
from gamekeeper.domain.jobs import Job, JobStatus
from gamekeeper.domain.players import CrawlTarget
from gamekeeper.domain.users import ApiToken, Role, User

R = TypeVar("R")


@dataclass(frozen=True, slots=True, kw_only=True)
class JobQuery:
    """Filters for listing jobs, newest first."""

    owner: str | None = None
    statuses: frozenset[JobStatus] | None = None
    job_type: str | None = None
    family: str | None = None
    account_id: int | None = None
    #: Opaque cursor from the previous page's `next_cursor`.
    cursor: str | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class JobPage:
    """One page of jobs and the cursor of the next (None on the last page)."""

    items: tuple[Job, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class UpsertResult:
    """What an upsert of a batch of games did, game by game."""

    inserted: int = 0
    updated: int = 0
    skipped_existing: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountScope:
    """Accounts to summarise: an owner's (None: everyone's), or these ids; the last job
    shown is only `job_owner`'s, when given."""

    owner: str | None = None
    account_ids: Sequence[int] | None = None
    job_owner: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MissingMovesQuery:
    """At most `limit` of the players' games on `platform` stored without moves (those
    started at or after `since`, when given)."""

    platform: Platform
    players: Sequence[str]
    limit: int
    since: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GameQuery:
    """Filters for listing games, newest first."""

    #: Only games one of these (platform, player id) played; None: every game.
    players: tuple[tuple[Platform, str], ...] | None = None
    platform: Platform | None = None
    speed: str | None = None
    #: PGN result: 1-0, 0-1, 1/2-1/2, *.
    result: str | None = None
    #: win, loss or draw from the point of view of `players`.
    outcome: str | None = None
    #: white or black: the colour `players` had.
    color: str | None = None
    #: ECO code prefix (B, B07) or words of the opening name.
    opening: str | None = None
    start_from: datetime | None = None
    start_to: datetime | None = None
    rated: bool | None = None
    has_moves: bool | None = None
    #: Bounds (inclusive) on our side's accuracy and blunders, our side being the one
    #: `players` (or `color`) had; a game without that analysis is left out.
    min_accuracy: float | None = None
    max_accuracy: float | None = None
    min_blunders: int | None = None
    max_blunders: int | None = None
    #: None: newest first. `accuracy`, `blunders` (ascending) or `-accuracy`, `-blunders`
    #: (descending): by our side's value, games without it last, then newest first.
    sort: str | None = None
    cursor: str | None = None
    limit: int = 50

    @property
    def needs_side(self) -> bool:
        """Whether the query filters or sorts by a value of our side's."""
        bounds = (self.min_accuracy, self.max_accuracy, self.min_blunders, self.max_blunders)
        return self.sort is not None or any(b is not None for b in bounds)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredGame:
    """A game as stored: its row id and sync history around the domain value."""

    id: int
    game: Game
    first_job_id: str | None
    last_job_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class GamePage:
    items: tuple[StoredGame, ...]
    next_cursor: str | None


class JobTx(Protocol):
    """Job statements inside one transaction: all the job package sees of one."""

    def insert_job(self, job: Job) -> None: ...

    def find_active_job(
        self, *, account_id: int | None = None, family: str | None = None
    ) -> Job | None: ...

    def jobs_created_since(self, owner: str, since: datetime) -> list[datetime]: ...

    def save_job(self, job: Job, *, worker: str | None = None) -> bool:
        """Write the job's mutable fields, if its `attempt` still owns the row."""
        ...

    def defer_delivery(self, *, queue: str, task: str, job_id: str, args: str) -> None:
        """Queue a procrastinate delivery of the job (PostgreSQL), so it commits or rolls
        back with the job's row."""
        ...


#: A game as its row, made by the store's `GameRowEncoder` (opaque above storage).
GameRow = tuple[Any, ...]
#: What makes a `Game` a `GameRow` for one store: picklable, so another process can
#: run it (the PGN import's parse processes).
GameRowEncoder = Callable[[Game], GameRow]
#: An inclusive span of start times; None is an open end.
TimeRange = tuple[datetime | None, datetime | None]


class GameTx(Protocol):
    """Game statements inside one transaction: what a job kind writes with its checkpoint."""

    def upsert_games(self, games: Sequence[Game], *, job_id: str | None) -> UpsertResult: ...

    def upsert_rows(self, rows: Sequence[GameRow], *, job_id: str | None) -> UpsertResult:
        """`upsert_games` of games made rows by the store's `GameRowEncoder`."""
        ...

    def existing_game_ids(self, platform: Platform, ids: Iterable[str]) -> set[str]: ...

    def get_cursor(self, account_id: int, stream: str) -> Any: ...

    def set_cursor(self, account_id: int, stream: str, value: Any) -> None: ...


class PlayerTx(Protocol):
    """The opponent crawl's statements inside a checkpoint's transaction."""

    def queue_players(self, owner: str, job_id: str, targets: Sequence[CrawlTarget]) -> None:
        """Players just put in a crawl's frontier, shown to `owner` as queued."""
        ...

    def finish_player(
        self, owner: str, job_id: str, target: CrawlTarget, *, cursor: Any, error: str | None
    ) -> int:
        """The crawl is done with `target` (their site cursor, or the error that stopped
        them); returns how many of their games are stored."""
        ...


class Tx(JobTx, GameTx, PlayerTx, Protocol):
    """One transaction with every side, as the SQL store gives it to a checkpoint."""


class JobStore(Protocol):
    """The job engine's view of storage."""

    async def transaction(self, work: Callable[[JobTx], R]) -> R:
        """Run `work` in one transaction (in a worker thread) and commit it."""
        ...

    async def create_job(self, work: Callable[[JobTx], R]) -> R:
        """Like `transaction`, holding the lock that serialises job creation."""
        ...

    async def get_job(self, job_id: str) -> Job | None: ...

    async def get_jobs(self, job_ids: Sequence[str]) -> list[Job]: ...

    async def list_jobs(self, query: JobQuery) -> JobPage: ...

    async def claim_job(self, job_id: str, *, worker: str, now: datetime) -> Job | None:
        """Move a queued job to running for this worker; None if it is not queued."""
        ...

    async def save_job(self, job: Job, *, worker: str | None = None) -> bool: ...

    async def heartbeat(self, job_id: str, *, attempt: int, now: datetime) -> bool | None:
        """Touch `heartbeat_at`; the row's `cancel_requested`, or None if the job was lost."""
        ...

    async def request_cancel(self, job_id: str) -> None: ...

    async def cancel_requested(self, job_id: str) -> bool:
        """Whether someone asked the job to stop (a one-column read, polled often)."""
        ...

    async def cancel_queued(self, job_id: str, *, now: datetime) -> bool:
        """Cancel a job that no worker has claimed; False if one has."""
        ...

    async def running_jobs(self) -> list[Job]:
        """Jobs a worker holds (running or waiting), for the sweeper."""
        ...

    async def requeue_job(self, job: Job, *, now: datetime) -> bool:
        """Back to the queue (checkpoint and counters kept), with `job.stalled_runs`."""
        ...

    async def queued_job_ids(self) -> list[str]: ...

    async def prune_finished_jobs(self, owner: str, *, keep: int) -> int: ...


class SystemStore(Protocol):
    """What the server reports about its database."""

    @property
    def dialect(self) -> str: ...

    def describe(self) -> str: ...

    async def ping(self) -> None: ...

    async def job_counts(self) -> dict[str, int]: ...

    async def count_games(self, **filters: Any) -> int: ...


class AccountStore(Protocol):
    """Accounts, their cursors and their owners."""

    async def add_account(
        self, owner: str, platform: Platform, username: str, *, max_accounts: int | None = None
    ) -> Account:
        """Add the account, or return the owner's existing one; `LimitExceeded` if the
        owner already has `max_accounts` (checked with the insert, so races can't pass)."""
        ...

    async def get_account(self, account_id: int) -> Account | None: ...

    async def find_account(
        self, owner: str, platform: Platform, username: str
    ) -> Account | None: ...

    async def list_accounts(self, owner: str | None = None) -> list[Account]: ...

    async def get_accounts(self, account_ids: Sequence[int]) -> list[Account]: ...

    async def account_summaries(self, scope: AccountScope) -> list[tuple[Account, int, str | None]]:
        """The accounts in `scope` with their stored games and last job id."""
        ...

    async def remove_account(self, account_id: int) -> bool: ...

    async def update_account(self, account: Account) -> None: ...

    async def get_cursor(self, account_id: int, stream: str) -> Any: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class AutoSyncState:
    """An account with `auto_sync_minutes`, and when its last scheduled sync was claimed."""

    account: Account
    last_at: datetime | None


class AutoSyncStore(Protocol):
    """Bookkeeping of scheduled syncs (`sync/schedule.py`)."""

    async def auto_sync_states(self) -> list[AutoSyncState]:
        """Every account with auto-sync on."""
        ...

    async def claim_auto_sync(
        self, account_id: int, *, now: datetime, due_before: datetime
    ) -> bool:
        """Take this period's scheduled sync of the account: True for exactly one caller
        while the last claim is older than `due_before`."""
        ...

    async def record_auto_sync(
        self, account_id: int, *, outcome: str, job_id: str | None, note: str
    ) -> None:
        """What the claimed scheduled sync did (created, merged or skipped, and why)."""
        ...

    async def release_auto_sync(
        self, account_id: int, *, claimed_at: datetime, previous: datetime | None
    ) -> None:
        """Undo this scheduler's claim made at `claimed_at` (the run could not start):
        the account is due again, as it was."""
        ...


class UserStore(Protocol):
    """gamekeeper's users and their API tokens."""

    async def add_user(self, name: str, role: Role) -> User: ...

    async def get_user(self, name: str) -> User | None: ...

    async def list_users(self) -> list[User]: ...

    async def add_token(
        self, user_id: int, token_hash: str, label: str = "", *, expires_at: datetime | None = None
    ) -> ApiToken: ...

    async def token_owner(self, token_hash: str) -> tuple[User, ApiToken] | None:
        """The user a token (by its hash) belongs to, and the token's row."""
        ...

    async def touch_token(self, token_id: int, *, now: datetime) -> None:
        """Record that the token was used (`last_used_at`)."""
        ...

    async def list_tokens(self, user_id: int) -> list[ApiToken]: ...

    async def revoke_token(self, user_id: int, token_id: int) -> bool:
        """Delete one of the user's tokens; False if they have no such token."""
        ...


class GameStore(Protocol):
    """Stored games."""

    async def list_games(self, query: GameQuery) -> GamePage: ...

    async def get_game(self, game_id: int) -> StoredGame | None: ...

    async def count_matching_games(self, query: GameQuery) -> int: ...

    async def job_owners(self, job_ids: Iterable[str]) -> dict[str, str]: ...

    async def games_missing_moves(self, query: MissingMovesQuery) -> list[str]:
        """Ids of the players' games without moves, newest first (NULL times last, then id)."""
        ...

    async def count_missing_moves(self, platform: Platform, player_id: str) -> int: ...

    async def count_player_games(self, platform: Platform, player_id: str) -> int: ...

    async def player_game_ids_at(self, player: SiteUser, times: Sequence[datetime]) -> set[str]:
        """Ids of a player's stored games started exactly at one of `times`."""
        ...

    async def count_player_games_between(
        self, player: SiteUser, ranges: Sequence[TimeRange]
    ) -> list[int]:
        """A player's stored games started in each inclusive range (None: open end)."""
        ...

    async def count_games(self, **filters: Any) -> int: ...

    async def get_game_by_key(
        self, platform: Platform, platform_game_id: str
    ) -> Mapping[str, Any] | None: ...
