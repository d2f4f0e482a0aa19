"""Cancel latency: from `POST /api/jobs/{id}/cancel` to the job's `cancelled` event.

A real `gamekeeper serve` (its own process, SQLite) syncs from an emulated Lichess on
loopback that streams at `--games-per-s` (60: the pace of a real export). Each trial
starts a sync, waits until it is streaming (or, in the second set, waiting out a 429
cool-down of an hour), sends the cancel, and reads the job's event stream until it
says `cancelled`. The baseline, measured in the same run, is one `GET /healthz` round
trip: the floor of any answer from that server.

    python bench/cancel.py [--trials 20] [--games-per-s 60]

Goal: p99 <= 250 ms in both states.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from gamekeeper.emulators.lichess import LichessEmulator  # noqa: E402
from gamekeeper.emulators.lichess_records import LichessCorpus  # noqa: E402
from gamekeeper.emulators.server import serve_in_thread  # noqa: E402


def events(client: httpx.Client, job_id: str) -> Iterator[dict[str, object]]:
    """The job's snapshots as its event stream sends them."""
    with client.stream("GET", f"/api/jobs/{job_id}/events", timeout=120) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                yield orjson.loads(line.removeprefix("data: "))


def trial(client: httpx.Client, ready: str) -> float:
    """Seconds from sending the cancel to seeing `cancelled`, once the job is `ready`."""
    job = client.post(
        "/api/jobs",
        json={"job_type": "sync_games", "parameters": {"platform": "lichess", "username": "alice"}},
    )
    job.raise_for_status()
    job_id = job.json()["id"]
    sent: float | None = None
    for snapshot in events(client, job_id):
        if sent is None:
            progress = snapshot["progress"]
            wait = snapshot.get("wait")
            streaming = isinstance(progress, dict) and int(progress["done"]) >= 3
            cooling = isinstance(wait, dict) and "429" in str(wait["reason"])
            if (ready == "streaming" and streaming) or (ready == "cool-down" and cooling):
                sent = time.perf_counter()
                client.post(f"/api/jobs/{job_id}/cancel").raise_for_status()
        elif snapshot["status"] == "cancelled":
            return time.perf_counter() - sent
        elif snapshot["status"] in ("completed", "failed"):
            raise SystemExit(f"job {job_id} ended {snapshot['status']}, not cancelled")
    raise SystemExit(f"the event stream of {job_id} ended first")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def serve(env: dict[str, str], workdir: Path) -> tuple[subprocess.Popen[str], str, str]:
    """`gamekeeper serve` in the background: the process, its URL and its admin token."""
    port = "8765"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gamekeeper", "serve", "--host", "127.0.0.1", "--port", port],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "/login?token=" in line:
            token = line.strip().rsplit("token=", 1)[1]
            break
    else:
        raise SystemExit("gamekeeper serve printed no login URL")
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(url + "/healthz").status_code == 200:
                return proc, url, token
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("gamekeeper serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--games-per-s", type=float, default=60.0)
    args = parser.parse_args()

    emulator = LichessEmulator(LichessCorpus.generate({"alice": 5000}, seed=1))
    emulator.faults.games_per_s = args.games_per_s
    with serve_in_thread(emulator) as lichess_url, tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GAMEKEEPER_")}
        env |= {
            "GAMEKEEPER_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "GAMEKEEPER_LICHESS_URL": lichess_url,
            "GAMEKEEPER_LICHESS_COOLDOWN_S": "3600",
            "GAMEKEEPER_JOB_CREATE_LIMIT": "1000",
            "PYTHONPATH": str(ROOT / "src"),
        }
        proc, url, token = serve(env, Path(tmp))
        try:
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
                floor = []
                for _ in range(args.trials):
                    started = time.perf_counter()
                    client.get("/healthz").raise_for_status()
                    floor.append(time.perf_counter() - started)
                results = {"streaming": [trial(client, "streaming") for _ in range(args.trials)]}
                emulator.faults.rate_limit_burst = 1  # one 429: an hour's cool-down for all
                results["cool-down"] = [trial(client, "cool-down") for _ in range(args.trials)]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"cancel latency over {args.trials} cancels each (goal: p99 <= 250 ms)")
    print(f"  baseline GET /healthz: p50 {statistics.median(floor) * 1000:.1f} ms")
    for state, values in results.items():
        p50, p99 = statistics.median(values) * 1000, percentile(values, 0.99) * 1000
        verdict = "meets the goal" if p99 <= 250 else "MISSES the goal"
        print(
            f"  {state:>10}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(values) * 1000:.1f} ms"
            f" ({p99 / (statistics.median(floor) * 1000):.0f}x the baseline; {verdict})"
        )


if __name__ == "__main__":
    main()
