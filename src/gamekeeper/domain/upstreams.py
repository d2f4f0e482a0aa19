"""What every user of one upstream host must agree on (the gate's shared state)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class HostState:
    """The 429 cool-down, the strikes behind it, and when the last request ended."""

    #: No request may start before this instant (set after a 429).
    cooldown_until: datetime | None = None
    #: 429s in a row without a good answer between them; the cool-down grows with it.
    strikes: int = 0
    #: When the last request to the host ended (for the minimum interval).
    last_finished_at: datetime | None = None
