"""An evaluation cache in a dict: for tests, benchmarks and one-off runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gamekeeper.analysis.base import PositionEval

__all__ = ["InMemoryEvalCache"]


class InMemoryEvalCache:
    """`EvalCache` in memory; counts its lookups and hits."""

    def __init__(self) -> None:
        self._evals: dict[tuple[str, str], PositionEval] = {}
        #: Positions asked for and positions found, over every `get_many`.
        self.lookups = 0
        self.hits = 0

    def __len__(self) -> int:
        return len(self._evals)

    async def get_many(self, positions: Sequence[str], engine_key: str) -> dict[str, PositionEval]:
        """The known evaluations among `positions`."""
        found = {
            key: value
            for key in positions
            if (value := self._evals.get((engine_key, key))) is not None
        }
        self.lookups += len(positions)
        self.hits += len(found)
        return found

    async def put_many(self, evals: Mapping[str, PositionEval], engine_key: str) -> None:
        """Remember `evals`; an entry already there is kept (the first search wins)."""
        for key, value in evals.items():
            self._evals.setdefault((engine_key, key), value)
