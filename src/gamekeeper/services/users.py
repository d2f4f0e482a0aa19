"""Users and their API tokens."""

from __future__ import annotations

import hashlib
import secrets

from gamekeeper.domain.users import Role, User
from gamekeeper.errors import InvalidInput, NotFound
from gamekeeper.storage.base import UserStore

TOKEN_PREFIX = "gk_"


def hash_token(token: str) -> str:
    """sha256: tokens carry 256 random bits, so a slow hash would add nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def validate_user_name(name: str) -> str:
    if not 1 <= len(name) <= 64 or not all(c.isalnum() or c in "-_." for c in name):
        raise InvalidInput(f"invalid user name {name!r}: use letters, digits, '-', '_' and '.'")
    return name


class UserService:
    """Creates users, issues tokens, and tells who a token belongs to."""

    def __init__(self, store: UserStore) -> None:
        self.store = store

    async def ensure_user(self, name: str, *, role: Role = Role.USER) -> User:
        existing = await self.store.get_user(validate_user_name(name))
        return existing or await self.store.add_user(name, role)

    async def add_user(self, name: str, *, role: Role = Role.USER) -> User:
        if await self.store.get_user(validate_user_name(name)) is not None:
            raise InvalidInput(f"user {name!r} already exists")
        return await self.store.add_user(name, role)

    async def get_user(self, name: str) -> User:
        user = await self.store.get_user(name)
        if user is None:
            raise NotFound(f"no user {name!r}")
        return user

    async def list_users(self) -> list[User]:
        return await self.store.list_users()

    async def issue_token(self, user: User, *, label: str = "") -> str:
        """A new token for `user`; only its hash is kept, so show it now or never."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        await self.store.add_token(user.id, hash_token(token), label)
        return token

    async def authenticate(self, token: str) -> User | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        return await self.store.user_for_token(hash_token(token))
