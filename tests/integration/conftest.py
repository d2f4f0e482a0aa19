"""Emulated upstreams for integration tests: Lichess and Chess.com on loopback.

Each test gets fresh emulators (small generated corpora, no faults) served on free
ports, and `upstreams_for(...)`, which builds an `Upstreams` registry pointed at them
with fast backoffs and cool-downs. Set faults with `emulator.faults.<knob> = ...`,
read what reached the server in `emulator.log`, add games with
`emulator.corpus.add_games("alice", 37)`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from gamekeeper.connectors.gate.upstreams import Upstreams
from gamekeeper.emulators.chesscom import ChessComEmulator
from gamekeeper.emulators.chesscom_records import ChessComCorpus
from gamekeeper.emulators.lichess import LichessEmulator
from gamekeeper.emulators.lichess_records import LichessCorpus
from gamekeeper.emulators.server import serve_async
from gamekeeper.settings import Settings

#: The accounts the emulators start with: games per account.
ACCOUNTS = {"alice": 120, "bob": 12, "carol": 0}
SEED = 7


@pytest.fixture
def lichess_emulator() -> LichessEmulator:
    return LichessEmulator(LichessCorpus.generate(ACCOUNTS, seed=SEED))


@pytest.fixture
def chesscom_emulator() -> ChessComEmulator:
    return ChessComEmulator(ChessComCorpus.generate(ACCOUNTS, seed=SEED))


@pytest.fixture
async def lichess_url(lichess_emulator: LichessEmulator) -> AsyncIterator[str]:
    async with serve_async(lichess_emulator) as url:
        yield url


@pytest.fixture
async def chesscom_url(chesscom_emulator: ChessComEmulator) -> AsyncIterator[str]:
    async with serve_async(chesscom_emulator) as url:
        yield url


UpstreamsFor = Callable[..., AbstractAsyncContextManager[Upstreams]]


@pytest.fixture
def upstreams_for() -> UpstreamsFor:
    """`async with upstreams_for(lichess_url=..., **settings) as upstreams:`."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[Upstreams]:
        values: dict[str, Any] = {
            "contact": "tests@gamekeeper.invalid",
            "upstream_backoff_base_s": 0.01,
            "upstream_backoff_max_s": 0.05,
            "lichess_cooldown_s": 0.2,
            "chesscom_cooldown_s": 0.2,
            "upstream_read_timeout_s": 10.0,
            "upstream_connect_timeout_s": 5.0,
        }
        values.update(overrides)
        async with Upstreams(Settings(**values)) as upstreams:
            yield upstreams

    return make


class RecordingWaiter:
    """A job's waiter: records every wait, then sleeps until `resume_at`."""

    def __init__(self) -> None:
        self.calls: list[tuple[datetime, str]] = []

    async def __call__(self, resume_at: datetime, reason: str) -> None:
        self.calls.append((resume_at, reason))
        await asyncio.sleep(max(0.0, (resume_at - datetime.now(UTC)).total_seconds()))


@pytest.fixture
def waiter() -> RecordingWaiter:
    return RecordingWaiter()
