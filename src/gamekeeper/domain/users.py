"""gamekeeper's own users: who owns accounts and jobs."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


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
