"""Accounts, their cursors, users and tokens: the async statements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gamekeeper.domain.accounts import Account
from gamekeeper.domain.games import Platform
from gamekeeper.domain.users import ApiToken, Role, User
from gamekeeper.errors import LimitExceeded
from gamekeeper.storage.base import AccountScope
from gamekeeper.storage.sql import accounts as sql_accounts
from gamekeeper.storage.sql import games as sql_games
from gamekeeper.storage.sql.runner import SqlRunner, SqlTx


class AccountQueries(SqlRunner):
    """Accounts, cursors, users and tokens."""

    # -- accounts, cursors ----------------------------------------------------

    async def add_account(
        self, owner: str, platform: Platform, username: str, *, max_accounts: int | None = None
    ) -> Account:
        def work(tx: SqlTx) -> Account:
            # One owner's additions in turn: the cap's count and the insert can't race,
            # nor two adds of the same account (the unique index would refuse one).
            sql_accounts.lock_owner(tx.conn, owner)
            existing = sql_accounts.find_account(tx.conn, owner, platform, username)
            if existing is not None:
                return existing
            if max_accounts is not None:
                have = sql_accounts.count_accounts(tx.conn, owner)
                if have >= max_accounts:
                    raise LimitExceeded(
                        f"{owner} has {have} accounts, the most one user may have "
                        f"(GAMEKEEPER_MAX_ACCOUNTS_PER_USER={max_accounts}); remove one first"
                    )
            return sql_accounts.add_account(tx.conn, owner, platform, username)

        return await self.write(work)

    async def get_account(self, account_id: int) -> Account | None:
        return await self.read(lambda c: sql_accounts.get_account(c, account_id))

    async def find_account(self, owner: str, platform: Platform, username: str) -> Account | None:
        return await self.read(lambda c: sql_accounts.find_account(c, owner, platform, username))

    async def account_summaries(self, scope: AccountScope) -> list[tuple[Account, int, str | None]]:
        return await self.read(lambda c: sql_accounts.account_summaries(c, scope))

    async def get_accounts(self, account_ids: Sequence[int]) -> list[Account]:
        return await self.read(lambda c: sql_accounts.get_accounts(c, account_ids))

    async def list_accounts(self, owner: str | None = None) -> list[Account]:
        return await self.read(lambda c: sql_accounts.list_accounts(c, owner))

    async def remove_account(self, account_id: int) -> bool:
        return await self.write(lambda tx: sql_accounts.remove_account(tx.conn, account_id))

    async def update_account(self, account: Account) -> None:
        await self.write(lambda tx: sql_accounts.update_account(tx.conn, account))

    async def get_cursor(self, account_id: int, stream: str) -> Any:
        return await self.read(lambda c: sql_games.get_cursor(c, account_id, stream))

    # -- users ----------------------------------------------------------------

    async def add_user(self, name: str, role: Role) -> User:
        return await self.write(lambda tx: sql_accounts.add_user(tx.conn, name, role))

    async def get_user(self, name: str) -> User | None:
        return await self.read(lambda c: sql_accounts.get_user(c, name))

    async def list_users(self) -> list[User]:
        return await self.read(sql_accounts.list_users)

    async def add_token(
        self, user_id: int, token_hash: str, label: str = "", *, expires_at: datetime | None = None
    ) -> ApiToken:
        return await self.write(
            lambda tx: sql_accounts.add_token(tx.conn, user_id, token_hash, label, expires_at)
        )

    async def token_owner(self, token_hash: str) -> tuple[User, ApiToken] | None:
        return await self.read(lambda c: sql_accounts.token_owner(c, token_hash))

    async def touch_token(self, token_id: int, *, now: datetime) -> None:
        await self.write(lambda tx: sql_accounts.touch_token(tx.conn, token_id, now))

    async def list_tokens(self, user_id: int) -> list[ApiToken]:
        return await self.read(lambda c: sql_accounts.list_tokens(c, user_id))

    async def revoke_token(self, user_id: int, token_id: int) -> bool:
        return await self.write(lambda tx: sql_accounts.revoke_token(tx.conn, user_id, token_id))
