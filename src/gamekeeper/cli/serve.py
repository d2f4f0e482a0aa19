"""`gamekeeper serve`: the API, the dashboard and the job executor in one process."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("serve", help="run the API, dashboard and jobs (127.0.0.1)")
    add_server_arguments(parser)
    parser.set_defaults(handler=serve_command)


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to bind (default: GAMEKEEPER_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: GAMEKEEPER_PORT, 8000)")


async def serve_command(args: argparse.Namespace, console: Console) -> int:
    from gamekeeper.cli.server import run_server
    from gamekeeper.cli.services import open_services

    async with open_services(full_upgrade=True) as services:
        host = args.host or services.settings.host
        port = args.port or services.settings.port
        await services.start(schedule=True)
        if services.settings.executor == "procrastinate":
            console.print("jobs run on `gamekeeper worker` processes (procrastinate)")
        await run_server(services, host, port, console)
    return 0
