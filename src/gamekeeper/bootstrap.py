"""Build gamekeeper's services from `Settings`: the one place that picks concrete classes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gamekeeper.errors import ConfigurationError
from gamekeeper.jobs.executors.local import LocalExecutor
from gamekeeper.jobs.manager import JobManager, ManagerConfig
from gamekeeper.jobs.registry import JobRegistry
from gamekeeper.jobs.runner import RunnerConfig
from gamekeeper.services.accounts import AccountService
from gamekeeper.services.analyses import AnalysisService
from gamekeeper.services.games import GameService
from gamekeeper.services.jobs import JobService
from gamekeeper.services.players import PlayerService
from gamekeeper.services.stats import StatsService
from gamekeeper.services.system import SystemService
from gamekeeper.services.users import UserService
from gamekeeper.settings import Settings
from gamekeeper.storage import migrator
from gamekeeper.storage.sql.engine import normalise_url
from gamekeeper.storage.sql.store import SqlStore, libpq_url
from gamekeeper.sync.schedule import AutoSyncLoop, run_due_syncs, summary

if TYPE_CHECKING:
    from gamekeeper.connectors.gate.file import FileHostCoordinators
    from gamekeeper.connectors.gate.policy import UpstreamPlan
    from gamekeeper.connectors.gate.postgres import PostgresHostCoordinators
    from gamekeeper.connectors.gate.upstreams import Upstreams
    from gamekeeper.connectors.offload_procs import ProcessOffload
    from gamekeeper.jobs.executors.procrastinate import ProcrastinateExecutor
    from gamekeeper.storage.sql.copy import CopyReport, Progress

# Start-up time: what only some commands need (the sites' HTTP clients, procrastinate,
# Alembic, the job kinds with python-chess) is imported where it is first used, so
# `gamekeeper jobs list` loads none of it.

#: The procrastinate task that starts due scheduled syncs (one tick for all workers).
AUTO_SYNC_TASK = "gamekeeper.auto_sync"


def manager_config(settings: Settings) -> ManagerConfig:
    return ManagerConfig(
        runner=RunnerConfig(
            heartbeat_interval_s=settings.heartbeat_interval_s,
            cancel_poll_interval_s=settings.cancel_poll_interval_s,
            progress_write_interval_s=settings.progress_write_interval_s,
            retention=settings.job_retention,
        ),
        stale_after_s=settings.stale_after_s,
        sweep_interval_s=settings.sweep_interval_s,
        max_attempts=settings.max_attempts,
        max_stalled_runs=settings.max_stalled_runs,
        single_active_job=settings.single_active_job,
        create_limit=settings.job_create_limit,
        create_window_s=settings.job_create_window_s,
        watch_poll_interval_s=settings.watch_poll_interval_s,
    )


def default_registry(
    store: SqlStore,
    upstreams: Callable[[], Upstreams],
    settings: Settings,
    parsers: Callable[[], ProcessOffload | None] = lambda: None,
) -> JobRegistry:
    """Every job kind gamekeeper ships, wired to this process's services (registered,
    and `upstreams` and `parsers` built, when a kind is first looked up)."""

    def load(registry: JobRegistry) -> None:
        from gamekeeper.analysis.registry import available_plugins
        from gamekeeper.connectors.chesscom.source import ChessComSource
        from gamekeeper.connectors.lichess.source import LichessSource
        from gamekeeper.connectors.offload import in_thread
        from gamekeeper.sync.analysis_run import AnalysisDeps
        from gamekeeper.sync.analyze import register_analysis_kinds
        from gamekeeper.sync.deps import SyncDeps
        from gamekeeper.sync.import_pgn import register_import_kinds
        from gamekeeper.sync.kinds import register_sync_kinds

        sites = upstreams()
        analysis = AnalysisDeps(
            store=store,
            plugins=available_plugins,
            engine_path=settings.stockfish_path,
            workers=settings.engines,
            hash_mb=settings.engine_hash_mb,
            nodes=settings.analysis_nodes,
        )
        lichess = LichessSource(
            sites.lichess,
            settings.lichess_url,
            settings.lichess_token,
            offload=parsers() or in_thread,
        )
        deps = SyncDeps(
            store=store,
            lichess=lichess,
            chesscom=ChessComSource(sites.chesscom, settings.chesscom_url),
            analysis=analysis,
            encode=store.game_row_encoder(),
        )
        from gamekeeper.sync.crawl import register_crawl_kinds

        register_sync_kinds(registry, deps)
        register_crawl_kinds(registry, deps, store)
        register_analysis_kinds(registry, analysis)
        register_import_kinds(
            registry,
            store,
            encoder=store.game_row_encoder(),
            parse_workers=settings.parse_processes,
        )

    return JobRegistry(loader=load)


def upstreams_from(settings: Settings) -> UpstreamPlan:
    """The upstream hosts' politeness rules, from the settings: Lichess has its own
    cool-down, and a floor under `Retry-After`; any other host is treated as Chess.com."""
    from gamekeeper.connectors.gate.policy import GatePolicy, UpstreamPlan, host_key, user_agent

    def policy(base_url: str, cooldown_s: float, *, floor: bool) -> GatePolicy:
        return GatePolicy(
            name=host_key(base_url),
            user_agent=user_agent(settings.contact),
            min_interval_s=settings.upstream_min_interval_s,
            cooldown_s=cooldown_s,
            cooldown_is_floor=floor,
            cooldown_max_s=max(cooldown_s, settings.upstream_cooldown_max_s),
            attempts=settings.upstream_attempts,
            backoff_base_s=settings.upstream_backoff_base_s,
            backoff_max_s=settings.upstream_backoff_max_s,
            busy_grace_s=settings.upstream_busy_grace_s,
        )

    chesscom = policy(settings.chesscom_url, settings.chesscom_cooldown_s, floor=False)
    lichess = policy(settings.lichess_url, settings.lichess_cooldown_s, floor=True)
    return UpstreamPlan(
        lichess_url=settings.lichess_url,
        chesscom_url=settings.chesscom_url,
        # Lichess's rules win when both URLs name one host (as emulators may).
        policies={chesscom.name: chesscom, lichess.name: lichess},
        default=chesscom,
        connect_timeout_s=settings.upstream_connect_timeout_s,
        read_timeout_s=settings.upstream_read_timeout_s,
    )


class Sites:
    """The upstream gates and their cross-process coordination, built on first use."""

    def __init__(self, settings: Settings, store: SqlStore) -> None:
        self._settings, self._store = settings, store
        self.upstreams: Upstreams | None = None
        self.gate: PostgresHostCoordinators | FileHostCoordinators | None = None
        self._parsers: ProcessOffload | None = None

    def get(self) -> Upstreams:
        if self.upstreams is None:
            from gamekeeper.connectors.gate.upstreams import Upstreams

            self.gate = gate_for(self._store)
            coordinator_for = self.gate.coordinator_for if self.gate else None
            plan = upstreams_from(self._settings)
            self.upstreams = Upstreams(plan, coordinator_for=coordinator_for)
        return self.upstreams

    def parsers(self) -> ProcessOffload | None:
        """The processes that parse what the sites send (`parse_workers`; None: 0, parse
        in a thread here). They start when first given work."""
        if self._parsers is None and self._settings.parse_processes > 0:
            from gamekeeper.connectors.offload_procs import ProcessOffload

            self._parsers = ProcessOffload(self._settings.parse_processes)
        return self._parsers

    async def aclose(self) -> None:
        if self.upstreams is not None:
            await self.upstreams.aclose()
        if self.gate is not None:
            await self.gate.aclose()
        if self._parsers is not None:
            await asyncio.to_thread(self._parsers.close)


@dataclass(kw_only=True)
class Services:
    """What the edges (API, CLI, web) call; built once per process."""

    settings: Settings
    store: SqlStore
    registry: JobRegistry
    jobs: JobManager
    #: `LocalExecutor` (embedded) or `ProcrastinateExecutor` (`GAMEKEEPER_EXECUTOR`).
    executor: LocalExecutor | ProcrastinateExecutor
    users: UserService
    accounts: AccountService
    games: GameService
    #: Starting jobs for a user (accounts named in the request, other tools' shapes).
    job_service: JobService
    #: The dashboard's charts (and `/api/stats`).
    stats: StatsService
    #: Health and the figures `/metrics` shows.
    system: SystemService
    #: The upstream gates (and their coordination), built when first asked for.
    sites: Sites
    #: The opponent crawl's players: frontier, cards, opening trees.
    players: PlayerService
    #: The embedded mode's scheduled syncs (procrastinate mode: a periodic task instead).
    schedule: AutoSyncLoop | None = None
    _started: bool = field(default=False, init=False)

    @property
    def analyses(self) -> AnalysisService:
        """Reading stored analyses (stateless: made when asked for)."""
        return AnalysisService(self.games, self.store)

    @property
    def upstreams(self) -> Upstreams:
        """One gate per upstream host (built on first use: it imports httpx)."""
        return self.sites.get()

    @property
    def gate(self) -> PostgresHostCoordinators | FileHostCoordinators | None:
        """The upstream gate's coordination across processes (PostgreSQL, or a SQLite
        file; None in memory or while no gate was built)."""
        return self.sites.gate

    async def start(self, *, sweep: bool = True, schedule: bool = False) -> None:
        """Start running jobs here (the sweeper re-queues what a dead process left);
        `schedule` starts the embedded auto-sync loop (`gamekeeper serve`)."""
        await self.jobs.start(sweep=sweep)
        self._started = True
        if schedule and self.schedule is not None:
            self.schedule.start()

    async def run_worker(self, *, concurrency: int | None = None) -> None:
        """Run procrastinate's worker here until SIGINT or SIGTERM (`gamekeeper worker`)."""
        from gamekeeper.jobs.executors.procrastinate import ProcrastinateExecutor

        if not isinstance(self.executor, ProcrastinateExecutor):
            raise ConfigurationError(
                "gamekeeper worker needs GAMEKEEPER_EXECUTOR=procrastinate "
                "(the embedded executor runs jobs inside gamekeeper serve)"
            )
        await self.executor.run_worker(concurrency=concurrency, install_signal_handlers=True)

    async def aclose(self) -> None:
        if self.schedule is not None:
            await self.schedule.stop()
        if self._started:
            await self.jobs.stop()
        elif not isinstance(self.executor, LocalExecutor):
            await self.executor.stop()  # it may have opened its pool to enqueue or cancel
        await self.sites.aclose()
        await self.store.aclose()


def gate_for(store: SqlStore) -> PostgresHostCoordinators | FileHostCoordinators | None:
    """How processes sharing this database keep one request in flight per site: an
    advisory lock on PostgreSQL, a file lock next to a SQLite file (None: in memory)."""
    from gamekeeper.connectors.gate.file import FileHostCoordinators
    from gamekeeper.connectors.gate.postgres import PostgresHostCoordinators

    if store.dialect == "postgresql":
        return PostgresHostCoordinators(store.conninfo())
    database = store.database_file()
    return FileHostCoordinators(Path(database), store) if database else None


def is_postgresql(database_url: str) -> bool:
    return normalise_url(database_url).get_backend_name() == "postgresql"


def job_service_for(
    settings: Settings, store: SqlStore, jobs: JobManager, accounts: AccountService
) -> JobService:
    """Starting jobs over the API: imports read from the import folder, never the
    database's own files."""
    database = store.database_file()
    return JobService(
        jobs,
        accounts,
        import_dir=settings.import_dir,
        database_file=Path(database) if database else None,
    )


def build_services(settings: Settings, *, registry: JobRegistry | None = None) -> Services:
    """Services for `settings` (no I/O until `start`)."""
    distributed = settings.executor == "procrastinate"
    if distributed and not is_postgresql(settings.database_url):
        raise ConfigurationError(
            "GAMEKEEPER_EXECUTOR=procrastinate needs PostgreSQL: set GAMEKEEPER_DATABASE_URL "
            "to postgresql://... (move an embedded database with: gamekeeper db copy --to URL)"
        )
    store = SqlStore(settings.database_url)
    sites = Sites(settings, store)
    registry = registry or default_registry(store, sites.get, settings, sites.parsers)
    jobs = JobManager(store, registry, config=manager_config(settings))
    executor: LocalExecutor | ProcrastinateExecutor
    schedule: AutoSyncLoop | None = None
    if distributed:
        from gamekeeper.jobs.executors.procrastinate import ProcrastinateExecutor

        executor = ProcrastinateExecutor(
            jobs.runner,
            store.conninfo(),
            concurrency=settings.concurrency,
            # procrastinate's view of a dead worker is only a backstop to our sweeper.
            stalled_after_s=max(30.0, settings.stale_after_s),
        )
        executor.register_kinds(registry.names())
        tick_s, per_tick = settings.auto_sync_tick_s, settings.auto_sync_max_per_tick

        async def auto_sync() -> dict[str, list[str]]:
            return summary(await run_due_syncs(store, jobs, tick_s=tick_s, max_per_tick=per_tick))

        executor.add_periodic(AUTO_SYNC_TASK, tick_s, auto_sync)
    else:
        executor = LocalExecutor(jobs.runner, concurrency=settings.concurrency)
        schedule = AutoSyncLoop(
            store,
            jobs,
            tick_s=settings.auto_sync_tick_s,
            max_per_tick=settings.auto_sync_max_per_tick,
        )
    jobs.attach(executor)
    accounts = AccountService(store, jobs, max_per_owner=settings.max_accounts_per_user)
    return Services(
        settings=settings,
        store=store,
        registry=registry,
        jobs=jobs,
        executor=executor,
        users=UserService(store),
        accounts=accounts,
        games=GameService(store),
        job_service=job_service_for(settings, store, jobs, accounts),
        stats=StatsService(store),
        system=SystemService(store),
        sites=sites,
        players=PlayerService(store),
        schedule=schedule,
    )


async def upgrade_database(services: Services) -> str | None:
    """Bring the schema up to date (`gamekeeper db upgrade`, and on start when enabled).

    On PostgreSQL procrastinate's tables come too, whatever the executor, so switching
    to workers needs no other step. Returns what happened to those, if anything.
    """
    from gamekeeper.storage.sql.queue_schema import apply_schema

    await asyncio.to_thread(migrator.upgrade, services.store.engine)
    if services.store.dialect != "postgresql":
        return None
    return await asyncio.to_thread(apply_schema, services.store.conninfo())


async def ensure_schema(services: Services) -> None:
    """A command's start: migrate only if the schema is not at `HEAD_REVISION` (one
    query, no Alembic import). `gamekeeper db upgrade`, `serve` and `worker` upgrade
    in full (procrastinate's tables too, on PostgreSQL)."""
    if await asyncio.to_thread(migrator.needs_upgrade, services.store.engine):
        await upgrade_database(services)


async def copy_database_to(
    settings: Settings, target_url: str, *, progress: Progress | None = None
) -> tuple[CopyReport, str | None]:
    """`gamekeeper db copy`: the configured database's rows into an empty one, verified;
    a PostgreSQL target also gets procrastinate's tables, ready for workers."""
    from gamekeeper.storage.sql.copy import copy_database
    from gamekeeper.storage.sql.engine import create_engine
    from gamekeeper.storage.sql.queue_schema import apply_schema

    def copy() -> CopyReport:
        if settings.auto_upgrade:
            source = create_engine(settings.database_url)
            try:
                migrator.upgrade(source)
            finally:
                source.dispose()
        return copy_database(settings.database_url, target_url, progress=progress)

    report = await asyncio.to_thread(copy)
    if not is_postgresql(target_url):
        return report, None
    return report, await asyncio.to_thread(apply_schema, libpq_url(target_url))
