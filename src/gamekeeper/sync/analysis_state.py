"""How far an analysis run got: its counts, its working time and the last game done,
committed with each batch as the job's checkpoint (a resumed run starts from it)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gamekeeper.analysis.analyzer import GameAnalysis
from gamekeeper.storage.analyses import GameKey, game_key
from gamekeeper.storage.base import StoredGame


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisState:
    """How far a run got, committed with each batch (its checkpoint)."""

    done: int = 0
    total: int = 0
    analyzed: int = 0
    positions: int = 0
    engine_evals: int = 0
    cache_hits: int = 0
    #: Plugins not run, by reason (e.g. "no engine", a variant), counted per game.
    skipped: Mapping[str, int] = field(default_factory=dict)
    after: GameKey | None = None
    resumed: bool = False
    #: Seconds of work behind the counts above: this run's so far and the earlier runs'
    #: up to their last checkpoint (what a killed run did after it is redone, and its
    #: time counted again), so positions / seconds is the rate, downtime left out.
    seconds: float = 0.0

    @classmethod
    def from_json(cls, value: Any) -> AnalysisState:
        if not isinstance(value, dict) or "done" not in value:
            return cls()
        after = value.get("after")
        key: GameKey | None = None
        if isinstance(after, list) and len(after) == 2 and isinstance(after[1], int):
            started = datetime.fromisoformat(after[0]) if isinstance(after[0], str) else None
            key = (started, after[1])
        counts = {n: _count(value.get(n)) for n in _COUNTS}
        skipped = value.get("skipped")
        return cls(
            **counts,
            skipped=dict(skipped) if isinstance(skipped, dict) else {},
            after=key,
            resumed=True,
            seconds=_seconds(value.get("seconds")),
        )

    def to_json(self) -> dict[str, Any]:
        after = None
        if self.after is not None:
            started, game_id = self.after
            after = [started.isoformat() if started else None, game_id]
        counts = {n: getattr(self, n) for n in _COUNTS}
        return {
            **counts,
            "skipped": dict(self.skipped),
            "after": after,
            "seconds": round(self.seconds, 3),
        }

    def summary(self, engine: str | None, nodes: int | None) -> dict[str, Any]:
        """The job's result (live while it runs)."""
        data = self.to_json()
        data.pop("after")
        return {"games": data.pop("done"), **data, "engine": engine, "nodes": nodes}

    def with_game(self, stored: StoredGame, analysis: GameAnalysis) -> AnalysisState:
        skipped = dict(self.skipped)
        for reason in analysis.skipped.values():
            skipped[reason] = skipped.get(reason, 0) + 1
        return dataclasses.replace(
            self,
            done=self.done + 1,
            analyzed=self.analyzed + (1 if analysis.results else 0),
            positions=self.positions + analysis.positions,
            engine_evals=self.engine_evals + analysis.engine_evals,
            cache_hits=self.cache_hits + analysis.cache_hits,
            skipped=skipped,
            after=game_key(stored),
        )


_COUNTS = ("done", "total", "analyzed", "positions", "engine_evals", "cache_hits")


def _seconds(value: Any) -> float:
    """A checkpoint's working time; anything but a number of seconds is none."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return 0.0
    return float(value)


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
