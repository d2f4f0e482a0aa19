"""Fault knobs of an emulator, changeable while it serves (tests set them directly).

Counters such as `error_burst = 3` mean "the next three requests"; each use takes one
off, so a test sets a burst and the emulator returns to normal by itself.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields


@dataclass(slots=True, kw_only=True)
class Faults:
    """What goes wrong, and how often."""

    # -- every request ------------------------------------------------------------------
    #: Seconds every answer waits before it starts.
    latency_s: float = 0.0
    #: The next N requests are answered `error_status` (a burst of 5xx).
    error_burst: int = 0
    error_status: int = 503
    #: Answer 429 to a request that arrives while another one is being served
    #: (Lichess asks for one request at a time; Chess.com may refuse parallel ones).
    limit_concurrency: bool = True
    #: The next N requests are answered 429.
    rate_limit_burst: int = 0
    #: At most this many requests per `budget_window_s`; the ones beyond get 429.
    budget: int | None = None
    budget_window_s: float = 60.0
    #: `Retry-After` sent with every 429 (None: no header, like Lichess).
    retry_after_s: float | None = None

    # -- streamed answers (Lichess NDJSON; Chess.com bodies for resets/truncation) --------
    #: Games per second a stream is paced at (None: as fast as possible; Lichess: 20-60).
    games_per_s: float | None = None
    #: The next N streams lose their connection after `reset_after` games.
    reset_streams: int = 0
    reset_after: int = 10
    #: The next N streams end with their last line cut short (no newline, broken JSON).
    truncate_streams: int = 0
    #: Insert a line of broken JSON after these game positions (1-based) of every stream.
    malformed_after: frozenset[int] = frozenset()
    #: The next N streams stop sending after `stall_after` games but keep the
    #: connection open for `stall_s` seconds (or until the client gives up).
    stall_streams: int = 0
    stall_after: int = 10
    stall_s: float = 3600.0

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def take(self, counter: str) -> bool:
        """Use one of a counter's remaining faults; False when none is left."""
        with self._lock:
            left: int = getattr(self, counter)
            if left <= 0:
                return False
            setattr(self, counter, left - 1)
            return True

    def reset(self) -> None:
        """Back to no faults at all."""
        clean = Faults()
        with self._lock:
            for item in fields(self):
                if item.name != "_lock":
                    setattr(self, item.name, getattr(clean, item.name))
