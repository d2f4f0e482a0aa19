"""Every error gamekeeper raises on purpose, in one tree.

```
GamekeeperError
├── ConfigurationError
├── NotFound
│   ├── AccountNotFound                 (also a SourceError: the site says "no such user")
│   ├── JobNotFound
│   └── GameNotFound
├── InvalidInput
├── Conflict(active_job_id)
├── LimitExceeded                       a per-user bound (accounts per user)
├── RateLimited(retry_after)            "try later", carrying the delay
├── PermissionDenied
├── SourceError
│   ├── SourceUnavailable
│   ├── SourceGone
│   └── MalformedRecord
├── StorageError
├── JobError
│   ├── JobCancelled
│   ├── JobLost
│   └── IllegalTransition
└── AnalysisError
    └── EngineUnavailable               the engine binary is missing or broken
        └── EngineNotFound
```

Each class's docstring is its default message. Third-party errors are translated
to these once, at the boundary that meets them (connectors, storage), so the layers
above never see `httpx` or SQLAlchemy exceptions. The API maps the tree to HTTP
statuses in one handler and the CLI to exit codes in one place, through `code`.
"""

from __future__ import annotations

from typing import Any


class GamekeeperError(Exception):
    """Something went wrong in gamekeeper."""

    #: Stable machine-readable code, used in API error bodies.
    code = "error"

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or (type(self).__doc__ or "").strip()
        self.details = details
        super().__init__(self.message)


class ConfigurationError(GamekeeperError):
    """The settings are not usable."""

    code = "configuration_error"


class NotFound(GamekeeperError):
    """Not found."""

    code = "not_found"


class JobNotFound(NotFound):
    """The job does not exist."""

    code = "job_not_found"


class GameNotFound(NotFound):
    """The game does not exist."""

    code = "game_not_found"


class InvalidInput(GamekeeperError):
    """The input is not valid."""

    code = "invalid_input"


class Conflict(GamekeeperError):
    """Another job is already active for this account."""

    code = "conflict"

    def __init__(self, message: str | None = None, *, active_job_id: str) -> None:
        super().__init__(message, active_job_id=active_job_id)
        self.active_job_id = active_job_id


class LimitExceeded(GamekeeperError):
    """A limit on what one user may have is reached."""

    code = "limit_exceeded"


class RateLimited(GamekeeperError):
    """Too many requests; try again later."""

    code = "rate_limited"

    def __init__(self, message: str | None = None, *, retry_after: float) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class PermissionDenied(GamekeeperError):
    """You are not allowed to do this."""

    code = "permission_denied"


class SourceError(GamekeeperError):
    """The upstream site failed."""

    code = "source_error"


class AccountNotFound(SourceError, NotFound):
    """The account does not exist."""

    code = "account_not_found"


class SourceUnavailable(SourceError):
    """The upstream site is unavailable."""

    code = "source_unavailable"


class SourceGone(SourceError):
    """The upstream resource is gone for good."""

    code = "source_gone"


class MalformedRecord(SourceError):
    """A record from the source could not be understood."""

    code = "malformed_record"


class StorageError(GamekeeperError):
    """The database failed."""

    code = "storage_error"


class JobError(GamekeeperError):
    """The job failed."""

    code = "job_error"


class JobCancelled(JobError):
    """The job was cancelled."""

    code = "job_cancelled"


class JobLost(JobError):
    """The job was taken over by another worker after its heartbeat went stale."""

    code = "job_lost"


class IllegalTransition(JobError):
    """The job cannot move to that status from its current one."""

    code = "illegal_transition"


class AnalysisError(GamekeeperError):
    """The analysis failed."""

    code = "analysis_error"


class EngineUnavailable(AnalysisError):
    """The chess engine cannot be started: set GAMEKEEPER_STOCKFISH_PATH to a Stockfish."""

    code = "engine_unavailable"


class EngineNotFound(EngineUnavailable):
    """No chess engine was found: set GAMEKEEPER_STOCKFISH_PATH to a Stockfish binary."""

    code = "engine_not_found"
