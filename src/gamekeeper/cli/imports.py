"""`gamekeeper import FILE...`: import PGN files in the foreground, one job per file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gamekeeper.cli.services import cli_user, open_services
from gamekeeper.errors import Conflict, InvalidInput
from gamekeeper.sync.import_params import BATCH_GAMES, MAX_BATCH_GAMES, check_path

if TYPE_CHECKING:
    from rich.console import Console

    from gamekeeper.bootstrap import Services
    from gamekeeper.domain.jobs import Job

JOB_TYPE = "import_pgn"
#: Exit code when an import ended `failed` (0 all completed, 130 cancelled).
FAILED_EXIT = 1


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "import",
        help="import games from PGN files (plain, .gz, .bz2, .zst); a killed import resumes",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="PGN files, imported in turn")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=BATCH_GAMES,
        help=f"games per checkpoint (default {BATCH_GAMES:,})",
    )
    parser.set_defaults(handler=import_command)


async def import_command(args: argparse.Namespace, console: Console) -> int:
    paths = checked_paths(args.files)
    if not 1 <= args.batch_size <= MAX_BATCH_GAMES:
        raise InvalidInput(f"--batch-size must be between 1 and {MAX_BATCH_GAMES:,}")
    from gamekeeper.cli.follow import follow_job, summary_lines
    from gamekeeper.domain.jobs import JobStatus

    outcome = 0
    async with open_services() as services:
        user = await cli_user(services)
        # Sweeping first hands back an import that a killed `gamekeeper import` left.
        await services.start()
        for path in paths:
            parameters: dict[str, Any] = {"path": path}
            if args.batch_size != BATCH_GAMES:
                parameters["batch_games"] = args.batch_size
            job = await start_or_resume(services, user.name, parameters, console)
            final, interrupted = await follow_job(services, job, console)
            for line in [*summary_lines(final), *rate_lines(final)]:
                console.print(line, highlight=False)
            if final.status is JobStatus.CANCELLED or interrupted:
                return 130
            if final.status is not JobStatus.COMPLETED:
                outcome = FAILED_EXIT
    return outcome


def checked_paths(names: list[str]) -> list[str]:
    """The files' absolute paths, each checked before anything starts: a typo in the
    third name should not surface after the first two have been imported."""
    return [check_path(str(Path(name).expanduser().resolve())) for name in names]


async def start_or_resume(
    services: Services, owner: str, parameters: dict[str, Any], console: Console
) -> Job:
    """Create the import; or follow the active import of the same file, if a stopped
    process left it and it now runs here again. An import of the same file running
    elsewhere is a conflict (the engine's one-job rule is per account; files have none)."""
    from gamekeeper.domain.jobs import ACTIVE_STATUSES
    from gamekeeper.storage.base import JobQuery

    path = parameters["path"]
    page = await services.jobs.list(
        JobQuery(job_type=JOB_TYPE, statuses=ACTIVE_STATUSES, limit=200)
    )
    same_file = [job for job in page.items if job.parameters.get("path") == path]
    for job in same_file:
        if job.id in services.executor.running_ids:
            offset = job.checkpoint.get("offset", 0) if isinstance(job.checkpoint, dict) else 0
            console.print(
                f"resuming {job.job_type} {job.id}, left by a stopped process, "
                f"from its checkpoint (byte {offset:,})",
                highlight=False,
            )
            return job
    if same_file:
        active = same_file[0]
        raise Conflict(
            f"{path} is already being imported by job {active.id} ({active.status.value}); "
            f"follow it with: gamekeeper jobs show {active.id}",
            active_job_id=active.id,
        )
    return await services.jobs.create(JOB_TYPE, owner=owner, parameters=parameters)


def rate_lines(job: Job) -> list[str]:
    """How fast the import went, from the job's result."""
    result = job.result if isinstance(job.result, dict) else {}
    if "games_per_s" not in result:
        return []
    resumed = result.get("resumed_at_offset") or 0
    where = f", resumed at byte {resumed:,}" if resumed else ""
    return [
        f"{result['games']:,} games in {result['seconds']:.1f} s: "
        f"{result['games_per_s']:,.0f} games/s, {result['mb_per_s']:.1f} MB/s{where}"
    ]
