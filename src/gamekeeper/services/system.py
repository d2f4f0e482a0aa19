"""What the server says about itself: health, the database it uses, figures for metrics."""

from __future__ import annotations

from gamekeeper.storage.base import SystemStore


class SystemService:
    """Health and gauges, read from the store (the edges never hold the store itself)."""

    def __init__(self, store: SystemStore) -> None:
        self.store = store

    async def health(self) -> str:
        """The database's kind (sqlite, postgresql) once it has answered a query."""
        await self.store.ping()
        return self.store.dialect

    def database(self) -> str:
        """The database URL without its password."""
        return self.store.describe()

    async def job_counts(self) -> dict[str, int]:
        """Jobs by status, every status present."""
        return await self.store.job_counts()

    async def games_stored(self) -> int:
        return await self.store.count_games()
