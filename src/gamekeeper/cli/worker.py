"""`gamekeeper worker [--concurrency N]`: run jobs from PostgreSQL (procrastinate mode)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from gamekeeper.cli.services import open_services
from gamekeeper.errors import ConfigurationError, InvalidInput

if TYPE_CHECKING:
    from rich.console import Console

    from gamekeeper.settings import Settings


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "worker", help="run jobs on this machine (GAMEKEEPER_EXECUTOR=procrastinate)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        help="jobs this worker runs at once (default: GAMEKEEPER_CONCURRENCY, 4)",
    )
    parser.set_defaults(handler=worker_command)


def check_settings(settings: Settings) -> None:
    """Refuse to start where a worker would have nothing to do, with the fix in the message."""
    from gamekeeper.bootstrap import is_postgresql

    if settings.executor != "procrastinate":
        raise ConfigurationError(
            "gamekeeper worker runs jobs queued in PostgreSQL: set "
            "GAMEKEEPER_EXECUTOR=procrastinate (the embedded mode runs jobs in gamekeeper serve)"
        )
    if not is_postgresql(settings.database_url):
        raise ConfigurationError(
            "gamekeeper worker needs PostgreSQL: set GAMEKEEPER_DATABASE_URL=postgresql://..."
        )


async def worker_command(args: argparse.Namespace, console: Console) -> int:
    if args.concurrency is not None and args.concurrency < 1:
        raise InvalidInput("--concurrency must be at least 1")
    from gamekeeper.settings import Settings

    check_settings(Settings())
    async with open_services(full_upgrade=True) as services:
        # The sweeper runs here too: it re-queues jobs whose worker stopped beating.
        await services.start()
        concurrency = args.concurrency or services.settings.concurrency
        console.print(
            f"gamekeeper worker {services.jobs.runner.worker} running up to {concurrency} "
            f"jobs from {services.system.database()} (Ctrl-C to stop)",
            highlight=False,
        )
        await services.run_worker(concurrency=concurrency)
        console.print(
            "worker stopped (jobs it was running went back to the queue at their checkpoint)",
            highlight=False,
        )
    return 0
