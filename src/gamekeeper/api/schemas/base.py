"""What every API shape shares: strict request bodies and the error body."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, model_validator

from gamekeeper.domain.accounts import USERNAME_PATTERN
from gamekeeper.domain.limits import check_json_value
from gamekeeper.errors import InvalidInput

__all__ = ["USERNAME_PATTERN", "ErrorBody", "ErrorDetail", "Strict"]


class Strict(BaseModel):
    """A request body: unknown fields refused, and no NUL character in any string
    (free-form `parameters` included), no integer beyond 64 bits: 422, never a driver
    error."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _storable(self) -> Self:
        for name in type(self).model_fields:
            try:
                check_json_value(name, getattr(self, name))
            except InvalidInput as exc:
                raise ValueError(exc.message) from None
        return self


# -- errors -----------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str
    message: str
    active_job_id: str | None = None
    retry_after: float | None = None
    errors: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail
