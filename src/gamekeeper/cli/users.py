"""`gamekeeper users add|token|tokens|revoke|list`."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gamekeeper.cli.services import open_services

if TYPE_CHECKING:
    from rich.console import Console


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("users", help="gamekeeper's users and their API tokens")
    sub = parser.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="add a user and print their first token")
    add.add_argument("name")
    add.add_argument("--admin", action="store_true", help="may see and manage everything")
    add.set_defaults(handler=add_command)
    token = sub.add_parser("token", help="print a new token for a user")
    token.add_argument("name")
    token.add_argument("--label", default="cli", help="what the token is for (default: cli)")
    token.add_argument(
        "--expires-in-days", type=int, metavar="DAYS", help="the token stops working after this"
    )
    token.set_defaults(handler=token_command)
    tokens = sub.add_parser("tokens", help="list a user's tokens (id, label, dates)")
    tokens.add_argument("name")
    tokens.set_defaults(handler=tokens_command)
    revoke = sub.add_parser("revoke", help="revoke one of a user's tokens")
    revoke.add_argument("name")
    revoke.add_argument("token_id", type=int, metavar="TOKEN_ID", help="from `users tokens`")
    revoke.set_defaults(handler=revoke_command)
    listing = sub.add_parser("list", help="list users")
    listing.set_defaults(handler=list_command)


async def add_command(args: argparse.Namespace, console: Console) -> int:
    async with open_services() as services:
        from gamekeeper.domain.users import Role

        role = Role.ADMIN if args.admin else Role.USER
        user = await services.users.add_user(args.name, role=role)
        token = await services.users.issue_token(user, label="cli")
    console.print(f"user {user.name} ({user.role.value}); token (shown once):", highlight=False)
    console.print(token, highlight=False, soft_wrap=True)
    return 0


async def token_command(args: argparse.Namespace, console: Console) -> int:
    async with open_services() as services:
        user = await services.users.get_user(args.name)
        token = await services.users.issue_token(
            user, label=args.label, expires_in_days=args.expires_in_days
        )
    console.print(token, highlight=False, soft_wrap=True)
    return 0


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


async def tokens_command(args: argparse.Namespace, console: Console) -> int:
    async with open_services() as services:
        tokens = await services.users.tokens(args.name)
        now = services.users.now()
    from rich.table import Table

    table = Table("id", "label", "created", "last used", "expires")
    for token in tokens:
        expires = _when(token.expires_at) + (" (expired)" if token.expired(now) else "")
        table.add_row(
            str(token.id),
            token.label,
            _when(token.created_at),
            _when(token.last_used_at) or "never",
            expires or "never",
        )
    console.print(table if tokens else f"{args.name} has no tokens", highlight=False)
    return 0


async def revoke_command(args: argparse.Namespace, console: Console) -> int:
    async with open_services() as services:
        await services.users.revoke(args.name, args.token_id)
    console.print(f"revoked token {args.token_id} of {args.name}", highlight=False)
    return 0


async def list_command(args: argparse.Namespace, console: Console) -> int:
    async with open_services() as services:
        users = await services.users.list_users()
    from rich.table import Table

    table = Table("id", "name", "role", "created")
    for user in users:
        created = user.created_at.strftime("%Y-%m-%d") if user.created_at else ""
        table.add_row(str(user.id), user.name, user.role.value, created)
    console.print(table if users else "no users yet: `gamekeeper serve` creates an admin")
    return 0
