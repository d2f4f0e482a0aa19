"""What every emulator offers tests: its ASGI app, fault knobs, request log and reset."""

from __future__ import annotations

import threading

from starlette.types import ASGIApp

from gamekeeper.emulators.faults import Faults
from gamekeeper.emulators.streaming import quiet_emulated_resets
from gamekeeper.emulators.traffic import RequestLog, Traffic


class Emulator:
    """An upstream site on loopback: serve `app` (see `server.serve_in_thread`)."""

    #: "lichess" or "chesscom".
    site: str

    def __init__(self, routes_app: ASGIApp, *, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self.log = RequestLog()
        #: Set when the server shuts down, so stalled streams let go.
        self.closing = threading.Event()
        quiet_emulated_resets()
        self.app: ASGIApp = Traffic(routes_app, log=self.log, faults=self.faults)

    @property
    def max_concurrent(self) -> int:
        """The most requests this emulator ever served at once (since `reset`)."""
        return self.log.max_concurrent

    def reset(self) -> None:
        """No faults, an empty log: as good as new (the games stay)."""
        self.faults.reset()
        self.log.clear()

    def close(self) -> None:
        self.closing.set()
