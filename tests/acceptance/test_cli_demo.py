"""`gamekeeper demo` and `gamekeeper serve` as a user starts them."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    process: subprocess.Popen[str]
    url: str
    printed: str
    token: str | None

    def stop(self) -> int:
        """Ctrl-C, then wait for the exit (a hang fails the test)."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


@contextmanager
def running(env: dict[str, str], cwd: Path, *args: str) -> Iterator[Running]:
    """Start `gamekeeper ARGS --port P`, read its output until it serves, then yield."""
    port = free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "gamekeeper", *args, "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            printed = []
            for line in process.stdout:
                printed.append(line)
                if "serving on" in line:
                    break
            text = "".join(printed)
            found = re.search(r"/login\?token=(\S+)", text)
            yield Running(process, f"http://127.0.0.1:{port}", text, found and found.group(1))
        finally:
            process.kill()


def test_demo_syncs_and_serves_its_games(gamekeeper_env: dict[str, str], tmp_path: Path) -> None:
    with running(gamekeeper_env, tmp_path, "demo", "--games", "300", "--rate", "3000") as demo:
        assert demo.token, "no login URL printed"
        headers = {"Authorization": f"Bearer {demo.token}"}
        with httpx.Client(base_url=demo.url, timeout=60) as client:
            jobs = client.get("/api/jobs", headers=headers).json()["items"]
            assert {j["account"]["platform"] for j in jobs} == {"lichess", "chesscom"}
            for job in jobs:
                final = None
                with client.stream("GET", f"/api/jobs/{job['id']}/events", headers=headers) as r:
                    for line in r.iter_lines():
                        if line.startswith("data: ") and '"job_type"' in line:
                            final = orjson.loads(line[6:])
                assert final is not None and final["status"] == "completed", final
            games = client.get("/api/games", params={"limit": 500}, headers=headers).json()
            assert {g["platform"] for g in games["items"]} == {"lichess", "chesscom"}
            assert len(games["items"]) >= 300
        assert demo.stop() == 0


def test_serve_prints_a_one_time_login_url_on_first_start(
    gamekeeper_env: dict[str, str], tmp_path: Path
) -> None:
    with running(gamekeeper_env, tmp_path, "serve") as first:
        assert "created admin user 'admin'" in first.printed
        assert re.search(r"http://127\.0\.0\.1:\d+/login\?token=gk_\S+", first.printed)
        assert first.stop() == 0
    with running(gamekeeper_env, tmp_path, "serve") as second:
        assert second.token is None
        assert second.stop() == 0


def test_serve_stops_at_ctrl_c_while_a_client_holds_an_event_stream(
    gamekeeper_env: dict[str, str], tmp_path: Path
) -> None:
    with running(gamekeeper_env, tmp_path, "serve") as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        with (
            httpx.Client(base_url=server.url, timeout=60) as client,
            client.stream("GET", "/api/events", headers=headers) as events,
        ):
            assert events.status_code == 200
            assert server.stop() == 0
