"""`gamekeeper serve` under large hostile bodies: its peak memory (VmHWM) stays flat."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx

from tests.acceptance.test_cli_demo import running

#: What each hostile request announces or streams.
HOSTILE_BYTES = 300 * 1024 * 1024
#: Peak memory the server may gain over all of them (it was 1 GB before the limits).
ALLOWED_GROWTH_KB = 40 * 1024


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def push(url: str, head: bytes, *, chunked: bool) -> bytes:
    """Send `head`, then up to HOSTILE_BYTES of body until the server hangs up; its answer."""
    host, port = url.removeprefix("http://").split(":")
    block = b"[" * (1024 * 1024)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head)
        try:
            for _ in range(HOSTILE_BYTES // len(block)):
                sock.sendall(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: what we want
        try:
            return sock.recv(4096)
        except ConnectionResetError:
            return b""


def test_large_bodies_leave_the_servers_memory_flat(
    gamekeeper_env: dict[str, str], tmp_path: Path
) -> None:
    with running(gamekeeper_env, tmp_path, "serve") as server:
        pid = server.process.pid
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert client.get("/healthz").status_code == 200
        before = peak_rss_kb(pid)
        announced = (
            f"POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {HOSTILE_BYTES}\r\n\r\n"
        ).encode()
        streamed = (
            b"POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        signed = streamed.replace(
            b"Host: x\r\n", f"Host: x\r\nAuthorization: Bearer {server.token}\r\n".encode()
        )
        answers = [
            push(server.url, announced, chunked=False),
            push(server.url, streamed, chunked=True),
            push(server.url, signed, chunked=True),
        ]
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert client.get("/healthz").status_code == 200  # still serving
        after = peak_rss_kb(pid)
        assert server.stop() == 0
    statuses = [a.split(b" ", 2)[1] for a in answers if a]
    assert set(statuses) <= {b"401", b"413"}, answers
    assert after - before < ALLOWED_GROWTH_KB, (before, after)
