"""Building the services a command needs, and closing them after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gamekeeper.bootstrap import Services
    from gamekeeper.domain.users import User


@asynccontextmanager
async def open_services(
    *, upgrade: bool = True, full_upgrade: bool = False
) -> AsyncIterator[Services]:
    """Services from the environment's settings; the schema upgraded when enabled (if
    it is behind; `full_upgrade` runs every step, procrastinate's tables included)."""
    from gamekeeper.bootstrap import build_services, ensure_schema, upgrade_database
    from gamekeeper.settings import Settings

    settings = Settings()
    services = build_services(settings)
    try:
        if upgrade and settings.auto_upgrade:
            await (upgrade_database(services) if full_upgrade else ensure_schema(services))
        yield services
    finally:
        await services.aclose()


async def cli_user(services: Services) -> User:
    """The user the CLI acts as (`GAMEKEEPER_USER`, an admin created on first use)."""
    from gamekeeper.domain.users import Role

    return await services.users.ensure_user(services.settings.user, role=Role.ADMIN)
