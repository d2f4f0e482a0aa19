"""`GAMEKEEPER_MAX_ACCOUNTS_PER_USER`: a user may have so many accounts (409 beyond, by
either route that adds one); admins are not held to it."""

from __future__ import annotations

import asyncio

import httpx

from tests.integration.api.conftest import ApiFactory


def test_accounts_per_user_are_capped_admins_are_not(make_api: ApiFactory) -> None:
    api = make_api(max_accounts_per_user=3)
    with httpx.Client(base_url=api.url, timeout=30, headers=api.auth("alice")) as client:
        for name in ("a1", "a2", "a3"):
            made = client.post("/api/accounts", json={"platform": "lichess", "username": name})
            assert made.status_code == 201, made.text
        again = client.post("/api/accounts", json={"platform": "lichess", "username": "a1"})
        assert again.status_code == 201  # one you have is not a new one
        over = client.post("/api/accounts", json={"platform": "chesscom", "username": "a4"})
        assert over.status_code == 409
        assert over.json()["error"]["code"] == "limit_exceeded"
        assert "GAMEKEEPER_MAX_ACCOUNTS_PER_USER" in over.json()["error"]["message"]
        by_job = client.post(
            "/api/jobs",
            json={
                "job_type": "sync_games",
                "parameters": {"platform": "lichess", "username": "a5"},
            },
        )
        assert by_job.status_code == 409
        assert len(client.get("/api/accounts").json()) == 3
    with httpx.Client(base_url=api.url, timeout=30, headers=api.auth("admin")) as client:
        for i in range(5):
            made = client.post("/api/accounts", json={"platform": "lichess", "username": f"x{i}"})
            assert made.status_code == 201, made.text


def test_racing_adds_cannot_pass_the_cap(make_api: ApiFactory) -> None:
    api = make_api(max_accounts_per_user=5)

    async def race() -> list[int]:
        async with httpx.AsyncClient(
            base_url=api.url, timeout=60, headers=api.auth("bob")
        ) as client:
            responses = await asyncio.gather(
                *(
                    client.post("/api/accounts", json={"platform": "lichess", "username": f"r{i}"})
                    for i in range(20)
                ),
                *(
                    client.post("/api/accounts", json={"platform": "lichess", "username": "same"})
                    for _ in range(5)
                ),
            )
            return [r.status_code for r in responses]

    statuses = asyncio.run(race())
    assert set(statuses) <= {201, 409}, statuses  # no 503 from the unique index
    with httpx.Client(base_url=api.url, timeout=30, headers=api.auth("bob")) as client:
        assert len(client.get("/api/accounts").json()) == 5
