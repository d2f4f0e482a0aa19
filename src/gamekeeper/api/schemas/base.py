"""What every API shape shares: strict request bodies and the error body."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from gamekeeper.domain.accounts import USERNAME_PATTERN

__all__ = ["USERNAME_PATTERN", "ErrorBody", "ErrorDetail", "Strict"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- errors -----------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str
    message: str
    active_job_id: str | None = None
    retry_after: float | None = None
    errors: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail
