"""Running emulators: on a free loopback port in a background thread (tests, benchmarks,
`gamekeeper demo`), or in the foreground (`gamekeeper emulate`)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

from gamekeeper.emulators.base import Emulator
from gamekeeper.emulators.chesscom import ChessComEmulator
from gamekeeper.emulators.chesscom_records import ChessComCorpus
from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.emulators.lichess_records import LichessCorpus
from gamekeeper.emulators.streaming import quiet_emulated_resets

Site = Literal["lichess", "chesscom"]
logger = logging.getLogger(__name__)


def default_accounts(games: int) -> dict[str, int]:
    """The accounts `gamekeeper emulate` serves: a main one, a smaller one, an empty one."""
    return {"alice": games, "bob": max(1, games // 10), "carol": 0}


def build_emulator(
    site: Site,
    *,
    games: int = 1000,
    seed: int = 0,
    corpus: Path | Sequence[Path] | None = None,
    accounts: Mapping[str, int] | None = None,
) -> Emulator:
    """An emulator with generated games (`accounts`, default `default_accounts(games)`),
    or with the games of `corpus` files in the site's own format."""
    paths = [corpus] if isinstance(corpus, Path) else list(corpus or [])
    wanted = accounts if accounts is not None else default_accounts(games)
    if site == "lichess":
        lichess = (
            LichessCorpus.load(paths, seed=seed)
            if paths
            else LichessCorpus.generate(wanted, seed=seed)
        )
        return LichessEmulator(lichess)
    if site == "chesscom":
        chesscom = (
            ChessComCorpus.load(paths, seed=seed)
            if paths
            else ChessComCorpus.generate(wanted, seed=seed)
        )
        return ChessComEmulator(chesscom)
    raise ValueError(f"unknown site {site!r}: lichess or chesscom")


def _config(app: ASGIApp, host: str, port: int, *, quiet: bool) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="asyncio",
        http="h11",
        ws="none",
        lifespan="off",
        access_log=not quiet,
        # Tests must not have uvicorn reconfigure the process's logging.
        log_config=None if quiet else uvicorn.config.LOGGING_CONFIG,
        log_level="warning" if quiet else "info",
        timeout_graceful_shutdown=2,
    )


@contextmanager
def serve_in_thread(target: Emulator | ASGIApp, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve an emulator (or any ASGI app) on a free port; yields its base URL.

    The listening socket is bound before the server thread starts, so the URL accepts
    connections at once: no waiting for the server to come up.
    """
    emulator: Emulator | None = None
    if isinstance(target, Emulator):
        emulator, app = target, target.app
    else:
        app = target
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that say so, and
    # without it every small response waits out a delayed ACK (~40 ms).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    server = uvicorn.Server(_config(app, host, port, quiet=True))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"emulator:{port}", daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        if emulator is not None:
            # Let stalled streams go, so the server can stop.
            emulator.closing.set()
        server.should_exit = True
        thread.join()
        sock.close()
        if emulator is not None:
            emulator.closing.clear()


@asynccontextmanager
async def serve_async(target: Emulator | ASGIApp, *, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """`serve_in_thread` for async code: starting and stopping do not block the loop."""
    manager = serve_in_thread(target, host=host)
    url = await asyncio.to_thread(manager.__enter__)
    try:
        yield url
    finally:
        await asyncio.to_thread(manager.__exit__, None, None, None)


def serve_forever(
    site: Site,
    *,
    games: int = 1000,
    port: int = 8080,
    seed: int = 0,
    corpus: Path | Sequence[Path] | None = None,
    host: str = "127.0.0.1",
    rate: float | None = None,
) -> None:
    """Run one emulator in the foreground until interrupted (`gamekeeper emulate`).

    Args:
        games: games of the main account when generating (see `default_accounts`).
        corpus: serve these files (a Lichess NDJSON export; Chess.com monthly archive
            JSON files; or folders of them) instead of generated games.
        rate: pace game streams at this many games per second (None: unthrottled).
    """
    emulator = build_emulator(site, games=games, seed=seed, corpus=corpus)
    emulator.faults.games_per_s = rate
    server = uvicorn.Server(_config(emulator.app, host, port, quiet=False))
    quiet_emulated_resets()
    logger.info("%s emulator on http://%s:%s (accounts listed at /)", site, host, port)
    try:
        server.run()
    finally:
        emulator.close()
