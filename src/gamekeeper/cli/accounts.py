"""`gamekeeper accounts add|list|remove`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from gamekeeper.cli.services import cli_user, open_services


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("accounts", help="the accounts whose games you keep")
    sub = parser.add_subparsers(dest="accounts_command", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="add an account, e.g. lichess:alice or chesscom:bob")
    add.add_argument("account", metavar="PLATFORM:USER")
    add.set_defaults(handler=add_command)
    listing = sub.add_parser("list", help="list your accounts")
    listing.set_defaults(handler=list_command)
    remove = sub.add_parser("remove", help="remove an account (its games stay)")
    remove.add_argument("account", metavar="PLATFORM:USER")
    remove.set_defaults(handler=remove_command)


if TYPE_CHECKING:
    from rich.console import Console


async def add_command(args: argparse.Namespace, console: Console) -> int:
    async with open_services() as services:
        user = await cli_user(services)
        account = await services.accounts.add_ref(user.name, args.account, exempt=True)
        console.print(f"account {account.id}: {account.label}", highlight=False)
    return 0


async def list_command(args: argparse.Namespace, console: Console) -> int:
    async with open_services() as services:
        user = await cli_user(services)
        accounts = await services.accounts.list(user.name)
    from rich.table import Table

    table = Table("id", "account", "auto-sync", "added")
    for account in accounts:
        every = f"every {account.auto_sync_minutes} min" if account.auto_sync_minutes else "off"
        added = account.created_at.strftime("%Y-%m-%d") if account.created_at else ""
        table.add_row(str(account.id), account.label, every, added)
    console.print(table if accounts else "no accounts yet: gamekeeper accounts add lichess:USER")
    return 0


async def remove_command(args: argparse.Namespace, console: Console) -> int:
    async with open_services() as services:
        user = await cli_user(services)
        account = await services.accounts.find_ref(user.name, args.account)
        await services.accounts.remove(account.id, owner=user.name)
        console.print(f"removed {account.label} (its games stay)", highlight=False)
    return 0
