"""The request shapes of the tools gamekeeper replaces, verbatim: admin job routes,
`player_id`, `start_date_ms`, `limit`/`skip`, a moves backfill over all accounts."""

from __future__ import annotations

import httpx

from tests.integration.api.conftest import Api
from tests.integration.api.test_api_jobs import read_events

START_DATE_MS = 1710000000000  # 2024-03-09: magnus has 397 games from then on


def finish(client: httpx.Client, api: Api, job_id: str) -> dict[str, object]:
    read_events(client, f"/api/jobs/{job_id}/events", api.auth("admin"))
    response = client.get(f"/api/admin/jobs/{job_id}", headers=api.auth("admin"))
    assert response.status_code == 200
    job: dict[str, object] = response.json()
    return job


def test_the_seed_shapes_run_verbatim(api: Api) -> None:
    with httpx.Client(base_url=api.url, timeout=60) as client:
        metadata = client.post(
            "/api/admin/jobs",
            json={
                "job_type": "SYNC_METADATA",
                "parameters": {
                    "limit": 50,
                    "skip": 0,
                    "player_id": "magnus",
                    "start_date_ms": START_DATE_MS,
                },
            },
            headers=api.auth("admin"),
        )
        assert metadata.status_code == 202, metadata.text
        assert metadata.json()["job_type"] == "sync_metadata"
        assert metadata.json()["account"]["username"] == "magnus"
        done = finish(client, api, metadata.json()["id"])
        assert done["status"] == "completed"
        assert done["counters"]["inserted"] == 50  # type: ignore[index]
        exported = [e for e in api.lichess.log.entries if e.path == "/api/games/user/magnus"]
        assert exported[-1].query["since"] == str(START_DATE_MS)
        assert exported[-1].query["moves"] == "false"

        moves = client.post(
            "/api/admin/jobs",
            json={"job_type": "SYNC_MOVES", "parameters": {"limit": 25, "delay_ms": 250}},
            headers=api.auth("admin"),
        )
        assert moves.status_code == 202, moves.text
        assert moves.json()["account"] is None  # all the caller's accounts
        filled = finish(client, api, moves.json()["id"])
        assert filled["status"] == "completed"
        assert filled["counters"]["enriched"] == 25  # type: ignore[index]
        assert filled["result"]["still_without_moves"] == 25  # type: ignore[index]


def test_an_admin_reads_and_cancels_any_users_job(api: Api) -> None:
    with httpx.Client(base_url=api.url, timeout=60) as client:
        api.lichess.faults.stall_streams, api.lichess.faults.stall_after = 1, 10
        job = client.post(
            "/api/jobs",
            json={
                "job_type": "sync_games",
                "parameters": {"platform": "lichess", "username": "magnus"},
            },
            headers=api.auth("alice"),
        ).json()
        seen = client.get(f"/api/admin/jobs/{job['id']}", headers=api.auth("admin"))
        assert seen.status_code == 200 and seen.json()["owner"] == "alice"
        assert (
            client.get(f"/api/admin/jobs/{job['id']}", headers=api.auth("bob")).status_code == 403
        )
        cancel = client.post(f"/api/admin/jobs/{job['id']}/cancel", headers=api.auth("admin"))
        assert cancel.status_code == 202
        read_events(client, f"/api/jobs/{job['id']}/events", api.auth("alice"))
        final = client.get(f"/api/jobs/{job['id']}", headers=api.auth("alice")).json()
        assert final["status"] == "cancelled"
        assert (
            client.get("/api/admin/jobs/job_000000000000", headers=api.auth("admin")).status_code
            == 404
        )


def test_phases_carry_percent_errors_and_the_checkpoint(api: Api) -> None:
    with httpx.Client(base_url=api.url, timeout=60) as client:
        job = client.post(
            "/api/jobs",
            json={
                "job_type": "sync_games",
                "parameters": {"platform": "lichess", "username": "hikaru"},
            },
            headers=api.auth("bob"),
        ).json()
        read_events(client, f"/api/jobs/{job['id']}/events", api.auth("bob"))
        final = client.get(f"/api/jobs/{job['id']}", headers=api.auth("bob")).json()
    fetching = final["phases"][0]
    assert fetching["name"] == "fetching"
    assert (fetching["done"], fetching["total"], fetching["percent"]) == (40, 40, 100.0)
    assert fetching["last_error"] is None and fetching["rate_limit_reset_at"] is None
    assert final["checkpoint"]["done"] == 40
    assert final["checkpoint"]["position"].startswith("2025-12-15")
