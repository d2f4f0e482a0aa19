"""Build gamekeeper's services from `Settings`: the one place that picks concrete classes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from gamekeeper.jobs.engine import EngineConfig, JobManager
from gamekeeper.jobs.executors.local import LocalExecutor
from gamekeeper.jobs.registry import JobRegistry
from gamekeeper.jobs.runner import RunnerConfig
from gamekeeper.services.accounts import AccountService
from gamekeeper.services.users import UserService
from gamekeeper.settings import Settings
from gamekeeper.storage import migrator
from gamekeeper.storage.sql_store import SqlStore


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


def default_registry() -> JobRegistry:
    """Every job kind gamekeeper ships."""
    return JobRegistry()


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
    _started: bool = field(default=False, init=False)

    async def start(self, *, sweep: bool = True) -> None:
        """Start running jobs here (the sweeper re-queues what a dead process left)."""
        await self.jobs.start(sweep=sweep)
        self._started = True

    async def aclose(self) -> None:
        if self._started:
            await self.jobs.stop()
        await self.store.aclose()


def build_services(settings: Settings, *, registry: JobRegistry | None = None) -> Services:
    """Services for `settings` (no I/O until `start`)."""
    store = SqlStore(settings.database_url)
    registry = registry or default_registry()
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
    )


async def upgrade_database(services: Services) -> None:
    """Bring the schema up to date (`gamekeeper db upgrade`, and on start when enabled)."""
    await asyncio.to_thread(migrator.upgrade, services.store.engine)
