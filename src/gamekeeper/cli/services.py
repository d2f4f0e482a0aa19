"""Building the services a command needs, and closing them after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from gamekeeper.bootstrap import Services, build_services, upgrade_database
from gamekeeper.domain.users import Role, User
from gamekeeper.settings import Settings


@asynccontextmanager
async def open_services(*, upgrade: bool = True) -> AsyncIterator[Services]:
    """Services from the environment's settings; the schema upgraded when enabled."""
    settings = Settings()
    services = build_services(settings)
    try:
        if upgrade and settings.auto_upgrade:
            await upgrade_database(services)
        yield services
    finally:
        await services.aclose()


async def cli_user(services: Services) -> User:
    """The user the CLI acts as (`GAMEKEEPER_USER`, an admin created on first use)."""
    return await services.users.ensure_user(services.settings.user, role=Role.ADMIN)
