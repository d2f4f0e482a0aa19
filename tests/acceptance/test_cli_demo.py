"""`gamekeeper demo` starts with no network, and its first sync completes."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import orjson


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_demo_syncs_and_serves_its_games(gamekeeper_env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    args = ["demo", "--port", str(port), "--games", "300", "--rate", "3000"]
    with subprocess.Popen(
        [sys.executable, "-m", "gamekeeper", *args],
        env=gamekeeper_env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as demo:
        try:
            assert demo.stdout is not None
            token = None
            for line in demo.stdout:
                found = re.search(r"/login\?token=(\S+)", line)
                token = token or (found.group(1) if found else None)
                if "serving on" in line:
                    break
            assert token, "no login URL printed"
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                jobs = client.get("/api/jobs", headers=headers).json()["items"]
                assert {j["account"]["platform"] for j in jobs} == {"lichess", "chesscom"}
                for job in jobs:
                    final = None
                    with client.stream(
                        "GET", f"/api/jobs/{job['id']}/events", headers=headers
                    ) as r:
                        for line in r.iter_lines():
                            if line.startswith("data: ") and '"job_type"' in line:
                                final = orjson.loads(line[6:])
                    assert final is not None and final["status"] == "completed", final
                games = client.get("/api/games", params={"limit": 500}, headers=headers).json()
                platforms = {g["platform"] for g in games["items"]}
                assert platforms == {"lichess", "chesscom"}
                assert len(games["items"]) >= 300
            demo.send_signal(signal.SIGINT)
            demo.wait(timeout=60)
        finally:
            demo.kill()
    assert demo.returncode == 0


def serve_once(env: dict[str, str], cwd: Path) -> list[str]:
    """Start `gamekeeper serve`, read what it prints until it serves, stop it."""
    lines: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-m", "gamekeeper", "serve", "--port", str(free_port())],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            assert server.stdout is not None
            for line in server.stdout:
                lines.append(line)
                if "serving on" in line:
                    break
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
        finally:
            server.kill()
    assert server.returncode == 0
    return lines


def test_serve_prints_a_one_time_login_url_on_first_start(
    gamekeeper_env: dict[str, str], tmp_path: Path
) -> None:
    first = "".join(serve_once(gamekeeper_env, tmp_path))
    assert "created admin user 'admin'" in first
    assert re.search(r"http://127\.0\.0\.1:\d+/login\?token=gk_\S+", first)
    second = "".join(serve_once(gamekeeper_env, tmp_path))
    assert "login?token=" not in second


def test_serve_stops_at_ctrl_c_while_a_client_holds_an_event_stream(
    gamekeeper_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "gamekeeper", "serve", "--port", str(port)],
        env=gamekeeper_env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            assert server.stdout is not None
            token = None
            for line in server.stdout:
                found = re.search(r"/login\?token=(\S+)", line)
                token = token or (found.group(1) if found else None)
                if "serving on" in line:
                    break
            headers = {"Authorization": f"Bearer {token}"}
            with (
                httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client,
                client.stream("GET", "/api/events", headers=headers) as events,
            ):
                assert events.status_code == 200
                server.send_signal(signal.SIGINT)
                server.wait(timeout=60)  # a hang here fails the test
        finally:
            server.kill()
    assert server.returncode == 0
