"""Accounts: which player's games a user keeps, from which site."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gamekeeper.domain.accounts import Account, parse_account_ref, validate_username
from gamekeeper.domain.games import Platform
from gamekeeper.domain.jobs import Job
from gamekeeper.domain.users import User
from gamekeeper.errors import AccountNotFound, InvalidInput
from gamekeeper.jobs.manager import JobManager
from gamekeeper.storage.base import AccountScope, AccountStore


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountSummary:
    """An account as the Accounts page and `GET /api/accounts` show it."""

    account: Account
    #: Games of this player stored (whoever's account fetched them).
    games: int
    last_job: Job | None


class AccountService:
    """Adds, finds and removes accounts, one owner's at a time (admins see all)."""

    def __init__(
        self, store: AccountStore, jobs: JobManager, *, max_per_owner: int | None = None
    ) -> None:
        self.store = store
        self.jobs = jobs
        #: Accounts one user may have (`GAMEKEEPER_MAX_ACCOUNTS_PER_USER`; admins aren't held).
        self.max_per_owner = max_per_owner

    async def summaries(
        self,
        owner: str | None = None,
        account_ids: Sequence[int] | None = None,
        *,
        viewer: User | None = None,
    ) -> list[AccountSummary]:
        """Accounts with their game counts and last jobs: two reads, however many.

        `last_job` is one the `viewer` may open: a user sees only their own jobs (an
        admin's job on their account is not theirs to open, so not shown either); an
        admin, or no viewer (the CLI), sees any.
        """
        job_owner = None if viewer is None or viewer.is_admin else viewer.name
        scope = AccountScope(owner=owner, account_ids=account_ids, job_owner=job_owner)
        rows = await self.store.account_summaries(scope)
        last = await self.jobs.get_many([job_id for _, _, job_id in rows if job_id])
        return [
            AccountSummary(account=a, games=n, last_job=last.get(job_id) if job_id else None)
            for a, n, job_id in rows
        ]

    async def summary(self, account: Account, *, viewer: User | None = None) -> AccountSummary:
        return (await self.summaries(account_ids=[account.id], viewer=viewer))[0]

    async def by_ids(self, account_ids: Sequence[int]) -> dict[int, Account]:
        """Accounts by id (for naming jobs' accounts), in one read."""
        found = await self.store.get_accounts(account_ids) if account_ids else []
        return {account.id: account for account in found}

    async def add(
        self, owner: str, platform: Platform | str, username: str, *, exempt: bool = False
    ) -> Account:
        """Add an account (or return it if the owner already has it). Beyond
        `max_per_owner` accounts, `LimitExceeded`, unless `exempt` (an admin)."""
        try:
            platform = Platform(platform)
        except ValueError:
            raise InvalidInput(f"unknown platform {platform!r}; use lichess or chesscom") from None
        if platform is Platform.PGN:
            raise InvalidInput("pgn has no accounts; use lichess or chesscom")
        limit = None if exempt else self.max_per_owner
        return await self.store.add_account(
            owner, platform, validate_username(username), max_accounts=limit
        )

    async def add_ref(self, owner: str, ref: str, *, exempt: bool = False) -> Account:
        """Add `lichess:USER` or `chesscom:USER`."""
        platform, username = parse_account_ref(ref)
        return await self.add(owner, platform, username, exempt=exempt)

    async def get(self, account_id: int, *, owner: str | None = None) -> Account:
        """An account; another owner's is not found (unless `owner` is None: admin)."""
        account = await self.store.get_account(account_id)
        if account is None or (owner is not None and account.owner != owner):
            raise AccountNotFound(f"no account {account_id}")
        return account

    async def find_ref(self, owner: str, ref: str) -> Account:
        platform, username = parse_account_ref(ref)
        account = await self.store.find_account(owner, platform, username)
        if account is None:
            raise AccountNotFound(f"no account {ref} (add it with: gamekeeper accounts add {ref})")
        return account

    async def list(self, owner: str | None = None) -> list[Account]:
        return await self.store.list_accounts(owner)

    async def remove(self, account_id: int, *, owner: str | None = None) -> None:
        account = await self.get(account_id, owner=owner)
        await self.store.remove_account(account.id)

    async def set_auto_sync(
        self, account_id: int, minutes: int | None, *, owner: str | None = None
    ) -> Account:
        if minutes is not None and minutes < 5:
            raise InvalidInput("auto-sync runs at most every 5 minutes")
        account = await self.get(account_id, owner=owner)
        updated = dataclasses.replace(account, auto_sync_minutes=minutes)
        await self.store.update_account(updated)
        return updated

    async def update(
        self, account_id: int, changes: Mapping[str, Any], *, owner: str | None = None
    ) -> Account:
        """Change the settings named in `changes` (`auto_sync_minutes`, `auto_analyze`),
        leaving the others as they are."""
        minutes = changes.get("auto_sync_minutes")
        if minutes is not None and minutes < 5:
            raise InvalidInput("auto-sync runs at most every 5 minutes")
        account = await self.get(account_id, owner=owner)
        updated = account
        if "auto_sync_minutes" in changes:
            updated = dataclasses.replace(updated, auto_sync_minutes=minutes)
        if changes.get("auto_analyze") is not None:
            updated = dataclasses.replace(updated, auto_analyze=bool(changes["auto_analyze"]))
        if updated != account:
            await self.store.update_account(updated)
        return updated
