"""Users, tokens and health."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from gamekeeper.api.schemas.base import Strict
from gamekeeper.domain.users import User

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


class TokenOut(BaseModel):
    user: UserOut
    #: Shown once: only its hash is stored.
    token: str


class HealthOut(BaseModel):
    status: Literal["ok"]
    database: str
    version: str
