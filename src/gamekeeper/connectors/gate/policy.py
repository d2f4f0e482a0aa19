"""How politely to treat a host: the policy, the counters, `Retry-After`, the User-Agent."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime

from gamekeeper import __version__


@dataclass(frozen=True, slots=True, kw_only=True)
class GatePolicy:
    """How politely to treat one host."""

    #: The host as people know it, used in wait reasons and error messages.
    name: str
    user_agent: str
    min_interval_s: float = 0.0
    #: Cool-down after a 429 without `Retry-After`; doubles while 429s repeat.
    cooldown_s: float = 60.0
    #: Lichess: wait at least `cooldown_s` even when `Retry-After` asks for less.
    cooldown_is_floor: bool = False
    cooldown_max_s: float = 900.0
    #: Tries per request (the first included) on 5xx, timeouts and broken connections;
    #: also the number of 429s in a row one request accepts before giving up.
    attempts: int = 5
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    #: While another request holds the slot, wait this long quietly before telling the
    #: caller's waiter (so a job does not flicker to `waiting` on every short request).
    busy_grace_s: float = 1.0
    #: The `resume_at` shown while waiting for the slot (re-announced when it passes).
    busy_horizon_s: float = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class GateStats:
    """Counters of one gate, for metrics."""

    host: str
    #: Requests sent (every attempt counts).
    requests: int = 0
    #: 429 answers.
    rate_limited: int = 0
    #: Attempts repeated after a 5xx, a timeout or a broken connection.
    retries: int = 0
    #: 5xx answers, timeouts and broken connections.
    failures: int = 0
    #: Waits announced to a waiter or slept (cool-downs, backoffs, busy slot).
    waits: int = 0


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP-date), None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def user_agent(contact: str) -> str:
    """The User-Agent the sites ask for: who we are and how to reach the operator."""
    return f"gamekeeper/{__version__} (self-hosted game mirror; contact: {contact})"
