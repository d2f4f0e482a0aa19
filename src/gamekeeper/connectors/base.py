"""What the sync layer needs from a source of games, whatever the site."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from gamekeeper.domain.games import Game

#: Called when a request must wait (cool-down after a 429, backoff after a failure):
#: it returns once `resume_at` has passed, or raises if the job was cancelled meanwhile.
#: A job passes its `JobContext.wait`, so it shows `waiting` with `resume_at`.
Waiter = Callable[[datetime, str], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordError:
    """A record the source sent but that could not be made into a `Game`."""

    #: The game id when it could be read, else a position (line number, byte offset).
    item: str
    message: str
    raw: str = ""


#: What a game stream yields: games, and records that failed to parse (the stream goes on).
GameOrError = Game | RecordError
