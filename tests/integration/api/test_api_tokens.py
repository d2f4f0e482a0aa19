"""Tokens: listed and revoked by admins, optionally expiring, their last use recorded at
most once a minute, and event streams that end with them; the cookie is `Secure`
behind a trusted TLS proxy."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from gamekeeper.services.users import hash_token
from gamekeeper.storage.sql.store import SqlStore
from tests.conftest import count_statements
from tests.integration.api.conftest import Api, ApiFactory


def _issue(client: httpx.Client, name: str, **body: object) -> str:
    made = client.post(f"/api/admin/users/{name}/tokens", json=body or None)
    assert made.status_code == 201, made.text
    return str(made.json()["token"])


def test_admins_list_and_revoke_tokens(api: Api) -> None:
    with httpx.Client(base_url=api.url, timeout=30, headers=api.auth("admin")) as admin:
        second = _issue(admin, "alice", label="laptop", expires_in_days=30)
        listed = admin.get("/api/admin/users/alice/tokens").json()
        assert [t["label"] for t in listed][-1] == "laptop"
        laptop = listed[-1]
        assert laptop["expires_at"] is not None and not laptop["expired"]
        assert "token" not in laptop and "token_hash" not in laptop
        mine = {"Authorization": f"Bearer {second}"}
        assert admin.get("/api/jobs", headers=mine).status_code == 200

        assert admin.delete(f"/api/admin/users/bob/tokens/{laptop['id']}").status_code == 404
        assert admin.delete(f"/api/admin/users/alice/tokens/{laptop['id']}").status_code == 204
        assert admin.delete(f"/api/admin/users/alice/tokens/{laptop['id']}").status_code == 404
        assert admin.get("/api/jobs", headers=mine).status_code == 401
        assert admin.get("/api/jobs", headers=api.auth("alice")).status_code == 200  # the other
        assert admin.get("/api/admin/users/nobody/tokens").status_code == 404
        bad = admin.post("/api/admin/users/alice/tokens", json={"expires_in_days": 0})
        assert bad.status_code == 422
    with httpx.Client(base_url=api.url, timeout=30, headers=api.auth("alice")) as alice:
        assert alice.get("/api/admin/users/alice/tokens").status_code == 403


def test_an_expired_token_is_refused(api: Api) -> None:
    async def add_expired() -> str:
        store = SqlStore(api.services.settings.database_url)
        try:
            user = await store.get_user("alice")
            assert user is not None
            token = "gk_expired-" + "x" * 30
            past = datetime.now(UTC) - timedelta(seconds=1)
            await store.add_token(user.id, hash_token(token), "old", expires_at=past)
            return token
        finally:
            await store.aclose()

    token = asyncio.run(add_expired())
    with httpx.Client(base_url=api.url, timeout=30) as client:
        assert (
            client.get("/api/jobs", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        )
    with httpx.Client(base_url=api.url, timeout=30, headers=api.auth("admin")) as admin:
        old = [t for t in admin.get("/api/admin/users/alice/tokens").json() if t["label"] == "old"]
        assert old[0]["expired"] is True


def test_last_use_is_written_at_most_once_a_minute(api: Api) -> None:
    touches = count_statements(api.services.store.engine, "UPDATE tokens")
    with httpx.Client(base_url=api.url, timeout=30, headers=api.auth("bob")) as client:
        for _ in range(25):
            assert client.get("/api/jobs").status_code == 200
    assert len(touches) == 1
    with httpx.Client(base_url=api.url, timeout=30, headers=api.auth("admin")) as admin:
        [token] = admin.get("/api/admin/users/bob/tokens").json()
    assert token["last_used_at"] is not None


def _read_until_closed(lines_in: Iterator[str], *, within_s: float) -> list[str]:
    """The stream's lines until the server ends it; fails if it is still open after."""
    deadline = time.monotonic() + within_s
    lines = []
    for line in lines_in:  # keep-alive pings come every 15 s at most
        lines.append(line)
        assert time.monotonic() < deadline, "the stream outlived its token"
    return lines


@pytest.mark.parametrize("stream", ["/api/events", "job"])
def test_event_streams_end_when_their_token_is_revoked(make_api: ApiFactory, stream: str) -> None:
    api = make_api(stream_auth_recheck_s=0.2)
    api.lichess.faults.games_per_s = 50  # 3,000 games: the job runs for a minute
    with httpx.Client(base_url=api.url, timeout=60, headers=api.auth("admin")) as admin:
        token = _issue(admin, "alice", label="stream")
        mine = {"Authorization": f"Bearer {token}"}
        job = admin.post(
            "/api/jobs",
            json={
                "job_type": "sync_games",
                "parameters": {"platform": "lichess", "username": "magnus"},
            },
            headers=mine,
        ).json()
        url = stream if stream.startswith("/") else f"/api/jobs/{job['id']}/events"
        with admin.stream("GET", url, headers=mine) as response:
            assert response.status_code == 200
            lines_in = response.iter_lines()
            first = next(lines_in)
            assert first  # the stream is open and talking
            token_id = admin.get("/api/admin/users/alice/tokens").json()[-1]["id"]
            assert admin.delete(f"/api/admin/users/alice/tokens/{token_id}").status_code == 204
            lines = _read_until_closed(lines_in, within_s=30)
        assert "event: end" not in lines  # cut off, not finished
        admin.post(f"/api/admin/jobs/{job['id']}/cancel")


def test_the_cookie_is_secure_behind_a_trusted_tls_proxy(make_api: ApiFactory) -> None:
    for trusted, secure in (("127.0.0.1", True), ("10.0.0.0/8", False), (None, False)):
        api = make_api(trusted_proxy=trusted)
        with httpx.Client(base_url=api.url, timeout=30) as client:
            response = client.get(
                "/login",
                params={"token": api.tokens["alice"]},
                headers={"X-Forwarded-Proto": "https", "Sec-Fetch-Site": "none"},
            )
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert ("secure" in cookie.lower()) is secure, (trusted, cookie)
    # Behind it, the page's Origin is https: the same-origin rule sees it so.
    api = make_api(trusted_proxy="127.0.0.1")
    host = api.url.removeprefix("http://")
    with httpx.Client(base_url=api.url, timeout=30) as client:
        form = {"token": api.tokens["alice"], "next": "/tasks"}
        proxied = {"X-Forwarded-Proto": "https", "Origin": f"https://{host}"}
        assert client.post("/login", data=form, headers=proxied).status_code == 303
