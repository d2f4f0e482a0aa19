"""The storage contract, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from gamekeeper.domain.games import Eval, Platform, Termination
from gamekeeper.domain.jobs import Job, JobStatus
from gamekeeper.domain.users import Role
from gamekeeper.errors import InvalidInput, StorageError
from gamekeeper.storage import migrator
from gamekeeper.storage.base import JobQuery
from gamekeeper.storage.sql.schema import games, metadata
from gamekeeper.storage.sql.store import SqlStore
from tests.support.games import make_game


async def test_migrations_create_exactly_the_schema(store: SqlStore) -> None:
    def diff(conn: sa.Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    assert await store.read(diff) == []
    assert not migrator.needs_upgrade(store.engine)


async def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    store = SqlStore(sqlite_url)
    try:
        mode = await store.read(lambda c: c.exec_driver_sql("PRAGMA journal_mode").scalar())
        fks = await store.read(lambda c: c.exec_driver_sql("PRAGMA foreign_keys").scalar())
    finally:
        await store.aclose()
    assert (mode, fks) == ("wal", 1)


async def test_upsert_inserts_updates_and_skips(store: SqlStore) -> None:
    first = await store.upsert_games([make_game(i) for i in range(10)], job_id="job_a")
    assert (first.inserted, first.updated, first.skipped_existing) == (10, 0, 0)

    changed = make_game(3, termination=Termination.MATE)
    again = await store.upsert_games(
        [make_game(i) for i in range(10) if i != 3] + [changed, make_game(10)], job_id="job_b"
    )
    assert (again.inserted, again.updated, again.skipped_existing) == (1, 1, 9)

    row3 = await store.get_game_by_key(Platform.LICHESS, "g0000003")
    row5 = await store.get_game_by_key(Platform.LICHESS, "g0000005")
    assert row3 is not None and row5 is not None
    assert row3["termination"] == "mate"
    assert (row3["first_job_id"], row3["last_job_id"]) == ("job_a", "job_b")
    assert (row5["first_job_id"], row5["last_job_id"]) == ("job_a", "job_a")
    assert await store.count_games() == 11


async def test_upsert_of_a_batch_with_the_same_game_twice_keeps_one(store: SqlStore) -> None:
    result = await store.upsert_games([make_game(1), make_game(1)], job_id=None)
    assert result.inserted == 1
    assert await store.count_games() == 1


async def test_metadata_record_never_erases_moves(store: SqlStore) -> None:
    await store.upsert_games([make_game(1)], job_id="job_a")
    result = await store.upsert_games([make_game(1, moves=False)], job_id="job_b")
    row = await store.get_game_by_key(Platform.LICHESS, "g0000001")
    assert result.skipped_existing == 1
    assert row is not None
    assert row["moves"] == "e4 e5 Nf3 Nc6"
    assert row["clocks"] == [18000, 18000, 17900, 17850]


async def test_moves_fill_in_a_metadata_only_game(store: SqlStore) -> None:
    await store.upsert_games([make_game(1, moves=False)], job_id="job_a")
    assert (await store.get_game_by_key(Platform.LICHESS, "g0000001") or {})["moves"] is None
    result = await store.upsert_games([make_game(1)], job_id="job_b")
    row = await store.get_game_by_key(Platform.LICHESS, "g0000001")
    assert result.updated == 1
    assert row is not None and row["moves"] == "e4 e5 Nf3 Nc6" and row["ply_count"] == 4


async def test_game_fields_round_trip(store: SqlStore) -> None:
    game = make_game(1, evals=(Eval(cp=20), None, Eval(mate=-3), Eval(cp=-15)))
    await store.upsert_games([game], job_id=None)
    row = await store.get_game_by_key(Platform.LICHESS, "g0000001")
    assert row is not None
    assert row["evals"] == [20, None, "#-3", -15]
    assert row["start_time"] == game.start_time
    assert row["start_time"].tzinfo is not None
    assert row["raw"] == game.raw


async def test_cursors_round_trip(store: SqlStore) -> None:
    account = await store.add_account("admin", Platform.LICHESS, "Alice")
    assert await store.get_cursor(account.id, "games") is None
    await store.transaction(lambda tx: tx.set_cursor(account.id, "games", {"since": 1}))
    await store.transaction(lambda tx: tx.set_cursor(account.id, "games", {"since": 2}))
    assert await store.get_cursor(account.id, "games") == {"since": 2}


async def test_accounts_are_unique_per_owner_ignoring_case(store: SqlStore) -> None:
    a = await store.add_account("admin", Platform.LICHESS, "Alice")
    b = await store.add_account("admin", Platform.LICHESS, "alice")
    c = await store.add_account("other", Platform.LICHESS, "alice")
    assert a.id == b.id != c.id
    assert [x.id for x in await store.list_accounts("admin")] == [a.id]
    assert await store.remove_account(a.id)
    assert await store.get_account(a.id) is None


async def test_users_and_tokens(store: SqlStore) -> None:
    user = await store.add_user("carol", Role.USER)
    await store.add_token(user.id, "h" * 64)
    found, _ = await store.token_owner("h" * 64) or (None, None)
    assert found is not None and found.name == "carol" and found.role is Role.USER
    assert await store.token_owner("x" * 64) is None


def _job(n: int, *, owner: str = "admin", status: JobStatus = JobStatus.COMPLETED) -> Job:
    created = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n)
    return Job(
        id=f"job_{n:012x}",
        job_type="demo" if n % 2 else "other",
        family="demo",
        owner=owner,
        status=status,
        created_at=created,
        finished_at=created if status.terminal else None,
    )


async def test_jobs_list_newest_first_with_cursor_pagination(store: SqlStore) -> None:
    for n in range(7):
        await store.transaction(lambda tx, n=n: tx.insert_job(_job(n)))
    await store.transaction(lambda tx: tx.insert_job(_job(100, owner="bob")))

    seen: list[str] = []
    cursor = None
    while True:
        page = await store.list_jobs(JobQuery(owner="admin", limit=3, cursor=cursor))
        seen += [j.id for j in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"job_{n:012x}" for n in reversed(range(7))]

    demo = await store.list_jobs(JobQuery(owner="admin", job_type="demo"))
    assert [j.id for j in demo.items] == [f"job_{n:012x}" for n in (5, 3, 1)]
    with pytest.raises(InvalidInput):
        await store.list_jobs(JobQuery(cursor="not-a-cursor"))


async def test_job_round_trips_through_its_row(store: SqlStore) -> None:
    job = dataclasses.replace(
        _job(1, status=JobStatus.QUEUED), parameters={"account_id": None, "max": 3}
    )
    await store.transaction(lambda tx: tx.insert_job(job))
    assert await store.get_job(job.id) == job


async def test_one_active_job_per_account_and_family_is_enforced_by_the_database(
    store: SqlStore,
) -> None:
    account = await store.add_account("admin", Platform.LICHESS, "alice")
    first = dataclasses.replace(_job(1, status=JobStatus.RUNNING), account_id=account.id)
    second = dataclasses.replace(_job(2, status=JobStatus.QUEUED), account_id=account.id)
    await store.transaction(lambda tx: tx.insert_job(first))
    with pytest.raises(StorageError, match="database error"):
        await store.transaction(lambda tx: tx.insert_job(second))


async def test_games_table_has_the_upsert_key(store: SqlStore) -> None:
    names = {
        tuple(c.columns.keys()) for c in games.constraints if isinstance(c, sa.UniqueConstraint)
    }
    assert ("platform_game_id", "platform") in names


async def test_a_cancel_request_survives_a_running_jobs_own_writes(store: SqlStore) -> None:
    job = _job(1, status=JobStatus.QUEUED)
    await store.transaction(lambda tx: tx.insert_job(job))
    claimed = await store.claim_job(job.id, worker="w:1", now=job.created_at)
    assert claimed is not None
    await store.request_cancel(job.id)  # from another process
    assert await store.save_job(dataclasses.replace(claimed, version=claimed.version + 1))
    stored = await store.get_job(job.id)
    assert stored is not None and stored.cancel_requested
