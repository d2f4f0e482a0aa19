"""`gamekeeper db upgrade`."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from gamekeeper.bootstrap import upgrade_database
from gamekeeper.cli.services import open_services


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("db", help="database maintenance")
    sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = sub.add_parser("upgrade", help="create or migrate the schema to the latest version")
    upgrade.set_defaults(handler=upgrade_command)


async def upgrade_command(args: argparse.Namespace, console: Console) -> int:
    async with open_services(upgrade=False) as services:
        await upgrade_database(services)
        console.print(f"database is up to date: {services.store.describe()}", highlight=False)
    return 0
