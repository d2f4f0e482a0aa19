"""Accounts as the API shows and takes them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from gamekeeper.api.schemas.base import USERNAME_PATTERN, Strict
from gamekeeper.api.schemas.jobs import JobOut
from gamekeeper.domain.limits import INT32_MAX
from gamekeeper.services.accounts import AccountSummary

# -- accounts ---------------------------------------------------------------------


class AccountCreate(Strict):
    platform: Literal["lichess", "chesscom"]
    username: str = Field(pattern=USERNAME_PATTERN)


class AccountUpdate(Strict):
    #: Minutes between scheduled syncs; null turns auto-sync off.
    auto_sync_minutes: int | None = Field(default=None, ge=5, le=10080)
    #: Whether the account's syncs run the engine on the games they store.
    auto_analyze: bool | None = None


class AccountSync(Strict):
    job_type: Literal["sync_games", "sync_metadata", "sync_moves"] = "sync_games"
    since: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    max: int | None = Field(default=None, ge=1, le=INT32_MAX)
    limit: int | None = Field(default=None, ge=1, le=1_000_000)
    delay_ms: int | None = Field(default=None, ge=0, le=600_000)


class AccountOut(BaseModel):
    id: int
    owner: str
    platform: str
    username: str
    platform_user_id: str | None
    auto_sync_minutes: int | None
    auto_analyze: bool
    created_at: datetime | None
    games: int
    last_job: JobOut | None

    @classmethod
    def of(cls, summary: AccountSummary) -> AccountOut:
        account, games, last_job = summary.account, summary.games, summary.last_job
        return cls(
            id=account.id,
            owner=account.owner,
            platform=account.platform.value,
            username=account.username,
            platform_user_id=account.platform_user_id,
            auto_sync_minutes=account.auto_sync_minutes,
            auto_analyze=account.auto_analyze,
            created_at=account.created_at,
            games=games,
            last_job=JobOut.of(last_job, account) if last_job else None,
        )
