"""API under load: `GET /api/jobs/{id}` polls and event streams while a big sync runs.

As a user runs it: a real `gamekeeper serve` (its own process, SQLite) syncs N games
from an emulated Lichess (its own process, unthrottled, on loopback). In the same run:

1. alone: the sync with nobody watching but one slow poller (the server's own
   timestamps time it, from the job's start to the end of its fetch; the analyzing
   phase that follows is cancelled: it is analysis, timed by bench/analysis.py);
2. under load: the same sync on a fresh database while `--clients` clients poll
   `GET /api/jobs/{id}` (each waits `--poll-interval` between answers; their first
   polls are spread over one interval, as independent users' are, or all at once with
   `--in-step`) and `--watchers` clients read `GET /api/jobs/{id}/events` (server-sent
   events) to the end.

Prints p50/p99/max of the polls (all of them, and those after each client's first,
which opens its connection), the baseline (the same poll on the idle server after the
sync) and the sync's slowdown under load against alone. Goals: poll p99 <= 20 ms;
slowdown <= 25 %. The clients run in this process (asyncio), so on a small machine
their own scheduling counts in the figures too.

    python bench/api_load.py [--games 100000] [--clients 50] [--watchers 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

P99_GOAL_MS = 20.0
SLOWDOWN_GOAL = 0.25


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def emulator_side(games: int, port: int) -> None:
    """The emulated Lichess, in the foreground (a child process of the driver)."""
    import uvicorn

    from gamekeeper.emulators.lichess import LichessEmulator
    from gamekeeper.emulators.lichess_records import LichessCorpus

    emulator = LichessEmulator(LichessCorpus.generate({"alice": games}, seed=1))
    emulator.faults.limit_concurrency = False
    config = uvicorn.Config(emulator.app, host="127.0.0.1", port=port, log_level="warning")
    print("ready", flush=True)
    uvicorn.Server(config).run()


def start_emulator(games: int, port: int) -> subprocess.Popen[str]:
    side = ["--side", "emulator", "--games", str(games), "--port", str(port)]
    proc = subprocess.Popen(
        [sys.executable, __file__, *side],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": str(ROOT / "src")},
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise SystemExit("the emulator did not start")
    url = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            if httpx.get(url + "/api/user/alice").status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.terminate()
    raise SystemExit("the emulator did not answer")


def serve(env: dict[str, str], workdir: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    """`gamekeeper serve` in the background: the process and its admin token."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gamekeeper", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=None,  # the server's own errors, if any, go to ours
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "/login?token=" in line:
            token = line.strip().rsplit("token=", 1)[1]
            break
    else:
        raise SystemExit("gamekeeper serve printed no login URL")
    for _ in range(400):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return proc, token
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("gamekeeper serve did not start")


async def poller(
    client: httpx.AsyncClient,
    job_id: str,
    interval: float,
    done: asyncio.Event,
    out: list[float],
    later: list[float],
    offset: float = 0.0,
) -> None:
    """Polls, from `offset` seconds on, until the fetch ends: every answer's time in
    `out`, and those after this client's first (which opens its connection) in `later`."""
    first = True
    await asyncio.sleep(offset)
    while not done.is_set():
        started = time.perf_counter()
        response = await client.get(f"/api/jobs/{job_id}")
        out.append(time.perf_counter() - started)
        if not first:
            later.append(out[-1])
        first = False
        response.raise_for_status()
        job = response.json()
        if job["phase"] == "analyzing" or job["status"] in ("completed", "failed", "cancelled"):
            done.set()
        await asyncio.sleep(interval)


async def watcher(client: httpx.AsyncClient, job_id: str) -> int:
    """Reads the job's event stream to its end; how many events came."""
    events = 0
    async with client.stream("GET", f"/api/jobs/{job_id}/events", timeout=None) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                events += 1
                if orjson.loads(line.removeprefix("data: ")).get("status") == "end":
                    break
    return events


def offset(n: int, clients: int, args: argparse.Namespace) -> float:
    """When client `n` first polls: spread over one interval, as independent users'
    polls are (`--in-step`: all at once, and then they stay in step, every round
    queueing every client's request at the same moment)."""
    return 0.0 if args.in_step else n * args.poll_interval / clients


def seconds_of(job: dict[str, Any]) -> float:
    """The sync's ingest, by the server's clock: the job's start to its fetch's end."""
    if job["status"] == "failed":
        raise SystemExit(f"the sync failed: {job.get('error')}")
    phases = {p["name"]: p for p in job["phases"]}
    ended = phases["enriching"]["finished_at"] or phases["fetching"]["finished_at"]
    started = datetime.fromisoformat(job["started_at"])
    return (datetime.fromisoformat(ended) - started).total_seconds()


async def run_sync(url: str, token: str, args: argparse.Namespace, loaded: bool) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.clients + args.watchers + 5)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=60, limits=limits
    ) as client:
        created = await client.post(
            "/api/jobs",
            json={
                "job_type": "sync_games",
                "parameters": {"platform": "lichess", "username": "alice"},
            },
        )
        created.raise_for_status()
        job_id = created.json()["id"]
        polls: list[float] = []
        later: list[float] = []
        done = asyncio.Event()
        clients = args.clients if loaded else 1
        interval = args.poll_interval if loaded else 0.5
        tasks = [
            asyncio.create_task(
                poller(client, job_id, interval, done, polls, later, offset(n, clients, args))
            )
            for n in range(clients)
        ]
        count = args.watchers if loaded else 0
        watchers = [asyncio.create_task(watcher(client, job_id)) for _ in range(count)]
        await asyncio.gather(*tasks)
        # The analyzing phase that follows the fetch is analysis, not ingest (see
        # bench/analysis.py): stop it, and the event streams end.
        await client.post(f"/api/jobs/{job_id}/cancel")  # 409 if it already ended
        events = await asyncio.gather(*watchers)
        job = (await client.get(f"/api/jobs/{job_id}")).json()
        served = server_side(await client.get("/metrics"), f"/api/jobs/{job_id}")
        idle: list[float] = []
        for _ in range(200 if loaded else 0):
            started = time.perf_counter()
            (await client.get(f"/api/jobs/{job_id}")).raise_for_status()
            idle.append(time.perf_counter() - started)
    return {
        "seconds": seconds_of(job),
        "games": job["counters"].get("inserted", 0),
        "polls": polls,
        "later": later,
        "idle": idle,
        "events": events,
        "served": served,
    }


def server_side(metrics: httpx.Response, path: str) -> dict[float, int]:
    """The server's own latency histogram of the job polls so far: bucket bound (s) ->
    polls answered within it (from the outermost middleware to the response head)."""
    counts: dict[float, int] = {}
    for line in metrics.text.splitlines():
        if line.startswith("gamekeeper_http_request_duration_seconds_bucket{") and (
            'route="/api/jobs/{job_id}"' in line and 'method="GET"' in line
        ):
            labels, value = line.rsplit(" ", 1)
            bound = labels.split('le="', 1)[1].split('"', 1)[0]
            counts[float(bound)] = counts.get(float(bound), 0) + int(float(value))
    return counts


def one_run(args: argparse.Namespace, lichess_url: str, loaded: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GAMEKEEPER_")}
        env |= {
            "GAMEKEEPER_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "GAMEKEEPER_LICHESS_URL": lichess_url,
            "GAMEKEEPER_JOB_CREATE_LIMIT": "1000",
            "PYTHONPATH": str(ROOT / "src"),
        }
        proc, token = serve(env, Path(tmp), args.port)
        try:
            return asyncio.run(run_sync(f"http://127.0.0.1:{args.port}", token, args, loaded))
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--watchers", type=int, default=10)
    parser.add_argument("--poll-interval", type=float, default=0.5, help="seconds")
    parser.add_argument("--runs", type=int, default=1, help="runs of each; the best sync counts")
    parser.add_argument(
        "--in-step", action="store_true", help="start every client at once (see `offset`)"
    )
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--side", choices=["emulator"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side == "emulator":
        emulator_side(args.games, args.port)
        return

    print(f"generating {args.games:,} games...", flush=True)
    emulator = start_emulator(args.games, args.port + 1)  # the child serves on --port
    lichess_url = f"http://127.0.0.1:{args.port + 1}"
    try:
        alone = [one_run(args, lichess_url, loaded=False) for _ in range(args.runs)]
        loaded = [one_run(args, lichess_url, loaded=True) for _ in range(args.runs)]
    finally:
        emulator.terminate()
        emulator.wait(timeout=60)
    best_alone = min(alone, key=lambda r: r["seconds"])
    best_loaded = min(loaded, key=lambda r: r["seconds"])
    polls = [p for r in loaded for p in r["polls"]]
    idle = [p for r in loaded for p in r["idle"]]
    p50, p99 = statistics.median(polls) * 1000, percentile(polls, 0.99) * 1000
    slowdown = best_loaded["seconds"] / best_alone["seconds"] - 1
    print(
        f"API under load: {args.clients} clients polling GET /api/jobs/{{id}} every "
        f"{args.poll_interval:g} s and {args.watchers} event-stream watchers, while a "
        f"{best_loaded['games']:,}-game sync runs (SQLite)"
    )
    print(
        f"  polls: {len(polls):,} answered; p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {max(polls) * 1000:.1f} ms (goal p99 <= {P99_GOAL_MS:g} ms; "
        f"{'meets it' if p99 <= P99_GOAL_MS else 'MISSES it'})"
    )
    later = [p for r in loaded for p in r["later"]]
    if later:
        print(
            f"  the same, after each client's first poll (which opens its connection): "
            f"p50 {statistics.median(later) * 1000:.1f} ms, "
            f"p99 {percentile(later, 0.99) * 1000:.1f} ms, max {max(later) * 1000:.1f} ms"
        )
    print(
        f"  baseline, the same poll on the idle server: p50 {statistics.median(idle) * 1000:.1f}"
        f" ms, p99 {percentile(idle, 0.99) * 1000:.1f} ms"
    )
    served = best_loaded["served"]
    if served:
        total = served[float("inf")]
        within = ", ".join(
            f"{served[b] / total:.1%} within {b * 1000:g} ms"
            for b in (0.01, 0.025, 0.1)
            if b in served
        )
        print(f"  the server's own timing of those polls (its histogram): {within}")
    print(f"  events read per watcher: {min(best_loaded['events'] or [0]):,} or more")
    print(
        f"  sync alone {best_alone['seconds']:.2f} s "
        f"({best_alone['games'] / best_alone['seconds']:,.0f} games/s), under load "
        f"{best_loaded['seconds']:.2f} s: slowdown {slowdown:+.0%} (goal <= "
        f"{SLOWDOWN_GOAL:.0%}; {'meets it' if slowdown <= SLOWDOWN_GOAL else 'MISSES it'})"
    )


if __name__ == "__main__":
    main()
