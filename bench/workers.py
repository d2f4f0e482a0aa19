"""Scale-out speed: eight accounts synced by 1 `gamekeeper worker` against 3 of them.

Emulated Lichess and Chess.com answer every request after `--latency` seconds (and
Lichess streams at `--games-per-s`), as a distant site would. Each worker runs one
job at a time (`--concurrency 1`), so one worker syncs the eight accounts one after
another and three workers sync three at once.

The upstream gate lets one request in flight per site, across all workers, so:

- one site (8 Lichess accounts): the speed-up stays near 1x; the site's one slot is
  the bottleneck, whatever the number of workers (only the work outside requests,
  such as database writes, overlaps);
- two sites (4 Lichess + 4 Chess.com accounts): the two slots fill at once, so the
  speed-up approaches 2x (goal: more than 1.5x).

Each run gets a fresh PostgreSQL database; the time is from the first job's creation
to the last one's end, as the job rows record them. Prints both timings and ratios.

    python bench/workers.py [--postgres postgresql://...] [--games 300] [--latency 0.03]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def scratch_database(postgres: str) -> Iterator[str]:
    """A fresh database next to `postgres`, migrated with procrastinate's tables."""
    import psycopg

    from gamekeeper.storage.sql.store import libpq_url

    admin = libpq_url(postgres)
    name = f"gk_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade = subprocess.run(
            [sys.executable, "-m", "gamekeeper", "db", "upgrade"],
            env=environment(url, {}),
            capture_output=True,
            text=True,
        )
        if upgrade.returncode != 0:
            raise SystemExit(upgrade.stderr)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def environment(db_url: str, sites: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAMEKEEPER_")}
    env.update(
        GAMEKEEPER_EXECUTOR="procrastinate",
        GAMEKEEPER_DATABASE_URL=db_url,
        GAMEKEEPER_AUTO_UPGRADE="false",
        GAMEKEEPER_JOB_CREATE_LIMIT="1000",
        GAMEKEEPER_UPSTREAM_BUSY_GRACE_S="5",
        GAMEKEEPER_WATCH_POLL_INTERVAL_S="0.05",
        PYTHONPATH=str(ROOT),
    )
    if "lichess" in sites:
        env["GAMEKEEPER_LICHESS_URL"] = sites["lichess"]
    if "chesscom" in sites:
        env["GAMEKEEPER_CHESSCOM_URL"] = sites["chesscom"]
    return env


def start_workers(count: int, env: dict[str, str]) -> list[subprocess.Popen[str]]:
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "gamekeeper", "worker", "--concurrency", "1"],
            env=env | {"COLUMNS": "300"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(count)
    ]
    for worker in workers:
        assert worker.stdout is not None
        for line in worker.stdout:
            if "running up to" in line:
                break
        else:
            raise SystemExit("a worker did not start")
    return workers


def stop_workers(workers: list[subprocess.Popen[str]]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=60)
        if worker.stdout is not None:
            worker.stdout.close()


async def sync_all(env: dict[str, str], accounts: list[str]) -> tuple[float, dict[str, float]]:
    """Create a sync per account (this process plays `gamekeeper serve`); the seconds
    from the first creation to the last end, and the seconds jobs ran, per site."""
    from gamekeeper.bootstrap import build_services
    from gamekeeper.settings import Settings

    os.environ.update(env)
    services = build_services(Settings())
    await services.start(sweep=False)
    try:
        ids = []
        for ref in accounts:
            account = await services.accounts.add_ref("admin", ref)
            job = await services.jobs.create(
                "sync_games", owner="admin", parameters={"account_id": account.id}
            )
            ids.append(job.id)
        jobs = [[j async for j in services.jobs.watch(job_id)][-1] for job_id in ids]
    finally:
        await services.aclose()
    failed = [j for j in jobs if j.status.value != "completed"]
    if failed:
        raise SystemExit(f"{failed[0].id} ended {failed[0].status.value}: {failed[0].error}")
    started = min(j.created_at for j in jobs)
    ended = max(j.finished_at for j in jobs if j.finished_at is not None)
    per_site: dict[str, float] = {}
    for ref, job in zip(accounts, jobs, strict=True):
        assert job.started_at is not None and job.finished_at is not None
        site = ref.split(":")[0]
        ran = (job.finished_at - job.started_at).total_seconds()
        per_site[site] = per_site.get(site, 0.0) + ran
    return (ended - started).total_seconds(), per_site


def run(
    postgres: str, sites: dict[str, str], accounts: list[str], workers: int
) -> tuple[float, dict[str, float]]:
    with scratch_database(postgres) as url:
        env = environment(url, sites)
        pool = start_workers(workers, env)
        try:
            return asyncio.run(sync_all(env, accounts))
        finally:
            stop_workers(pool)


def scenario(
    label: str, postgres: str, sites: dict[str, str], accounts: list[str], runs: int
) -> float:
    one, per_site = min((run(postgres, sites, accounts, 1) for _ in range(runs)), key=_first)
    three, _ = min((run(postgres, sites, accounts, 3) for _ in range(runs)), key=_first)
    speedup = one / three
    # One worker runs the jobs back to back, so each site's share is its serial time;
    # with one request in flight per site, no number of workers beats the longest.
    bound = sum(per_site.values()) / max(per_site.values())
    shares = ", ".join(f"{site} {seconds:.1f} s" for site, seconds in per_site.items())
    print(
        f"{label:34} 1 worker {one:6.2f} s   3 workers {three:6.2f} s   "
        f"speed-up {speedup:.2f}x   (per-site serial time: {shares}; bound {bound:.2f}x)",
        flush=True,
    )
    return speedup


def _first(result: tuple[float, dict[str, float]]) -> float:
    return result[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("GAMEKEEPER_TEST_POSTGRES_URL"))
    parser.add_argument("--games", type=int, default=300, help="games per account")
    parser.add_argument("--latency", type=float, default=0.03, help="seconds per request")
    # Real Lichess streams 20-60 games/s; 300 keeps the run short and the two sites'
    # serial times alike (Chess.com: a request per month of archives).
    parser.add_argument("--games-per-s", type=float, default=300, help="Lichess stream pace")
    parser.add_argument("--runs", type=int, default=1, help="runs per setup; the best counts")
    args = parser.parse_args()
    if not args.postgres:
        raise SystemExit("needs PostgreSQL: --postgres URL or GAMEKEEPER_TEST_POSTGRES_URL")

    from gamekeeper.emulators.chesscom import ChessComEmulator
    from gamekeeper.emulators.chesscom_records import ChessComCorpus
    from gamekeeper.emulators.lichess import LichessEmulator
    from gamekeeper.emulators.lichess_records import LichessCorpus
    from gamekeeper.emulators.server import serve_in_thread

    names = [f"player{n}" for n in range(8)]
    lichess = LichessEmulator(LichessCorpus.generate(dict.fromkeys(names, args.games), seed=1))
    chesscom = ChessComEmulator(ChessComCorpus.generate(dict.fromkeys(names, args.games), seed=1))
    lichess.faults.latency_s = chesscom.faults.latency_s = args.latency
    lichess.faults.games_per_s = args.games_per_s
    print(
        f"8 accounts x {args.games} games; {args.latency * 1000:.0f} ms per request, "
        f"Lichess streams {args.games_per_s:.0f} games/s; workers run 1 job each",
        flush=True,
    )
    started = time.perf_counter()
    results: dict[str, Any] = {}
    with serve_in_thread(lichess) as lichess_url, serve_in_thread(chesscom) as chesscom_url:
        sites = {"lichess": lichess_url, "chesscom": chesscom_url}
        results["one"] = scenario(
            "one site (8 Lichess)", args.postgres, sites, [f"lichess:{n}" for n in names], args.runs
        )
        # Interleaved, as users' accounts come: FIFO workers then keep both sites busy.
        mixed = [f"{'lichess' if i % 2 == 0 else 'chesscom'}:{n}" for i, n in enumerate(names)]
        results["two"] = scenario(
            "two sites (4 Lichess, 4 Chess.com)", args.postgres, sites, mixed, args.runs
        )
        overlaps = max(lichess.log.max_concurrent, chesscom.log.max_concurrent)
    verdict = "met" if results["two"] > 1.5 else "NOT met"
    print(
        f"two-site speed-up {results['two']:.2f}x (goal > 1.5x: {verdict}); one-site "
        f"{results['one']:.2f}x (bounded by the gate); most requests at once per site: "
        f"{overlaps}; {time.perf_counter() - started:.0f} s in all"
    )


if __name__ == "__main__":
    main()
