"""The storage Protocol for reading analyses (kept out of base.py, which is full).

Rows follow the analysis storage contract: one per (game, plugin, plugin_version); the
newest plugin_version of each plugin is the one read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class AnalysisReadStore(Protocol):
    async def latest_analyses(self, game_id: int) -> Mapping[str, Any]:
        """Each plugin's value for `game_id` (its newest plugin_version); {} before analysis."""
        ...
