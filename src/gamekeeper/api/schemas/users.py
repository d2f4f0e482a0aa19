"""Users, tokens and health."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from gamekeeper.api.schemas.base import Strict
from gamekeeper.domain.users import ApiToken, User
from gamekeeper.services.users import MAX_EXPIRY_DAYS

# -- users ------------------------------------------------------------------------


class UserOut(BaseModel):
    id: int
    name: str
    role: str
    created_at: datetime | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, name=user.name, role=user.role.value, created_at=user.created_at)


class UserCreate(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    role: Literal["admin", "user"] = "user"
    #: The first token's life in days (null: it does not expire).
    expires_in_days: int | None = Field(default=None, ge=1, le=MAX_EXPIRY_DAYS)


class TokenCreate(Strict):
    label: str = Field(default="", max_length=100)
    #: Days until the token stops working (null: it does not expire).
    expires_in_days: int | None = Field(default=None, ge=1, le=MAX_EXPIRY_DAYS)


class TokenInfoOut(BaseModel):
    """A token as listed: never the token itself (only its hash is stored)."""

    id: int
    label: str
    created_at: datetime
    #: To the minute: it is written at most once a minute.
    last_used_at: datetime | None
    expires_at: datetime | None
    expired: bool

    @classmethod
    def of(cls, token: ApiToken, now: datetime) -> TokenInfoOut:
        return cls(
            id=token.id,
            label=token.label,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            expires_at=token.expires_at,
            expired=token.expired(now),
        )


class TokenOut(BaseModel):
    user: UserOut
    #: Shown once: only its hash is stored.
    token: str


class HealthOut(BaseModel):
    status: Literal["ok"]
    database: str
    version: str
