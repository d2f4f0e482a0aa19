"""Jobs over HTTP: create, follow live (SSE, Last-Event-ID), 409 and 429, visibility."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from gamekeeper.emulators.traffic import LoggedRequest
from tests.integration.api.conftest import Api, ApiFactory


def sse_events(lines: list[str]) -> list[dict[str, Any]]:
    """Parse `text/event-stream` lines into events (comments and pings skipped)."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for line in lines:
        if not line:
            if current:
                events.append(current)
                current = {}
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            current[field] = value.removeprefix(" ")
    if current:
        events.append(current)
    return events


def read_events(
    client: httpx.Client, url: str, headers: dict[str, str], *, stop_after: int | None = None
) -> list[dict[str, Any]]:
    """Read a job's event stream to its `end` (or `stop_after` job events, then hang up)."""
    events: list[dict[str, Any]] = []
    pending: list[str] = []  # the lines of the event being read
    jobs = 0
    with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            pending.append(line)
            if line != "":
                continue
            # An event ends at a blank line: parse only its lines (a long job sends many).
            for event in sse_events(pending):
                events.append(event)
                jobs += event.get("event") == "job"
                if event.get("event") == "end":
                    return events
            pending = []
            if stop_after is not None and jobs >= stop_after:
                return events
    return events + sse_events(pending)


def exports(entries: list[LoggedRequest]) -> int:
    return sum(e.items_sent for e in entries if e.path.startswith("/api/games/user/"))


def test_a_client_follows_a_sync_from_queued_to_completed(api: Api) -> None:
    api.lichess.faults.games_per_s = 4000  # 3,000 games: the stream takes a while
    with httpx.Client(base_url=api.url, timeout=60) as client:
        created = client.post(
            "/api/jobs",
            json={
                "job_type": "sync_games",
                "parameters": {"platform": "lichess", "username": "magnus"},
            },
            headers=api.auth("alice"),
        )
        assert created.status_code == 202, created.text
        job = created.json()
        assert job["status"] == "queued"
        assert job["account"]["username"] == "magnus"

        events = read_events(client, f"/api/jobs/{job['id']}/events", api.auth("alice"))
    snapshots = [orjson.loads(e["data"]) for e in events if e.get("event") == "job"]
    statuses = [s["status"] for s in snapshots]
    assert statuses[0] in ("queued", "running")
    assert statuses[-1] == "completed"
    assert events[-1]["event"] == "end"
    done = [s["progress"]["done"] for s in snapshots if s["phase"] == "fetching"]
    assert len(set(done)) >= 3 and done == sorted(done)  # progress only grows, visibly
    ids = [int(e["id"]) for e in events if e.get("event") == "job"]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert snapshots[-1]["counters"]["inserted"] == 3000


def test_reconnecting_with_last_event_id_misses_nothing(api: Api) -> None:
    api.lichess.faults.games_per_s = 4000
    with httpx.Client(base_url=api.url, timeout=60) as client:
        job = client.post(
            "/api/jobs",
            json={
                "job_type": "sync_games",
                "parameters": {"platform": "lichess", "username": "magnus"},
            },
            headers=api.auth("alice"),
        ).json()
        url = f"/api/jobs/{job['id']}/events"
        first = read_events(client, url, api.auth("alice"), stop_after=2)
        last_id = [e for e in first if e.get("event") == "job"][-1]["id"]
        rest = read_events(client, url, api.auth("alice") | {"Last-Event-ID": last_id})
    later = [e for e in rest if e.get("event") == "job"]
    assert later, "nothing after the reconnect"
    assert all(int(e["id"]) > int(last_id) for e in later)  # nothing seen twice
    final = orjson.loads(later[-1]["data"])
    assert final["status"] == "completed"  # and the end state arrives
    assert final["counters"]["inserted"] == 3000
    assert rest[-1]["event"] == "end"


def test_conflict_is_409_naming_the_active_job(api: Api) -> None:
    api.lichess.faults.games_per_s = 500
    body = {"job_type": "sync_games", "parameters": {"platform": "lichess", "username": "magnus"}}
    with httpx.Client(base_url=api.url, timeout=60) as client:
        first = client.post("/api/jobs", json=body, headers=api.auth("alice")).json()
        second = client.post("/api/jobs", json=body, headers=api.auth("alice"))
        assert second.status_code == 409
        error = second.json()["error"]
        assert error["code"] == "conflict"
        assert error["active_job_id"] == first["id"]
        assert first["id"] in error["message"]
        client.post(f"/api/jobs/{first['id']}/cancel", headers=api.auth("alice"))


def test_rate_limit_is_429_with_retry_after(make_api: ApiFactory) -> None:
    api = make_api(job_create_limit=2, job_create_window_s=600)
    with httpx.Client(base_url=api.url, timeout=60) as client:
        for name in ("hikaru", "magnus"):
            body = {
                "job_type": "sync_games",
                "parameters": {"platform": "lichess", "username": name},
            }
            assert client.post("/api/jobs", json=body, headers=api.auth("alice")).status_code == 202
        body = {
            "job_type": "sync_metadata",
            "parameters": {"platform": "lichess", "username": "x1"},
        }
        limited = client.post("/api/jobs", json=body, headers=api.auth("alice"))
        assert limited.status_code == 429
        retry_after = int(limited.headers["Retry-After"])
        assert 1 <= retry_after <= 600
        error = limited.json()["error"]
        assert error["code"] == "rate_limited"
        assert error["retry_after"] > 0
        # Another user is not affected.
        other = client.post("/api/jobs", json=body, headers=api.auth("bob"))
        assert other.status_code == 202


def test_users_see_only_their_own_jobs_accounts_and_sync_history(api: Api) -> None:
    with httpx.Client(base_url=api.url, timeout=60) as client:
        a, b, admin = api.auth("alice"), api.auth("bob"), api.auth("admin")
        job = client.post(
            "/api/jobs",
            json={
                "job_type": "sync_games",
                "parameters": {"platform": "lichess", "username": "hikaru"},
            },
            headers=a,
        ).json()
        read_events(client, f"/api/jobs/{job['id']}/events", a)
        account_id = job["account"]["id"]

        assert client.get(f"/api/jobs/{job['id']}", headers=b).status_code == 404
        assert client.post(f"/api/jobs/{job['id']}/cancel", headers=b).status_code == 404
        assert client.get(f"/api/jobs/{job['id']}/events", headers=b).status_code == 404
        assert client.get("/api/jobs", headers=b).json()["items"] == []
        assert client.get("/api/accounts", headers=b).json() == []
        assert client.get(f"/api/accounts/{account_id}", headers=b).status_code == 404
        assert client.delete(f"/api/accounts/{account_id}", headers=b).status_code == 404
        assert client.get(f"/api/games?account_id={account_id}", headers=b).status_code == 404
        assert client.get("/api/games", headers=b).json()["items"] == []
        games = client.get("/api/games", headers=a).json()["items"]
        assert len(games) == 40 and games[0]["first_job_id"] == job["id"]
        assert client.get(f"/api/games/{games[0]['id']}", headers=b).status_code == 404

        # Bob keeps the same player: he sees the games, not Alice's sync history.
        client.post("/api/accounts", json={"platform": "lichess", "username": "hikaru"}, headers=b)
        seen_by_b = client.get("/api/games", headers=b).json()["items"]
        assert len(seen_by_b) == 40
        assert all(g["first_job_id"] is None and g["last_job_id"] is None for g in seen_by_b)

        # The admin sees everything.
        assert client.get(f"/api/jobs/{job['id']}", headers=admin).status_code == 200
        listed = client.get("/api/admin/jobs", headers=admin).json()["items"]
        assert job["id"] in {j["id"] for j in listed}
        assert client.get("/api/admin/jobs", headers=a).status_code == 403
        games = client.get("/api/games", headers=admin).json()["items"]
        assert games[0]["first_job_id"] == job["id"]


def test_no_token_is_401_in_the_error_shape(api: Api) -> None:
    with httpx.Client(base_url=api.url, timeout=60) as client:
        response = client.get("/api/jobs")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "not_authenticated"
        bad = client.get("/api/jobs", headers={"Authorization": "Bearer gk_nope"})
        assert bad.status_code == 401


def test_sync_status_is_idle_then_the_last_sync(api: Api) -> None:
    with httpx.Client(base_url=api.url, timeout=60) as client:
        idle = client.get("/api/sync/status", headers=api.auth("bob")).json()
        assert idle == {"status": "idle", "last": None}
        account = client.post(
            "/api/accounts",
            json={"platform": "lichess", "username": "hikaru"},
            headers=api.auth("bob"),
        ).json()
        assert account["games"] == 0
        job = client.post(f"/api/accounts/{account['id']}/sync", headers=api.auth("bob")).json()
        read_events(client, f"/api/jobs/{job['id']}/events", api.auth("bob"))
        status = client.get("/api/sync/status", headers=api.auth("bob")).json()
        # Idle again once the sync has ended, naming the last one.
        assert status["status"] == "idle"
        assert status["last"]["id"] == job["id"] and status["last"]["status"] == "completed"
        again = client.get(f"/api/accounts/{account['id']}", headers=api.auth("bob")).json()
        assert again["games"] == 40 and again["last_job"]["id"] == job["id"]


def test_the_all_jobs_stream_shows_a_users_jobs_and_not_others(api: Api) -> None:
    with httpx.Client(base_url=api.url, timeout=60) as client:
        bobs = client.post(
            "/api/jobs",
            json={
                "job_type": "sync_games",
                "parameters": {"platform": "lichess", "username": "magnus"},
            },
            headers=api.auth("bob"),
        ).json()
        lines: list[str] = []
        with client.stream("GET", "/api/events", headers=api.auth("alice")) as response:
            assert response.status_code == 200
            job = client.post(
                "/api/jobs",
                json={
                    "job_type": "sync_games",
                    "parameters": {"platform": "lichess", "username": "hikaru"},
                },
                headers=api.auth("alice"),
            ).json()
            for line in response.iter_lines():
                lines.append(line)
                if line.startswith("data: "):
                    seen = orjson.loads(line.removeprefix("data: "))
                    if seen["id"] == job["id"] and seen["status"] == "completed":
                        break
    snapshots = [orjson.loads(e["data"]) for e in sse_events(lines) if e.get("event") == "job"]
    assert {s["id"] for s in snapshots} == {job["id"]}  # Bob's job never shows
    assert snapshots[-1]["status"] == "completed"
    # Every event names the job's account (read once for the stream).
    assert {(s["account"]["platform"], s["account"]["username"]) for s in snapshots} == {
        ("lichess", "hikaru")
    }
    assert bobs["id"] != job["id"]
