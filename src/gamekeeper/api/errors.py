"""One mapping from gamekeeper's errors to HTTP statuses and the JSON error body."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from gamekeeper.api.deps import NotAuthenticated
from gamekeeper.api.schemas.base import ErrorBody
from gamekeeper.errors import (
    ConfigurationError,
    Conflict,
    GamekeeperError,
    InvalidInput,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    RateLimited,
    SourceError,
    StorageError,
)

log = logging.getLogger(__name__)

#: Status by error class; the first match in this order wins.
STATUSES: list[tuple[type[GamekeeperError], int]] = [
    (NotAuthenticated, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (LimitExceeded, 409),
    (InvalidInput, 422),
    (RateLimited, 429),
    (SourceError, 502),
    (StorageError, 503),
    (ConfigurationError, 503),
    (GamekeeperError, 400),
]

#: Documented on every route, so clients (and schema checkers) know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (401, "No valid token"),
        (403, "Not allowed"),
        (404, "Not found (another user's things are not found either)"),
        (422, "Invalid input"),
    )
}


def status_for(error: GamekeeperError) -> int:
    for cls, status in STATUSES:
        if isinstance(error, cls):
            return status
    return 400


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    body = {"code": code, "message": message, **{k: v for k, v in extra.items() if v is not None}}
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if extra.get("retry_after") is not None:
        headers["Retry-After"] = str(math.ceil(extra["retry_after"]))
    return JSONResponse({"error": body}, status_code=status, headers=headers)


async def on_gamekeeper_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GamekeeperError)
    status = status_for(exc)
    if status >= 500:
        log.warning("%s %s: %s", request.method, request.url.path, exc.message)
    extra = {k: v for k, v in exc.details.items() if k in ("active_job_id", "retry_after")}
    return error_response(status, exc.code, exc.message, **extra)


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": list(e.get("loc", ())),
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"])
    return error_response(422, "validation_error", f"{where}: {first['msg']}", errors=errors)


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    codes = {
        404: "not_found",
        405: "method_not_allowed",
        401: "not_authenticated",
        413: "payload_too_large",
    }
    response = error_response(
        exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail)
    )
    if exc.status_code == 413:
        # The client may still be sending: drop the connection rather than read on.
        response.headers["Connection"] = "close"
    return response


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "internal error; see the server log")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GamekeeperError, on_gamekeeper_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
