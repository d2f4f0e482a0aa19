"""`gamekeeper crawl PLATFORM:USER`: walk the opponents around an account, in the
foreground with live progress (like `gamekeeper sync`)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from gamekeeper.cli.services import cli_user, open_services

if TYPE_CHECKING:
    from rich.console import Console

    from gamekeeper.domain.jobs import Job


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "crawl", help="fetch the recent games of an account's opponents (and theirs)"
    )
    parser.add_argument("account", metavar="PLATFORM:USER", help="e.g. lichess:alice")
    parser.add_argument("--depth", type=int, default=1, help="how far from the account (1-3)")
    parser.add_argument("--max-players", type=int, default=50, help="at most this many players")
    parser.add_argument(
        "--games-per-player", type=int, default=100, help="each player's newest N games"
    )
    parser.add_argument("--since", help="only games from this date on (YYYY-MM-DD)")
    parser.set_defaults(handler=crawl_command)


def crawl_lines(job: Job) -> list[str]:
    """Players found and fetched at each depth."""
    result = job.result if isinstance(job.result, dict) else {}
    lines = []
    for row in result.get("depths", []):
        lines.append(f"  depth {row['depth']}: {row['done']}/{row['total']} players")
    players = result.get("players")
    if isinstance(players, dict):
        lines.append(
            f"players: {players['found']} found, {players['fetched']} fetched, "
            f"{players['failed']} refused by the site; {result.get('games', 0):,} games received"
        )
        if not players["found"]:
            lines.append("no opponents in the account's stored games: sync it first")
    return lines


async def crawl_command(args: argparse.Namespace, console: Console) -> int:
    parameters: dict[str, Any] = {
        "depth": args.depth,
        "max_players": args.max_players,
        "games_per_player": args.games_per_player,
    }
    if args.since:
        parameters["since"] = args.since
    from gamekeeper.cli.follow import exit_code, follow_job, summary_lines
    from gamekeeper.cli.sync import start_or_resume
    from gamekeeper.sync.crawl import validate_crawl  # python-chess: only when run

    validate_crawl(parameters)
    async with open_services() as services:
        user = await cli_user(services)
        account = await services.accounts.add_ref(user.name, args.account, exempt=True)
        # Sweeping first hands back a crawl a killed `gamekeeper crawl` left behind.
        await services.start()
        parameters["account_id"] = account.id
        job = await start_or_resume(
            services, user.name, account, "crawl_opponents", parameters, console
        )
        final, interrupted = await follow_job(services, job, console)
        for line in [*summary_lines(final), *crawl_lines(final)]:
            console.print(line, highlight=False)
        return exit_code(final, interrupted)
