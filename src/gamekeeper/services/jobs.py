"""Starting jobs for a user: the account a request names, the parameter names of the
tools gamekeeper replaces, and who may run what."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gamekeeper.domain.jobs import Job
from gamekeeper.domain.limits import INT32_MAX, check_int
from gamekeeper.domain.users import User
from gamekeeper.errors import InvalidInput, PermissionDenied
from gamekeeper.jobs.manager import JobManager
from gamekeeper.services.accounts import AccountService
from gamekeeper.services.imports import resolve_import_path

#: Job types that page a site's list: there `limit` means "at most this many games".
_LISTING = frozenset({"sync_games", "sync_metadata"})


def normalise_parameters(job_type: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as the job kinds take them, from the shapes scripts written for other
    tools send: `start_date_ms` is a millisecond `since`, and for a listing sync `limit`
    is `max` (with `skip`, they page the site's list, oldest first from the start)."""
    params = dict(parameters)
    if "start_date_ms" in params:
        params["since_ms"] = params.pop("start_date_ms")
    if job_type.strip().lower() in _LISTING and "limit" in params:
        if "max" in params:
            raise InvalidInput("give limit or max, not both")
        params["max"] = params.pop("limit")
    if params.get("skip") == 0:
        params.pop("skip")
    return params


def sync_stages(
    account_id: int,
    limits: Mapping[str, Any],
    *,
    two_stage: bool = False,
    moves_limit: int = 1_000_000,
    delay_ms: int = 0,
) -> list[tuple[str, dict[str, Any]]]:
    """The jobs a sync of an account is, in order: one `sync_games`; or, two-stage, the
    games without moves first (`sync_metadata`), then up to `moves_limit` of their
    moves, newest first (`sync_moves`). `limits`: since, max, months_requested (None:
    not given)."""
    params: dict[str, Any] = {"account_id": account_id}
    params.update({name: value for name, value in limits.items() if value})
    if not two_stage:
        return [("sync_games", params)]
    moves = {"account_id": account_id, "limit": moves_limit, "delay_ms": delay_ms}
    return [("sync_metadata", params), ("sync_moves", moves)]


class JobService:
    """What the edges call to start jobs and ask about syncs."""

    def __init__(
        self,
        jobs: JobManager,
        accounts: AccountService,
        *,
        import_dir: Path | None = None,
        database_file: Path | None = None,
    ) -> None:
        self.jobs = jobs
        self.accounts = accounts
        self.import_dir = import_dir
        self.database_file = database_file

    async def create_for(self, user: User, job_type: str, parameters: Mapping[str, Any]) -> Job:
        """Create a job for `user` (the API's way in). An account given as `platform` +
        `username` (or as a Lichess `player_id`) is added first; one given as
        `account_id` must be theirs. An import reads only from the import folder."""
        params = normalise_parameters(job_type, parameters)
        if job_type.strip().lower() == "import_pgn":
            if not user.is_admin:
                # The path is read on the server: only an admin may point it at its disk.
                raise PermissionDenied(
                    "importing a file from the server's disk needs an admin token"
                )
            params["path"] = resolve_import_path(
                params.get("path"), folder=self.import_dir, database=self.database_file
            )
        if "player_id" in params:
            if "username" in params:
                raise InvalidInput("give player_id or username, not both")
            params["username"] = params.pop("player_id")
            params.setdefault("platform", "lichess")
        if "platform" in params or "username" in params:
            platform, username = params.pop("platform", None), params.pop("username", None)
            if not isinstance(platform, str) or not isinstance(username, str):
                raise InvalidInput("give both platform and username (or account_id)")
            params["account_id"] = (
                await self.accounts.add(user.name, platform, username, exempt=user.is_admin)
            ).id
        if "account_id" in params:
            # Checked before the lookup: a number beyond the column is a 422, not a
            # driver's overflow.
            account_id = check_int("account_id", params["account_id"], low=1, high=INT32_MAX)
            owner = None if user.is_admin else user.name
            await self.accounts.get(account_id, owner=owner)
        return await self.jobs.create(job_type, owner=user.name, parameters=params)

    async def sync_status(self, owner: str) -> tuple[Job | None, Job | None]:
        """The owner's active sync, if any, else the last one that ended."""
        family = self.jobs.registry.get("sync_games").family
        return await self.jobs.latest_of_family(owner, family)
