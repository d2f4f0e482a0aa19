"""A sync job's own checkpoint: how far this run got, so a resumed run counts on.

The account's cursor (in `cursors`) says what is stored; this says what the *job*
showed: items received up to its last commit and the total it estimated when it first
started. A resumed run starts its progress at `done` against the same `total`, so the
fraction goes on from where the last commit left it instead of starting over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncRun:
    """Progress of one sync job, committed with each batch."""

    #: Items received (games and unreadable records) up to the last commit.
    done: int = 0
    #: What the run expected to receive when it first started (None: unknown).
    total: int | None = None
    #: Games kept from the main stream, for `max`.
    kept: int = 0
    #: Games passed over at the start of the site's list, for `skip`.
    skipped: int = 0
    #: Where the account's cursor stands, in words (the newest game or month stored).
    position: str | None = None
    #: Whether this is a resumed run (a checkpoint existed).
    resumed: bool = False

    @classmethod
    def from_json(cls, value: Any) -> SyncRun:
        if not isinstance(value, dict) or "done" not in value:
            return cls(resumed=value is not None)
        total, position = value.get("total"), value.get("position")
        return cls(
            position=position if isinstance(position, str) else None,
            done=_count(value.get("done")),
            total=total if isinstance(total, int) else None,
            kept=_count(value.get("kept")),
            skipped=_count(value.get("skipped")),
            resumed=True,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "total": self.total,
            "kept": self.kept,
            "skipped": self.skipped,
            "position": self.position,
        }


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
