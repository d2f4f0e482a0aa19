"""Sync ingest speed: gamekeeper's `sync_games` against a minimal loop, in the same run.

An emulated Lichess serves N generated games unthrottled on loopback. Each side runs
in its own process (so each peak RSS is its own):

- bare floor: the same export read with httpx, each line `orjson.loads`-ed for its id,
  `(id, line)` rows `executemany`-inserted in batches of 500 into a table with nothing
  but its primary key (no other column constraint, no other index);
- floor: the same loop, the rows cut into the columns of gamekeeper's `games` table
  (with its indexes);
- gamekeeper: `sync_games` through the job engine (gate, parser, upsert, checkpoints),
  timed until its fetch ends (the analyzing phase that follows is cancelled: it is
  analysis, not ingest).

Prints games/s of each, gamekeeper's ratio to each floor (goal >= 0.5 of the bare
one) and gamekeeper's peak RSS (goal <= 200 MB). `--postgres URL` runs the same
against PostgreSQL (a scratch database is created next to the one named, and dropped
after).

    python bench/sync_ingest.py [--games 100000] [--postgres postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

BATCH = 500


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM: unlike ru_maxrss, not inherited at fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the two sides, each run in a child process ------------------------------------------


async def floor_side(base_url: str, db_url: str) -> dict[str, Any]:
    import httpx
    import orjson
    import sqlalchemy as sa

    from gamekeeper.storage.sql.engine import create_engine
    from gamekeeper.storage.sql.schema import games

    engine = create_engine(db_url)
    insert = games.insert()
    started, cpu_started = time.perf_counter(), time.process_time()
    count = 0
    rows: list[dict[str, Any]] = []
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT 1"))
    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream(
            "GET",
            f"{base_url}/api/games/user/alice",
            params={"sort": "dateAsc", "moves": "true", "clocks": "true", "evals": "true"},
            headers={"Accept": "application/x-ndjson"},
        ) as response,
    ):
        async for line in response.aiter_lines():
            if not line:
                continue
            raw = orjson.loads(line)
            players = raw.get("players", {})
            white = players.get("white", {})
            black = players.get("black", {})
            rows.append(
                {
                    "platform": "lichess",
                    "platform_game_id": raw["id"],
                    "white_name": (white.get("user") or {}).get("name"),
                    "white_id": (white.get("user") or {}).get("id"),
                    "white_rating": white.get("rating"),
                    "black_name": (black.get("user") or {}).get("name"),
                    "black_id": (black.get("user") or {}).get("id"),
                    "black_rating": black.get("rating"),
                    "result": "*",
                    "termination": str(raw.get("status")),
                    "winner": raw.get("winner"),
                    "variant": raw.get("variant", "standard"),
                    "speed": raw.get("speed"),
                    "rated": raw.get("rated"),
                    "moves": raw.get("moves"),
                    "clocks": raw.get("clocks"),
                    "raw": line,
                    "digest": "",
                    "created_at": _now(),
                    "updated_at": _now(),
                }
            )
            count += 1
            if len(rows) >= BATCH:
                with engine.begin() as conn:
                    conn.execute(insert, rows)
                rows = []
    if rows:
        with engine.begin() as conn:
            conn.execute(insert, rows)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    engine.dispose()
    return {"games": count, "seconds": elapsed, "cpu_seconds": cpu, "peak_rss_mb": peak_rss_mb()}


async def bare_side(base_url: str, db_url: str) -> dict[str, Any]:
    """The least a sync can do: fetch, read each line's id, insert (id, line)."""
    import httpx
    import orjson
    import sqlalchemy as sa

    from gamekeeper.storage.sql.engine import create_engine

    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE bare_games (id TEXT PRIMARY KEY, raw TEXT)"))
    insert = sa.text("INSERT INTO bare_games (id, raw) VALUES (:id, :raw)")
    started, cpu_started = time.perf_counter(), time.process_time()
    count = 0
    rows: list[dict[str, Any]] = []
    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream(
            "GET",
            f"{base_url}/api/games/user/alice",
            params={"sort": "dateAsc", "moves": "true", "clocks": "true", "evals": "true"},
            headers={"Accept": "application/x-ndjson"},
        ) as response,
    ):
        async for line in response.aiter_lines():
            if not line:
                continue
            rows.append({"id": orjson.loads(line)["id"], "raw": line})
            count += 1
            if len(rows) >= BATCH:
                with engine.begin() as conn:
                    conn.execute(insert, rows)
                rows = []
    if rows:
        with engine.begin() as conn:
            conn.execute(insert, rows)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    engine.dispose()
    return {"games": count, "seconds": elapsed, "cpu_seconds": cpu, "peak_rss_mb": peak_rss_mb()}


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def gamekeeper_side(base_url: str, db_url: str) -> dict[str, Any]:
    from gamekeeper.bootstrap import build_services
    from gamekeeper.settings import Settings

    settings = Settings(database_url=db_url, lichess_url=base_url, auto_upgrade=False)
    services = build_services(settings)
    await services.start(sweep=False)
    try:
        account = await services.accounts.add("admin", "lichess", "alice")
        started, cpu_started = time.perf_counter(), time.process_time()
        job = await services.jobs.create(
            "sync_games", owner="admin", parameters={"account_id": account.id}
        )
        # Ingest ends where the sync's analyzing phase (plugins on the new games) begins:
        # that phase is analysis, timed by bench/analysis.py, so it is cancelled here.
        async for snapshot in services.jobs.watch(job.id):
            final = snapshot
            if snapshot.phase == "analyzing" or snapshot.status.terminal:
                break
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if not final.status.terminal:
            await services.jobs.cancel(job.id)
            [_ async for _ in services.jobs.watch(job.id)]
    finally:
        await services.aclose()
    if final.status.value not in ("completed", "running"):
        raise SystemExit(f"sync ended {final.status.value}: {final.error}")
    return {
        "games": final.counters["inserted"],
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "peak_rss_mb": peak_rss_mb(),
    }


# -- the driver ------------------------------------------------------------------------


def fresh_database(kind: str, workdir: Path, postgres: str | None) -> tuple[str, Any]:
    """A migrated, empty database; and how to drop it."""
    from gamekeeper.storage import migrator
    from gamekeeper.storage.sql.engine import create_engine, normalise_url

    if kind == "sqlite":
        url = f"sqlite:///{workdir / f'{uuid.uuid4().hex}.db'}"
        drop = None
    else:
        import psycopg

        assert postgres is not None
        name = f"gk_bench_{uuid.uuid4().hex[:10]}"
        admin = normalise_url(postgres).set(drivername="postgresql")
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        url = admin.set(database=name).render_as_string(hide_password=False)

        def drop() -> None:
            with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    engine = create_engine(url)
    migrator.upgrade(engine)
    engine.dispose()
    return url, drop


def run_side(side: str, base_url: str, db_url: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--side", side, "--url", base_url, "--db", db_url],
        check=True,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("GAMEKEEPER_")},
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def best_of(
    kind: str, side: str, base_url: str, workdir: Path, postgres: str | None, runs: int
) -> dict[str, Any]:
    """The fastest of `runs` runs, each on a fresh database (the machine is shared)."""
    results = []
    for _ in range(runs):
        db_url, drop = fresh_database(kind, workdir, postgres)
        try:
            results.append(run_side(side, base_url, db_url))
        finally:
            if drop:
                drop()
    return min(results, key=lambda r: r["seconds"])


def compare(
    kind: str, base_url: str, workdir: Path, postgres: str | None, runs: int
) -> dict[str, Any]:
    bare = best_of(kind, "bare", base_url, workdir, postgres, runs)
    floor = best_of(kind, "floor", base_url, workdir, postgres, runs)
    ours = best_of(kind, "gamekeeper", base_url, workdir, postgres, runs)
    bare_rate = bare["games"] / bare["seconds"]
    floor_rate = floor["games"] / floor["seconds"]
    our_rate = ours["games"] / ours["seconds"]
    ratio, bare_ratio = our_rate / floor_rate, our_rate / bare_rate
    # Per CPU-second too: on a busy machine wall time says more about the neighbours.
    cpu_ratio = (ours["games"] / ours["cpu_seconds"]) / (floor["games"] / floor["cpu_seconds"])
    bare_cpu_ratio = (ours["games"] / ours["cpu_seconds"]) / (bare["games"] / bare["cpu_seconds"])
    print(
        f"{kind:10} bare floor {bare_rate:9,.0f} games/s   floor {floor_rate:9,.0f} games/s   "
        f"gamekeeper {our_rate:9,.0f} games/s ({ours['games']:,} games, best of {runs})"
    )
    print(
        f"{'':10} gamekeeper / bare floor {bare_ratio:.2f} (goal >= 0.5; per CPU-second "
        f"{bare_cpu_ratio:.2f})   gamekeeper / floor {ratio:.2f} (per CPU-second "
        f"{cpu_ratio:.2f})"
    )
    print(
        f"{'':10} gamekeeper peak RSS {ours['peak_rss_mb']:.0f} MB (goal <= 200; floor "
        f"{floor['peak_rss_mb']:.0f} MB, bare floor {bare['peak_rss_mb']:.0f} MB)"
    )
    return {
        "kind": kind,
        "ratio": ratio,
        "bare_ratio": bare_ratio,
        "cpu_ratio": cpu_ratio,
        "bare": bare,
        "floor": floor,
        "ours": ours,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=100_000)
    parser.add_argument("--postgres", default=os.environ.get("GAMEKEEPER_TEST_POSTGRES_URL"))
    parser.add_argument("--runs", type=int, default=3, help="runs per side; the best counts")
    parser.add_argument("--side", choices=["bare", "floor", "gamekeeper"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.side:
        side = {"bare": bare_side, "floor": floor_side, "gamekeeper": gamekeeper_side}[args.side]
        print(json.dumps(asyncio.run(side(args.url, args.db))))
        return

    from gamekeeper.emulators.lichess import LichessEmulator
    from gamekeeper.emulators.lichess_records import LichessCorpus
    from gamekeeper.emulators.server import serve_in_thread

    print(f"generating {args.games:,} games...", flush=True)
    emulator = LichessEmulator(LichessCorpus.generate({"alice": args.games}, seed=1))
    emulator.faults.limit_concurrency = False
    with serve_in_thread(emulator) as base_url, tempfile.TemporaryDirectory() as tmp:
        compare("sqlite", base_url, Path(tmp), None, args.runs)
        if args.postgres:
            compare("postgresql", base_url, Path(tmp), args.postgres, args.runs)
        else:
            print("postgresql: skipped (pass --postgres URL or set GAMEKEEPER_TEST_POSTGRES_URL)")


if __name__ == "__main__":
    main()
