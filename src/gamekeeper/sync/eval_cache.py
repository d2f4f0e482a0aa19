"""The position cache on storage: `analysis.base.EvalCache` over `position_evals`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gamekeeper.analysis.base import (
    PositionEval,
    position_eval_from_json,
    position_eval_to_json,
)
from gamekeeper.errors import InvalidInput
from gamekeeper.storage.analyses import AnalysisStore


class StoredEvalCache:
    """Evaluations kept in `position_evals`, one read and one write per chunk of positions.

    Storage sees JSON (it is below the analysis package); the values are translated
    here. An entry that no longer reads as an evaluation is treated as a miss.
    """

    def __init__(self, store: AnalysisStore) -> None:
        self.store = store

    async def get_many(self, positions: Sequence[str], engine_key: str) -> dict[str, PositionEval]:
        stored = await self.store.get_position_evals(positions, engine_key)
        found: dict[str, PositionEval] = {}
        for position, value in stored.items():
            try:
                found[position] = position_eval_from_json(value)
            except InvalidInput:
                continue
        return found

    async def put_many(self, evals: Mapping[str, PositionEval], engine_key: str) -> None:
        values = {p: position_eval_to_json(e) for p, e in evals.items()}
        await self.store.put_position_evals(values, engine_key)
