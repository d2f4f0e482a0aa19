"""`gamekeeper analyze PLATFORM:USER`: analyse an account's games in the foreground."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from gamekeeper.cli.services import cli_user, open_services
from gamekeeper.errors import InvalidInput

if TYPE_CHECKING:
    from rich.console import Console

    from gamekeeper.domain.jobs import Job


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "analyze", help="judge an account's stored games with Stockfish (newest first)"
    )
    parser.add_argument("account", metavar="PLATFORM:USER", help="e.g. lichess:alice")
    parser.add_argument("--nodes", type=int, help="nodes per position (GAMEKEEPER_ANALYSIS_NODES)")
    parser.add_argument("--workers", type=int, help="engine processes (GAMEKEEPER_ENGINE_WORKERS)")
    parser.add_argument("--limit", type=int, help="at most this many games")
    parser.add_argument(
        "--no-engine",
        action="store_true",
        help="only the plugins that need no engine (or use the evaluations games carry)",
    )
    parser.set_defaults(handler=analyze_command)


def rate_line(job: Job) -> str | None:
    """Positions per second of the job's work (its runs' time, not the time between a
    killed run and the one that resumed it), from its result."""
    result = job.result if isinstance(job.result, dict) else {}
    positions, seconds = result.get("positions"), result.get("seconds")
    if not isinstance(positions, int) or not isinstance(seconds, int | float):
        return None
    return (
        f"{positions:,} positions ({result.get('engine_evals', 0):,} by the engine, "
        f"{result.get('cache_hits', 0):,} from the cache), {positions / max(seconds, 1e-3):,.0f}/s"
    )


async def analyze_command(args: argparse.Namespace, console: Console) -> int:
    from gamekeeper.cli.follow import exit_code, follow_job, summary_lines
    from gamekeeper.cli.sync import start_or_resume

    if args.workers is not None:
        if not 1 <= args.workers <= 64:
            raise InvalidInput("--workers must be between 1 and 64")
        os.environ["GAMEKEEPER_ENGINE_WORKERS"] = str(args.workers)
    parameters: dict[str, Any] = {"engine": not args.no_engine}
    if args.nodes is not None:
        parameters["nodes"] = args.nodes
    if args.limit is not None:
        parameters["limit"] = args.limit
    async with open_services() as services:
        user = await cli_user(services)
        account = await services.accounts.add_ref(user.name, args.account, exempt=True)
        parameters["account_id"] = account.id
        # Sweeping first hands back a job a killed `gamekeeper analyze` left behind.
        await services.start()
        job = await start_or_resume(services, user.name, account, "analyze", parameters, console)
        final, interrupted = await follow_job(services, job, console)
        for line in [*summary_lines(final), rate_line(final)]:
            if line:
                console.print(line, highlight=False)
        return exit_code(final, interrupted)
