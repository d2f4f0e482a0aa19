"""`gamekeeper sync PLATFORM:USER`: run a sync in the foreground with live progress."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from gamekeeper.cli.services import cli_user, open_services
from gamekeeper.errors import Conflict, InvalidInput

if TYPE_CHECKING:
    from rich.console import Console

    from gamekeeper.bootstrap import Services
    from gamekeeper.domain.accounts import Account
    from gamekeeper.domain.jobs import Job


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "sync", help="bring an account's games in (adds the account if needed)"
    )
    parser.add_argument("account", metavar="PLATFORM:USER", help="e.g. lichess:alice")
    parser.add_argument("--since", help="only games from this date on (YYYY-MM-DD)")
    parser.add_argument(
        "--months", type=int, help="only the last N months (1: this month)", dest="months"
    )
    parser.add_argument("--max", type=int, help="at most this many games")
    parser.add_argument(
        "--two-stage",
        action="store_true",
        help="games without moves first (fast), then their moves (Lichess)",
    )
    parser.add_argument(
        "--moves-limit",
        type=int,
        default=1_000_000,
        help="with --two-stage: how many games get their moves now (newest first)",
    )
    parser.add_argument(
        "--delay-ms", type=int, default=0, help="with --two-stage: pause between move requests"
    )
    parser.set_defaults(handler=sync_command)


async def sync_command(args: argparse.Namespace, console: Console) -> int:
    from gamekeeper.cli.follow import exit_code, follow_job, summary_lines
    from gamekeeper.services.jobs import sync_stages
    from gamekeeper.sync.kinds import parse_since

    parse_since(args.since)
    if args.max is not None and args.max < 1:
        raise InvalidInput("--max must be at least 1")
    async with open_services() as services:
        user = await cli_user(services)
        account = await services.accounts.add_ref(user.name, args.account, exempt=True)
        # Sweeping first hands back a job a killed `gamekeeper sync` left behind.
        await services.start()
        limits = {"since": args.since, "max": args.max, "months_requested": args.months}
        stages = sync_stages(
            account.id,
            limits,
            two_stage=args.two_stage,
            moves_limit=args.moves_limit,
            delay_ms=args.delay_ms,
        )
        for job_type, parameters in stages:
            job = await start_or_resume(services, user.name, account, job_type, parameters, console)
            final, interrupted = await follow_job(services, job, console)
            for line in summary_lines(final):
                console.print(line, highlight=False)
            code = exit_code(final, interrupted)
            if code:
                return code
    return 0


async def start_or_resume(
    services: Services,
    owner: str,
    account: Account,
    job_type: str,
    parameters: dict[str, Any],
    console: Console,
) -> Job:
    """Create the job; or, if this account's active job was left by a stopped process and
    now runs here again, follow that one instead."""
    try:
        return await services.jobs.create(job_type, owner=owner, parameters=parameters)
    except Conflict as conflict:
        if conflict.active_job_id not in services.executor.running_ids:
            raise Conflict(
                f"{account.label} already has an active job: {conflict.message}; "
                f"follow it with: gamekeeper jobs show {conflict.active_job_id}",
                active_job_id=conflict.active_job_id,
            ) from None
        job = await services.jobs.get(conflict.active_job_id)
        console.print(
            f"resuming {job.job_type} {job.id}, left by a stopped process, from its checkpoint",
            highlight=False,
        )
        return job
