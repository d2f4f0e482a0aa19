"""`gamekeeper db copy --to URL`: an embedded SQLite database into PostgreSQL, row for row."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gamekeeper.domain.games import Platform
from gamekeeper.domain.jobs import ItemError, Job, JobStatus, Phase, PhaseStatus, Progress, Wait
from gamekeeper.domain.users import Role
from gamekeeper.errors import InvalidInput
from gamekeeper.storage.sql.copy import copy_database, table_digest
from gamekeeper.storage.sql.engine import create_engine
from gamekeeper.storage.sql.schema import (
    analyses,
    metadata,
    players,
    position_evals,
    upstream_hosts,
)
from gamekeeper.storage.sql.store import SqlStore, SqlTx
from tests.support.games import make_game

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
GAMES = 10_000
JOBS = 50
T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


async def fill(url: str) -> None:
    """Some of everything: users, tokens, accounts, cursors, 10,000 games, 50 jobs in
    every state, analyses, cached evals, crawled players, gate and schedule rows."""
    store = SqlStore(url)
    try:
        admin = await store.add_user("admin", Role.ADMIN)
        await store.add_user("zoë", Role.USER)
        await store.add_token(admin.id, "a" * 64, "first start")
        alice = await store.add_account("admin", Platform.LICHESS, "alice")
        await store.update_account(dataclasses.replace(alice, auto_sync_minutes=60))
        erik = await store.add_account("zoë", Platform.CHESSCOM, "Erik")
        await store.claim_auto_sync(alice.id, now=T0, due_before=T0)
        for start in range(0, GAMES, 1000):
            batch = [make_game(n) for n in range(start, start + 1000)]
            await store.upsert_games(batch, job_id=f"job_{start:012d}")

        def rest(tx: SqlTx) -> None:
            tx.set_cursor(alice.id, "lichess_games", {"since_ms": 1_700_000_000_123, "open": []})
            tx.set_cursor(erik.id, "chesscom_months", {"month": "2025-02", "etag": 'W/"x"'})
            for n in range(JOBS):
                tx.insert_job(make_job(n, alice.id if n % 2 else None))
            tx.conn.execute(
                analyses.insert(),
                [
                    {
                        "game_id": n + 1,
                        "plugin": "accuracy",
                        "plugin_version": "1.0",
                        "value": {"white": 91.5, "black": 78.25, "notes": ["ok", "ü"]},
                        "job_id": "job_analysis01",
                        "created_at": T0,
                    }
                    for n in range(200)
                ],
            )
            tx.conn.execute(
                position_evals.insert(),
                [
                    {
                        "position": f"8/8/8/8/8/8/8/K{n}k w - -",
                        "engine_key": "stockfish-17 depth=18",
                        "value": {"cp": n - 50, "pv": ["e2e4"]},
                        "created_at": T0,
                    }
                    for n in range(30)
                ],
            )
            tx.conn.execute(
                players.insert(),
                [
                    {
                        "platform": "lichess",
                        "username_key": f"opp{n}",
                        "username": f"Opp{n}",
                        "depth": n % 3,
                        "games_seen": n,
                        "discovered_by_job_id": None,
                        "crawled_at": None if n % 2 else T0,
                        "created_at": T0,
                    }
                    for n in range(40)
                ],
            )
            tx.conn.execute(
                upstream_hosts.insert().values(
                    host="lichess.org", cooldown_until=T0, strikes=2, updated_at=T0
                )
            )

        await store.write(rest)
    finally:
        await store.aclose()


def make_job(n: int, account_id: int | None) -> Job:
    status = list(JobStatus)[n % len(JobStatus)]
    at = T0 + timedelta(seconds=n)
    return Job(
        id=f"job_{n:012x}",
        job_type="sync_games" if account_id else "import_pgn",
        family="sync" if account_id else f"import-{n}",
        owner="admin",
        account_id=account_id if status.terminal else None,
        parameters={"account_id": account_id, "since": "2024-01-01", "max": n},
        status=status,
        phase="fetching",
        phases=(Phase(name="fetching", status=PhaseStatus.RUNNING, done=n, total=100),),
        progress=Progress(done=n, total=100, rate_per_s=1.5, eta_s=None),
        counters={"found": n, "inserted": n // 2},
        errors=(ItemError(at=at, item=f"g{n}", message="bad move «Nf9»"),),
        error="boom" if status is JobStatus.FAILED else None,
        wait=Wait(reason="429", resume_at=at) if status is JobStatus.WAITING else None,
        checkpoint={"since_ms": n, "open_ids": ["a", "b"]},
        result={"written": n},
        attempt=n % 3,
        cancel_requested=bool(n % 5 == 0),
        scheduled=bool(n % 7 == 0),
        created_at=at,
        updated_at=at,
        started_at=at,
        heartbeat_at=at,
        finished_at=at if status.terminal else None,
    )


def rows(url: str, table: sa.Table) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            stmt = sa.select(table).order_by(*table.primary_key.columns)
            return [tuple(row) for row in conn.execute(stmt)]
    finally:
        engine.dispose()


async def add_account_id(url: str) -> int:
    store = SqlStore(url)
    try:
        return (await store.add_account("admin", Platform.LICHESS, "newcomer")).id
    finally:
        await store.aclose()


def copy_command(env: dict[str, str], cwd: Path, target: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gamekeeper", "db", "copy", "--to", target],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_db_copy_moves_every_row_and_refuses_a_non_empty_target(
    sqlite_url: str, postgres_url: str, tmp_path: Path
) -> None:
    asyncio.run(fill(sqlite_url))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAMEKEEPER_")}
    env.update(GAMEKEEPER_DATABASE_URL=sqlite_url, COLUMNS="200", PYTHONPATH=str(ROOT))
    done = copy_command(env, tmp_path, postgres_url)
    assert done.returncode == 0, done.stderr
    assert "row counts and checksums match" in done.stdout
    assert "procrastinate schema created" in done.stdout

    for table in metadata.sorted_tables:
        source, target = rows(sqlite_url, table), rows(postgres_url, table)
        assert len(source) == len(target), table.name
        assert source == target, table.name
    assert len(rows(postgres_url, metadata.tables["games"])) == GAMES
    assert len(rows(postgres_url, metadata.tables["jobs"])) == JOBS

    # The copy continues where the source left off: new ids follow the copied ones.
    assert asyncio.run(add_account_id(postgres_url)) == 3

    again = copy_command(env, tmp_path, postgres_url)
    assert again.returncode == 2
    assert "is not empty" in again.stderr and "Traceback" not in again.stderr


def test_a_checksum_reads_the_same_on_both_databases_and_a_copy_can_not_target_itself(
    sqlite_url: str,
) -> None:
    with pytest.raises(InvalidInput, match="the target is the source"):
        copy_database(sqlite_url, sqlite_url)
    engine = create_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert table_digest(conn, metadata.tables["games"])[0] == 0
    finally:
        engine.dispose()
