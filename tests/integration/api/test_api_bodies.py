"""Request bodies: the token is checked before a body is read, and no body larger than
`GAMEKEEPER_MAX_BODY_BYTES` is read (413), whether its length is announced or not.

Raw sockets, so the test decides how much of a body is ever sent: an answer that
arrives while most of the announced body was never sent proves it was not read.
"""

from __future__ import annotations

import select
import socket

import orjson

from tests.integration.api.conftest import Api, ApiFactory


def _connect(api: Api) -> socket.socket:
    host, port = api.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def _head(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one response (the socket's timeout bounds the wait)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split()[1]), headers, body


def test_an_announced_oversize_body_is_refused_unread(api: Api) -> None:
    with _connect(api) as sock:
        sock.sendall(
            _head("/api/jobs", {"Content-Type": "application/json", "Content-Length": "300000000"})
        )
        sock.sendall(b"{" * 1000)  # of the 300 MB announced, only this ever comes
        status, headers, body = _response(sock)
    assert status == 413
    assert orjson.loads(body)["error"]["code"] == "payload_too_large"
    assert headers.get("connection") == "close"


def test_the_token_is_checked_before_the_body_is_read(api: Api) -> None:
    with _connect(api) as sock:
        sock.sendall(
            _head("/api/jobs", {"Content-Type": "application/json", "Content-Length": "900000"})
        )
        sock.sendall(b'{"job_type": ')  # the rest never comes
        status, headers, body = _response(sock)
    assert status == 401
    assert orjson.loads(body)["error"]["code"] == "not_authenticated"
    assert headers.get("connection") == "close"


def _stream_chunks(sock: socket.socket, *, chunk: bytes, most: int) -> int:
    """Send chunks until the server answers (or hangs up); the bytes sent."""
    sent = 0
    try:
        while sent < most:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                return sent
        sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent


def test_a_chunked_body_is_cut_off_past_the_limit(make_api: ApiFactory) -> None:
    api = make_api(max_body_bytes=256 * 1024)
    headers = {
        "Content-Type": "application/json",
        "Transfer-Encoding": "chunked",
        "Authorization": f"Bearer {api.tokens['alice']}",
    }
    with _connect(api) as sock:
        sock.sendall(_head("/api/jobs", headers))
        sent = _stream_chunks(sock, chunk=b" " * 65536, most=64 * 1024 * 1024)
        status, _, body = _response(sock)
    assert status == 413, body
    assert orjson.loads(body)["error"]["code"] == "payload_too_large"
    # The server stopped reading soon after the limit (socket buffers hold a few MB).
    assert sent < 16 * 1024 * 1024


def test_an_anonymous_chunked_body_gets_its_401_unread(api: Api) -> None:
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    with _connect(api) as sock:
        sock.sendall(_head("/api/jobs", headers))
        sent = _stream_chunks(sock, chunk=b" " * 65536, most=64 * 1024 * 1024)
        status, _, _ = _response(sock)
    assert status == 401
    assert sent < 16 * 1024 * 1024


def test_the_login_form_is_small(api: Api) -> None:
    with _connect(api) as sock:
        form = b"token=" + b"x" * 100_000
        sock.sendall(
            _head(
                "/login",
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Content-Length": str(len(form)),
                    "Sec-Fetch-Site": "same-origin",
                },
            )
        )
        status, _, _ = _response(sock)
    assert status == 413
