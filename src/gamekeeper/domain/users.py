"""gamekeeper's own users: who owns accounts and jobs."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class Role(enum.StrEnum):
    """What a user may do."""

    #: Sees and manages everything, including other users.
    ADMIN = "admin"
    #: Sees only their own accounts and jobs.
    USER = "user"


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    """A gamekeeper user."""

    id: int
    name: str
    role: Role
    created_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


#: How often a token's `last_used_at` is written at most: a write per request would
#: cost a write lock per request (SQLite) for a figure nobody needs to the second.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiToken:
    """One of a user's API tokens, as stored: never the token itself (only its hash)."""

    id: int
    user_id: int
    label: str
    created_at: datetime
    #: Within `LAST_USED_RESOLUTION` of the last request it signed.
    last_used_at: datetime | None = None
    #: None: it does not expire.
    expires_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def needs_touch(self, now: datetime) -> bool:
        """Whether `last_used_at` is stale enough to be written again."""
        return self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION
