"""Users and their API tokens: issued (optionally expiring), listed, revoked, and told
apart on every request."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from gamekeeper.domain.limits import check_int
from gamekeeper.domain.users import ApiToken, Role, User
from gamekeeper.errors import InvalidInput, NotFound, StorageError
from gamekeeper.storage.base import UserStore

log = logging.getLogger(__name__)

TOKEN_PREFIX = "gk_"
#: Longer than any token we issue (`gk_` and 43 characters): not worth hashing.
MAX_TOKEN_LENGTH = 200
#: The longest life a token may be given.
MAX_EXPIRY_DAYS = 3650
#: How long a token this process has checked is trusted without asking the database
#: again. A dashboard polls a job twice a second: reading the token each time was a
#: good part of the server's time while a sync ran. A revoke made here takes effect at
#: once; one made by another process (`gamekeeper users revoke`) within this time.
TOKEN_TRUSTED_FOR = timedelta(seconds=5)
#: Tokens kept trusted at most (the oldest is dropped first).
TOKENS_KEPT = 1024


class _Trusted(NamedTuple):
    """A token this process has checked: when it was read, its user, its row."""

    read_at: datetime
    user: User
    row: ApiToken


def hash_token(token: str) -> str:
    """sha256: tokens carry 256 random bits, so a slow hash would add nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def validate_user_name(name: str) -> str:
    if not 1 <= len(name) <= 64 or not all(c.isalnum() or c in "-_." for c in name):
        raise InvalidInput(f"invalid user name {name!r}: use letters, digits, '-', '_' and '.'")
    return name


class UserService:
    """Creates users, issues and revokes tokens, and tells who a token belongs to."""

    def __init__(self, store: UserStore, *, now: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.now = now or (lambda: datetime.now(UTC))
        #: By token hash. Only tokens found are kept: made-up ones cannot fill it.
        self._trusted: dict[str, _Trusted] = {}

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

    async def issue_token(
        self, user: User, *, label: str = "", expires_in_days: int | None = None
    ) -> str:
        """A new token for `user`; only its hash is kept, so show it now or never."""
        expires_at = None
        if expires_in_days is not None:
            days = check_int("expires_in_days", expires_in_days, low=1, high=MAX_EXPIRY_DAYS)
            expires_at = self.now() + timedelta(days=days)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        await self.store.add_token(user.id, hash_token(token), label[:100], expires_at=expires_at)
        return token

    async def tokens(self, name: str) -> list[ApiToken]:
        """A user's tokens (never the tokens themselves: their ids, labels and dates)."""
        return await self.store.list_tokens((await self.get_user(name)).id)

    async def revoke(self, name: str, token_id: int) -> None:
        """Delete one of a user's tokens: it signs nothing from now on (open event
        streams notice within `GAMEKEEPER_STREAM_AUTH_RECHECK_S`)."""
        user = await self.get_user(name)
        revoked = await self.store.revoke_token(user.id, token_id)
        self._trusted = {h: t for h, t in self._trusted.items() if t.row.id != token_id}
        if not revoked:
            raise NotFound(f"user {name!r} has no token {token_id}")

    async def authenticate(self, token: str) -> User | None:
        """The user a token belongs to, if it exists and has not expired. Its
        `last_used_at` is written at most once a minute, never once per request."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
            return None
        digest = hash_token(token)
        now = self.now()
        trusted = self._trusted.get(digest)
        if trusted is None or now - trusted.read_at >= TOKEN_TRUSTED_FOR:
            found = await self.store.token_owner(digest)
            if found is None:
                self._trusted.pop(digest, None)
                return None
            trusted = self._trust(digest, _Trusted(now, *found))
        user, row = trusted.user, trusted.row
        if row.expired(now):
            return None
        if row.needs_touch(now):
            try:
                await self.store.touch_token(row.id, now=now)
            except StorageError:  # a busy database must not turn a request away
                log.warning("could not record the use of token %s", row.id)
            else:
                self._trust(
                    digest, trusted._replace(row=dataclasses.replace(row, last_used_at=now))
                )
        return user

    def _trust(self, digest: str, trusted: _Trusted) -> _Trusted:
        self._trusted.pop(digest, None)
        if len(self._trusted) >= TOKENS_KEPT:
            del self._trusted[next(iter(self._trusted))]  # the oldest
        self._trusted[digest] = trusted
        return trusted
