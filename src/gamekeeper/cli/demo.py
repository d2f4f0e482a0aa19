"""`gamekeeper demo`: the server, with emulated Lichess and Chess.com as its upstreams.

A newcomer sees gamekeeper work with no network: two demo accounts, a first sync
started, the dashboard and the API live. The demo keeps its own database (unless
GAMEKEEPER_DATABASE_URL says otherwise), so it never mixes with real games.
"""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gamekeeper.cli.serve import add_server_arguments
from gamekeeper.errors import InvalidInput

if TYPE_CHECKING:
    from rich.console import Console

#: The emulators' main account (see `emulators.server.default_accounts`).
DEMO_PLAYER = "alice"


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "demo", help="the server with local emulated sites, demo accounts and a first sync"
    )
    add_server_arguments(parser)
    parser.add_argument("--games", type=int, default=2000, help="games of each demo account")
    parser.add_argument(
        "--rate", type=float, default=400.0, help="games per second the emulated Lichess sends"
    )
    parser.set_defaults(handler=demo_command)


def demo_database_url() -> str:
    import platformdirs

    path = Path(platformdirs.user_data_dir("gamekeeper", appauthor=False)) / "demo.db"
    return f"sqlite:///{path}"


async def demo_command(args: argparse.Namespace, console: Console) -> int:
    if args.games < 1 or args.rate <= 0:
        raise InvalidInput("--games must be at least 1 and --rate above 0")
    from gamekeeper.bootstrap import build_services, upgrade_database
    from gamekeeper.cli.server import run_server
    from gamekeeper.domain.jobs import ACTIVE_STATUSES
    from gamekeeper.domain.users import Role
    from gamekeeper.emulators.server import build_emulator, serve_in_thread
    from gamekeeper.settings import Settings
    from gamekeeper.storage.base import JobQuery

    base = Settings()
    with ExitStack() as stack:
        lichess = build_emulator("lichess", games=args.games, seed=1)
        lichess.faults.games_per_s = args.rate  # slow enough to watch the progress bar
        chesscom = build_emulator("chesscom", games=args.games, seed=1)
        lichess_url = stack.enter_context(serve_in_thread(lichess))
        chesscom_url = stack.enter_context(serve_in_thread(chesscom))
        settings = base.model_copy(
            update={
                "lichess_url": lichess_url,
                "chesscom_url": chesscom_url,
                "database_url": (
                    base.database_url
                    if "database_url" in base.model_fields_set
                    else demo_database_url()
                ),
            }
        )
        console.print(
            f"emulated Lichess on {lichess_url}, Chess.com on {chesscom_url}", highlight=False
        )
        services = build_services(settings)
        try:
            await upgrade_database(services)
            admin = await services.users.ensure_user(settings.user, role=Role.ADMIN)
            token = await services.users.issue_token(admin, label="demo")
            host = args.host or settings.host
            port = args.port or settings.port
            console.print(
                f"demo login (a new token each start):\n    http://{host}:{port}/login?token={token}",
                highlight=False,
                soft_wrap=True,
            )
            await services.start(schedule=True)
            for platform in ("lichess", "chesscom"):
                account = await services.accounts.add(admin.name, platform, DEMO_PLAYER)
                active = await services.jobs.list(
                    JobQuery(account_id=account.id, statuses=ACTIVE_STATUSES, limit=1)
                )
                if not active.items:
                    job = await services.jobs.create(
                        "sync_games", owner=admin.name, parameters={"account_id": account.id}
                    )
                    console.print(f"started {job.id}: sync of {account.label}", highlight=False)
            await run_server(services, host, port, console)
        finally:
            await services.aclose()
    return 0
