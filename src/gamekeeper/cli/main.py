"""`gamekeeper`: the command line. Parses arguments, calls one service, prints.

Start-up is kept short (`bench/startup.py`): `--help` and `jobs list` must not wait
for FastAPI, the emulators, Alembic, procrastinate or httpx. So:

- A command module (`cli/<command>.py`) defines `add_parser(commands)` at its top
  level with light imports only (argparse, typing, `gamekeeper.errors`, the light
  `cli.services`); everything else is imported inside its handlers. Rich's `Console`
  and other types go under `if TYPE_CHECKING:`.
- To add a command: write that module, and add its name to `COMMANDS` below.
  `tests/unit/cli/test_startup.py` checks that `jobs list` loads none of the above.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from gamekeeper import __version__
from gamekeeper.cli import (
    accounts,
    analyze,
    crawl,
    db,
    demo,
    emulate,
    imports,
    jobs,
    players,
    serve,
    sync,
    users,
    worker,
)
from gamekeeper.errors import (
    Conflict,
    GamekeeperError,
    InvalidInput,
    JobCancelled,
    LimitExceeded,
    NotFound,
    RateLimited,
)

#: Exit codes, by error class (the first match in this order wins).
EXIT_CODES: list[tuple[type[GamekeeperError], int]] = [
    (InvalidInput, 2),
    (Conflict, 3),
    (LimitExceeded, 3),
    (NotFound, 4),
    (RateLimited, 5),
    (JobCancelled, 130),
    (GamekeeperError, 1),
]

if TYPE_CHECKING:
    from rich.console import Console

#: The commands, in the order `--help` lists them (each module's `add_parser`).
COMMANDS = (
    sync,
    analyze,
    crawl,
    players,
    imports,
    accounts,
    jobs,
    serve,
    worker,
    demo,
    users,
    db,
    emulate,
)

Handler = Callable[[argparse.Namespace, "Console"], Coroutine[Any, Any, int] | int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gamekeeper", description="Keep your chess games at home."
    )
    parser.add_argument("--version", action="version", version=f"gamekeeper {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(commands)
    return parser


def exit_code_for(error: GamekeeperError) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(error, cls):
            return code
    return 1


def run(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Imported once the arguments are good (`--help` exits before).
    import asyncio
    import logging

    from rich.console import Console

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    console = Console()
    errors = Console(stderr=True)
    handler: Handler = args.handler
    try:
        outcome = handler(args, console)
        return outcome if isinstance(outcome, int) else asyncio.run(outcome)
    except GamekeeperError as exc:
        errors.print(f"[red]error:[/red] {exc.message}", highlight=False)
        return exit_code_for(exc)
    except KeyboardInterrupt:
        errors.print("interrupted")
        return 130


def main() -> None:
    sys.exit(run())
