"""The opponent crawl's checkpoint: its frontier, how far the walk got, what it found."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gamekeeper.domain.games import Platform
from gamekeeper.domain.players import CrawlTarget


@dataclass(frozen=True, slots=True, kw_only=True)
class CrawlState:
    """Where a crawl stands, committed with the data it covers.

    `frontier` holds every player the walk found, in the order it visits them (breadth
    first); those before `position` are finished. `expanded` says whether the player at
    `position - 1` had their opponents added to the frontier yet: a run killed between
    a player's games and their expansion expands them on resume instead of fetching again.
    """

    frontier: tuple[CrawlTarget, ...] = ()
    position: int = 0
    expanded: bool = True
    started: bool = False
    fetched: int = 0
    failed: int = 0
    games: int = 0

    @classmethod
    def from_json(cls, value: Any, platform: Platform) -> CrawlState:
        if not isinstance(value, dict) or not value.get("started"):
            return cls()
        frontier = tuple(
            CrawlTarget(platform=platform, username=u, depth=int(d), discovered_from=f)
            for u, d, f in value.get("frontier", ())
        )
        return cls(
            frontier=frontier,
            position=int(value.get("position", 0)),
            expanded=bool(value.get("expanded", True)),
            started=True,
            fetched=int(value.get("fetched", 0)),
            failed=int(value.get("failed", 0)),
            games=int(value.get("games", 0)),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "frontier": [[t.username, t.depth, t.discovered_from] for t in self.frontier],
            "position": self.position,
            "expanded": self.expanded,
            "fetched": self.fetched,
            "failed": self.failed,
            "games": self.games,
        }

    @property
    def current(self) -> CrawlTarget | None:
        """The next player to fetch (None: the walk is over)."""
        return self.frontier[self.position] if self.position < len(self.frontier) else None

    def known(self) -> set[str]:
        return {t.player_id for t in self.frontier}

    def extended(self, targets: Sequence[CrawlTarget]) -> CrawlState:
        return dataclasses.replace(
            self, frontier=(*self.frontier, *targets), expanded=True, started=True
        )

    def after_player(self, *, games: int, failed: bool) -> CrawlState:
        """The current player is done (fetched, or refused by the site)."""
        return dataclasses.replace(
            self,
            position=self.position + 1,
            expanded=failed,  # a refused player has no games to expand
            fetched=self.fetched + (0 if failed else 1),
            failed=self.failed + (1 if failed else 0),
            games=self.games + games,
        )

    def depths(self) -> list[dict[str, int]]:
        """Players done and found at each depth (what the progress shows)."""
        rows: dict[int, dict[str, int]] = {}
        for index, target in enumerate(self.frontier):
            row = rows.setdefault(target.depth, {"depth": target.depth, "done": 0, "total": 0})
            row["total"] += 1
            row["done"] += 1 if index < self.position else 0
        return [rows[d] for d in sorted(rows)]
