"""Build gamekeeper's services from `Settings`: the one place that picks concrete classes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from gamekeeper.connectors.chesscom import ChessComSource
from gamekeeper.connectors.http import Upstreams
from gamekeeper.connectors.lichess import LichessSource
from gamekeeper.jobs.engine import EngineConfig, JobManager
from gamekeeper.jobs.executors.local import LocalExecutor
from gamekeeper.jobs.registry import JobRegistry
from gamekeeper.jobs.runner import RunnerConfig
from gamekeeper.services.accounts import AccountService
from gamekeeper.services.games import GameService
from gamekeeper.services.stats import StatsService
from gamekeeper.services.users import UserService
from gamekeeper.settings import Settings
from gamekeeper.storage import migrator
from gamekeeper.storage.sql_store import SqlStore
from gamekeeper.sync.deps import SyncDeps
from gamekeeper.sync.import_pgn import register_import_kinds
from gamekeeper.sync.kinds import register_sync_kinds


def engine_config(settings: Settings) -> EngineConfig:
    return EngineConfig(
        runner=RunnerConfig(
            heartbeat_interval_s=settings.heartbeat_interval_s,
            progress_write_interval_s=settings.progress_write_interval_s,
            retention=settings.job_retention,
        ),
        stale_after_s=settings.stale_after_s,
        sweep_interval_s=settings.sweep_interval_s,
        max_attempts=settings.max_attempts,
        single_active_job=settings.single_active_job,
        create_limit=settings.job_create_limit,
        create_window_s=settings.job_create_window_s,
        watch_poll_interval_s=settings.watch_poll_interval_s,
    )


def default_registry(store: SqlStore, upstreams: Upstreams, settings: Settings) -> JobRegistry:
    """Every job kind gamekeeper ships, wired to this process's services."""
    registry = JobRegistry()
    deps = SyncDeps(
        store=store,
        lichess=LichessSource(upstreams.lichess, settings.lichess_url, settings.lichess_token),
        chesscom=ChessComSource(upstreams.chesscom, settings.chesscom_url),
    )
    register_sync_kinds(registry, deps)
    register_import_kinds(registry, store)
    return registry


@dataclass(kw_only=True)
class Services:
    """What the edges (API, CLI, web) call; built once per process."""

    settings: Settings
    store: SqlStore
    registry: JobRegistry
    jobs: JobManager
    executor: LocalExecutor
    users: UserService
    accounts: AccountService
    games: GameService
    #: The dashboard's charts (and `/api/stats`).
    stats: StatsService
    upstreams: Upstreams
    _started: bool = field(default=False, init=False)

    async def start(self, *, sweep: bool = True) -> None:
        """Start running jobs here (the sweeper re-queues what a dead process left)."""
        await self.jobs.start(sweep=sweep)
        self._started = True

    async def aclose(self) -> None:
        if self._started:
            await self.jobs.stop()
        await self.upstreams.aclose()
        await self.store.aclose()


def build_services(settings: Settings, *, registry: JobRegistry | None = None) -> Services:
    """Services for `settings` (no I/O until `start`)."""
    store = SqlStore(settings.database_url)
    upstreams = Upstreams(settings)
    registry = registry or default_registry(store, upstreams, settings)
    jobs = JobManager(store, registry, config=engine_config(settings))
    executor = LocalExecutor(jobs.runner, concurrency=settings.concurrency)
    jobs.attach(executor)
    return Services(
        settings=settings,
        store=store,
        registry=registry,
        jobs=jobs,
        executor=executor,
        users=UserService(store),
        accounts=AccountService(store),
        games=GameService(store),
        stats=StatsService(store),
        upstreams=upstreams,
    )


async def upgrade_database(services: Services) -> None:
    """Bring the schema up to date (`gamekeeper db upgrade`, and on start when enabled)."""
    await asyncio.to_thread(migrator.upgrade, services.store.engine)
