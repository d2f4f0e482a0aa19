"""The `analyze` job end to end: real storage (SQLite and PostgreSQL), real Stockfish."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa

from gamekeeper.bootstrap import Services, build_services
from gamekeeper.domain.games import Game
from gamekeeper.domain.jobs import Job, JobStatus
from gamekeeper.settings import Settings
from gamekeeper.storage.sql.schema import analyses, position_evals
from gamekeeper.sync import analysis_run
from tests.integration.analysis.conftest import NODES, lichess_games

Factory = Callable[..., Coroutine[Any, Any, Services]]


@pytest.fixture
async def make_services(db_url: str, stockfish_path: str) -> AsyncIterator[Factory]:
    made: list[Services] = []

    async def make(**overrides: Any) -> Services:
        fields: dict[str, Any] = {
            "database_url": db_url,
            "stockfish_path": stockfish_path,
            "engine_workers": 2,
            "engine_hash_mb": 16,
            "analysis_nodes": NODES,
            "job_create_limit": 1000,
        }
        services = build_services(Settings(**(fields | overrides)))
        await services.start(sweep=False)
        made.append(services)
        return services

    yield make
    for services in made:
        await services.aclose()


async def finished(services: Services, job_id: str) -> Job:
    async def follow() -> Job:
        return [j async for j in services.jobs.watch(job_id)][-1]

    return await asyncio.wait_for(follow(), timeout=120)


async def seed(services: Services, game: Game) -> int:
    """The game stored for alice's account; the account's id."""
    account = await services.accounts.add("admin", "lichess", "alice")
    white = replace(game.white, id="alice", name="alice")
    await services.store.upsert_games([replace(game, white=white)], job_id=None)
    return account.id


async def analyze(services: Services, **parameters: Any) -> Job:
    job = await services.jobs.create("analyze", owner="admin", parameters=parameters)
    return await finished(services, job.id)


def rows(services: Services) -> list[sa.Row[Any]]:
    with services.store.engine.connect() as conn:
        return list(conn.execute(analyses.select().order_by(analyses.c.plugin)))


async def test_every_ply_is_evaluated_and_a_second_run_uses_the_cache(
    make_services: Factory, game_40_plies: Game
) -> None:
    services = await make_services()
    account_id = await seed(services, game_40_plies)
    job = await analyze(services, account_id=account_id)

    assert job.status is JobStatus.COMPLETED, job.error
    assert job.counters["analyzed"] == 1
    assert job.result["engine_evals"] == 41  # 40 plies and the start position
    assert job.result["positions"] == 41
    assert job.result["engine"].startswith("Stockfish")
    assert job.started_at is not None and job.finished_at is not None
    assert 0 < job.result["seconds"] <= (job.finished_at - job.started_at).total_seconds()
    stored = rows(services)
    assert {r.plugin for r in stored} == {
        "move_count",
        "eval_swing",
        "judgments",
        "acpl",
        "accuracy",
    }
    assert {r.job_id for r in stored} == {job.id}
    judgments = next(r.value for r in stored if r.plugin == "judgments")
    assert [m["ply"] for m in judgments["moves"]] == list(range(1, 41))
    assert all(m["eval"] is not None for m in judgments["moves"])
    assert judgments["moves"][0]["san"] == game_40_plies.moves[0]  # type: ignore[index]
    assert judgments["nodes"] == NODES and judgments["engine"] == job.result["engine"]
    # Each side's counts are stored beside the moves (the games listing reads them).
    for side, parity in (("white", 1), ("black", 0)):
        marks = [m["judgment"] for m in judgments["moves"] if m["ply"] % 2 == parity]
        kinds = ("inaccuracy", "mistake", "blunder")
        assert judgments["counts"][side] == {k: marks.count(k) for k in kinds}
    with services.store.engine.connect() as conn:
        cached = conn.execute(sa.select(sa.func.count()).select_from(position_evals)).scalar()
    assert cached == 41

    again = await analyze(services, account_id=account_id)
    assert again.status is JobStatus.COMPLETED, again.error
    assert again.counters.get("analyzed", 0) == 0  # nothing pending: no new rows
    assert rows(services) == stored

    # New plugin versions pending (rows removed): the cache serves every position.
    with services.store.engine.begin() as conn:
        conn.execute(analyses.delete())
    third = await analyze(services, account_id=account_id)
    assert third.status is JobStatus.COMPLETED, third.error
    assert (third.result["engine_evals"], third.result["cache_hits"]) == (0, 41)
    assert {r.job_id for r in rows(services)} == {third.id}


async def test_analysis_without_the_engine_runs_off_the_event_loop(
    make_services: Factory, game_40_plies: Game, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Plain CPU work for every game a sync stores: on the event loop it would hold the
    # API and the dashboard's streams for a whole batch.
    threads: list[threading.Thread] = []
    real = analysis_run.analyze_offline

    def recording(*args: Any) -> Any:
        threads.append(threading.current_thread())
        return real(*args)

    monkeypatch.setattr(analysis_run, "analyze_offline", recording)
    services = await make_services()
    account_id = await seed(services, game_40_plies)
    job = await analyze(services, account_id=account_id, engine=False)
    assert job.status is JobStatus.COMPLETED, job.error
    assert job.counters["analyzed"] == 1
    assert threads and threading.current_thread() not in threads
    assert {r.plugin for r in rows(services)} == {"move_count"}  # the others need the engine


async def test_a_missing_stockfish_fails_the_job_naming_the_setting(
    make_services: Factory, game_40_plies: Game
) -> None:
    services = await make_services(stockfish_path="/nonexistent")
    account_id = await seed(services, game_40_plies)
    job = await analyze(services, account_id=account_id)
    assert job.status is JobStatus.FAILED
    assert "GAMEKEEPER_STOCKFISH_PATH" in (job.error or "")
    assert rows(services) == []

    plain = await analyze(services, account_id=account_id, engine=False)
    assert plain.status is JobStatus.COMPLETED, plain.error
    assert plain.counters["analyzed"] == 1
    assert [(r.plugin, r.value, r.job_id) for r in rows(services)] == [("move_count", 40, plain.id)]


async def test_bad_parameters_are_refused(make_services: Factory) -> None:
    from gamekeeper.errors import InvalidInput

    services = await make_services()
    for parameters in (
        {},
        {"account_id": 1, "plugins": ["nope"]},
        {"account_id": 1, "nodes": 1},
        {"game_ids": list(range(1, 1002))},
    ):
        with pytest.raises(InvalidInput):
            await services.jobs.create("analyze", owner="admin", parameters=parameters)


def stockfish_children() -> list[int]:
    """Pids of the Stockfish processes this test process started."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/comm") as comm:
                name = comm.read().strip()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == os.getpid() and name.startswith("stockfish"):
            found.append(int(entry))
    return found


async def seed_games(services: Services, games: list[Game]) -> int:
    account = await services.accounts.add("admin", "lichess", "alice")
    stored = [replace(g, white=replace(g.white, id="alice", name="alice")) for g in games]
    await services.store.upsert_games(stored, job_id=None)
    return account.id


async def test_engines_killed_mid_job_are_restarted_and_the_job_completes(
    make_services: Factory,
) -> None:
    services = await make_services()
    games = list(lichess_games("reference-games.ndjson").values())
    account_id = await seed_games(services, games)
    job = await services.jobs.create(
        "analyze", owner="admin", parameters={"account_id": account_id, "nodes": 20_000}
    )
    killed: list[int] = []

    async def follow() -> Job:
        last = job
        async for last in services.jobs.watch(job.id):
            if not killed and last.progress.done >= 1 and not last.status.terminal:
                killed.extend(stockfish_children())
                for pid in killed:
                    os.kill(pid, signal.SIGKILL)
        return last

    final = await asyncio.wait_for(follow(), timeout=300)
    assert killed, "the job ended before an engine could be killed"
    assert final.status is JobStatus.COMPLETED, final.error
    assert final.counters["analyzed"] == len(games)
    per_game = {}
    for row in rows(services):
        per_game.setdefault(row.game_id, set()).add(row.plugin)
    assert len(per_game) == len(games)
    assert all("accuracy" in plugins for plugins in per_game.values())
    assert not set(killed) & set(stockfish_children())  # the pool's engines are new ones


async def test_a_cancel_mid_search_stops_the_job(
    make_services: Factory, game_40_plies: Game
) -> None:
    """Searches of 50M nodes per position would take minutes: the cancel stops them."""
    services = await make_services()
    account_id = await seed(services, game_40_plies)
    job = await services.jobs.create(
        "analyze", owner="admin", parameters={"account_id": account_id, "nodes": 50_000_000}
    )

    async def follow() -> Job:
        last = job
        asked = False
        async for last in services.jobs.watch(job.id):
            if not asked and stockfish_children() and last.status is JobStatus.RUNNING:
                await services.jobs.cancel(job.id)
                asked = True
        return last

    final = await asyncio.wait_for(follow(), timeout=60)
    assert final.status is JobStatus.CANCELLED
    assert final.counters.get("analyzed", 0) == 0
    assert rows(services) == []
