"""Numbers, times, clocks and evaluations as the dashboard shows them (also Jinja filters).

`static/live.js` formats the same values the same way when it updates a page live.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from gamekeeper.domain.games import Eval

#: Shown for unknown values (an en dash, as typeset tables do).
UNKNOWN = "\u2013"


def fmt_int(value: int | None) -> str:
    """`12,345`; a dash for unknown."""
    return UNKNOWN if value is None else f"{value:,}"


def fmt_when(value: datetime | None) -> str:
    """A UTC timestamp to the minute: `2025-01-03 14:05 UTC`."""
    if value is None:
        return UNKNOWN
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def fmt_day(value: datetime | None) -> str:
    return UNKNOWN if value is None else value.astimezone(UTC).strftime("%Y-%m-%d")


def iso(value: datetime | None) -> str:
    """For `<time datetime>` and the scripts."""
    return "" if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def fmt_duration(seconds: float | None) -> str:
    """`42 s`, `3m 05s`, `2h 07m`; a dash for unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return UNKNOWN
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def fmt_rate(per_second: float | None) -> str:
    """Games per second, to one decimal below 10."""
    if per_second is None:
        return UNKNOWN
    return f"{per_second:.1f}/s" if per_second < 10 else f"{per_second:,.0f}/s"


def fmt_clock(centiseconds: int | None) -> str:
    """Remaining clock: `4:59`, `1:02:03`, or `0:07.3` in the last ten seconds."""
    if centiseconds is None:
        return ""
    seconds = centiseconds / 100
    if seconds < 10:
        return f"0:{seconds:04.1f}"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def fmt_eval(value: Eval | None) -> str:
    """White's view: `+0.35`, `-1.20`, `#3` (White mates), `#-2` (Black mates)."""
    if value is None:
        return ""
    if value.mate is not None:
        return f"#{value.mate}"
    if value.cp is None:
        return ""
    return f"{value.cp / 100:+.2f}"
