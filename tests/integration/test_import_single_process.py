"""The `import_pgn` tests again on the single-process path (`parse_workers=0`, for a
machine with one core): the same behaviour without parse processes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gamekeeper.bootstrap import Services, build_services
from gamekeeper.settings import Settings
from tests.integration.test_import_pgn import *  # noqa: F403 (the tests, collected here too)
from tests.integration.test_import_pgn import FAST, ServicesFactory


@pytest.fixture
async def make_services(db_url: str) -> AsyncIterator[ServicesFactory]:
    made: list[Services] = []

    async def make(**overrides: Any) -> Services:
        settings = Settings(database_url=db_url, **(FAST | {"parse_workers": 0} | overrides))
        services = build_services(settings)
        await services.start(sweep=False)
        made.append(services)
        return services

    yield make
    for services in made:
        await services.aclose()
