"""The API over real HTTP on loopback, against a real database and the emulated sites."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from gamekeeper.app import create_app
from gamekeeper.bootstrap import Services
from gamekeeper.domain.users import Role
from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.emulators.lichess_records import LichessCorpus
from gamekeeper.emulators.server import serve_in_thread
from gamekeeper.services.users import UserService
from gamekeeper.settings import Settings
from gamekeeper.storage.sql.store import SqlStore
from tests.support.server import serve_app


@dataclass
class Api:
    url: str
    app: FastAPI
    tokens: dict[str, str]
    lichess: LichessEmulator

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services


def issue_tokens(db_url: str) -> dict[str, str]:
    """An admin and two users, each with a token, straight in the database."""

    async def make() -> dict[str, str]:
        store = SqlStore(db_url)
        users = UserService(store)
        try:
            tokens = {}
            for name, role in (("admin", Role.ADMIN), ("alice", Role.USER), ("bob", Role.USER)):
                user = await users.ensure_user(name, role=role)
                tokens[name] = await users.issue_token(user)
            return tokens
        finally:
            await store.aclose()

    return asyncio.run(make())


ApiFactory = Callable[..., Api]


@pytest.fixture
def lichess() -> LichessEmulator:
    return LichessEmulator(LichessCorpus.generate({"magnus": 3000, "hikaru": 40}, seed=5))


@pytest.fixture
def make_api(db_url: str, lichess: LichessEmulator) -> Iterator[ApiFactory]:
    stack: list[Any] = []

    def make(**settings: Any) -> Api:
        emulator = serve_in_thread(lichess)
        lichess_url = emulator.__enter__()
        stack.append(emulator)
        tokens = issue_tokens(db_url)
        app = create_app(
            Settings(
                database_url=db_url,
                lichess_url=lichess_url,
                chesscom_url="http://127.0.0.1:9",
                lichess_cooldown_s=1.0,
                upstream_backoff_base_s=0.01,
                **settings,
            )
        )
        server = serve_app(app)
        url = server.__enter__()
        stack.append(server)
        return Api(url=url, app=app, tokens=tokens, lichess=lichess)

    yield make
    for manager in reversed(stack):
        manager.__exit__(None, None, None)


@pytest.fixture
def api(make_api: ApiFactory) -> Api:
    return make_api()
