"""`gamekeeper db upgrade` and `gamekeeper db copy --to URL`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from gamekeeper.cli.services import open_services

if TYPE_CHECKING:
    from rich.console import Console


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("db", help="database maintenance")
    sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = sub.add_parser("upgrade", help="create or migrate the schema to the latest version")
    upgrade.set_defaults(handler=upgrade_command)
    copy = sub.add_parser(
        "copy",
        help="copy every row of this database into an empty one (e.g. SQLite to PostgreSQL)",
    )
    copy.add_argument(
        "--to", required=True, metavar="URL", help="target database, e.g. postgresql://host/db"
    )
    copy.set_defaults(handler=copy_command)


async def upgrade_command(args: argparse.Namespace, console: Console) -> int:
    from gamekeeper.bootstrap import upgrade_database

    async with open_services(upgrade=False) as services:
        procrastinate = await upgrade_database(services)
        console.print(f"database is up to date: {services.system.database()}", highlight=False)
        if procrastinate:
            console.print(procrastinate, highlight=False)
    return 0


async def copy_command(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    from gamekeeper.bootstrap import copy_database_to
    from gamekeeper.settings import Settings

    # Stop gamekeeper first: rows written during the copy would not be in it.
    report, procrastinate = await copy_database_to(Settings(), args.to)
    table = Table("table", "rows", "sha256", title=f"{report.source} → {report.target}")
    for copied in report.tables:
        table.add_row(copied.table, str(copied.rows), copied.checksum[:16])
    console.print(table)
    console.print(
        f"copied {report.rows} rows in {len(report.tables)} tables; row counts and checksums match",
        highlight=False,
    )
    if procrastinate:
        console.print(procrastinate, highlight=False)
    return 0
