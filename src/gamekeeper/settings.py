"""Settings, read from `GAMEKEEPER_*` environment variables (and an optional .env file)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def spare_cores() -> int:
    """The cores this process may run on, but one: the one its own job works on (the
    default for the processes that work beside it: engines, PGN parsers)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max((cores or 1) - 1, 0)


def default_database_url() -> str:
    """A SQLite file in the user's data directory (the directory is made on first use)."""
    path = Path(platformdirs.user_data_dir("gamekeeper", appauthor=False)) / "gamekeeper.db"
    return f"sqlite:///{path}"


class Settings(BaseSettings):
    """Everything an operator can set. Names are part of the interface: keep them."""

    model_config = SettingsConfigDict(
        env_prefix="GAMEKEEPER_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # -- storage --------------------------------------------------------------
    database_url: str = Field(default_factory=default_database_url)
    #: Run pending migrations when `serve`, `sync` and friends start.
    auto_upgrade: bool = True

    # -- upstreams ------------------------------------------------------------
    lichess_url: str = "https://lichess.org"
    chesscom_url: str = "https://api.chess.com"
    lichess_token: str | None = None
    #: Who to contact about our traffic; sent in the User-Agent, as the sites ask.
    contact: str = "admin@localhost"
    #: Minimum seconds between two requests to one host.
    upstream_min_interval_s: float = 0.0
    #: Seconds the whole process keeps off Lichess after a 429 (Lichess asks for a minute).
    lichess_cooldown_s: float = 60.0
    #: Seconds the whole process keeps off Chess.com after a 429 without Retry-After.
    chesscom_cooldown_s: float = 60.0
    #: Attempts per request on 5xx, timeouts and resets (backoff with full jitter between).
    upstream_attempts: int = 5
    upstream_backoff_base_s: float = 1.0
    upstream_backoff_max_s: float = 60.0
    #: The longest a cool-down grows to while 429s keep coming.
    upstream_cooldown_max_s: float = 900.0
    #: Seconds a request queues quietly behind another job's before that job shows `waiting`.
    upstream_busy_grace_s: float = 1.0
    #: Seconds without a byte before a stream counts as stalled.
    upstream_read_timeout_s: float = 60.0
    upstream_connect_timeout_s: float = 15.0

    # -- jobs -----------------------------------------------------------------
    executor: Literal["local", "procrastinate"] = "local"
    #: Jobs one process runs at once.
    concurrency: int = Field(default=4, ge=1)
    #: Seconds between heartbeats of a running job.
    heartbeat_interval_s: float = Field(default=5.0, gt=0)
    #: Seconds between a running job's looks for a cancel requested by another process.
    cancel_poll_interval_s: float = Field(default=0.2, gt=0)
    #: A running job whose heartbeat is older than this is presumed dead.
    stale_after_s: float = Field(default=60.0, gt=0)
    #: Seconds between sweeps for stale jobs.
    sweep_interval_s: float = Field(default=30.0, gt=0)
    #: Runs that made progress (committed a checkpoint) a job gets before a stale
    #: heartbeat fails it.
    max_attempts: int = Field(default=3, ge=1)
    #: Runs that died before their first checkpoint a job gets before it is failed (a
    #: separate, larger bound: a worker killed early says little about the job, but a
    #: job that kills every worker must still end).
    max_stalled_runs: int = Field(default=10, ge=1)
    #: Finished jobs kept per owner; older ones are deleted.
    job_retention: int = Field(default=100, ge=1)
    #: Refuse any job while another is active anywhere in the instance.
    single_active_job: bool = False
    #: Jobs one user may create per window.
    job_create_limit: int = Field(default=30, ge=1)
    job_create_window_s: float = Field(default=60.0, gt=0)
    #: Live progress goes to watchers at once; the row at most this often.
    progress_write_interval_s: float = Field(default=2.0, ge=0)
    #: Seconds between database polls when watching a job run by another process.
    watch_poll_interval_s: float = Field(default=1.0, gt=0)
    #: Seconds between checks for accounts whose scheduled sync (`auto_sync_minutes`) is due.
    auto_sync_tick_s: int = Field(default=60, ge=1)
    #: Scheduled syncs one tick starts at most, all users together (each user's runs
    #: also count against their `job_create_limit`); the rest wait for the next tick.
    auto_sync_max_per_tick: int = Field(default=60, ge=1)
    #: Accounts one user may have (admins are not limited).
    max_accounts_per_user: int = Field(default=50, ge=1)

    # -- edges ----------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    #: The gamekeeper user the CLI acts as.
    user: str = "admin"
    #: Largest request body the server reads (the API's JSON; the login form has its own
    #: 4 KiB); larger ones are refused with 413 before they are read.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    #: When set, `/metrics` needs `Authorization: Bearer <this>`.
    metrics_token: str | None = None
    #: The folder API imports (`import_pgn` over HTTP) may read from; unset, imports
    #: over the API are refused (the CLI's `gamekeeper import` reads any file).
    import_dir: Path | None = None
    #: Address(es) or network(s) of a reverse proxy whose `X-Forwarded-Proto` is taken
    #: (comma-separated), so the login cookie is `Secure` behind TLS.
    trusted_proxy: str | None = None
    #: Seconds between checks that an event stream's token is still valid (a revoked or
    #: expired token ends the stream).
    stream_auth_recheck_s: float = Field(default=30.0, gt=0)

    @field_validator("trusted_proxy")
    @classmethod
    def _networks(cls, value: str | None) -> str | None:
        """Addresses or networks (`10.0.0.5`, `172.16.0.0/12`), comma-separated."""
        for part in (value or "").split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)  # ValueError: not one
        return value or None

    # -- parsing --------------------------------------------------------------
    #: Processes that parse a PGN import, and a Lichess sync's lines, while the job's
    #: process stores them; unset: `spare_cores()` (1 on two cores); 0 parses in the
    #: job's process (one core).
    parse_workers: int | None = Field(default=None, ge=0, le=64)

    # -- analysis -------------------------------------------------------------
    #: The Stockfish binary; unset: `stockfish` on PATH, else /usr/games/stockfish.
    stockfish_path: str | None = None
    #: Stockfish processes one analysis runs, each single-threaded; unset:
    #: `spare_cores()`, at least 1.
    engine_workers: int | None = Field(default=None, ge=1, le=64)
    #: Nodes searched per position (Lichess's own automatic-analysis budget): a node
    #: limit, unlike a depth or a time, gives the same evaluation on every machine.
    analysis_nodes: int = Field(default=150_000, ge=1_000, le=100_000_000)
    #: Each engine's hash table, in MB.
    engine_hash_mb: int = Field(default=32, ge=1, le=4096)

    @property
    def parse_processes(self) -> int:
        """`parse_workers`, or its default."""
        return spare_cores() if self.parse_workers is None else self.parse_workers

    @property
    def engines(self) -> int:
        """`engine_workers`, or its default."""
        return self.engine_workers or max(1, spare_cores())
