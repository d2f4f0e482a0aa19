"""`gamekeeper emulate lichess|chesscom`: a local stand-in for a site (no network)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gamekeeper.errors import InvalidInput

if TYPE_CHECKING:
    from rich.console import Console


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "emulate", help="serve an emulated Lichess or Chess.com on loopback (accounts at /)"
    )
    parser.add_argument("site", choices=["lichess", "chesscom"])
    parser.add_argument("--games", type=int, default=1000, help="games of the main account")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same games")
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        help="serve these files (Lichess NDJSON exports / Chess.com monthly JSON) instead",
    )
    parser.add_argument("--rate", type=float, help="games per second a stream is paced at")
    parser.set_defaults(handler=emulate_command)


def emulate_command(args: argparse.Namespace, console: Console) -> int:
    """Runs in the main thread: uvicorn handles Ctrl-C itself."""
    if args.games < 0:
        raise InvalidInput("--games must be at least 0")
    for path in args.corpus or []:
        if not path.exists():
            raise InvalidInput(f"no such corpus file or folder: {path}")
    from gamekeeper.emulators.server import serve_forever

    console.print(
        f"emulated {args.site} on http://{args.host}:{args.port} (Ctrl-C to stop)",
        highlight=False,
    )
    serve_forever(
        args.site,
        games=args.games,
        port=args.port,
        seed=args.seed,
        corpus=args.corpus,
        host=args.host,
        rate=args.rate,
    )
    return 0
